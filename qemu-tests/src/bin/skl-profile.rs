//! The instruction profile of `make bench` (bench/profile.py): one DLME-mode
//! launch (the test kernel as DLME, TPM 2.0 with SHA-1 + SHA-256, as the
//! bench's instruction row) under `-icount` with QEMU logging every
//! translation block it executes (`-d exec,nochain,in_asm`). Prints the
//! SLB base, the TSC count entry -> hand-off and where the log is, as JSON,
//! for bench/run.py to attribute the blocks to the payload's symbols.
//!
//!     skl-profile OUT.log

use qemu_tests::{Launch, TpmFamily, TpmInterface};
use serde::Serialize;

fn main() {
    let out = std::env::args().nth(1).expect("usage: skl-profile OUT.log");
    std::env::set_var("SKL_QEMU_LOG", "exec,nochain,in_asm");
    std::env::set_var("SKL_QEMU_LOG_COPY", &out);
    let r = Launch::new().icount().tpm(TpmFamily::Tpm20, TpmInterface::Tis, Some(vec!["sha1", "sha256"])).run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    let plan = r.plan.as_ref().expect("launch record");
    let profile = Profile {
        slb_base: plan.slb_base,
        dlme_size: plan.dlme_size,
        tsc: r.tsc_entry_to_kernel.expect("TSC stamps"),
        log: out,
    };
    println!("{}", serde_json::to_string(&profile).expect("the profile serialises"));
}

/// What bench/run.py reads: where the SLB was, the DLME's size, the TSC
/// count entry -> hand-off, and the path of QEMU's log.
#[derive(Serialize)]
struct Profile {
    slb_base: u32,
    dlme_size: u32,
    tsc: u64,
    log: String,
}
