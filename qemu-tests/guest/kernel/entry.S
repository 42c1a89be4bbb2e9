/*
 * Image head (first bytes at 0x0100_0000): Multiboot2 header, TXT MLE header, then the DLME entry
 * that SKL jumps to. The loader finds the MLE header by its UUID in the first 4 KiB, 16-byte aligned.
 */
#define MB2_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0

	.section .head, "ax"
	.balign 8
mb2_header:
	.long	MB2_MAGIC
	.long	MB2_ARCH_I386
	.long	mb2_header_end - mb2_header
	.long	-(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	.word	0, 0			/* end tag: type 0, flags 0, size 8 */
	.long	8
mb2_header_end:

#ifndef SKL_PLAIN_MB2
	.balign 16
mle_header:
	.byte	0x5a, 0xac, 0x82, 0x90, 0x6f, 0x47, 0xa7, 0x74	/* UUID */
	.byte	0x0f, 0x5c, 0x55, 0xa2, 0xcb, 0x51, 0xb6, 0x42
	.long	0x34			/* header_len */
	.long	0x00020002		/* version 2.2 */
	.long	mle_entry_offset	/* entry_point, from the image start (linker script) */
	.long	0			/* first_valid_page */
	.long	0			/* mle_start */
	.long	mle_end_offset		/* mle_end: the whole image incl. .bss */
	.long	0x223			/* capabilities, as TrenchBoot Xen */
	.long	0			/* cmdline_start */
	.long	0			/* cmdline_end */
#endif

/*
 * DLME entry. Nothing may change a register before it is saved: only stores (no flags touched)
 * until ESP is saved and replaced, then PUSHF for EFLAGS.
 */
	.globl kernel_entry
kernel_entry:
	movl	%eax, entry_regs + 0
	movl	%ebx, entry_regs + 4
	movl	%ecx, entry_regs + 8
	movl	%edx, entry_regs + 12
	movl	%esi, entry_regs + 16
	movl	%edi, entry_regs + 20
	movl	%ebp, entry_regs + 24
	movl	%esp, entry_regs + 28
	rdtsc				/* benchmark stamp (test contract: mailbox + 0x20) */
	movl	%eax, 0x00500020
	movl	%edx, 0x00500024
	movl	$stack_top, %esp
	pushfl
	popl	entry_regs + 32
	xorl	%eax, %eax
	movw	%cs, %ax
	movl	%eax, entry_regs + 36
	movw	%ds, %ax
	movl	%eax, entry_regs + 40
	movw	%es, %ax
	movl	%eax, entry_regs + 44
	movw	%fs, %ax
	movl	%eax, entry_regs + 48
	movw	%gs, %ax
	movl	%eax, entry_regs + 52
	movw	%ss, %ax
	movl	%eax, entry_regs + 56
	movl	%cr0, %eax
	movl	%eax, entry_regs + 60
	movl	%cr3, %eax
	movl	%eax, entry_regs + 64
	movl	%cr4, %eax
	movl	%eax, entry_regs + 68
	movl	$0xC0000080, %ecx	/* EFER */
	rdmsr
	movl	%eax, entry_regs + 72
	sidt	dtr_tmp
	movzwl	dtr_tmp, %eax
	movl	%eax, entry_regs + 76
	movl	dtr_tmp + 2, %eax
	movl	%eax, entry_regs + 80
	sgdt	dtr_tmp
	movzwl	dtr_tmp, %eax
	movl	%eax, entry_regs + 84
	movl	dtr_tmp + 2, %eax
	movl	%eax, entry_regs + 88

	/* Own GDT: SKL's lives in the SLB, which the kernel does not trust or keep. */
	lgdt	gdt_desc
	ljmp	$0x08, $1f
1:	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	cld
	call	kernel_main
2:	cli
	hlt
	jmp	2b

	.data
	.balign 8
gdt:
	.quad	0
	.quad	0x00CF9A000000FFFF	/* 0x08: flat 32-bit code */
	.quad	0x00CF92000000FFFF	/* 0x10: flat 32-bit data */
gdt_end:
	.balign 4
	.word	0
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt
	.balign 4
	.word	0
dtr_tmp:
	.word	0
	.long	0

	.bss
	.balign 4
	.globl entry_regs
entry_regs:
	.space	23 * 4
	/* The stack is the last thing in the image (the kernel_tampered scenario flips its top byte). */
	.section .stack, "aw", @nobits
	.balign 16
	.space	0x4000
stack_top:
