/*
 * skinit_enter(slb_base, entry_addr): stands in for the SKINIT instruction, which QEMU's TCG
 * decodes as #UD (shared/docs/qemu.md §1.1, §2.8). State set as AMD APM vol. 2 §15.27 describes
 * it, except: EFER.SVME stays 1 (CLGI needs it; real SKINIT leaves EFER = 0), DS/ES/FS/GS are flat
 * data rather than "unusable", and nothing is reset or DMA-protected.
 */
	.code32
	.text
	.globl skinit_enter
skinit_enter:
	cli
	movl	4(%esp), %eax
	movl	%eax, slb_base
	movl	8(%esp), %eax
	movl	%eax, slb_entry

	/* GIF = 0 needs CLGI, and CLGI needs EFER.SVME (TCG never shows the SKINIT CPUID bit). */
	movl	$0xC0000080, %ecx
	rdmsr
	orl	$(1 << 12), %eax
	wrmsr
	clgi

	/* SKINIT's CS = 0x08 flat code, SS = 0x10 flat data. */
	call	dl_flat_state
	movl	$1, %eax
	cpuid
	movl	%eax, %edx		/* EDX = family/model/stepping */
	movl	slb_base, %eax		/* EAX = SLB base */
	leal	0x10000(%eax), %esp	/* ESP = SLB base + 64 KiB */
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	xorl	%esi, %esi
	xorl	%edi, %edi
	xorl	%ebp, %ebp
	jmp	*slb_entry

/*
 * The CPU state both dynamic launches leave (skinit_enter, txt_enter): this GDT (0x08 flat 32-bit
 * code, 0x10 flat data) with every segment reloaded, IDT limit 0 (an exception shuts down),
 * EFLAGS = 2 (only the reserved bit; IF = 0), and the time stamp for the instruction-count
 * benchmark (with -icount shift=0 the TSC counts instructions) at mailbox + 0x18; the kernel
 * stores its own at + 0x20. Clobbers EAX, EDX; returns on the same, now flat, stack.
 */
	.globl dl_flat_state
dl_flat_state:
	lgdt	gdt_desc
	ljmp	$0x08, $1f
1:	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	lidt	idt_null
	pushl	$2
	popfl
	rdtsc
	movl	%eax, 0x00500018
	movl	%edx, 0x0050001C
	ret

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
idt_null:
	.word	0
	.long	0
slb_base:
	.long	0
slb_entry:
	.long	0
