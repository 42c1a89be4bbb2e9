//! Hashing throughput of the payload's measurement code, compiled for the
//! host from the same source: `soft` is the release payload's software path
//! (the block functions of `skl::hash::soft`; the debug payload has size-first
//! ones) and `auto` its SHA-NI path. Prints one line per case:
//! `hash <case> <MB/s>` (1 MB = 10^6 bytes): the best of 300 runs over
//! 256 KiB (a run is shorter than a scheduler time slice), the cases taking
//! turns, so that on a shared, loaded machine every case gets the same
//! chances of an undisturbed run (`SKL_BENCH_RUNS` overrides the 300). An
//! optional argument names the one case to run.

use std::hint::black_box;
use std::time::Instant;

use skl::hash::{digest_all_with, Backend, BankSet, HashAlg};

fn banks(list: &[HashAlg]) -> BankSet {
    list.iter().copied().collect()
}

fn main() {
    let data: Vec<u8> = (0..256u32 << 10).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let runs: usize = std::env::var("SKL_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let cases: &[(&str, Backend, &[HashAlg])] = &[
        ("soft sha1", Backend::Soft, &[HashAlg::Sha1]),
        ("soft sha256", Backend::Soft, &[HashAlg::Sha256]),
        ("soft sha384", Backend::Soft, &[HashAlg::Sha384]),
        ("soft sha1+sha256", Backend::Soft, &[HashAlg::Sha1, HashAlg::Sha256]),
        ("soft sha1+sha256+sha384", Backend::Soft, &[HashAlg::Sha1, HashAlg::Sha256, HashAlg::Sha384]),
        ("auto sha1", Backend::Auto, &[HashAlg::Sha1]),
        ("auto sha256", Backend::Auto, &[HashAlg::Sha256]),
        ("auto sha1+sha256", Backend::Auto, &[HashAlg::Sha1, HashAlg::Sha256]),
        ("auto sha1+sha256+sha384", Backend::Auto, &[HashAlg::Sha1, HashAlg::Sha256, HashAlg::Sha384]),
    ];
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let cases: Vec<_> = cases.iter().filter(|c| filter.as_deref().is_none_or(|f| c.0 == f)).collect();
    let mut best = vec![f64::MAX; cases.len()];
    for _ in 0..runs {
        for ((_, backend, algs), best) in cases.iter().zip(best.iter_mut()) {
            let set = banks(algs);
            let t = Instant::now();
            black_box(digest_all_with(*backend, set, black_box(&data)));
            *best = best.min(t.elapsed().as_secs_f64());
        }
    }
    for ((name, ..), best) in cases.iter().zip(best) {
        println!("hash {name} {:.0}", data.len() as f64 / best / 1e6);
    }
}
