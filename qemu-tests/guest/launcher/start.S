/* Multiboot1 header and entry: QEMU -kernel loads this ELF at 1 MiB in 32-bit protected mode. */
#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS 0x00000003 /* page-aligned modules, memory information */

	.section .multiboot, "a"
	.balign 4
	.long	MB1_MAGIC
	.long	MB1_FLAGS
	.long	-(MB1_MAGIC + MB1_FLAGS)

	.text
	.globl _start
_start:
	cli
	cld
	movl	$stack_top, %esp
	movl	%eax, %esi		/* Multiboot1 magic */
	movl	%ebx, %edx		/* Multiboot1 information */
	/* QEMU zero-fills p_memsz already; do it again so nothing depends on the loader. */
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	shrl	$2, %ecx
	xorl	%eax, %eax
	rep stosl
	pushl	%edx
	pushl	%esi
	call	launcher_main
1:	cli
	hlt
	jmp	1b

	.section .bss.stack, "aw", @nobits
	.balign 16
	.space	0x8000
stack_top:
