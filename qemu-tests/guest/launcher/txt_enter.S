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
	call	dl_flat_state		/* "SINIT's GDT" (the MLE must not keep it), IDT limit 0, IF = 0 */
	xorl	%eax, %eax
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%esi, %esi
	xorl	%edi, %edi
	xorl	%ebp, %ebp
	xorl	%esp, %esp		/* undefined after SENTER */
	jmp	*%ebx
