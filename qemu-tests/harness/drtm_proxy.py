#!/usr/bin/env python3
"""DRTM proxy between QEMU's `-tpmdev emulator` control channel and swtpm.

swtpm serves one control client at a time, held by QEMU for the whole run,
and QEMU's TIS model drops locality-4 writes (docs/test-contract.md, "QEMU
facts"; QEMU hw/tpm/tpm_tis_common.c, swtpm src/swtpm/mainloop.c). SKINIT
needs none of this: our patched QEMU (qemu-tests/qemu/) runs
the locality-4 hash sequence itself on this same control channel, which the
proxy forwards like any other message. The proxy owns that one connection:

* it forwards QEMU's control messages to swtpm and the answers back,
  including the file descriptor QEMU passes with CMD_SET_DATAFD (the TPM
  command channel then runs directly between QEMU and swtpm);
* it answers QEMU's CMD_SHUTDOWN itself, so swtpm outlives QEMU and the host
  can read the PCRs afterwards;
* it serves the launcher's DRTM mailbox in guest RAM for Intel TXT, which
  QEMU does not model: on 'SENT' it runs CMD_HASH_START / CMD_HASH_DATA /
  CMD_HASH_END on swtpm over the MLE [base, base + len) of guest RAM (PCR
  17-22 reset to 0, PCR 17 = H(0 || H(bytes)) in every bank), then plays
  SINIT's part of the event log: a TCG "Spec ID Event03" header listing --banks and
  one MLE_HASH event (PCR 17, type 0x404, digests H(MLE)), and advances the
  heap element's NextRecordOffset (SDG 315168 App. G; txt-mle.md §5).

Control-channel command codes and message layouts: swtpm
`include/swtpm/tpm_ioctl.h` (stefanberger/swtpm): requests are a big-endian
u32 command followed by its payload, most responses a big-endian u32 result.
"""
import argparse
import array
import mmap
import os
import select
import socket
import struct
import sys
import time

CMD_SHUTDOWN = 3
CMD_HASH_START = 6
CMD_HASH_DATA = 7
CMD_HASH_END = 8

MAGIC_DONE = 0x454E4F44  # 'DONE'
MAGIC_SENT = 0x544E4553  # 'SENT'
EV_NO_ACTION = 3
EVTYPE_MLE_HASH = 0x404
TPM_ALGS = {"sha1": (0x0004, 20), "sha256": (0x000B, 32), "sha384": (0x000C, 48), "sha512": (0x000D, 64)}
HASH_CHUNK = 4096


def log(args, msg):
    if args.log:
        with open(args.log, "a") as f:
            f.write(f"{time.monotonic():.3f} {msg}\n")


def recv_with_fds(sock, size=65536):
    fds = array.array("i")
    msg, anc, _flags, _addr = sock.recvmsg(size, socket.CMSG_LEN(8 * fds.itemsize))
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    return msg, list(fds)


def read_response(swtpm):
    """swtpm answers a control request with one write: take what arrives,
    then whatever follows within a short quiet period."""
    r, _, _ = select.select([swtpm], [], [], 30)
    if not r:
        raise TimeoutError("swtpm did not answer a control request")
    data = swtpm.recv(65536)
    if not data:
        raise ConnectionError("swtpm closed the control channel")
    while select.select([swtpm], [], [], 0.02)[0]:
        more = swtpm.recv(65536)
        if not more:
            break
        data += more
    return data


def ctrl(swtpm, cmd, payload=b""):
    swtpm.sendall(struct.pack(">I", cmd) + payload)
    resp = read_response(swtpm)
    return struct.unpack(">I", resp[:4])[0]


def drtm_hash(args, swtpm, ram, base, length):
    """The locality-4 DRTM sequence over guest RAM; returns the first non-zero result."""
    if base + length > len(ram):
        return 0xFFFF0001
    data = ram[base:base + length]
    rc = ctrl(swtpm, CMD_HASH_START)
    if rc:
        return rc
    for i in range(0, len(data), HASH_CHUNK):
        chunk = data[i:i + HASH_CHUNK]
        rc = ctrl(swtpm, CMD_HASH_DATA, struct.pack(">I", len(chunk)) + chunk)
        if rc:
            return rc
    return ctrl(swtpm, CMD_HASH_END)


