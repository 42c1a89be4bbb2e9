/*
 * Shared by skl.bin and skl-txt.bin after their entries, which jump to
 * slb_enter32 in 32-bit protected mode with our GDT and IDT loaded and
 * EBP = image base. Sets up the rest, enters long mode, calls skl_main(base); and the
 * hand-off back to 32-bit protected mode.
 *
 * Everything is addressed relative to the base in EBP (32-bit code) or
 * RIP-relative (64-bit code). The measured image is never written: .bss,
 * page tables and the relocated RW copy lie above the bootloader data.
 *
 * This text is a Rust format string (global_asm!): no braces.
 */
slb_enter32:
    /* Our GDT and IDT are loaded: reload every data segment from it, our
     * stack (below the tables, linker/slb.ld), and CS through a far return. */
    mov     $0x10, %ecx
    mov     %cx, %ds
    mov     %cx, %es
    mov     %cx, %fs
    mov     %cx, %gs
    mov     %cx, %ss
    lea     (__stack_top - _slb_start)(%ebp), %esp
    lea     (slb_common32 - _slb_start)(%ebp), %ecx
    pushl   $0x08
    push    %ecx
    lret
slb_common32:
    /* Zero .bss (page tables included): GRUB leaves it uninitialised. */
    lea     (__bss_start - _slb_start)(%ebp), %edi
    lea     (__bss_end - _slb_start)(%ebp), %ecx
    sub     %edi, %ecx
    shr     $2, %ecx
    xor     %eax, %eax
    rep stosl

    /* Stack canary: 32 bytes at the bottom of the stack, checked
     * before the hand-off (skl::hw::cpu::stack_intact). */
    lea     (__stack_bottom - _slb_start)(%ebp), %edi
    mov     $0x4B4C5353, %eax               /* "SSLK" */
    mov     $8, %ecx
    rep stosl

    /* Copy the RW data from its place in the image to its run-time home. */
    lea     (__rw_lma - _slb_start)(%ebp), %esi
    lea     (__rw_start - _slb_start)(%ebp), %edi
    lea     (__rw_end - _slb_start)(%ebp), %ecx
    sub     %edi, %ecx
    shr     $2, %ecx
    rep movsl

    /* Identity map 0-4 GiB with 1 GiB pages: a PML4 and a PDPT (8 KiB
     * instead of 24 KiB for 2 MiB pages). Every SKINIT CPU since family
     * 10h has 1 GiB pages; without them stop here (ud2 with IDT limit 0
     * shuts the CPU down). */
    mov     $0x80000001, %eax
    cpuid
    bt      $26, %edx                       /* Page1GB */
    jnc     no_1g_pages
    lea     (pml4 - _slb_start)(%ebp), %edi
    lea     0x1003(%edi), %eax              /* PDPT | P | RW */
    mov     %eax, (%edi)
    add     $0x1000, %edi                   /* PDPT */
    mov     $0x83, %eax                     /* P | RW | PS */
    mov     $4, %ecx
2:  mov     %eax, (%edi)
    add     $0x40000000, %eax
    add     $8, %edi
    loop    2b

    /* Long mode. OSFXSR/OSXMMEXCPT: SSE for the SHA-NI hash path. */
    mov     %cr4, %eax
    or      $0x620, %eax                    /* PAE | OSFXSR | OSXMMEXCPT */
    mov     %eax, %cr4
    lea     (pml4 - _slb_start)(%ebp), %eax
    mov     %eax, %cr3
    mov     $0xC0000080, %ecx               /* EFER */
    rdmsr
    or      $0x100, %eax                    /* LME */
    wrmsr
    mov     %cr0, %eax
    /* SKINIT reinitialises the CPU like INIT, which sets CR0.CD/NW: with
     * caches off, hashing a 10 MiB kernel (and fetching our own code) runs
     * uncached. Turn them on; the firmware's MTRRs keep MMIO uncacheable. */
    and     $~0x6000000C, %eax              /* CD, NW, EM, TS off */
    or      $0x80000002, %eax               /* PG, MP */
    mov     %eax, %cr0
    lea     (start64 - _slb_start)(%ebp), %ecx
    pushl   $0x18
    push    %ecx
    lret

    .code64
