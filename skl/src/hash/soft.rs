//! Software block functions (FIPS 180-4 §6.1.2, §6.2.2, §6.4.2), written
//! for speed in general-purpose registers only: the payload is soft-float,
//! so no SIMD. Checked against NIST's examples and the RustCrypto crates in
//! the tests. Measured effect of each choice: docs/design.md, "Hashing:
//! speed against size".
//!
//! - The rounds are unrolled by the period of the working-variable rotation
//!   (5 for SHA-1, 8 for SHA-2): the rotation is renaming in the macro
//!   arguments instead of 4-7 register moves a round.
//! - The message schedule is computed whole before the rounds, into an
//!   array of 80 (SHA-1), 64 or 80 words (stack: 320, 256, 640 bytes), so
//!   rounds read their word at a constant offset; a 16-word ring costs two
//!   instructions of index arithmetic for every word read.
//! - Σ0/Σ1 are nested rotations (`ror(x ^ ror(x ^ ror(x, p), q), r)`): one
//!   register copy instead of three, which counts on 2-ALU cores such as
//!   the apu2's Jaguar. Ch is `g ^ (e & (f ^ g))`; Maj is
//!   `b ^ ((a ^ b) & (b ^ c))` with `b ^ c` carried from the previous round.
//! - In a SHA-2 round Σ1(e) is added last, to the other terms' sum, so the
//!   e-to-e dependency chain is the rotations plus one add.
//!
//! The debug payload has no room for these: it uses [`compact`].

/// SHA-256 round constants, FIPS 180-4 §4.2.2. Statics, not consts: a
/// static gets a section named after its symbol, so the two-stage image's
/// linker script keeps these in stage 1, which hashes with them, and
/// SHA-512's out (`linker/skl-amdsl.ld`).
static K256: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];

/// SHA-384/512 round constants, FIPS 180-4 §4.2.3.
static K512: [u64; 80] = [
    0x428a2f98d728ae22,
    0x7137449123ef65cd,
    0xb5c0fbcfec4d3b2f,
    0xe9b5dba58189dbbc,
    0x3956c25bf348b538,
    0x59f111f1b605d019,
    0x923f82a4af194f9b,
    0xab1c5ed5da6d8118,
    0xd807aa98a3030242,
    0x12835b0145706fbe,
    0x243185be4ee4b28c,
    0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f,
    0x80deb1fe3b1696b1,
    0x9bdc06a725c71235,
    0xc19bf174cf692694,
    0xe49b69c19ef14ad2,
    0xefbe4786384f25e3,
    0x0fc19dc68b8cd5b5,
    0x240ca1cc77ac9c65,
    0x2de92c6f592b0275,
    0x4a7484aa6ea6e483,
    0x5cb0a9dcbd41fbd4,
    0x76f988da831153b5,
    0x983e5152ee66dfab,
    0xa831c66d2db43210,
    0xb00327c898fb213f,
    0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2,
    0xd5a79147930aa725,
    0x06ca6351e003826f,
    0x142929670a0e6e70,
    0x27b70a8546d22ffc,
    0x2e1b21385c26c926,
    0x4d2c6dfc5ac42aed,
    0x53380d139d95b3df,
    0x650a73548baf63de,
    0x766a0abb3c77b2a8,
    0x81c2c92e47edaee6,
    0x92722c851482353b,
    0xa2bfe8a14cf10364,
    0xa81a664bbc423001,
    0xc24b8b70d0f89791,
    0xc76c51a30654be30,
    0xd192e819d6ef5218,
    0xd69906245565a910,
    0xf40e35855771202a,
    0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8,
    0x1e376c085141ab53,
    0x2748774cdf8eeb99,
    0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63,
    0x4ed8aa4ae3418acb,
    0x5b9cca4f7763e373,
    0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc,
    0x78a5636f43172f60,
    0x84c87814a1f0ab72,
    0x8cc702081a6439ec,
    0x90befffa23631e28,
    0xa4506cebde82bde9,
    0xbef9a3f7b2c67915,
    0xc67178f2e372532b,
    0xca273eceea26619c,
    0xd186b8c721c0c207,
    0xeada7dd6cde0eb1e,
    0xf57d4f7fee6ed178,
    0x06f067aa72176fba,
    0x0a637dc5a2c898a6,
    0x113f9804bef90dae,
    0x1b710b35131c471b,
    0x28db77f523047d84,
    0x32caab7b40c72493,
    0x3c9ebe0a15c9bebc,
    0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6,
    0x597f299cfc657e2a,
    0x5fcb6fab3ad6faec,
    0x6c44198c4a475817,
];

