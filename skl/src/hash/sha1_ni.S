/*
 * SHA-1 block function with the x86 SHA extensions (SHA-NI).
 *
 * void skl_sha1_ni(uint32_t state[5], const uint8_t *blocks, size_t n)
 *
 * From the Intel SHA Extensions white paper (Gulley et al., 2013) and the
 * SDM instruction definitions. ABCD lives in xmm0 with A in the top dword;
 * E rides in the top dword of xmm1/xmm2, which alternate: before group g's
 * SHA1RNDS4 the other one saves ABCD so group g+1's SHA1NEXTE can derive
 * E = rol(A, 30) + W. Message words W[4k..4k+3] live in xmm(3 + k mod 4);
 * W[4k..] for k >= 4 is built in the register of W[4k-16..] by SHA1MSG1 with
 * W[4k-12..], PXOR with W[4k-8..] and SHA1MSG2 with W[4k-4..]. The function
 * selector of SHA1RNDS4 is the round number / 20.
 *
 * Needs SSSE3 (PSHUFB), SSE4.1 and SHA; clobbers xmm0-xmm10 only.
 * This text is a Rust format string: no braces.
 */
    .text
    .globl skl_sha1_ni
skl_sha1_ni:
    test    %rdx, %rdx
    jz      9f
    movdqa  skl_sha1_bswap(%rip), %xmm8
    movdqu  (%rdi), %xmm0                   /* a b c d */
    pshufd  $0x1B, %xmm0, %xmm0             /* A in the top dword */
    movd    16(%rdi), %xmm1
    pslldq  $12, %xmm1                      /* e in the top dword */
