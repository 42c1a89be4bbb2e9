//! The instruction profile of `make bench` (bench/profile.py): one DLME-mode
//! launch (the test kernel as DLME, TPM 2.0 with SHA-1 + SHA-256, as the
//! bench's instruction row) under `-icount` with QEMU logging every
//! translation block it executes (`-d exec,nochain,in_asm`). Prints the
//! SLB base, the TSC count entry -> hand-off and where the log is, as JSON,
//! for bench/run.py to attribute the blocks to the payload's symbols.
//!
//!     skl-profile OUT.log

use qemu_tests::{Launch, TpmFamily, TpmInterface};

fn main() {
    let out = std::env::args().nth(1).expect("usage: skl-profile OUT.log");
    std::env::set_var("SKL_QEMU_LOG", "exec,nochain,in_asm");
    std::env::set_var("SKL_QEMU_LOG_COPY", &out);
    let r = Launch::new().icount().tpm(TpmFamily::Tpm20, TpmInterface::Tis, Some(vec!["sha1", "sha256"])).run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    let slb = r.plan.as_ref().expect("launch record").slb_base;
    let dlme = r.plan.as_ref().map_or(0, |p| p.dlme_size);
    println!(
        "{{\"slb_base\": {slb}, \"dlme_size\": {dlme}, \"tsc\": {}, \"log\": {:?}}}",
        r.tsc_entry_to_kernel.expect("TSC stamps"),
        out
    );
}
