/*
 * SHA-256 block function with the x86 SHA extensions (SHA-NI).
 *
 * void skl_sha256_ni(uint32_t state[8], const uint8_t *blocks, size_t n)
 *
 * Written from the Intel SHA Extensions white paper (Gulley et al., 2013,
 * "Intel SHA Extensions: New Instructions Supporting the Secure Hash
 * Algorithm on Intel Architecture Processors") and the instruction
 * definitions in the Intel SDM / AMD APM: SHA256RNDS2 keeps the state as
 * ABEF/CDGH, takes W+K for two rounds in the low qword of XMM0,
 * SHA256MSG1/MSG2 compute the message schedule four words at a time.
 *
 * Needs SSSE3 (PSHUFB, PALIGNR), SSE4.1 (PBLENDW) and SHA; the caller checks
 * CPUID. Clobbers xmm0-xmm10 only (the payload's Rust code never uses XMM
 * registers: soft-float target). This text is a Rust format string: no braces.
 */
    .text
    .globl skl_sha256_ni
skl_sha256_ni:
    test    %rdx, %rdx
    jz      9f
    lea     skl_sha256_k(%rip), %rcx
    movdqa  skl_sha256_bswap(%rip), %xmm8

    movdqu  (%rdi), %xmm1                   /* a b c d (low to high) */
    movdqu  16(%rdi), %xmm2                 /* e f g h */
    pshufd  $0xB1, %xmm1, %xmm1             /* b a d c */
    pshufd  $0x1B, %xmm2, %xmm2             /* h g f e */
    movdqa  %xmm1, %xmm7
    palignr $8, %xmm2, %xmm1                /* ABEF */
    pblendw $0xF0, %xmm7, %xmm2             /* CDGH */

1:
    movdqa  %xmm1, %xmm9                    /* save for the final add */
    movdqa  %xmm2, %xmm10

    /* Rounds 0-3 */
    movdqu  0(%rsi), %xmm3
    pshufb  %xmm8, %xmm3
    movdqa  %xmm3, %xmm0
    paddd   0(%rcx), %xmm0
    sha256rnds2 %xmm1, %xmm2
    pshufd  $0x0E, %xmm0, %xmm0
    sha256rnds2 %xmm2, %xmm1

    /* Rounds 4-7 */
    movdqu  16(%rsi), %xmm4
    pshufb  %xmm8, %xmm4
    movdqa  %xmm4, %xmm0
    paddd   16(%rcx), %xmm0
    sha256rnds2 %xmm1, %xmm2
    pshufd  $0x0E, %xmm0, %xmm0
    sha256rnds2 %xmm2, %xmm1
    sha256msg1 %xmm4, %xmm3

    /* Rounds 8-11 */
    movdqu  32(%rsi), %xmm5
    pshufb  %xmm8, %xmm5
    movdqa  %xmm5, %xmm0
    paddd   32(%rcx), %xmm0
    sha256rnds2 %xmm1, %xmm2
    pshufd  $0x0E, %xmm0, %xmm0
    sha256rnds2 %xmm2, %xmm1
    sha256msg1 %xmm5, %xmm4

    /* Rounds 12-15 */
    movdqu  48(%rsi), %xmm6
    pshufb  %xmm8, %xmm6
    movdqa  %xmm6, %xmm0
    paddd   48(%rcx), %xmm0
    sha256rnds2 %xmm1, %xmm2
    movdqa  %xmm6, %xmm7
    palignr $4, %xmm5, %xmm7
    paddd   %xmm7, %xmm3
    sha256msg2 %xmm6, %xmm3
    pshufd  $0x0E, %xmm0, %xmm0
    sha256rnds2 %xmm2, %xmm1
    sha256msg1 %xmm6, %xmm5

    /* Rounds 16-63: twelve groups of four, the schedule rotating through
     * xmm3..xmm6 (W[t..t+3] = msg2(msg1(W[t-16..]) + W[t-7..], W[t-4..])). */
    mov     $64, %eax
2:
    movdqa  %xmm3, %xmm0
    paddd   (%rcx,%rax), %xmm0
    sha256rnds2 %xmm1, %xmm2
    movdqa  %xmm3, %xmm7
    palignr $4, %xmm6, %xmm7
    paddd   %xmm7, %xmm4
    sha256msg2 %xmm3, %xmm4
    pshufd  $0x0E, %xmm0, %xmm0
    sha256rnds2 %xmm2, %xmm1
    sha256msg1 %xmm3, %xmm6
    /* rotate: xmm3 <- xmm4 <- xmm5 <- xmm6 <- xmm3 */
    movdqa  %xmm3, %xmm7
    movdqa  %xmm4, %xmm3
    movdqa  %xmm5, %xmm4
    movdqa  %xmm6, %xmm5
    movdqa  %xmm7, %xmm6
    add     $16, %eax
    cmp     $256, %eax
    jb      2b

    paddd   %xmm9, %xmm1
    paddd   %xmm10, %xmm2
    add     $64, %rsi
    dec     %rdx
    jnz     1b

    pshufd  $0x1B, %xmm1, %xmm1             /* FEBA */
    pshufd  $0xB1, %xmm2, %xmm2             /* DCHG */
    movdqa  %xmm1, %xmm7
    pblendw $0xF0, %xmm2, %xmm1             /* DCBA */
    palignr $8, %xmm7, %xmm2                /* HGFE */
    movdqu  %xmm1, (%rdi)
    movdqu  %xmm2, 16(%rdi)
9:
    ret

    .section .rodata.sha256ni, "a"
    .balign 16
skl_sha256_bswap:
    .byte 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12
skl_sha256_k:
    .long 0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5
    .long 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174
    .long 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da
    .long 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967
    .long 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85
    .long 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070
    .long 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3
    .long 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
