#!/usr/bin/env python3
"""Check a built SLB against the rules GRUB, SKINIT and we impose, and print
its sizes. Fails (exit 1) on any violation. Independent of the Rust code:
reads the ELF section table and the flat file only.

usage: check-image.py <skl ELF> <skl.bin> [--mle | --amdsl [--two-stage | --psp [--signed]]]

--amdsl: the image is skl-amdsl.bin, the AMD SL generation: AMD's extended
SL header (docs/amd-sl.md) with the SKL words at 0x42/0x44, checked field by
field and by GRUB tb-dev's rules (grub-core/loader/slaunch/skl.c,
grub_skl_set_module), measured end 16-byte aligned. Without it the image
must have the 8-byte header (no AMD SL GUID at 0x04).

--psp (with --amdsl): the image is skl-amdsl-psp.bin, the PSP path
(docs/psp-drtm.md section 2.4): the file is the measured part followed by
the 0x740-byte $AS1 area, the header's total length at 0x18 counts both, and
the bootloader data (SLRT) starts right after the area. Unsigned, the area is
zeros. --signed: the area holds a $AS1 header, signature and key token whose
fields agree with the measured length (the signature itself is checked by
`skl-tool psp verify`, in the same make rule).

--two-stage (with --amdsl): the image is skl-amdsl.bin, of which SKINIT
measures stage 1 only; stage 2 is the rest of the file (docs/design.md, "The
two-stage image"). Stage 1 must carry SHA-256(stage 2) after the magic
"SKLstg2\0" (exactly once), and, from the ELF's disassembly (objdump), no
instruction of stage 1 may branch into stage 2 or refer to an address in it
except the one call to its entry `skl_stage2`. Calls through GOT slots are
followed to the slot's link-time value (the RELR relocation adds the base);
the only other indirect branch allowed is the hand-off's jump to the kernel
in `skl_handoff`. Stage 2 must not be 0x740 bytes long (tools tell the PSP
image by that length).

--mle: the image is skl-txt.bin, the Intel TXT MLE: its MLE header (SDG
315168 Table 2-1) must be the only copy of the MLE UUID, 16-byte aligned in
the first 4 KiB (where GRUB scans), and describe exactly the measured image.
Without it the image must carry no MLE UUID at all.
"""
import hashlib
import re
import struct
import subprocess
import sys

SLB_SIZE = 0x10000
MAX_FILE = 0xF000          # GRUB keeps 4 KiB for the SLRT
BL_DATA_SIZE = 0x1000
SKL_UUID = bytes.fromhex("78f1268e049211e9832ac85b76c4cc02")
MLE_UUID = bytes.fromhex("5aac82906f47a7740f5c55a2cb51b642")
AMD_SL_GUID = bytes.fromhex("da75c40ed0d35d48b6ae3cb20fb7ad3a")
SIG_AREA = 0x740           # $AS1 header 0x100 + signature 0x200 + key token 0x440
STAGE2_MAGIC = b"SKLstg2\0"
SOC_FLAGS = [0x00B00F00, 0x00A50F00, 0x00A40F00, 0x00A70F00, 0x00A00F00, 0x00A10F00, 0x00A80F00, 0x00AA0F00]


def sections(elf):
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    stroff = hdrs[shstrndx][4]
    out = {}
    for h in hdrs:
        name = elf[stroff + h[0]:elf.index(b"\0", stroff + h[0])].decode()
        out[name] = {"type": h[1], "flags": h[2], "addr": h[3], "off": h[4], "size": h[5]}
    return out