def sinit_log(args, ram, base, length, log_addr, next_field, log_size):
    """SINIT's part of the TCG log: header, then the MLE measurement."""
    import hashlib
    banks = [b for b in TPM_ALGS if b in args.banks.split(",")]
    mle = bytes(ram[base:base + length])
    spec = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, len(banks))
    spec += b"".join(struct.pack("<HH", *TPM_ALGS[b]) for b in banks) + b"\0"
    out = struct.pack("<II20sI", 0, EV_NO_ACTION, bytes(20), len(spec)) + spec
    digests = b"".join(struct.pack("<H", TPM_ALGS[b][0]) + hashlib.new(b, mle).digest() for b in banks)
    out += struct.pack("<III", 17, EVTYPE_MLE_HASH, len(banks)) + digests + struct.pack("<I", 0)
    if len(out) > log_size:
        return 0xFFFF0002
    ram[log_addr:log_addr + len(out)] = out
    struct.pack_into("<I", ram, next_field, len(out))
    return 0


def serve_mailbox(args, swtpm, ram):
    mb = args.mailbox
    magic = struct.unpack_from("<I", ram, mb)[0]
    if magic != MAGIC_SENT:
        return
    base, length = struct.unpack_from("<II", ram, mb + 4)
    rc = drtm_hash(args, swtpm, ram, base, length)
    log(args, f"DRTM hash of [{base:#x}, +{length:#x}) -> {rc:#x}")
    if rc == 0:
        log_addr, next_field, log_size = struct.unpack_from("<III", ram, mb + 16)
        rc = sinit_log(args, ram, base, length, log_addr, next_field, log_size)
        log(args, f"SINIT log at {log_addr:#x} -> {rc:#x}")
    struct.pack_into("<I", ram, mb + 12, rc)
    struct.pack_into("<I", ram, mb, MAGIC_DONE)
    ram.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--swtpm-ctrl", required=True, help="swtpm control socket (unixio)")
    ap.add_argument("--listen", required=True, help="socket path QEMU's chardev connects to")
    ap.add_argument("--ram", required=True, help="guest RAM file (memory-backend-file, share=on)")
    ap.add_argument("--mailbox", type=lambda v: int(v, 0), default=0x500000)
    ap.add_argument("--banks", default="sha1,sha256,sha384,sha512",
                    help="PCR banks SINIT's log header lists (TXT), as allocated in swtpm")
    ap.add_argument("--log")
    ap.add_argument("--ready", help="file created once the proxy listens")
    args = ap.parse_args()

    if os.path.exists(args.listen):
        os.unlink(args.listen)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(args.listen)
    server.listen(1)
    if args.ready:
        open(args.ready, "w").close()
    qemu, _ = server.accept()
    swtpm = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    swtpm.connect(args.swtpm_ctrl)
    log(args, "QEMU connected, swtpm connected")

    ram = None
    while True:
        if ram is None and os.path.exists(args.ram) and os.path.getsize(args.ram) > args.mailbox + 16:
            f = open(args.ram, "r+b")
            ram = mmap.mmap(f.fileno(), 0)
        if ram is not None:
            serve_mailbox(args, swtpm, ram)
        r, _, _ = select.select([qemu, swtpm], [], [], 0.005)
        if swtpm in r:
            # The rest of a response that arrived after read_response's quiet
            # period: QEMU is still reading it.
            late = swtpm.recv(65536)
            if not late:
                log(args, "swtpm closed the control channel")
                break
            qemu.sendall(late)
            log(args, f"late response bytes: {len(late)}")
            continue
        if qemu not in r:
            continue
        msg, fds = recv_with_fds(qemu)
        if not msg:
            log(args, "QEMU closed the control channel; swtpm keeps running")
            break
        cmd = struct.unpack(">I", msg[:4])[0] if len(msg) >= 4 else -1
        if cmd == CMD_SHUTDOWN:
            # Keep swtpm (and its volatile PCR state) alive for the host.
            qemu.sendall(struct.pack(">I", 0))
            log(args, "CMD_SHUTDOWN answered by the proxy")
            continue
        if fds:
            swtpm.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
            for fd in fds:
                os.close(fd)
        else:
            swtpm.sendall(msg)
        resp = read_response(swtpm)
        qemu.sendall(resp)
        log(args, f"cmd {cmd} -> {len(resp)} bytes")
    swtpm.close()
    qemu.close()


if __name__ == "__main__":
    sys.exit(main())
