/*
 * skinit-probe: a Multiboot1 guest that executes SKINIT on our QEMU and checks, inside a small
 * SLB of its own, the state the instruction leaves (qemu-tests/qemu/README.md, "What SKINIT does").
 * Built in three variants (qemu.mk):
 *   -DSVME=0  EFER.SVME left 0: SKINIT must be #UD unless the CPUID SKINIT bit is on
 *   -DSVME=1  EFER.SVME set first and INIT sent to the APs, as GRUB does
 *   -DCPL3    SKINIT from ring 3: #GP
 * Exit codes through isa-debug-exit at 0xF4 (QEMU status = code * 2 + 1):
 *   0x10 every check passed inside the SLB, 0x06 #UD, 0x0D #GP, 0x12 SKINIT returned,
 *   0x20 + n check n failed (see the list at "entry").
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define SLB_BASE	0x00200000
#define EXIT(v)		movb $(v), %al; outb %al, $0xF4

	.code32
	.text
	.globl _start
	.balign 4
	.long	0x1BADB002, 0, -0x1BADB002	/* Multiboot1, no flags */
_start:
	cli
	lgdt	gdt_desc
	ljmp	$0x08, $1f
1:	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	$0x180000, %esp
	/* IDT: #UD (6) and #GP (13) end the run with their vector. */
	movl	$on_ud, %eax
	movl	$(idt + 6 * 8), %edi
	call	set_gate
	movl	$on_gp, %eax
	movl	$(idt + 13 * 8), %edi
	call	set_gate
	lidt	idt_desc
	/* TSS: the ring-0 stack for an exception taken in ring 3. */
	movl	$tss, %eax
	movw	%ax, gdt + 0x28 + 2
	shrl	$16, %eax
	movb	%al, gdt + 0x28 + 4
	movb	%ah, gdt + 0x28 + 7
	movw	$0x28, %ax
	ltr	%ax
	/* The SLB: header (entry offset, measured length) and code, at a 64 KiB-aligned base. */
	movl	$slb, %esi
	movl	$SLB_BASE, %edi
	movl	$(slb_end - slb), %ecx
	rep movsb
#if SVME
	movl	$0x000C0500, 0xFEE00300	/* INIT to all excluding self */
2:	testl	$(1 << 12), 0xFEE00300
	jnz	2b
	movl	$0xC0000080, %ecx
	rdmsr
	orl	$(1 << 12), %eax
	wrmsr
#endif
#ifdef CPL3
	pushl	$0x23			/* SS: ring-3 data */
	pushl	$0x170000
	pushl	$0x002			/* EFLAGS */
	pushl	$0x1B			/* CS: ring-3 code */
	pushl	$ring3
	iret
ring3:
#endif
	movl	$(SLB_BASE + 0x1234), %eax	/* bits 15:0 are ignored */
	skinit	%eax
	EXIT(0x12)

on_ud:	EXIT(0x06)
on_gp:	EXIT(0x0D)

/* EAX = handler, EDI = gate: 32-bit interrupt gate, ring 0 code. */
set_gate:
	movw	%ax, (%edi)
	movw	$0x08, 2(%edi)
	movw	$0x8E00, 4(%edi)
	shrl	$16, %eax
	movw	%ax, 6(%edi)
	ret

/* Position-independent: it runs at SLB_BASE. Checks in order, 0x21 first. */
slb:
	.word	entry - slb, slb_end - slb
entry:
	pushfl
	popl	%ebp
	movb	$0x21, %bl
	cmpl	$SLB_BASE, %eax			/* EAX = base, bits 15:0 cleared */
	jne	fail
	incb	%bl
	cmpl	$(SLB_BASE + 0x10000), %esp	/* ESP = base + 64 KiB */
	jne	fail
	incb	%bl
	movl	%edx, %edi
	movl	$1, %eax
	cpuid
	cmpl	%eax, %edi			/* EDX = CPUID(1).EAX */
	jne	fail
	incb	%bl
	movl	$0xC0000080, %ecx
	rdmsr
	testl	%eax, %eax			/* EFER = 0 */
	jne	fail
	incb	%bl
	movl	$0xC0010114, %ecx
	rdmsr
	andl	$7, %eax
	cmpl	$7, %eax			/* VM_CR: DPD, R_INIT, DIS_A20M */
	jne	fail
	incb	%bl
	movl	%cr0, %eax
	cmpl	$0x60000011, %eax		/* CR0: PE, ET, CD, NW */
	jne	fail
	incb	%bl
	movl	%cr4, %eax
	testl	%eax, %eax
	jne	fail
	incb	%bl
	movw	%cs, %ax
	cmpw	$0x08, %ax
	jne	fail
	incb	%bl
	movw	%ss, %ax
	cmpw	$0x10, %ax
	jne	fail
	incb	%bl
	movw	%ds, %ax
	testw	%ax, %ax			/* DS/ES/FS/GS: selector 0 */
	jne	fail
	incb	%bl
	cmpl	$2, %ebp			/* EFLAGS = 2 */
	jne	fail
	incb	%bl
	movl	$0xC0010114, %ecx		/* Xen clears R_INIT: it reads back 0 */
	rdmsr
	andl	$~2, %eax
	wrmsr
	rdmsr
	testl	$2, %eax
	jne	fail
	EXIT(0x10)
fail:
	movb	%bl, %al
	outb	%al, $0xF4
slb_end:

	.data
	.balign 8
gdt:
	.quad	0
	.quad	0x00CF9A000000FFFF	/* 0x08 ring-0 code */
	.quad	0x00CF92000000FFFF	/* 0x10 ring-0 data */
	.quad	0x00CFFA000000FFFF	/* 0x18 ring-3 code */
	.quad	0x00CFF2000000FFFF	/* 0x20 ring-3 data */
	.quad	0x0000890000000067	/* 0x28 32-bit TSS, base patched */
gdt_end:
	.balign 4
	.word	0
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt
	.balign 8
idt:
	.fill	14, 8, 0
	.balign 4
	.word	0
idt_desc:
	.word	14 * 8 - 1
	.long	idt
	.balign 4
tss:
	.long	0, 0x180000, 0x10	/* link, ESP0, SS0 */
	.fill	23, 4, 0
