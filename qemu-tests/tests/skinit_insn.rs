//! The SKINIT instruction of our QEMU (`qemu-tests/qemu/`) on its own:
//! `qemu-tests/qemu/probe/skinit-probe.S` executes it and checks, inside
//! its own SLB, the state the instruction leaves; the exit code says which
//! check failed or which exception was raised.

use std::io::Read;
use std::process::Command;
use std::time::Duration;

use qemu_tests::{artifact, qemu_binary};

const PASSED: u32 = 0x10;
const UD: u32 = 0x06;
const GP: u32 = 0x0D;

/// Run one probe variant; returns the code it wrote to isa-debug-exit.
fn probe(variant: &str, cpu: &str) -> u32 {
    probe_smp(variant, cpu, 1).0
}

/// The same with `smp` CPUs; also returns QEMU's stderr.
fn probe_smp(variant: &str, cpu: &str, smp: u32) -> (u32, String) {
    let mut child = Command::new(qemu_binary())
        .args(["-machine", "q35", "-cpu", cpu, "-m", "256M", "-display", "none", "-no-reboot", "-nodefaults"])
        .args(["-smp", &smp.to_string()])
        .arg("-kernel")
        .arg(artifact(&format!("qemu-tests/skinit-probe-{variant}.elf")))
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=4"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("build/qemu/bin/qemu-system-x86_64 runs (make setup builds it)");
    let t = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code().expect("exit code");
        }
        if t.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("probe {variant} on {cpu} did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    // isa-debug-exit: status = (code << 1) | 1.
    assert_eq!(status & 1, 1, "probe {variant} on {cpu}: status {status} (reset or crash)\n{err}");
    ((status as u32) >> 1, err)
}

/// EFER.SVME set (as GRUB does): SKINIT runs, with or without the CPUID bit,
/// and the SLB sees EAX/EDX/ESP, EFER = 0, VM_CR DPD/R_INIT/DIS_A20M, CR0,
/// CR4, CS/SS/DS, EFLAGS as the APM describes; R_INIT can be cleared.
#[test]
fn skinit_leaves_the_apm_state() {
    assert_eq!(probe("svme1", "qemu64,+skinit"), PASSED);
    assert_eq!(probe("svme1", "qemu64"), PASSED);
}

/// #UD unless EFER.SVME = 1 or the CPUID SKINIT bit is on.
#[test]
fn skinit_needs_svme_or_the_cpuid_bit() {
    assert_eq!(probe("svme0", "qemu64"), UD);
    assert_eq!(probe("svme0", "qemu64,+skinit"), PASSED);
    // Without SVM the EFER.SVME write is dropped: #UD again.
    assert_eq!(probe("svme1", "qemu64,-svm"), UD);
}

/// #GP from ring 3.
#[test]
fn skinit_from_ring3_is_gp() {
    assert_eq!(probe("cpl3", "qemu64,+skinit"), GP);
}

/// SKINIT wants every AP in INIT (wait-for-SIPI): our QEMU reports an AP
/// that is not (the launch goes on), and is silent once the loader sent
/// INIT to all APs as GRUB does (the svme1 variant).
#[test]
fn skinit_reports_aps_not_in_init() {
    let (code, err) = probe_smp("svme0", "qemu64,+skinit", 2);
    assert_eq!(code, PASSED);
    assert!(err.contains("SKINIT: CPU 1 is not in INIT"), "{err}");
    let (code, err) = probe_smp("svme1", "qemu64,+skinit", 2);
    assert_eq!(code, PASSED);
    assert!(!err.contains("not in INIT"), "{err}");
}
