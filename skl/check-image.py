#!/usr/bin/env python3
"""Check a built SLB against the rules GRUB, SKINIT and we impose, and print
its sizes. Fails (exit 1) on any violation. Independent of the Rust code:
reads the ELF section table and the flat file only.

usage: check-image.py <skl ELF> <skl.bin>
"""
import struct
import sys

SLB_SIZE = 0x10000
MAX_FILE = 0xF000          # GRUB keeps 4 KiB for the SLRT
BL_DATA_SIZE = 0x1000
SKL_UUID = bytes.fromhex("78f1268e049211e9832ac85b76c4cc02")


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


def main():
    elf = open(sys.argv[1], "rb").read()
    img = open(sys.argv[2], "rb").read()
    errors = []
    entry, measured, info, bl = struct.unpack_from("<4H", img, 0)
    s = sections(elf)

    def need(cond, msg):
        if not cond:
            errors.append(msg)

    # GRUB aem-qubes-4.2.3-rebase grub_skinit_is_slb + GRUB-newest's extra check.
    need(len(img) <= MAX_FILE, f"file is {len(img)} bytes, GRUB accepts at most {MAX_FILE}")
    need(measured == len(img), f"measured size {measured} != file size {len(img)}: unmeasured bytes in the file")
    need(entry < measured, f"entry {entry:#x} not inside the measured image")
    need(info + 20 <= measured, f"skl_info at {info:#x} not inside the measured image")
    need(img[info:info + 16] == SKL_UUID, "skl_info UUID mismatch")
    need(bl >= measured, f"bootloader data {bl:#x} overlaps the measured image (ends {measured:#x})")
    need(bl + BL_DATA_SIZE <= SLB_SIZE, f"bootloader data at {bl:#x} leaves less than 4 KiB")

    # Nothing writable inside the measured part: every section that is
    # written at run time must have its run-time address (VMA) outside it.
    for name, sec in s.items():
        writable = sec["flags"] & 1
        alloc = sec["flags"] & 2
        if writable and alloc and sec["size"] and sec["addr"] < measured:
            errors.append(f"writable section {name} at {sec['addr']:#x} lies in the measured image")
    need(s.get(".rela.dyn", {"size": 0})["size"] == 0, "RELA relocations present (only RELR is applied)")

    bss = s[".bss"]
    rw_start = s[".data.rel.ro"]["addr"]
    rw_end = s[".data"]["addr"] + s[".data"]["size"]
    tables = s[".tables"]
    need(tables["addr"] % 0x1000 == 0 and tables["addr"] >= rw_end, "page/IOMMU tables misplaced")
    stack = 0x2000
    top = tables["addr"] + tables["size"]
    need(top <= SLB_SIZE - stack, f"RAM use up to {top:#x} collides with the stack")
    if errors:
        for e in errors:
            print(f"check-image: {sys.argv[2]}: {e}", file=sys.stderr)
        sys.exit(1)
    text = s[".text"]["size"]
    rodata = s[".rodata"]["size"]
    relr = s[".relr.dyn"]["size"]
    print(f"{sys.argv[2]}: measured {measured} B (= file; C SKL slrt: 11278 B)  "
          f"[.text {text}, .rodata {rodata}, relr {relr}, rw init {rw_end - rw_start}]")
    print(f"  footprint {top + stack} of {SLB_SIZE} B: image, bootloader data {BL_DATA_SIZE} B at {bl:#x}, "
          f"bss {bss['size']} B at {bss['addr']:#x}, rw copy {rw_end - rw_start} B, "
          f"page + IOMMU tables {tables['size']} B at {tables['addr']:#x}, stack {stack} B; "
          f"free {SLB_SIZE - stack - top} B")


if __name__ == "__main__":
    main()
