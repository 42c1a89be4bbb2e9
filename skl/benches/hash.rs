//! Hashing throughput of the payload's measurement code, compiled for the
//! host from the same source. `make bench` builds it with the payload's
//! sha2 cfgs (soft, compact), so `soft` here is exactly the payload's
//! software path and `auto` its SHA-NI path. Prints one line per case:
//! `hash <case> <MB/s>` (best of 7 runs over 16 MiB, 1 MB = 10^6 bytes).

use std::hint::black_box;
use std::time::Instant;

use skl::hash::{digest_all_with, Backend, BankSet, HashAlg};

fn banks(list: &[HashAlg]) -> BankSet {
    list.iter().copied().collect()
}

fn main() {
    let data: Vec<u8> = (0..16u32 << 20).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let cases: &[(&str, Backend, &[HashAlg])] = &[
        ("soft sha1", Backend::Soft, &[HashAlg::Sha1]),
        ("soft sha256", Backend::Soft, &[HashAlg::Sha256]),
        ("soft sha384", Backend::Soft, &[HashAlg::Sha384]),
        ("soft sha1+sha256", Backend::Soft, &[HashAlg::Sha1, HashAlg::Sha256]),
        ("soft sha1+sha256+sha384", Backend::Soft, &[HashAlg::Sha1, HashAlg::Sha256, HashAlg::Sha384]),
        ("auto sha256", Backend::Auto, &[HashAlg::Sha256]),
        ("auto sha1+sha256", Backend::Auto, &[HashAlg::Sha1, HashAlg::Sha256]),
        ("auto sha1+sha256+sha384", Backend::Auto, &[HashAlg::Sha1, HashAlg::Sha256, HashAlg::Sha384]),
    ];
    for (name, backend, algs) in cases {
        let set = banks(algs);
        let mut best = f64::MAX;
        for _ in 0..7 {
            let t = Instant::now();
            black_box(digest_all_with(*backend, set, black_box(&data)));
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("hash {name} {:.0}", data.len() as f64 / best / 1e6);
    }
}
