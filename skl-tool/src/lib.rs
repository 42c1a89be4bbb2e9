//! skl-tool's logic as a library, so the tests (and the QEMU launch tests)
//! use the very code the user runs: PCR prediction ([`predict`]), DLME
//! extraction from a kernel ([`kernel`]), event-log reading, replay and
//! verification ([`log`]), signing an SLB for the AMD PSP ([`psp_sign`]).

#![forbid(unsafe_code)]

pub mod kernel;
pub mod log;
pub mod predict;
pub mod psp_sign;

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// A PCR bank by its tpm2-tools name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bank {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Bank {
    pub const ALL: [Bank; 4] = [Bank::Sha1, Bank::Sha256, Bank::Sha384, Bank::Sha512];

    pub fn name(self) -> &'static str {
        match self {
            Bank::Sha1 => "sha1",
            Bank::Sha256 => "sha256",
            Bank::Sha384 => "sha384",
            Bank::Sha512 => "sha512",
        }
    }
    /// A bank from its tpm2-tools name (`sha256`, case-insensitive).
    pub fn parse(s: &str) -> Option<Bank> {
        let s = s.trim().to_ascii_lowercase();
        Bank::ALL.into_iter().find(|b| b.name() == s)
    }
    /// TPM_ALG_ID.
    pub fn tpm_alg(self) -> u16 {
        use skl_bootinfo::tpm_alg;
        match self {
            Bank::Sha1 => tpm_alg::SHA1,
            Bank::Sha256 => tpm_alg::SHA256,
            Bank::Sha384 => tpm_alg::SHA384,
            Bank::Sha512 => tpm_alg::SHA512,
        }
    }
    pub fn from_tpm_alg(id: u16) -> Option<Bank> {
        Bank::ALL.into_iter().find(|b| b.tpm_alg() == id)
    }
    /// Digest size in bytes.
    pub fn size(self) -> usize {
        skl_bootinfo::tpm_alg::digest_size(self.tpm_alg()).unwrap_or(0)
    }
    /// H(data).
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Bank::Sha1 => Sha1::digest(data).to_vec(),
            Bank::Sha256 => Sha256::digest(data).to_vec(),
            Bank::Sha384 => Sha384::digest(data).to_vec(),
            Bank::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
    /// The value SKINIT's DRTM reset leaves in PCR 17–22: all zeros.
    pub fn zero(self) -> Vec<u8> {
        vec![0; self.size()]
    }
    /// PCR extend with a digest: H(old || digest).
    pub fn extend_digest(self, old: &[u8], digest: &[u8]) -> Vec<u8> {
        let mut b = old.to_vec();
        b.extend_from_slice(digest);
        self.hash(&b)
    }
    /// E(old, data) = H(old || H(data)): what a TPM extend of `data`'s
    /// measurement does.
    pub fn extend_data(self, old: &[u8], data: &[u8]) -> Vec<u8> {
        self.extend_digest(old, &self.hash(data))
    }
}

/// Lower-case hex, no prefix.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Hex with an optional `0x` prefix, either case.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    let s = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    if !s.len().is_multiple_of(2) || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_rejects() {
        assert_eq!(unhex("0xA0ff"), Some(vec![0xa0, 0xff]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("+1"), None);
        assert_eq!(hex(&[0, 0xab]), "00ab");
    }

    #[test]
    fn sizes_match_the_hashes() {
        for b in Bank::ALL {
            assert_eq!(b.hash(b"").len(), b.size());
            assert_eq!(Bank::parse(&b.name().to_uppercase()), Some(b));
            assert_eq!(Bank::from_tpm_alg(b.tpm_alg()), Some(b));
        }
    }
}