def check_signature_area(area, measured, need):
    """The $AS1 header, signature and key token (docs/psp-drtm.md 2.4)."""
    signed_size = measured + 0x100
    need(area[0x10:0x14] == b"$AS1", "no $AS1 magic at measured end + 0x10")
    size, = struct.unpack_from("<I", area, 0x14)
    need(size == signed_size, f"$AS1 signed size {size:#x} != measured + 0x100 = {signed_size:#x}")
    opt, alg = struct.unpack_from("<2I", area, 0x30)
    need(opt == 1 and alg == 0, f"$AS1 SigOption {opt} / SigAlgID {alg}")
    spl, = struct.unpack_from("<I", area, 0x4C)
    need(spl == 1, f"$AS1 security patch level {spl}")
    ver, = struct.unpack_from("<I", area, 0x60)
    need(ver == 0x02000200, f"$AS1 image version {ver:#x}")
    total, = struct.unpack_from("<I", area, 0x6C)
    need(total == signed_size + 0x200, f"$AS1 size with signature {total:#x} != {signed_size + 0x200:#x}")
    key_id = area[0x38:0x48]
    need(any(key_id), "$AS1 key ID is zero")
    need(any(area[0x100:0x300]), "signature is all zeros")
    tok = area[0x300:0x740]
    tver, = struct.unpack_from("<I", tok, 0)
    need(tver == 2, f"key token version {tver}")
    need(tok[0x04:0x14] == key_id, "key token key ID != $AS1 key ID")
    ebits, mbits = struct.unpack_from("<2I", tok, 0x38)
    need(ebits == 4096 and mbits == 4096, f"key token exponent/modulus bits {ebits}/{mbits}")
    modulus = int.from_bytes(tok[0x240:0x440], "little")
    need(modulus.bit_length() == 4096, f"key token modulus has {modulus.bit_length()} bits, not 4096")
    sig = int.from_bytes(area[0x100:0x300], "little")
    need(sig < modulus, "signature (little-endian) not below the modulus")


def stage1_closure(elf_path, elf, s, measured, stage2_end, need):
    """Stage 1 [0, measured) reaches stage 2 only through skl_stage2."""
    syms = {}
    for line in subprocess.run(["nm", elf_path], capture_output=True, text=True, check=True).stdout.splitlines():
        p = line.split()
        if len(p) == 3:
            syms[p[2]] = int(p[0], 16)
    entry = syms.get("skl_stage2")
    need(entry is not None and measured <= entry < stage2_end, "stage 2's entry skl_stage2 is not in stage 2")
    got = s.get(".got", {"addr": 0, "size": 0, "off": 0})

    def slot(addr):
        """The link-time value of the GOT slot at addr, or None."""
        if got["addr"] <= addr and addr + 8 <= got["addr"] + got["size"]:
            return struct.unpack_from("<Q", elf, got["off"] + addr - got["addr"])[0]
        return None

    first_code = syms["_start32"]
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-j", ".text", elf_path],
                         capture_output=True, text=True, check=True).stdout
    fn, entered = None, 0
    for line in dis.splitlines():
        h = re.match(r"^[0-9a-f]+ <(.*)>:", line)
        if h:
            fn = h.group(1)
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
        if not m:
            continue
        at, op, args = int(m.group(1), 16), m.group(2), m.group(3)
        if at < first_code or at >= measured:
            continue  # the header and skl_info are data; stage 2 may go anywhere
        where = f"stage 1 at {at:#x} ({fn}): {op} {args}"
        ref = re.search(r"# ([0-9a-f]+) <", args)
        if op.startswith(("call", "j")) and "*" in args:
            target = slot(int(ref.group(1), 16)) if ref and "(%rip)" in args else None
            if target is not None:
                need(target < measured, f"{where}: its GOT slot leads to {target:#x}, outside stage 1")
            else:
                need(fn == "skl_handoff" and op == "jmp", f"{where}: indirect branch stage 1 cannot follow")
            continue
        t = re.match(r"([0-9a-f]+) <", args) if op.startswith(("call", "j")) else None
        if t and int(t.group(1), 16) >= measured:
            ok = int(t.group(1), 16) == entry and op.startswith("call")
            need(ok, f"{where}: branches into stage 2")
            entered += ok
        elif ref and measured <= int(ref.group(1), 16) < stage2_end:
            need(False, f"{where}: refers to stage 2")
    need(entered == 1, f"stage 1 calls stage 2's entry {entered} times, not once")


