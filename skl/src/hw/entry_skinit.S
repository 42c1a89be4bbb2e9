/*
 * skl.bin: the SKINIT entry up to our own GDT (after entry_head.S), then
 * entry_common.S.
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
    jmp     slb_enter32
