/*
 * skl.bin head: the SKINIT entry up to our own GDT, then entry_common.S.
 *
 * SKINIT leaves (AMD APM vol. 2, 15.27): 32-bit flat protected mode, paging
 * off, CS = 0x08, SS = 0x10, DS/ES/FS/GS unusable, EAX = SLB base,
 * EDX = family/model/stepping, ESP = base + 64 KiB, GIF = 0.
 *
 * Everything is addressed relative to the base in EBP: the image is linked
 * at 0 and runs anywhere 64 KiB-aligned below 4 GiB.
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

    .code32
    .globl _start32
_start32:
    cli
    cld
    mov     %eax, %ebp                      /* SLB base, kept to the end */

    /* Our own GDT (DS/ES are unusable after SKINIT; lgdt addresses via SS). */
    lea     (gdt - _slb_start)(%ebp), %ecx
    push    %ecx
    pushw   $(gdt_end - gdt - 1)
    lgdt    (%esp)
    /* IDT limit 0: any exception before the hand-off shuts the CPU down
     * instead of vectoring through a table we do not own. */
    pushl   $0
    pushw   $0
    lidt    (%esp)
    add     $12, %esp
    mov     $0x10, %ecx
    mov     %cx, %ds
    mov     %cx, %es
    mov     %cx, %fs
    mov     %cx, %gs
    mov     %cx, %ss
    lea     (slb_common32 - _slb_start)(%ebp), %ecx
    pushl   $0x08
    push    %ecx
    lret