/// SHA-1 over whole 64-byte blocks, into the first five words of `h`.
#[cfg(any(test, not(feature = "debug-log")))]
#[inline(never)]
pub fn sha1(h: &mut [u32; 8], blocks: &[u8]) {
    // Zeroed once, not once a block: every word is written before it is read.
    let mut w = [0u32; 80];
    for block in blocks.chunks_exact(64) {
        // The whole schedule first (§6.1.2 step 1): constant offsets from
        // a moving pointer, no ring-index arithmetic in the rounds.
        for (wi, b) in w.iter_mut().zip(block.chunks_exact(4)) {
            *wi = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        }
        // Two words an iteration: loop overhead on 32 words, not 64.
        for t in (16..80).step_by(2) {
            w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
            w[t + 1] = (w[t - 2] ^ w[t - 7] ^ w[t - 13] ^ w[t - 15]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e, ..] = *h;
        // One round: e += K + W[t] + f(b, c, d) + rol5(a); b = rol30(b).
        // The next round takes (e, a, b, c, d).
        macro_rules! round {
            ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:expr, $kw:expr) => {
                // rol5(a) last: the only term on the critical path.
                let kw = $kw;
                $e = $e.wrapping_add(kw).wrapping_add($f).wrapping_add($a.rotate_left(5));
                $b = $b.rotate_left(30);
            };
        }
        // Four phases of 20 rounds (§4.1.1 functions, §4.2.1 constants),
        // each as 4 groups of 5.
        macro_rules! phase {
            ($t0:expr, $k:expr, |$x:ident, $y:ident, $z:ident| $f:expr) => {
                for w in w[$t0..$t0 + 20].chunks_exact(5) {
                    let f = |$x: u32, $y: u32, $z: u32| $f;
                    round!(a, b, c, d, e, f(b, c, d), w[0].wrapping_add($k));
                    round!(e, a, b, c, d, f(a, b, c), w[1].wrapping_add($k));
                    round!(d, e, a, b, c, f(e, a, b), w[2].wrapping_add($k));
                    round!(c, d, e, a, b, f(d, e, a), w[3].wrapping_add($k));
                    round!(b, c, d, e, a, f(c, d, e), w[4].wrapping_add($k));
                }
            };
        }
        phase!(0, 0x5A827999, |x, y, z| z ^ (x & (y ^ z)));
        phase!(20, 0x6ED9EBA1, |x, y, z| x ^ y ^ z);
        phase!(40, 0x8F1BBCDC, |x, y, z| (x & y) | (z & (x | y)));
        phase!(60, 0xCA62C1D6, |x, y, z| x ^ y ^ z);
        for (x, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(v);
        }
    }
}

