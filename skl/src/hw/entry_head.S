/*
 * First in every payload (skl.bin, skl-amdsl.bin, skl-txt.bin): the image
 * head after the SL header the linker script writes (8 bytes, or 0x46 for
 * the AMD SL header of skl-amdsl.bin), i.e. skl_info right after it, which
 * GRUB and the tools identify the image by. The DCE-specific entry
 * (entry_skinit.S or entry_txt.S) follows in the same section, then
 * entry_common.S.
 *
 * SL_HEADER_SIZE is set by the binary from skl_bootinfo's header struct
 * (Generation::header_size); the linker script asserts skl_info lies there.
 *
 * This text is a Rust format string (global_asm!): no braces except the
 * operand in the binary's prefix.
 */
    .section .slb.head, "ax"
    .globl _slb_head
_slb_head:
    .set _slb_start, _slb_head - SL_HEADER_SIZE

    /* skl_info: UUID 78f1268e-0492-11e9-832a-c85b76c4cc02, version. */
    .globl skl_info
skl_info:
    .byte 0x78, 0xf1, 0x26, 0x8e, 0x04, 0x92, 0x11, 0xe9
    .byte 0x83, 0x2a, 0xc8, 0x5b, 0x76, 0xc4, 0xcc, 0x02
    .long 0
