/*
 * txt_enter(entry): stands in for GETSEC[SENTER] and SINIT's jump to the MLE, which QEMU's TCG
 * cannot do (no SMX). State as SDG 315168 App. F gives it for the ILP (txt-mle.md §4.1), except:
 * CR4.SMXE stays 0 (TCG refuses it without SMX), and nothing is measured here (the proxy did
 * SINIT's PCR 17 work) or DMA-protected. DS is flat, as Linux and Xen (and skl-txt.bin) assume;
 * SS/ESP are left pointing nowhere useful to show the MLE does not rely on them.
 */
	.code32
	.text
	.globl txt_enter
txt_enter:
	cli
	movl	4(%esp), %ebx		/* EBX = physical entry point */
	lgdt	sinit_gdt_desc		/* "SINIT's GDT": the MLE must not keep it */
	ljmp	$0x08, $1f
1:	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	lidt	idt_null
	pushl	$2			/* EFLAGS: IF = 0 */
	popfl
	rdtsc				/* benchmark stamp, as skinit_enter */
	movl	%eax, 0x00500018
	movl	%edx, 0x0050001C
	xorl	%eax, %eax
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%esi, %esi
	xorl	%edi, %edi
	xorl	%ebp, %ebp
	xorl	%esp, %esp		/* undefined after SENTER */
	jmp	*%ebx

	.data
	.balign 8
sinit_gdt:
	.quad	0
	.quad	0x00CF9A000000FFFF	/* 0x08: flat 32-bit code */
	.quad	0x00CF92000000FFFF	/* 0x10: flat 32-bit data */
sinit_gdt_end:
	.balign 4
	.word	0
sinit_gdt_desc:
	.word	sinit_gdt_end - sinit_gdt - 1
	.long	sinit_gdt