/// The SHA-2 block function for one word size (§6.2.2, §6.4.2): `$name`
/// compresses whole blocks of 16 `$w` words. `[a0, a1, a2]` gives
/// Σ0(x) = ror_a0(x ^ ror_a1(x ^ ror_a2(x))), `[e0, e1, e2]` Σ1 the same
/// way; `[r1, r2, s]` gives σ(x) = ror_r1(x) ^ ror_r2(x) ^ (x >> s) for σ0
/// and σ1.
macro_rules! sha2_fn {
    ($name:ident, $w:ty, $k:ident, $rounds:expr, [$a0:expr, $a1:expr, $a2:expr], [$e0:expr, $e1:expr, $e2:expr],
     [$m0r1:expr, $m0r2:expr, $m0s:expr], [$m1r1:expr, $m1r2:expr, $m1s:expr]) => {
        #[cfg(any(test, not(feature = "debug-log")))]
        #[inline(never)]
        pub fn $name(st: &mut [$w; 8], blocks: &[u8]) {
            const WB: usize = core::mem::size_of::<$w>();
            for block in blocks.chunks_exact(16 * WB) {
                // Zeroed once a block, unlike SHA-1's: hoisted, it took the
                // benchmark host from ~360 to ~335 MB/s (SHA-256) for 0.4
                // fewer instructions/byte.
                let mut w = [0 as $w; $rounds];
                for (wi, b) in w.iter_mut().zip(block.chunks_exact(WB)) {
                    *wi = <$w>::from_be_bytes(b.try_into().unwrap_or_default());
                }
                // The whole schedule first (§6.2.2 step 1).
                for t in 16..w.len() {
                    let (x, y) = (w[t - 15], w[t - 2]);
                    let s0 = x.rotate_right($m0r1) ^ x.rotate_right($m0r2) ^ (x >> $m0s);
                    let s1 = y.rotate_right($m1r1) ^ y.rotate_right($m1r2) ^ (y >> $m1s);
                    w[t] = w[t - 16].wrapping_add(s0).wrapping_add(w[t - 7]).wrapping_add(s1);
                }
                let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *st;
                // One round (§6.2.2 step 3): d += T1 makes the next e, and
                // h = T1 + T2 the next a; the next round takes
                // (h, a, b, c, d, e, f, g).
                macro_rules! round {
                    ($ra:ident, $rb:ident, $rc:ident, $rd:ident, $re:ident, $rf:ident, $rg:ident, $rh:ident, $bc:ident, $ab:ident, $kw:expr) => {
                        // Σ1(e) is the critical path (e to the next e): x, the
                        // sum of the other terms of T1, is used twice so LLVM
                        // keeps it a sum of its own and adds Σ1 to it last.
                        let x = $rh.wrapping_add($kw).wrapping_add($rg ^ ($re & ($rf ^ $rg)));
                        let s1 = (($re.rotate_right($e2) ^ $re).rotate_right($e1) ^ $re).rotate_right($e0);
                        let s0 = (($ra.rotate_right($a2) ^ $ra).rotate_right($a1) ^ $ra).rotate_right($a0);
                        // Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)); this round's
                        // a ^ b is the next round's b ^ c.
                        $ab = $ra ^ $rb;
                        $rh = s0.wrapping_add($rb ^ ($ab & $bc)).wrapping_add(x).wrapping_add(s1);
                        $rd = $rd.wrapping_add(x).wrapping_add(s1);
                    };
                }
                let mut x0 = b ^ c;
                let mut x1: $w;
                // Groups of 8 rounds.
                for (w, k) in w.chunks_exact(8).zip($k.chunks_exact(8)) {
                    round!(a, b, c, d, e, f, g, h, x0, x1, k[0].wrapping_add(w[0]));
                    round!(h, a, b, c, d, e, f, g, x1, x0, k[1].wrapping_add(w[1]));
                    round!(g, h, a, b, c, d, e, f, x0, x1, k[2].wrapping_add(w[2]));
                    round!(f, g, h, a, b, c, d, e, x1, x0, k[3].wrapping_add(w[3]));
                    round!(e, f, g, h, a, b, c, d, x0, x1, k[4].wrapping_add(w[4]));
                    round!(d, e, f, g, h, a, b, c, x1, x0, k[5].wrapping_add(w[5]));
                    round!(c, d, e, f, g, h, a, b, x0, x1, k[6].wrapping_add(w[6]));
                    round!(b, c, d, e, f, g, h, a, x1, x0, k[7].wrapping_add(w[7]));
                }
                for (x, v) in st.iter_mut().zip([a, b, c, d, e, f, g, h]) {
                    *x = x.wrapping_add(v);
                }
            }
        }
    };
}

