#!/usr/bin/env python3
"""Write the SHA-256 of stage 2 into stage 1 of a two-stage skl-amdsl.bin.

usage: seal-stage2.py <skl-amdsl.bin>

Stage 1 is the part SKINIT measures (AMD SL header word 1, offset 2);
stage 2 is the rest of the file, up to the header's total length (offset
0x18). Stage 1 carries a record "SKLstg2\\0" + 32 bytes, linked as zeros
(skl/src/hw/stage1.rs, skl_bootinfo::sl_header::STAGE2_DIGEST_MAGIC); this
fills in the digest, in place, so that SKINIT's measurement of stage 1
covers stage 2. Refuses a file whose record is missing, doubled, or already
holds another digest (a stage 2 changed after sealing).
"""
import hashlib
import struct
import sys

MAGIC = b"SKLstg2\0"


def main():
    path = sys.argv[1]
    img = bytearray(open(path, "rb").read())
    if len(img) < 0x46:
        sys.exit(f"seal-stage2: {path}: {len(img)} bytes, shorter than the AMD SL header")
    measured, = struct.unpack_from("<H", img, 2)
    total, = struct.unpack_from("<I", img, 0x18)
    if not measured < total == len(img):
        sys.exit(f"seal-stage2: {path}: measured {measured}, total {total}, file {len(img)}: not a two-stage image")
    at = img.find(MAGIC, 0, measured)
    if at < 0 or img.find(MAGIC, at + 1, measured) >= 0 or at + 40 > measured:
        sys.exit(f"seal-stage2: {path}: the stage-2 digest record must occur once in stage 1")
    digest = hashlib.sha256(img[measured:total]).digest()
    old = bytes(img[at + 8:at + 40])
    if old not in (bytes(32), digest):
        sys.exit(f"seal-stage2: {path}: stage 1 already carries another digest {old.hex()}")
    img[at + 8:at + 40] = digest
    open(path, "wb").write(img)
    print(f"{path}: stage 2 {total - measured} B, SHA-256 {digest.hex()} written at {at + 8:#x}")


if __name__ == "__main__":
    main()
