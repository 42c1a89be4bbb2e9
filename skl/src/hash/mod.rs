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
#[derive(Clone, Copy)]
pub struct Digest {
    alg: HashAlg,
    bytes: [u8; MAX_DIGEST],
}

/// Byte by byte: the derived comparison of the byte arrays is a memcmp call,
/// which brings ~600 bytes of compiler-builtins into the payload.
impl PartialEq for Digest {
    fn eq(&self, other: &Self) -> bool {
        self.alg == other.alg && self.bytes.iter().zip(other.bytes).fold(0, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}
impl Eq for Digest {}

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
    /// A list of the first [`MAX_BANKS`] of `d`, in that order.
    pub fn from_digests(d: &[Digest]) -> Self {
        let mut digests = [Digest { alg: HashAlg::Sha1, bytes: [0; MAX_DIGEST] }; MAX_BANKS];
        let len = d.len().min(MAX_BANKS);
        digests[..len].copy_from_slice(&d[..len]);
        DigestList { len, digests }
    }
}

/// Initial hash values, FIPS 180-4 §5.3.
const IV_SHA1: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
const IV_SHA256: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
/// SHA-256 of `data` in one call with the payload's software block
/// function: what stage 1 of the two-stage image checks stage 2 with
/// (`hw::stage1`), before any code of stage 2 may run. The block function is
/// the one stage 2 uses too (one copy in the SLB). `#[inline]`: compiled
/// only into the image that uses it (a non-generic function in this crate
/// moves LTO's inlining in the others).
#[inline]
pub fn sha256_oneshot(data: &[u8]) -> [u8; 32] {
    let mut st = IV_SHA256;
    let (whole, rest) = data.split_at(data.len() & !63);
    soft_sha256(&mut st, whole);
    // FIPS 180-4 §5.1.1: 0x80, zeros, the length in bits (big-endian).
    let mut tail = [0u8; 128];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let n = if rest.len() < 56 { 64 } else { 128 };
    tail[n - 8..n].copy_from_slice(&(data.len() as u64 * 8).to_be_bytes());
    soft_sha256(&mut st, &tail[..n]);
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(st) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

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
/// which keeps the measured image small; the block functions are [`soft`]'s
/// or, for SHA-1/SHA-256 on CPUs that have it, SHA-NI ([`sha_ni`]).
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

    /// Compress whole blocks (`blocks.len()` a multiple of the block size).
    fn compress(&mut self, blocks: &[u8]) {
        match &mut self.state {
            State::W32(s) if self.alg == HashAlg::Sha1 && self.ni => sha_ni::compress1(s, blocks),
            State::W32(s) if self.alg == HashAlg::Sha1 => soft_sha1(s, blocks),
            State::W32(s) if self.ni => sha_ni::compress256(s, blocks),
            State::W32(s) => soft_sha256(s, blocks),
            State::W64(s) => soft_sha512(s, blocks),
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        let bl = self.block_len();
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.fill > 0 {
            let n = (bl - self.fill).min(data.len());
            self.buf[self.fill..self.fill + n].copy_from_slice(&data[..n]);
            self.fill += n;
            data = &data[n..];
            if self.fill < bl {
                return;
            }
            let block = self.buf;
            self.compress(&block[..bl]);
        }
        let whole = data.len() - data.len() % bl;
        self.compress(&data[..whole]);
        self.fill = data.len() - whole;
        self.buf[..self.fill].copy_from_slice(&data[whole..]);
    }

    /// Pad (0x80, zeros, big-endian bit length in the last 8 of 64 or 16 of
    /// 128 bytes; FIPS 180-4 §5.1) and emit the big-endian state.
    // Out of line: inlined into `digest_all` it took 128 B more.
    #[inline(never)]
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

mod soft;
// The debug payload has no room for the fast block functions (see
// `soft::compact`); every other build uses them.
#[cfg(feature = "debug-log")]
use soft::compact::{sha1 as soft_sha1, sha256 as soft_sha256, sha512 as soft_sha512};
#[cfg(not(feature = "debug-log"))]
use soft::{sha1 as soft_sha1, sha256 as soft_sha256, sha512 as soft_sha512};

#[cfg(not(feature = "debug-log"))]
#[allow(unsafe_code)]
mod sha_ni;
/// The debug image hashes in software on every CPU: its SLB has no room
/// for the SHA-NI code (953 bytes; issue 20 asks 4 KiB free there). It is
/// never shipped, and the software path is the one AEM machines take.
#[cfg(feature = "debug-log")]
mod sha_ni {
    pub fn available() -> bool {
        false
    }
    pub fn compress256(_: &mut [u32; 8], _: &[u8]) {
        unreachable!("no SHA-NI in the debug image")
    }
    pub fn compress1(_: &mut [u32; 8], _: &[u8]) {
        unreachable!("no SHA-NI in the debug image")
    }
}

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
    // kilobytes of the SLB's 7 KiB stack.
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
        for n in (0..=300).chain([1000, 4095, 4096, 4097, 8191, 8192, 8193, 8256]) {
            let data: Vec<u8> = if n <= 300 { data[..n].to_vec() } else { vec![0x5a; n] };
            let d = digest_all(all, &data);
            assert_eq!(d.get(HashAlg::Sha1).unwrap().as_bytes(), sha1::Sha1::digest(&data).as_slice(), "sha1 len {n}");
            assert_eq!(d.get(HashAlg::Sha256).unwrap().as_bytes(), sha2::Sha256::digest(&data).as_slice(), "len {n}");
            assert_eq!(d.get(HashAlg::Sha384).unwrap().as_bytes(), sha2::Sha384::digest(&data).as_slice(), "len {n}");
            assert_eq!(d.get(HashAlg::Sha512).unwrap().as_bytes(), sha2::Sha512::digest(&data).as_slice(), "len {n}");
        }
    }

    /// NIST CSRC example values (FIPS 180-4 examples): the empty message,
    /// the two-block 448-bit and 896-bit messages, and one million 'a's.
    #[test]
    fn known_answers_nist() {
        let all: BankSet = HashAlg::ALL.into_iter().collect();
        let msg448 = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        let msg896 = b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
        let million = vec![b'a'; 1_000_000];
        let cases: [(&[u8], HashAlg, &str); 12] = [
            (b"", HashAlg::Sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            (b"", HashAlg::Sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (b"", HashAlg::Sha384, "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"),
            (b"", HashAlg::Sha512, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
            (msg448, HashAlg::Sha1, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
            (msg448, HashAlg::Sha256, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            (msg896, HashAlg::Sha384, "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039"),
            (msg896, HashAlg::Sha512, "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"),
            (&million, HashAlg::Sha1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"),
            (&million, HashAlg::Sha256, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
            (&million, HashAlg::Sha384, "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985"),
            (&million, HashAlg::Sha512, "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"),
        ];
        for backend in [Backend::Soft, Backend::Auto] {
            for (msg, alg, want) in cases {
                let d = digest_all_with(backend, all, msg);
                assert_eq!(d.get(alg).unwrap().as_bytes(), hex(want), "{alg:?} {backend:?} len {}", msg.len());
            }
        }
    }

    /// Stage 1's one-shot SHA-256 against the sha2 crate at every length
    /// around the padding boundaries.
    #[test]
    fn sha256_oneshot_matches_sha2() {
        use sha2::Digest as _;
        let data: Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
        for n in (0..=200).chain([255, 256, 299]) {
            let want: [u8; 32] = sha2::Sha256::digest(&data[..n]).into();
            assert_eq!(super::sha256_oneshot(&data[..n]), want, "length {n}");
        }
    }

    /// The size-first block functions of the debug payload against the
    /// fast ones, on many blocks from many starting states.
    #[test]
    fn compact_and_fast_block_functions_agree() {
        let data: Vec<u8> = (0..128 * 64u32).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8).collect();
        let mut s32 = [0x0123_4567u32, 0x89ab_cdef, 0xfedc_ba98, 0x7654_3210, 0xf0e1_d2c3, 1, 2, 3];
        let mut s64 = IV_SHA384;
        for n in [64usize, 128, 64 * 37, data.len()] {
            let (mut a, mut b) = (s32, s32);
            soft::sha1(&mut a, &data[..n]);
            soft::compact::sha1(&mut b, &data[..n]);
            assert_eq!(a, b, "sha1 {n}");
            soft::sha256(&mut a, &data[..n]);
            soft::compact::sha256(&mut b, &data[..n]);
            assert_eq!(a, b, "sha256 {n}");
            let (mut c, mut d) = (s64, s64);
            soft::sha512(&mut c, &data[..n]);
            soft::compact::sha512(&mut d, &data[..n]);
            assert_eq!(c, d, "sha512 {n}");
            s32 = a;
            s64 = c;
        }
    }

    /// Every combination of banks gives each bank the digest it has alone,
    /// at lengths around the one-pass chunk and the block boundaries.
    #[test]
    fn multi_bank_equals_single_bank() {
        let data: Vec<u8> = (0..3 * CHUNK as u32 + 300).map(|i| (i.wrapping_mul(40503) >> 7) as u8).collect();
        for n in
            [0, 1, 55, 56, 63, 64, 111, 112, 127, 128, 129, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 64, data.len()]
        {
            let single: Vec<Digest> = HashAlg::ALL
                .iter()
                .map(|a| *digest_all_with(Backend::Soft, [*a].into_iter().collect(), &data[..n]).get(*a).unwrap())
                .collect();
            for mask in 1u8..16 {
                let set: BankSet =
                    HashAlg::ALL.into_iter().enumerate().filter(|(i, _)| mask & 1 << i != 0).map(|(_, a)| a).collect();
                for backend in [Backend::Soft, Backend::Auto] {
                    let d = digest_all_with(backend, set, &data[..n]);
                    assert_eq!(d.len(), set.len());
                    for (i, a) in HashAlg::ALL.iter().enumerate() {
                        assert_eq!(d.get(*a), set.contains(*a).then_some(&single[i]), "{a:?} banks {mask:#x} len {n}");
                    }
                }
            }
        }
    }

    /// SHA-NI against the software path. On a CPU without SHA-NI both sides
    /// would be the software path, so the test says it is skipped instead
    /// of passing on a comparison of the software with itself.
    #[test]
    fn sha_ni_and_software_agree() {
        if !sha_ni::available() {
            eprintln!("SKIPPED sha_ni_and_software_agree: this CPU has no SHA-NI, nothing to compare");
            return;
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
