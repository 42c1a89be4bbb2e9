#!/usr/bin/env python3
"""Wrap the flat skl-txt image into skl-txt.bin: an ELF32 file that the
unchanged TrenchBoot GRUB (aem-qubes-4.2.3-rebase) loads with `multiboot2`
and launches with `slaunch` as the Intel TXT MLE (docs/design.md, "Intel
TXT", GRUB chain).

usage: mle-elf.py <flat image> <skl-txt.bin>

What GRUB requires of a Multiboot2 image for a TXT launch
(grub-core/loader/multiboot_mbi2.c, multiboot_elfxx.c @b3fd5906): an ELF
file (the a.out-kludge address tag is refused for slaunch), a Multiboot2
header in the first 32 KiB of the file with the relocatable tag
(non-relocatable ELF is refused for slaunch), and the MLE header UUID in
the first 4 KiB of the loaded image, 16-byte aligned. GRUB loads the one
PT_LOAD segment at a 2 MiB-aligned base, zeroes p_memsz bytes, and
measures (through SINIT) MleEnd - MleStart bytes of it: exactly the flat
image, whose bytes are unchanged by the wrapper.

Layout: ELF header (52 B) | program header (32 B) | Multiboot2 header
(8-byte aligned, outside the loaded segment: not measured, only read by
GRUB) | zeros to IMAGE_OFFSET | the flat image. p_memsz = AREA_SIZE: GRUB
reserves and zeroes the whole area; SKL loads a relocatable kernel into it
at KERNEL_OFFSET. The values match skl_bootinfo::txt::chain.
"""
import struct
import sys

AREA_SIZE = 32 << 20
IMAGE_OFFSET = 0x1000
LINK_BASE = 0x0100_0000
ALIGN = 0x0020_0000
PREFERENCE_HIGH = 2
MB2_MAGIC = 0xE85250D6


def mb2_header():
    # Relocatable tag (type 10): min, max (the highest end address), align,
    # preference. End tag (type 0, size 8).
    tags = struct.pack("<HHIIIII", 10, 0, 24, LINK_BASE, 0xFFFFFFFF, ALIGN, PREFERENCE_HIGH)
    tags += struct.pack("<HHI", 0, 0, 8)
    length = 16 + len(tags)
    checksum = (-(MB2_MAGIC + 0 + length)) & 0xFFFFFFFF
    return struct.pack("<IIII", MB2_MAGIC, 0, length, checksum) + tags


MLE_UUID = bytes.fromhex("5aac82906f47a7740f5c55a2cb51b642")


def check(f, img):
    """Re-read the file as GRUB does and fail on anything it would refuse."""
    errors = []
    hdrs = [o for o in range(0, min(len(f), 32768) - 12, 8)
            if struct.unpack_from("<I", f, o)[0] == MB2_MAGIC
            and sum(struct.unpack_from("<4I", f, o)) & 0xFFFFFFFF == 0]
    if not hdrs:
        errors.append("no checksummed Multiboot2 header 8-byte aligned in the first 32 KiB")
    else:
        o, tags, rel = hdrs[0], hdrs[0] + 16, None
        end = o + struct.unpack_from("<I", f, o + 8)[0]
        while tags < end:
            ty, size = struct.unpack_from("<HxxI", f, tags)
            if ty == 0:
                break
            if ty == 2:
                errors.append("address tag: GRUB refuses it for slaunch")
            if ty == 10:
                rel = struct.unpack_from("<4I", f, tags + 8)
            tags += (size + 7) & ~7
        if rel is None:
            errors.append("no relocatable tag: GRUB refuses non-relocatable ELF for slaunch")
    phoff, = struct.unpack_from("<I", f, 0x1C)
    ty, off, vaddr, paddr, filesz, memsz = struct.unpack_from("<6I", f, phoff)
    entry, = struct.unpack_from("<I", f, 0x18)
    if f[off:off + filesz] != img or ty != 1:
        errors.append("the PT_LOAD segment is not the flat image")
    if not vaddr <= entry < vaddr + memsz:
        errors.append("entry point isn't in a segment")
    if phoff + 32 > 32768:
        errors.append("program header at a too high offset")
    uuids = [i for i in range(len(f)) if f.startswith(MLE_UUID, i)]
    if len(uuids) != 1 or (uuids[0] - off) % 16 or not 0 <= uuids[0] - off < 4096:
        errors.append(f"MLE UUID at {uuids}: GRUB scans the image's first 4 KiB in 16-byte steps, SDG wants one copy")
    if errors:
        sys.exit("mle-elf: " + "; ".join(errors))


def main():
    img = open(sys.argv[1], "rb").read()
    entry, measured = struct.unpack_from("<2H", img, 0)
    if measured != len(img):
        sys.exit(f"mle-elf: {sys.argv[1]}: measured size {measured} != file size {len(img)}")
    ehdr = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
    ehdr += struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, LINK_BASE + entry, 52, 0, 0, 52, 32, 1, 0, 0, 0)
    phdr = struct.pack("<8I", 1, IMAGE_OFFSET, LINK_BASE, LINK_BASE, len(img), AREA_SIZE, 7, ALIGN)
    head = ehdr + phdr
    head += bytes(-len(head) % 8) + mb2_header()
    assert len(head) <= IMAGE_OFFSET
    out = head + bytes(IMAGE_OFFSET - len(head)) + img
    check(out, img)
    open(sys.argv[2], "wb").write(out)
    print(f"{sys.argv[2]}: ELF32 Multiboot2 MLE, {len(out)} B: image {len(img)} B at file offset "
          f"{IMAGE_OFFSET:#x}, segment p_memsz {AREA_SIZE:#x} (kernel area), entry +{entry:#x}")


if __name__ == "__main__":
    main()
