//! Hashing for every active PCR bank in one pass over the data.
//!
//! The kernel can be 10 MiB: reading it once and feeding each chunk to every
//! bank's hasher keeps it in cache for all of them.

use skl_bootinfo::tpm_alg;

/// The banks SKL can measure into, by TPM algorithm identifier
/// (`skl_bootinfo::tpm_alg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u16)]
pub enum HashAlg {
    Sha1 = tpm_alg::SHA1,
    Sha256 = tpm_alg::SHA256,
    Sha384 = tpm_alg::SHA384,
    Sha512 = tpm_alg::SHA512,
}

/// SM3 banks exist; SKL has no SM3 implementation and refuses to launch
/// when one is active rather than leave it unmeasured.
pub const TPM_ALG_SM3_256: u16 = tpm_alg::SM3_256;

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

/// Initial hash values, FIPS 180-4 §5.3.
const IV_SHA1: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
const IV_SHA256: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const IV_SHA384: [u64; 8] = [
    0xcbbb9d5dc1059ed8,
    0x629a292a367cd507,
    0x9159015a3070dd17,
    0x152fecd8f70e5939,
    0x67332667ffc00b31,
    0x8eb44a8768581511,
    0xdb0c2e0d64f98fa7,
    0x47b5481dbefa4fa4,
];
const IV_SHA512: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// Chaining state: 32-bit words (SHA-1 uses the first five) or 64-bit words.
#[derive(Clone, Copy)]
enum State {
    W32([u32; 8]),
    W64([u64; 8]),
}

/// One bank's hash computation. A single code path pads and finishes all
/// four algorithms (they differ in block size, length field and word size),
/// which keeps the measured image small; the block functions are the sha2
/// crate's for SHA-2 and [`sha1_compress`] for SHA-1 (the sha1 crate has no
/// public block function and its unrolled one costs 3 KiB).
struct Engine {
    alg: HashAlg,
    /// SHA-1/SHA-256 through SHA-NI.
    ni: bool,
    state: State,
    buf: [u8; 128],
    fill: usize,
    total: u64,
}

impl Engine {
    fn new(alg: HashAlg, ni: bool) -> Self {
        let state = match alg {
            HashAlg::Sha1 => {
                let mut s = [0; 8];
                s[..5].copy_from_slice(&IV_SHA1);
                State::W32(s)
            }
            HashAlg::Sha256 => State::W32(IV_SHA256),
            HashAlg::Sha384 => State::W64(IV_SHA384),
            HashAlg::Sha512 => State::W64(IV_SHA512),
        };
        Engine {
            alg,
            ni: ni && matches!(alg, HashAlg::Sha1 | HashAlg::Sha256),
            state,
            buf: [0; 128],
            fill: 0,
            total: 0,
        }
    }

    fn block_len(&self) -> usize {
        match self.state {
            State::W32(_) => 64,
            State::W64(_) => 128,
        }
    }

    fn compress(&mut self, block: &[u8]) {
        match &mut self.state {
            State::W32(s) if self.alg == HashAlg::Sha1 && self.ni => sha_ni::compress1(s, block),
            State::W32(s) if self.alg == HashAlg::Sha1 => sha1_compress(s, block),
            State::W32(s) if self.ni => sha_ni::compress256(s, block),
            State::W32(s) => {
                let mut b = [0u8; 64];
                b.copy_from_slice(block);
                sha2::block_api::compress256(s, &[b]);
            }
            State::W64(s) => {
                let mut b = [0u8; 128];
                b.copy_from_slice(block);
                sha2::block_api::compress512(s, &[b]);
            }
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        let bl = self.block_len();
        self.total = self.total.wrapping_add(data.len() as u64);
        while !data.is_empty() {
            if self.fill == 0 && data.len() >= bl {
                let (block, rest) = data.split_at(bl);
                self.compress(block);
                data = rest;
                continue;
            }
            let n = (bl - self.fill).min(data.len());
            self.buf[self.fill..self.fill + n].copy_from_slice(&data[..n]);
            self.fill += n;
            data = &data[n..];
            if self.fill == bl {
                let block = self.buf;
                self.compress(&block[..bl]);
                self.fill = 0;
            }
        }
    }

    /// Pad (0x80, zeros, big-endian bit length in the last 8 of 64 or 16 of
    /// 128 bytes; FIPS 180-4 §5.1) and emit the big-endian state.
    fn finish(&mut self) -> Digest {
        let bl = self.block_len();
        let bits = self.total.wrapping_mul(8);
        let len_field = bl / 8;
        let mut pad = [0u8; 256];
        pad[0] = 0x80;
        let mut n = bl - self.fill;
        if n < 1 + len_field {
            n += bl;
        }
        pad[n - 8..n].copy_from_slice(&bits.to_be_bytes());
        self.update(&pad[..n]);
        let mut out = [0u8; MAX_DIGEST];
        match self.state {
            State::W32(s) => {
                s.iter().zip(out.chunks_exact_mut(4)).for_each(|(w, o)| o.copy_from_slice(&w.to_be_bytes()))
            }
            State::W64(s) => {
                s.iter().zip(out.chunks_exact_mut(8)).for_each(|(w, o)| o.copy_from_slice(&w.to_be_bytes()))
            }
        }
        Digest::new(self.alg, &out)
    }
}

/// SHA-1 block function, FIPS 180-4 §6.1.2, with the 16-word circular
/// message schedule of §6.1.3.
fn sha1_compress(h: &mut [u32; 8], block: &[u8]) {
    let mut w = [0u32; 16];
    for (wi, b) in w.iter_mut().zip(block.chunks_exact(4)) {
        *wi = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    }
    let [mut a, mut b, mut c, mut d, mut e, ..] = *h;
    for t in 0..80 {
        if t >= 16 {
            let x = w[(t + 13) & 15] ^ w[(t + 8) & 15] ^ w[(t + 2) & 15] ^ w[t & 15];
            w[t & 15] = x.rotate_left(1);
        }
        let (f, k) = match t / 20 {
            0 => ((b & c) | (!b & d), 0x5A827999),
            1 => (b ^ c ^ d, 0x6ED9EBA1),
            2 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
            _ => (b ^ c ^ d, 0xCA62C1D6),
        };
        let tmp = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(w[t & 15]);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = tmp;
    }
    for (x, v) in h.iter_mut().zip([a, b, c, d, e]) {
        *x = x.wrapping_add(v);
    }
}

#[allow(unsafe_code)]
mod sha_ni;

/// Chunk size of the one pass: small enough to stay in L1 for all banks.
const CHUNK: usize = 4096;

/// Which block-function implementation to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Portable code only.
    Soft,
    /// SHA-NI for SHA-1 and SHA-256 where the CPU has it (run-time check).
    Auto,
}

