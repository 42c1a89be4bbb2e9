//! Hashing for every active PCR bank in one pass over the data.
//!
//! The kernel can be 10 MiB: reading it once and feeding each chunk to every
//! bank's hasher keeps it in cache for all of them.

use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

/// TPM 2.0 algorithm identifiers (TCG Algorithm Registry) of the banks SKL
/// can measure into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u16)]
pub enum HashAlg {
    Sha1 = 0x0004,
    Sha256 = 0x000B,
    Sha384 = 0x000C,
    Sha512 = 0x000D,
}

/// SM3 banks exist; SKL has no SM3 implementation and refuses to launch
/// when one is active rather than leave it unmeasured.
pub const TPM_ALG_SM3_256: u16 = 0x0012;

pub const MAX_DIGEST: usize = 64;
pub const MAX_BANKS: usize = 4;

impl HashAlg {
    pub const ALL: [HashAlg; MAX_BANKS] = [HashAlg::Sha1, HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512];

    pub fn from_tpm(id: u16) -> Option<HashAlg> {
        HashAlg::ALL.into_iter().find(|a| *a as u16 == id)
    }
    pub const fn id(self) -> u16 {
        self as u16
    }
    pub const fn digest_size(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }
}

/// A set of banks, in TPM algorithm-ID order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BankSet(u8);

impl BankSet {
    pub const fn empty() -> Self {
        BankSet(0)
    }
    fn bit(a: HashAlg) -> u8 {
        1 << HashAlg::ALL.iter().position(|x| *x == a).unwrap_or(0)
    }
    pub fn insert(&mut self, a: HashAlg) {
        self.0 |= Self::bit(a);
    }
    pub fn contains(&self, a: HashAlg) -> bool {
        self.0 & Self::bit(a) != 0
    }
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }
    pub fn iter(self) -> impl Iterator<Item = HashAlg> {
        HashAlg::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

impl FromIterator<HashAlg> for BankSet {
    fn from_iter<I: IntoIterator<Item = HashAlg>>(it: I) -> Self {
        let mut s = BankSet::empty();
        it.into_iter().for_each(|a| s.insert(a));
        s
    }
}

/// One digest of one bank.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    alg: HashAlg,
    bytes: [u8; MAX_DIGEST],
}

impl Digest {
    pub fn new(alg: HashAlg, value: &[u8]) -> Self {
        let mut bytes = [0; MAX_DIGEST];
        bytes[..alg.digest_size()].copy_from_slice(&value[..alg.digest_size()]);
        Digest { alg, bytes }
    }
    pub fn alg(&self) -> HashAlg {
        self.alg
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.alg.digest_size()]
    }
}

impl core::fmt::Debug for Digest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}:", self.alg)?;
        self.as_bytes().iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// One digest per bank of a [`BankSet`], in the set's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestList {
    len: usize,
    digests: [Digest; MAX_BANKS],
}

impl DigestList {
    pub fn iter(&self) -> impl Iterator<Item = &Digest> {
        self.digests[..self.len].iter()
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn get(&self, alg: HashAlg) -> Option<&Digest> {
        self.iter().find(|d| d.alg == alg)
    }
}

enum BankHasher {
    Sha1(Sha1),
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl BankHasher {
    fn new(alg: HashAlg) -> Self {
        match alg {
            HashAlg::Sha1 => BankHasher::Sha1(Sha1::new()),
            HashAlg::Sha256 => BankHasher::Sha256(Sha256::new()),
            HashAlg::Sha384 => BankHasher::Sha384(Sha384::new()),
            HashAlg::Sha512 => BankHasher::Sha512(Sha512::new()),
        }
    }
    fn update(&mut self, data: &[u8]) {
        match self {
            BankHasher::Sha1(h) => h.update(data),
            BankHasher::Sha256(h) => h.update(data),
            BankHasher::Sha384(h) => h.update(data),
            BankHasher::Sha512(h) => h.update(data),
        }
    }
    fn finish(self) -> Digest {
        match self {
            BankHasher::Sha1(h) => Digest::new(HashAlg::Sha1, &h.finalize()),
            BankHasher::Sha256(h) => Digest::new(HashAlg::Sha256, &h.finalize()),
            BankHasher::Sha384(h) => Digest::new(HashAlg::Sha384, &h.finalize()),
            BankHasher::Sha512(h) => Digest::new(HashAlg::Sha512, &h.finalize()),
        }
    }
}

/// Chunk size of the one pass: small enough to stay in L1 for all banks.
const CHUNK: usize = 4096;

/// Hash `data` in every bank of `banks`, reading it once.
pub fn digest_all(banks: BankSet, data: &[u8]) -> DigestList {
    let mut hashers: [Option<BankHasher>; MAX_BANKS] = [None, None, None, None];
    for (slot, alg) in hashers.iter_mut().zip(banks.iter()) {
        *slot = Some(BankHasher::new(alg));
    }
    for chunk in data.chunks(CHUNK) {
        hashers.iter_mut().flatten().for_each(|h| h.update(chunk));
    }
    let mut out = DigestList { len: 0, digests: [Digest::new(HashAlg::Sha1, &[0; 20]); MAX_BANKS] };
    for h in hashers.into_iter().flatten() {
        out.digests[out.len] = h.finish();
        out.len += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// FIPS 180-4 example "abc" (NIST CSRC example values).
    #[test]
    fn known_answers_abc() {
        let all: BankSet = HashAlg::ALL.into_iter().collect();
        let d = digest_all(all, b"abc");
        assert_eq!(d.len(), 4);
        assert_eq!(d.get(HashAlg::Sha1).unwrap().as_bytes(), hex("a9993e364706816aba3e25717850c26c9cd0d89d"));
        assert_eq!(
            d.get(HashAlg::Sha256).unwrap().as_bytes(),
            hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            d.get(HashAlg::Sha384).unwrap().as_bytes(),
            hex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7")
        );
        assert_eq!(
            d.get(HashAlg::Sha512).unwrap().as_bytes(),
            hex("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        );
    }

    #[test]
    fn chunking_does_not_change_digests() {
        let data: Vec<u8> = (0..3 * CHUNK + 17).map(|i| (i * 7) as u8).collect();
        let two: BankSet = [HashAlg::Sha1, HashAlg::Sha256].into_iter().collect();
        let d = digest_all(two, &data);
        assert_eq!(d.get(HashAlg::Sha256).unwrap().as_bytes(), Sha256::digest(&data).as_slice());
        assert_eq!(d.get(HashAlg::Sha1).unwrap().as_bytes(), Sha1::digest(&data).as_slice());
        assert!(d.get(HashAlg::Sha384).is_none());
    }
}