// Σ0 = ror 2, 13, 22 = ror2(x ^ ror11(x ^ ror9 x)); Σ1 = ror 6, 11, 25 =
// ror6(x ^ ror5(x ^ ror14 x)); σ0 = ror 7, 18, shr 3; σ1 = ror 17, 19, shr 10.
sha2_fn!(sha256, u32, K256, 64, [2, 11, 9], [6, 5, 14], [7, 18, 3], [17, 19, 10]);
// Σ0 = ror 28, 34, 39 = ror28(x ^ ror6(x ^ ror5 x)); Σ1 = ror 14, 18, 41 =
// ror14(x ^ ror4(x ^ ror23 x)); σ0 = ror 1, 8, shr 7; σ1 = ror 19, 61, shr 6.
sha2_fn!(sha512, u64, K512, 80, [28, 6, 5], [14, 4, 23], [1, 8, 7], [19, 61, 6]);

/// Size-first versions for the debug payload (`debug-log`), which has no
/// room for the fast ones next to its log strings: one round per loop
/// iteration, FIPS 180-4's formulas as written. Same results (tested).
#[cfg(any(test, feature = "debug-log"))]
pub mod compact {
    use super::{K256, K512};

    /// SHA-1, §6.1.2 with the 16-word circular schedule of §6.1.3.
    pub fn sha1(h: &mut [u32; 8], blocks: &[u8]) {
        for block in blocks.chunks_exact(64) {
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
    }

    /// The SHA-2 block function for one word size, §6.2.2 / §6.4.2, with a
    /// 16-word circular schedule; rotation amounts as in `sha2_fn!`.
    macro_rules! sha2_compact {
        ($name:ident, $w:ty, $k:ident, [$a0:expr, $a1:expr, $a2:expr], [$e0:expr, $e1:expr, $e2:expr],
         [$m0r1:expr, $m0r2:expr, $m0s:expr], [$m1r1:expr, $m1r2:expr, $m1s:expr]) => {
            pub fn $name(st: &mut [$w; 8], blocks: &[u8]) {
                const WB: usize = core::mem::size_of::<$w>();
                for block in blocks.chunks_exact(16 * WB) {
                    let mut w = [0 as $w; 16];
                    for (wi, b) in w.iter_mut().zip(block.chunks_exact(WB)) {
                        *wi = <$w>::from_be_bytes(b.try_into().unwrap_or_default());
                    }
                    let mut v = *st;
                    for (t, k) in $k.iter().enumerate() {
                        if t >= 16 {
                            let (x, y) = (w[(t + 1) & 15], w[(t + 14) & 15]);
                            let s0 = x.rotate_right($m0r1) ^ x.rotate_right($m0r2) ^ (x >> $m0s);
                            let s1 = y.rotate_right($m1r1) ^ y.rotate_right($m1r2) ^ (y >> $m1s);
                            w[t & 15] = w[t & 15].wrapping_add(s0).wrapping_add(w[(t + 9) & 15]).wrapping_add(s1);
                        }
                        let [a, b, c, d, e, f, g, h] = v;
                        let s1 = e.rotate_right($e0) ^ e.rotate_right($e0 + $e1) ^ e.rotate_right($e0 + $e1 + $e2);
                        let t1 = h
                            .wrapping_add(s1)
                            .wrapping_add((e & f) ^ (!e & g))
                            .wrapping_add(*k)
                            .wrapping_add(w[t & 15]);
                        let s0 = a.rotate_right($a0) ^ a.rotate_right($a0 + $a1) ^ a.rotate_right($a0 + $a1 + $a2);
                        let t2 = s0.wrapping_add((a & b) ^ (a & c) ^ (b & c));
                        v = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
                    }
                    for (x, y) in st.iter_mut().zip(v) {
                        *x = x.wrapping_add(y);
                    }
                }
            }
        };
    }
    sha2_compact!(sha256, u32, K256, [2, 11, 9], [6, 5, 14], [7, 18, 3], [17, 19, 10]);
    sha2_compact!(sha512, u64, K512, [28, 6, 5], [14, 4, 23], [1, 8, 7], [19, 61, 6]);
}
