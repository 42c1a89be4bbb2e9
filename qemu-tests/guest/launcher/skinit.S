/*
 * skinit_enter(slb_base, entry_addr): what GRUB's slaunch does last, then the SKINIT instruction
 * itself (our patched QEMU implements it: qemu-tests/qemu/). GRUB first sends INIT to every AP
 * (SKINIT requires them in INIT) and sets EFER.SVME; the launcher has already relinquished TPM
 * locality 0. SKINIT then resets the CPU as INIT does, sets the state of AMD APM vol. 2 §15.27
 * (EAX = base, EDX = family/model/stepping, ESP = base + 64 KiB, CS 0x08, SS 0x10, EFER = 0,
 * GIF = 0, VM_CR.R_INIT), makes the locality-4 measurement of SLB[0, word[1]) and jumps to
 * base + word[0]. entry_addr is unused: the CPU reads the entry from the SLB header.
 */
	.code32
	.text
	.globl skinit_enter
skinit_enter:
	cli
	movl	4(%esp), %ebx		/* SLB base (SKINIT takes it in EAX) */

	/* INIT IPI to all APs: ICR = all excluding self, INIT (the value GRUB writes). */
	movl	$0x000C0500, 0xFEE00300
1:	testl	$(1 << 12), 0xFEE00300	/* delivery status: send pending */
	jnz	1b

	/* EFER.SVME = 1, as GRUB does before SKINIT. */
	movl	$0xC0000080, %ecx
	rdmsr
	orl	$(1 << 12), %eax
	wrmsr

	/* Time stamp for the instruction-count benchmark (mailbox + 0x18). */
	rdtsc
	movl	%eax, 0x00500018
	movl	%edx, 0x0050001C
	movl	%ebx, %eax
	skinit	%eax
	ud2				/* not reached: SKINIT does not return */

/*
 * The CPU state GETSEC[SENTER] leaves for txt_enter (SKINIT sets its own): this GDT (0x08 flat 32-bit
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
