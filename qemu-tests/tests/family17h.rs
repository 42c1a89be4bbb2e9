//! SKINIT on a family 17h CPU (`-cpu EPYC,+skinit`): our QEMU's data-fabric
//! model protects the SLB through function 0, offset 0x384 (MEMPROT_CR),
//! which SKL reaches through ECAM at the base MSR C001_0058 reports
//! (`skl/src/dma/northbridge.rs`, `skl/src/hw/fabric.rs`). Its own test
//! binary: the CPU model is chosen through the process environment.

use qemu_tests::{artifact, Launch};

#[test]
fn epyc_launch_lifts_the_data_fabric_protection() {
    // The only test in this binary: nothing else reads the environment concurrently.
    std::env::set_var("SKL_QEMU_CPU", "EPYC,+skinit");
    let r = Launch::new().slb(artifact("skl-debug.bin")).run();
    assert_eq!(r.status, Some(33), "launch did not reach the kernel:\n{}", r.summary());
    let reg = |n: &str| *r.report.regs.get(n).unwrap_or_else(|| panic!("no register {n}\n{}", r.summary()));
    assert_eq!((reg("cpuid_80000001_ecx") >> 12) & 1, 1, "CPUID SKINIT bit");
    assert_eq!(reg("vm_cr") & 0x7, 0x7, "VM_CR.DPD, R_INIT, DIS_A20M set by SKINIT");
    // Family 17h: SKINIT uses MEMPROT, not the DEV's SL_DEV_EN (which stays clear).
    assert_eq!(reg("dev_cr") & (1 << 5), 0);
    // SKL lifted MEMPROT_EN through ECAM and read it back (or it would not hand off).
    assert!(r.debugcon.contains("SKL: IOMMUs 0x1 nodes 0x1"), "{}", r.summary());
}