1:
    movdqa  %xmm0, %xmm9
    movdqa  %xmm1, %xmm10
    /* rounds 0-3 */
    movdqu  0(%rsi), %xmm3
    pshufb  %xmm8, %xmm3
    paddd   %xmm3, %xmm1
    movdqa  %xmm0, %xmm2
    sha1rnds4 $0, %xmm1, %xmm0
    /* rounds 4-7 */
    movdqu  16(%rsi), %xmm4
    pshufb  %xmm8, %xmm4
    sha1nexte %xmm4, %xmm2
    movdqa  %xmm0, %xmm1
    sha1rnds4 $0, %xmm2, %xmm0
    sha1msg1 %xmm4, %xmm3
    /* rounds 8-11 */
    movdqu  32(%rsi), %xmm5
    pshufb  %xmm8, %xmm5
    sha1nexte %xmm5, %xmm1
    movdqa  %xmm0, %xmm2
    sha1rnds4 $0, %xmm1, %xmm0
    sha1msg1 %xmm5, %xmm4
    pxor    %xmm5, %xmm3
    /* rounds 12-15 */
    movdqu  48(%rsi), %xmm6
    pshufb  %xmm8, %xmm6
    sha1nexte %xmm6, %xmm2
    movdqa  %xmm0, %xmm1
    sha1msg2 %xmm6, %xmm3
    sha1rnds4 $0, %xmm2, %xmm0
    sha1msg1 %xmm6, %xmm5
    pxor    %xmm6, %xmm4
    /* rounds 16-19 */
    sha1nexte %xmm3, %xmm1
    movdqa  %xmm0, %xmm2
    sha1msg2 %xmm3, %xmm4
    sha1rnds4 $0, %xmm1, %xmm0
    sha1msg1 %xmm3, %xmm6
    pxor    %xmm3, %xmm5
    /* rounds 20-23 */
    sha1nexte %xmm4, %xmm2
    movdqa  %xmm0, %xmm1
    sha1msg2 %xmm4, %xmm5
    sha1rnds4 $1, %xmm2, %xmm0
    sha1msg1 %xmm4, %xmm3
    pxor    %xmm4, %xmm6
    /* rounds 24-27 */
    sha1nexte %xmm5, %xmm1
    movdqa  %xmm0, %xmm2
    sha1msg2 %xmm5, %xmm6
    sha1rnds4 $1, %xmm1, %xmm0
    sha1msg1 %xmm5, %xmm4
    pxor    %xmm5, %xmm3
    /* rounds 28-31 */
    sha1nexte %xmm6, %xmm2
    movdqa  %xmm0, %xmm1
    sha1msg2 %xmm6, %xmm3
    sha1rnds4 $1, %xmm2, %xmm0
    sha1msg1 %xmm6, %xmm5
    pxor    %xmm6, %xmm4
    /* rounds 32-35 */
    sha1nexte %xmm3, %xmm1
    movdqa  %xmm0, %xmm2
    sha1msg2 %xmm3, %xmm4
    sha1rnds4 $1, %xmm1, %xmm0
    sha1msg1 %xmm3, %xmm6
    pxor    %xmm3, %xmm5
    /* rounds 36-39 */
    sha1nexte %xmm4, %xmm2
    movdqa  %xmm0, %xmm1
    sha1msg2 %xmm4, %xmm5
    sha1rnds4 $1, %xmm2, %xmm0
    sha1msg1 %xmm4, %xmm3
    pxor    %xmm4, %xmm6
    /* rounds 40-43 */
    sha1nexte %xmm5, %xmm1
    movdqa  %xmm0, %xmm2
    sha1msg2 %xmm5, %xmm6
    sha1rnds4 $2, %xmm1, %xmm0
    sha1msg1 %xmm5, %xmm4
    pxor    %xmm5, %xmm3
    /* rounds 44-47 */
    sha1nexte %xmm6, %xmm2
    movdqa  %xmm0, %xmm1
    sha1msg2 %xmm6, %xmm3
    sha1rnds4 $2, %xmm2, %xmm0
    sha1msg1 %xmm6, %xmm5
    pxor    %xmm6, %xmm4
    /* rounds 48-51 */
    sha1nexte %xmm3, %xmm1
    movdqa  %xmm0, %xmm2
    sha1msg2 %xmm3, %xmm4
    sha1rnds4 $2, %xmm1, %xmm0
    sha1msg1 %xmm3, %xmm6
    pxor    %xmm3, %xmm5
    /* rounds 52-55 */
    sha1nexte %xmm4, %xmm2
    movdqa  %xmm0, %xmm1
    sha1msg2 %xmm4, %xmm5
    sha1rnds4 $2, %xmm2, %xmm0
    sha1msg1 %xmm4, %xmm3
    pxor    %xmm4, %xmm6
    /* rounds 56-59 */
    sha1nexte %xmm5, %xmm1
    movdqa  %xmm0, %xmm2
    sha1msg2 %xmm5, %xmm6
    sha1rnds4 $2, %xmm1, %xmm0
    sha1msg1 %xmm5, %xmm4
    pxor    %xmm5, %xmm3
    /* rounds 60-63 */
    sha1nexte %xmm6, %xmm2
    movdqa  %xmm0, %xmm1
    sha1msg2 %xmm6, %xmm3
    sha1rnds4 $3, %xmm2, %xmm0
    sha1msg1 %xmm6, %xmm5
    pxor    %xmm6, %xmm4
    /* rounds 64-67 */
    sha1nexte %xmm3, %xmm1
    movdqa  %xmm0, %xmm2
    sha1msg2 %xmm3, %xmm4
    sha1rnds4 $3, %xmm1, %xmm0
    sha1msg1 %xmm3, %xmm6
    pxor    %xmm3, %xmm5
    /* rounds 68-71 */
    sha1nexte %xmm4, %xmm2
    movdqa  %xmm0, %xmm1
    sha1msg2 %xmm4, %xmm5
    sha1rnds4 $3, %xmm2, %xmm0
    pxor    %xmm4, %xmm6
    /* rounds 72-75 */
    sha1nexte %xmm5, %xmm1
    movdqa  %xmm0, %xmm2
    sha1msg2 %xmm5, %xmm6
    sha1rnds4 $3, %xmm1, %xmm0
    /* rounds 76-79 */
    sha1nexte %xmm6, %xmm2
    movdqa  %xmm0, %xmm1
    sha1rnds4 $3, %xmm2, %xmm0
    sha1nexte %xmm10, %xmm1                 /* e += rol(A four rounds ago, 30) */
    paddd   %xmm9, %xmm0
    add     $64, %rsi
    dec     %rdx
    jnz     1b

    pshufd  $0x1B, %xmm0, %xmm0
    movdqu  %xmm0, (%rdi)
    psrldq  $12, %xmm1
    movd    %xmm1, 16(%rdi)
9:
    ret

    .section .rodata.sha1ni, "a"
    .balign 16
skl_sha1_bswap:
    .byte 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0
