//! Bodies of the fuzz targets in `fuzz_targets/`, and the builders the seed
//! generator (`examples/gen_corpus.rs`) uses.
//!
//! Every harness asserts properties beyond "no panic": what a parser accepted
//! must read back consistently through its accessors, and a launch that
//! returns a hand-off must hand off inside the DLME, below 4 GiB, clear of
//! the SLB, after extending exactly what the kernel will run.

pub mod dma;
pub mod event_log;
pub mod launch;
pub mod mbi;
pub mod ram;
pub mod seeds;
pub mod sl_header;
pub mod slrt;
pub mod tpm;
pub mod txt_heap;
pub mod txt_mle;

/// Digest of `data` with the TPM algorithm `alg`, from the RustCrypto crates
/// (an implementation independent of `skl::hash`).
pub fn hash(alg: u16, data: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    use skl_bootinfo::tpm_alg::{SHA1, SHA256, SHA384, SHA512};
    match alg {
        SHA1 => sha1::Sha1::digest(data).to_vec(),
        SHA256 => sha2::Sha256::digest(data).to_vec(),
        SHA384 => sha2::Sha384::digest(data).to_vec(),
        SHA512 => sha2::Sha512::digest(data).to_vec(),
        _ => panic!("no hash for algorithm {alg:#x}"),
    }
}

/// Byte offset of `inner` in `outer`, if it lies inside.
pub fn offset_in(outer: &[u8], inner: *const u8, len: usize) -> Option<usize> {
    let o = (inner as usize).checked_sub(outer.as_ptr() as usize)?;
    (o.checked_add(len)? <= outer.len()).then_some(o)
}
