#!/usr/bin/env python3
"""Check a built SLB against the rules GRUB, SKINIT and we impose, and print
its sizes. Fails (exit 1) on any violation. Independent of the Rust code:
reads the ELF section table and the flat file only.

usage: check-image.py <skl ELF> <skl.bin> [--mle | --amdsl]

--amdsl: the image is skl-amdsl.bin, the AMD SL generation: AMD's extended
SL header (docs/amd-sl.md) with the SKL words at 0x42/0x44, checked field by
field and by GRUB tb-dev's rules (grub-core/loader/slaunch/skl.c,
grub_skl_set_module), measured end 16-byte aligned. Without it the image
must have the 8-byte header (no AMD SL GUID at 0x04).

--mle: the image is skl-txt.bin, the Intel TXT MLE: its MLE header (SDG
315168 Table 2-1) must be the only copy of the MLE UUID, 16-byte aligned in
the first 4 KiB (where GRUB scans), and describe exactly the measured image.
Without it the image must carry no MLE UUID at all.
"""
import struct
import sys

SLB_SIZE = 0x10000
MAX_FILE = 0xF000          # GRUB keeps 4 KiB for the SLRT
BL_DATA_SIZE = 0x1000
SKL_UUID = bytes.fromhex("78f1268e049211e9832ac85b76c4cc02")
MLE_UUID = bytes.fromhex("5aac82906f47a7740f5c55a2cb51b642")
AMD_SL_GUID = bytes.fromhex("da75c40ed0d35d48b6ae3cb20fb7ad3a")
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


def main():
    elf = open(sys.argv[1], "rb").read()
    img = open(sys.argv[2], "rb").read()
    errors = []
    s = sections(elf)
    amdsl = "--amdsl" in sys.argv[3:]

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
    need(measured == len(img), f"measured size {measured} != file size {len(img)}: unmeasured bytes in the file")
    need(entry < measured, f"entry {entry:#x} not inside the measured image")
    need(info + 20 <= measured, f"skl_info at {info:#x} not inside the measured image")
    need(img[info:info + 16] == SKL_UUID, "skl_info UUID mismatch")
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
    kind = "AMD SL header" if amdsl else "8-byte header"
    print(f"{sys.argv[2]} ({kind}): measured {measured} B (= file; C SKL slrt: 11278 B)  "
          f"[.text {text}, .rodata {rodata}, relr {relr}, rw init {rw_end - rw_start}]")
    print(f"  footprint {top + stack} of {SLB_SIZE} B: image, bootloader data {BL_DATA_SIZE} B at {bl:#x}, "
          f"bss {bss['size']} B at {bss['addr']:#x}, rw copy {rw_end - rw_start} B, "
          f"page + IOMMU tables {tables['size']} B at {tables['addr']:#x}, stack {stack} B; "
          f"free {SLB_SIZE - stack - top} B")


if __name__ == "__main__":
    main()
