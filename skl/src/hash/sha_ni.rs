//! CPU access: the SHA-NI block functions (`sha256_ni.S`, `sha1_ni.S`) and the
//! CPUID check that guards it. The only `unsafe` of the hashing code.

core::arch::global_asm!(include_str!("sha256_ni.S"), options(att_syntax));
core::arch::global_asm!(include_str!("sha1_ni.S"), options(att_syntax));

extern "C" {
    fn skl_sha256_ni(state: *mut u32, blocks: *const u8, n: usize);
    fn skl_sha1_ni(state: *mut u32, blocks: *const u8, n: usize);
}

/// SHA, SSSE3 and SSE4.1 present (CPUID.(7,0):EBX[29], CPUID.1:ECX[9,19]).
/// The payload's entry code sets CR4.OSFXSR, so SSE instructions work.
pub fn available() -> bool {
    let (l1, l7) = (core::arch::x86_64::__cpuid(1), core::arch::x86_64::__cpuid_count(7, 0));
    l1.ecx & (1 << 9) != 0 && l1.ecx & (1 << 19) != 0 && l7.ebx & (1 << 29) != 0
}

/// Compress whole 64-byte blocks into `state`. Callers must have seen
/// [`available`] return true.
pub fn compress256(state: &mut [u32; 8], blocks: &[u8]) {
    debug_assert!(blocks.len().is_multiple_of(64));
    // SAFETY: the CPU has the instructions (checked by the caller through
    // `available`); the function reads `blocks.len() / 64` whole blocks from
    // `blocks` and reads/writes the 8 words of `state`, nothing else, and
    // clobbers only xmm0-xmm10, which the Rust code never keeps live (the
    // payload is soft-float; on the host the C ABI makes them caller-saved).
    unsafe { skl_sha256_ni(state.as_mut_ptr(), blocks.as_ptr(), blocks.len() / 64) }
}

/// Compress whole 64-byte blocks into the first five words of `state`.
/// Callers must have seen [`available`] return true.
pub fn compress1(state: &mut [u32; 8], blocks: &[u8]) {
    debug_assert!(blocks.len().is_multiple_of(64));
    // SAFETY: as for `compress256`; reads/writes only state[0..5].
    unsafe { skl_sha1_ni(state.as_mut_ptr(), blocks.as_ptr(), blocks.len() / 64) }
}
