//! skl-tool's logic as a library, so the QEMU tests use the very code the
//! user runs: PCR prediction ([`predict`]), DLME extraction from a kernel
//! ([`kernel`]), event-log reading and replay ([`log`]).

pub mod kernel;
pub mod log;
pub mod predict;

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// A PCR bank by its tpm2-tools name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
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
    pub fn parse(s: &str) -> Option<Bank> {
        Bank::ALL.into_iter().find(|b| b.name() == s.trim().to_ascii_lowercase())
    }
    pub fn tpm_alg(self) -> u16 {
        match self {
            Bank::Sha1 => 0x0004,
            Bank::Sha256 => 0x000B,
            Bank::Sha384 => 0x000C,
            Bank::Sha512 => 0x000D,
        }
    }
    pub fn from_tpm_alg(id: u16) -> Option<Bank> {
        Bank::ALL.into_iter().find(|b| b.tpm_alg() == id)
    }
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Bank::Sha1 => Sha1::digest(data).to_vec(),
            Bank::Sha256 => Sha256::digest(data).to_vec(),
            Bank::Sha384 => Sha384::digest(data).to_vec(),
            Bank::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
    pub fn zero(self) -> Vec<u8> {
        vec![0; self.hash(b"").len()]
    }
    /// PCR extend with a digest: H(old || digest).
    pub fn extend_digest(self, old: &[u8], digest: &[u8]) -> Vec<u8> {
        let mut b = old.to_vec();
        b.extend_from_slice(digest);
        self.hash(&b)
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim().trim_start_matches("0x").trim_start_matches("0X");
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()).collect()
}
