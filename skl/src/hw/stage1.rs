//! Stage 1 of the two-stage SLB (`skl-amdsl.bin`; docs/design.md, "The
//! two-stage image"). SKINIT measures only the bytes before
//! `__measured_end`: the header, the entry code, this module and what it
//! calls (the software SHA-256, the stop, mem*), the read-only data, which
//! include [`STAGE2_DIGEST`], and the RW initial values. The rest of the
//! file, stage 2 (everything else of SKL), lies in the same 64 KiB SLB,
//! which SKINIT's protection keeps from every device; only this CPU runs.
//! Stage 1 hashes stage 2 where it lies and runs it only if the digest is
//! the one it carries, so PCR 17's SKINIT measurement covers every
//! instruction SKL executes without another TPM command.
//! `check-image.py --two-stage` proves from the built ELF that no code
//! before `__measured_end` reaches stage 2 except the one call to its entry
//! (`skl_stage2`, in the binary's root).

use skl_bootinfo::sl_header::{Stage2Digest, STAGE2_DIGEST_MAGIC};

use crate::error::STAGE2_MISMATCH;
use crate::hash::sha256_oneshot;
use crate::hw::cpu;
use crate::hw::phys::IdentityMap;
use crate::launch::failure_record;

extern "C" {
    /// Linker symbols (`linker/skl-amdsl.ld`, `linker/slb.ld`): stage 2 is
    /// `[__measured_end, __stage2_end)`; the bootloader-data area (the SLRT
    /// GRUB wrote) starts at `__bootloader_data`.
    static __measured_end: u8;
    static __stage2_end: u8;
    static mut __bootloader_data: [u8; 16];
}

/// SHA-256 of stage 2: zeros as linked, written into the flat image by
/// `skl/seal-stage2.py` (found by its magic) and so measured by SKINIT.
#[used]
#[link_section = ".rodata.stage2_digest"]
static STAGE2_DIGEST: Stage2Digest = Stage2Digest { magic: STAGE2_DIGEST_MAGIC, sha256: [0; 32] };

/// Return only if stage 2, where it lies, hashes to [`STAGE2_DIGEST`];
/// otherwise the failure record ([`STAGE2_MISMATCH`]) and the defined stop.
/// Only before the identity map is handed out (else the panic code's stop):
/// the failure record is written through a raw pointer, which must not
/// alias a slice safe code holds.
#[inline(always)]
pub fn check_stage2() {
    if IdentityMap::taken() {
        cpu::stop(0xFFFF);
    }
    let start = core::ptr::addr_of!(__measured_end);
    let len = core::ptr::addr_of!(__stage2_end) as usize - start as usize;
    // SAFETY: stage 2 lies in this image, in the 64 KiB SLB the
    // bootloader filled (GRUB tb-dev copies the whole file; another
    // bootloader may leave other bytes there, which then fail the check),
    // identity-mapped and never written while SKL runs.
    let stage2 = unsafe { core::slice::from_raw_parts(start, len) };
    let found = sha256_oneshot(stage2);
    // SAFETY: a static of this image. Volatile: the build changes these
    // bytes after the compiler saw them as zeros.
    let want = unsafe { core::ptr::read_volatile(core::ptr::addr_of!(STAGE2_DIGEST.sha256)) };
    // Byte by byte: `!=` on the arrays is a memcmp call (~600 bytes of
    // compiler-builtins in stage 1, which SKINIT measures).
    if found.iter().zip(want).fold(0, |acc, (a, b)| acc | (a ^ b)) != 0 {
        fail(u32::from_le_bytes([found[0], found[1], found[2], found[3]]));
    }
}

/// The failure record `launch::write_failure_record` would write (magic,
/// code, detail over the start of the bootloader data) and the stop.
/// Nothing of stage 2 ran and nothing was extended after SKINIT.
fn fail(found: u32) -> ! {
    let r = failure_record(STAGE2_MISMATCH, found);
    let rec = core::ptr::addr_of_mut!(__bootloader_data);
    // SAFETY: the first 16 bytes of the bootloader-data area, inside our
    // SLB, which only this CPU touches; no reference to it exists: the
    // identity map, the only safe way to one, was not handed out
    // (`check_stage2`, this function's only caller, checked).
    unsafe { rec.write_volatile(r) };
    cpu::stop(STAGE2_MISMATCH)
}
