/*
 * skl-txt.bin: the MLE header and the entry after GETSEC[SENTER] up to our
 * own GDT (after entry_head.S), then entry_common.S. Same 64 KiB layout and 8-byte
 * header as skl.bin (linker/skl.ld); the loader reserves all 64 KiB.
 *
 * SINIT enters the ILP at MleHeader.EntryPoint (SDG 315168 App. F;
 * txt-mle.md §4.1): 32-bit protected mode, paging off, EBX = the physical
 * address of the entry, CS flat from SINIT's GDT, which we must not use,
 * SS/ESP undefined, IDTR unspecified. DS is taken to be flat 4 GiB and
 * writable, as Linux (sl_stub.S) and TrenchBoot Xen (head.S) assume: a
 * position-independent image cannot load a GDT without one writable
 * segment. If DS were not flat, the stores below would miss and the lgdt
 * or the far return would fault: a TXT shutdown, never a wrong launch.
 *
 * This text is a Rust format string (global_asm!): no braces.
 */

    /* MLE header 2.2 (SDG Table 2-1; txt-mle.md §1.1): GRUB finds it by
     * the UUID in the first 4 KiB, 16-byte aligned. Linear 0 = image
     * base (FirstValidPage 0), so linear addresses are offsets. SINIT
     * hashes MleEnd - MleStart bytes: the measured image, nothing after. */
    .skip 4                                 /* to 0x20: 16-byte aligned (a .balign
                                             * would align the section instead) */
    .globl mle_header
mle_header:
    .long 0x9082AC5A, 0x74A7476F, 0xA2555C0F, 0x42B651CB  /* UUID */
    .long 0x34                              /* HeaderLen */
    .long 0x00020002                        /* Version 2.2 (Linux, Xen) */
    .long _start32 - _slb_start             /* EntryPoint */
    .long 0                                 /* FirstValidPage */
    .long 0                                 /* MleStart */
    .long __measured_end - _slb_start       /* MleEnd */
    /* Capabilities actually implemented: RLPs woken by MONITOR (left in
     * SENTER sleep for the kernel, which uses that method), D/A PCR
     * mapping (GRUB requires it), MTRR masks with the real MAXPHYADDR,
     * TCG-format TPM 2.0 log. */
    .long (1 << 1) | (1 << 5) | (1 << 8) | (1 << 9)
    .long 0, 0                              /* CmdlineStart, CmdlineEnd */

    .code32
    .globl _start32
_start32:
    cli
    cld
    lea     -(_start32 - _slb_start)(%ebx), %ebp    /* image base */

    /* GDTR and a null IDTR built at the top of our 64 KiB (not measured;
     * the tables' page, zeroed after lgdt/lidt read them), through DS. IDT limit 0: any exception before
     * the hand-off shuts down, which after SENTER is a TXT reset. */
    lea     (gdt - _slb_start)(%ebp), %ecx
    movw    $(gdt_end - gdt - 1), 0xFFF0(%ebp)
    mov     %ecx, 0xFFF2(%ebp)
    lgdt    0xFFF0(%ebp)
    movw    $0, 0xFFE8(%ebp)
    movl    $0, 0xFFEA(%ebp)
    lidt    0xFFE8(%ebp)
    jmp     slb_enter32