start64:
    mov     $0x10, %eax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %fs
    mov     %ax, %gs
    mov     %ax, %ss
    mov     %ebp, %ebp                      /* zero-extend the base */
    lea     __stack_top(%rip), %rsp

    /* Apply RELR relocations to the RW copy (every target must lie in it). */
    lea     __relr_start(%rip), %rsi
    lea     __relr_end(%rip), %r10
    lea     __rw_start(%rip), %r8
    lea     __rw_end(%rip), %r9
    xor     %edx, %edx                      /* next address to relocate */
4:  cmp     %r10, %rsi
    jae     9f
    lodsq
    test    $1, %al
    jnz     5f
    lea     (%rbp,%rax), %rdi               /* address entry */
    call    reloc_one
    lea     8(%rdi), %rdx
    jmp     4b
5:  mov     %rdx, %rdi                      /* bitmap entry: bits 1..63 */
    shr     $1, %rax
6:  test    %rax, %rax
    jz      7f
    test    $1, %al
    jz      8f
    call    reloc_one
8:  add     $8, %rdi
    shr     $1, %rax
    jmp     6b
7:  add     $(63 * 8), %rdx
    jmp     4b
9:
    mov     %rbp, %rdi
    call    skl_main
    ud2

no_1g_pages:
    ud2

/* Relocate the 8 bytes at %rdi by the base, or stop if outside the RW copy. */
reloc_one:
    cmp     %r8, %rdi
    jb      1f
    lea     8(%rdi), %r11
    cmp     %r9, %r11
    ja      1f
    add     %rbp, (%rdi)
    ret
1:  ud2

/*
 * skl_handoff(entry: u32, slb_base: u32, esi: u32, ebx: u32, stgi: u32) -> !
 * Back to 32-bit protected mode, paging off, then jump to `entry` with
 * EBP = EDX = SLB base, ESI and EBX as given, EAX = Multiboot2 magic,
 * EDI = entry. DLME mode (TrenchBoot Xen aem-staging-14-10-24-rebase,
 * head.S above slaunch_stub_entry; Linux AMD Secure Launch): EBX = entry,
 * ESI = boot parameters; GIF stays 0, the kernel executes STGI. Multiboot2
 * mode (Multiboot2 spec §3.3, i386 machine state): EBX = MBI; with
 * stgi != 0, STGI right before the jump (interrupts stay off: IF = 0).
 */
    .globl skl_handoff
skl_handoff:
    cli
    push    %r8                             /* stgi: popped in 32-bit mode */
    mov     %esi, %ebp
    mov     %edx, %esi
    mov     %ecx, %ebx
    lea     10f(%rip), %rax
    pushq   $0x08
    push    %rax
    lretq
    .code32
10:
    mov     $0x10, %eax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %fs
    mov     %ax, %gs
    mov     %ax, %ss
    mov     %cr0, %eax
    and     $0x7fffffff, %eax               /* paging off: leaves long mode */
    mov     %eax, %cr0
    mov     $0xC0000080, %ecx
    rdmsr
    and     $~0x100, %eax                   /* LME off */
    wrmsr
    mov     %cr4, %eax
    and     $~0x20, %eax                    /* PAE off */
    mov     %eax, %cr4
    xor     %eax, %eax
    mov     %eax, %cr3
    pop     %eax                            /* stgi (low half of the push) */
    lea     0x10000(%ebp), %esp
    mov     %ebp, %edx
    xor     %ecx, %ecx
    test    %eax, %eax
    mov     $0x36d76289, %eax
    jz      11f
    stgi
11:
    jmp     *%edi

    .section .rodata.gdt, "a"
    .balign 8
gdt:
    .quad 0                                 /* null */
    .quad 0x00cf9b000000ffff                /* 0x08: 32-bit flat code */
    .quad 0x00cf93000000ffff                /* 0x10: flat data */
    .quad 0x00af9b000000ffff                /* 0x18: 64-bit code */
gdt_end:

    .section .skl.tables.pagetables, "aw", @nobits
    .balign 4096
pml4:
    .skip 0x2000                            /* PML4, PDPT */

    /* Back to the assembler's default for whatever global_asm! follows. */
    .code64
    .text