def main():
    elf = open(sys.argv[1], "rb").read()
    img = open(sys.argv[2], "rb").read()
    errors = []
    s = sections(elf)
    amdsl = "--amdsl" in sys.argv[3:]
    psp = "--psp" in sys.argv[3:]
    signed = "--signed" in sys.argv[3:]
    two_stage = "--two-stage" in sys.argv[3:]

    def need(cond, msg):
        if not cond:
            errors.append(msg)

    if amdsl:
        entry, measured = struct.unpack_from("<2H", img, 0)
        info, bl = struct.unpack_from("<2H", img, 0x42)
        reserved, total, soc_off, soc_n = struct.unpack_from("<IIHI", img, 0x14)
        need(img[4:20] == AMD_SL_GUID, "no AMD SL GUID at 0x04")
        need(reserved == 0xFFFFFFFF, f"reserved word at 0x14 is {reserved:#x}")
        need(total == len(img), f"total length {total} != file size {len(img)}")
        need(soc_off == 0x1E and soc_n == len(SOC_FLAGS), f"SOC-flag offset {soc_off:#x} / count {soc_n}")
        flags = list(struct.unpack_from("<8I", img, 0x22))
        need(flags == SOC_FLAGS, f"SOC flags {[hex(f) for f in flags]}")
        need(info == 0x46, f"skl_info at {info:#x}, not right after the 0x46-byte header")
        need(measured % 16 == 0, f"measured size {measured:#x} not 16-byte aligned (the PSP signs 16-byte units)")
        version = struct.unpack_from("<I", img, info + 16)[0] if info + 20 <= len(img) else None
        need(version == 0, f"skl_info version {version}: GRUB tb-dev loads version 0 only")
    else:
        entry, measured, info, bl = struct.unpack_from("<4H", img, 0)
        need(img[4:20] != AMD_SL_GUID, "AMD SL GUID at 0x04 in an 8-byte-header image")

    # GRUB aem-qubes-4.2.3-rebase grub_skinit_is_slb + GRUB tb-dev's extra check
    # (the same rules on the words of either header).
    need(len(img) <= MAX_FILE, f"file is {len(img)} bytes, GRUB accepts at most {MAX_FILE}")
    if psp:
        need(amdsl, "--psp needs --amdsl: the PSP image has the AMD SL header")
        need(len(img) == measured + SIG_AREA, f"file size {len(img)} != measured {measured} + 0x740 ($AS1 area)")
        need(bl == measured + SIG_AREA, f"bootloader data at {bl:#x}, not right after the $AS1 area "
             f"({measured + SIG_AREA:#x}): the SLRT would cover the signature")
        area = img[measured:measured + SIG_AREA]
        if signed:
            check_signature_area(area, measured, need)
        else:
            need(area == bytes(SIG_AREA), "unsigned PSP image: the $AS1 area is not zero")
    elif two_stage:
        need(amdsl, "--two-stage needs --amdsl: only the AMD SL header has a total length")
        need(measured < len(img), "two-stage image without a stage 2")
        need(len(img) - measured != SIG_AREA, "stage 2 is 0x740 bytes: tools would take it for the PSP image")
        at = img.find(STAGE2_MAGIC, 0, measured)
        need(at >= 0 and img.find(STAGE2_MAGIC, at + 1, measured) < 0 and at + 40 <= measured,
             "stage 1 must carry the stage-2 digest record exactly once")
        need(img[at + 8:at + 40] == hashlib.sha256(img[measured:]).digest(),
             "stage 1's stage-2 digest is not SHA-256(stage 2): run skl/seal-stage2.py")
        stage1_closure(sys.argv[1], elf, s, measured, len(img), need)
    else:
        need(measured == len(img), f"measured size {measured} != file size {len(img)}: unmeasured bytes in the file")
    need(entry < measured, f"entry {entry:#x} not inside the measured image")
    need(info + 20 <= measured, f"skl_info at {info:#x} not inside the measured image")
    need(img[info:info + 16] == SKL_UUID, "skl_info UUID mismatch")
    need(bl >= len(img), f"bootloader data {bl:#x} overlaps the file (ends {len(img):#x})")
    need(bl >= measured, f"bootloader data {bl:#x} overlaps the measured image (ends {measured:#x})")
    need(bl + BL_DATA_SIZE <= SLB_SIZE, f"bootloader data at {bl:#x} leaves less than 4 KiB")

    uuids = [i for i in range(len(img)) if img.startswith(MLE_UUID, i)]
    mle = "--mle" in sys.argv[3:]
    if mle:
        need(len(uuids) == 1, f"MLE UUID found at {uuids}: SDG wants exactly one copy")
        h = uuids[0] if uuids else 0
        need(h % 16 == 0 and h < 4096, f"MLE header at {h:#x}: GRUB scans the first 4 KiB in 16-byte steps")
        hlen, ver, ep, fvp, start, end, caps = struct.unpack_from("<7I", img, h + 16)
        need(hlen == 0x34 and ver == 0x00020002, f"MLE header length {hlen:#x} / version {ver:#x}")
        need(ep == entry and fvp == 0 and start == 0, f"MLE entry {ep:#x} / first page {fvp:#x} / start {start:#x}")
        need(end == measured, f"MleEnd {end:#x} != measured size {measured:#x}")
        need(ep < 4096, "MLE entry not on the first page (SDG 2.3: position-independent first page)")
    else:
        need(not uuids, f"MLE UUID at {uuids} in an image that is not an MLE")

    # Nothing writable inside the measured part: every section that is
    # written at run time must have its run-time address (VMA) outside it.
    for name, sec in s.items():
        writable = sec["flags"] & 1
        alloc = sec["flags"] & 2
        if writable and alloc and sec["size"] and sec["addr"] < len(img):
            errors.append(f"writable section {name} at {sec['addr']:#x} lies in the image")
    need(s.get(".rela.dyn", {"size": 0})["size"] == 0, "RELA relocations present (only RELR is applied)")

    bss = s[".bss"]
    stack = s[".stack"]
    rw_start = s[".data.rel.ro"]["addr"]
    rw_end = s[".data"]["addr"] + s[".data"]["size"]
    tables = s[".tables"]
    need(bl + BL_DATA_SIZE <= stack["addr"] and stack["addr"] + stack["size"] <= bss["addr"],
         "stack not between the bootloader data and .bss")
    need(tables["addr"] % 0x1000 == 0 and tables["addr"] >= rw_end, "page/IOMMU tables misplaced")
    top = tables["addr"] + tables["size"]
    need(top <= SLB_SIZE, f"RAM use up to {top:#x} passes the 64 KiB SLB")
    if errors:
        for e in errors:
            print(f"check-image: {sys.argv[2]}: {e}", file=sys.stderr)
        sys.exit(1)
    text = s[".text"]["size"]
    rodata = s.get(".rodata", {"size": 0})["size"]  # two-stage: stage 1 keeps its own in .text
    relr = s[".relr.dyn"]["size"]
    kind = "AMD SL header" if amdsl else "8-byte header"
    if psp:
        kind += ", PSP, " + ("signed" if signed else "unsigned") + f"; file = measured + $AS1 area = {len(img)} B"
    elif two_stage:
        kind += f"; two stages, stage 2 = {len(img) - measured} B checked by stage 1"
    else:
        kind += "; = file"
    print(f"{sys.argv[2]} ({kind}): measured {measured} B (C SKL slrt: 11278 B)  "
          f"[.text {text}, .rodata {rodata}, relr {relr}, rw init {rw_end - rw_start}]")
    # Room: how far the image may grow before the end of the RW copy passes
    # the last page start that still leaves the tables inside the SLB.
    last_tables = SLB_SIZE - tables["size"]
    print(f"  footprint {top} of {SLB_SIZE} B: image, bootloader data {BL_DATA_SIZE} B at {bl:#x}, "
          f"stack {stack['size']} B at {stack['addr']:#x}, bss {bss['size']} B at {bss['addr']:#x}, "
          f"rw copy {rw_end - rw_start} B, page + IOMMU tables {tables['size']} B at {tables['addr']:#x}; "
          f"free {SLB_SIZE - top} B, room before the tables {last_tables - rw_end} B")


if __name__ == "__main__":
    main()
