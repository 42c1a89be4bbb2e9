#!/usr/bin/env python3
"""Build the real-kernel test's initramfs: a gzip-compressed cpio "newc"
archive holding busybox, /init and /dev/console.

Written directly (format: Linux Documentation/driver-api/early-userspace/
buffer-format.rst) rather than with cpio(1), so that /dev/console can be a
character device without root, and so that the output is byte-for-byte
reproducible: fixed inode numbers, mtime 0, uid/gid 0, gzip mtime 0.

usage: build-initramfs.py --busybox BIN --init SCRIPT --out initrd.gz
"""
import argparse
import gzip
import os
import stat


def entry(ino, name, mode, data=b"", rdev=(0, 0), nlink=1):
    fields = [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = hdr + name.encode() + b"\0"
    out += b"\0" * (-len(out) % 4)
    out += data + b"\0" * (-len(data) % 4)
    return out


def build(busybox: bytes, init: bytes) -> bytes:
    items = [
        (".", stat.S_IFDIR | 0o755, b"", (0, 0)),
        ("bin", stat.S_IFDIR | 0o755, b"", (0, 0)),
        ("bin/busybox", stat.S_IFREG | 0o755, busybox, (0, 0)),
        ("bin/sh", stat.S_IFLNK | 0o777, b"busybox", (0, 0)),
        ("dev", stat.S_IFDIR | 0o755, b"", (0, 0)),
        # The kernel opens /dev/console for init's stdin/stdout/stderr.
        ("dev/console", stat.S_IFCHR | 0o600, b"", (5, 1)),
        ("init", stat.S_IFREG | 0o755, init, (0, 0)),
        ("proc", stat.S_IFDIR | 0o755, b"", (0, 0)),
        ("sys", stat.S_IFDIR | 0o755, b"", (0, 0)),
    ]
    out = b"".join(
        entry(i + 1, n, m, d, r, 2 if stat.S_ISDIR(m) else 1) for i, (n, m, d, r) in enumerate(items)
    )
    out += entry(0, "TRAILER!!!", 0)
    out += b"\0" * (-len(out) % 512)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--busybox", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    with open(a.busybox, "rb") as f:
        busybox = f.read()
    with open(a.init, "rb") as f:
        init = f.read()
    data = gzip.compress(build(busybox, init), compresslevel=9, mtime=0)
    with open(a.out + ".tmp", "wb") as f:
        f.write(data)
    os.replace(a.out + ".tmp", a.out)


if __name__ == "__main__":
    main()
