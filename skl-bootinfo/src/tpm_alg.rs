//! TPM algorithm identifiers (TPM_ALG_ID, TCG Algorithm Registry rev. 01.32
//! §3.1) of the PCR banks a DRTM launch can meet, and their digest sizes.
//! The one home of these numbers for the payload, the tools and the tests.

pub const SHA1: u16 = 0x0004;
pub const SHA256: u16 = 0x000B;
pub const SHA384: u16 = 0x000C;
pub const SHA512: u16 = 0x000D;
/// SM3 banks exist; SKL has no SM3 and refuses to leave one unmeasured.
pub const SM3_256: u16 = 0x0012;

/// Digest size of a bank SKL can measure into (`None` for any other).
pub const fn digest_size(alg: u16) -> Option<usize> {
    match alg {
        SHA1 => Some(20),
        SHA256 => Some(32),
        SHA384 => Some(48),
        SHA512 => Some(64),
        _ => None,
    }
}
