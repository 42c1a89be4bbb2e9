/*
 * First in both payloads (skl.bin, skl-txt.bin): the image head after the
 * 8-byte header the linker script writes, i.e. skl_info at offset 8, which
 * GRUB and the tools identify the image by. The DCE-specific entry
 * (entry_skinit.S or entry_txt.S) follows in the same section, then
 * entry_common.S.
 *
 * This text is a Rust format string (global_asm!): no braces.
 */
    .section .slb.head, "ax"
    .globl _slb_head
_slb_head:
    .set _slb_start, _slb_head - 8

    /* skl_info: UUID 78f1268e-0492-11e9-832a-c85b76c4cc02, version. */
    .globl skl_info
skl_info:
    .byte 0x78, 0xf1, 0x26, 0x8e, 0x04, 0x92, 0x11, 0xe9
    .byte 0x83, 0x2a, 0xc8, 0x5b, 0x76, 0xc4, 0xcc, 0x02
    .long 0