/// Hash `data` in every bank of `banks`, reading it once; SHA-NI where the
/// CPU has it. Digests are identical either way (tested).
pub fn digest_all(banks: BankSet, data: &[u8]) -> DigestList {
    digest_all_with(Backend::Auto, banks, data)
}

/// [`digest_all`] with an explicit backend (tests and benchmarks).
pub fn digest_all_with(backend: Backend, banks: BankSet, data: &[u8]) -> DigestList {
    let ni = backend == Backend::Auto && sha_ni::available();
    // Built in place and finished by reference: this runs at the deepest
    // point of the launch's stack, where copies of four engines would cost
    // kilobytes of the SLB's 8 KiB stack.
    let mut hashers: [Option<Engine>; MAX_BANKS] = [None, None, None, None];
    for (slot, alg) in hashers.iter_mut().zip(banks.iter()) {
        *slot = Some(Engine::new(alg, ni));
    }
    for chunk in data.chunks(CHUNK) {
        hashers.iter_mut().flatten().for_each(|h| h.update(chunk));
    }
    let mut out = DigestList { len: 0, digests: [Digest::new(HashAlg::Sha1, &[0; 20]); MAX_BANKS] };
    for h in hashers.iter_mut().flatten() {
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

    /// Every length around the padding boundaries of both block sizes,
    /// against the RustCrypto implementations.
    #[test]
    fn matches_reference_implementations_at_every_padding_boundary() {
        use sha2::Digest as _;
        let all: BankSet = HashAlg::ALL.into_iter().collect();
        let data: Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
        for n in (0..=300).chain([1000, 4095, 4096, 4097]) {
            let data: Vec<u8> = if n <= 300 { data[..n].to_vec() } else { vec![0x5a; n] };
            let d = digest_all(all, &data);
            assert_eq!(d.get(HashAlg::Sha1).unwrap().as_bytes(), sha1::Sha1::digest(&data).as_slice(), "sha1 len {n}");
            assert_eq!(d.get(HashAlg::Sha256).unwrap().as_bytes(), sha2::Sha256::digest(&data).as_slice(), "len {n}");
            assert_eq!(d.get(HashAlg::Sha384).unwrap().as_bytes(), sha2::Sha384::digest(&data).as_slice(), "len {n}");
            assert_eq!(d.get(HashAlg::Sha512).unwrap().as_bytes(), sha2::Sha512::digest(&data).as_slice(), "len {n}");
        }
    }

    #[test]
    fn sha_ni_and_software_agree() {
        if !sha_ni::available() {
            eprintln!("SHA-NI not available on this CPU: only the software path was checked");
        }
        let one: BankSet = [HashAlg::Sha1, HashAlg::Sha256].into_iter().collect();
        for n in (0..300).chain([4095, 4096, 4097, 100_000]) {
            let data: Vec<u8> = (0..n).map(|i| (i * 7 + n) as u8).collect();
            assert_eq!(
                digest_all_with(Backend::Auto, one, &data),
                digest_all_with(Backend::Soft, one, &data),
                "len {n}"
            );
        }
    }

    #[test]
    fn chunking_does_not_change_digests() {
        use sha1::Sha1;
        use sha2::{Digest as _, Sha256};
        let data: Vec<u8> = (0..3 * CHUNK + 17).map(|i| (i * 7) as u8).collect();
        let two: BankSet = [HashAlg::Sha1, HashAlg::Sha256].into_iter().collect();
        let d = digest_all(two, &data);
        assert_eq!(d.get(HashAlg::Sha256).unwrap().as_bytes(), Sha256::digest(&data).as_slice());
        assert_eq!(d.get(HashAlg::Sha1).unwrap().as_bytes(), Sha1::digest(&data).as_slice());
        assert!(d.get(HashAlg::Sha384).is_none());
    }
}
