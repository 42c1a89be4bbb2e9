//! QEMU rows of `make bench` (bench/run.py), printed as JSON rows:
//! TPM commands SKL sends per launch (from QEMU's TPM trace) and the
//! instructions from SKINIT's entry to the kernel's entry under
//! `-icount shift=0` (TSC stamps; minimum of 3 runs, since the number of
//! TPM status polls depends on how fast swtpm answers).

use qemu_tests::{artifact, Launch, TpmFamily, TpmInterface};
use serde::Serialize;

fn module(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7) as u8).collect()
}

/// One row of `make bench` (bench/run.py reads these keys).
#[derive(Serialize)]
struct Row {
    row: String,
    value: u64,
    unit: &'static str,
    reference: Option<u64>,
    ref_name: &'static str,
    /// value / reference, to two decimals.
    ratio: Option<f64>,
}

fn main() {
    let mut rows = vec![];
    let mut row = |row: String, value: u64, unit: &'static str, reference: Option<u64>, ref_name: &'static str| {
        let ratio = reference.map(|r| (value as f64 / r as f64 * 100.0).round() / 100.0);
        rows.push(Row { row, value, unit, reference, ref_name, ratio });
    };
    // The C SKL (slrt branch) sends one extend per bank per measurement, and
    // only for SHA-1 and SHA-256 (a SHA-384 bank is left unmeasured).
    let c_skl = "C SKL: one extend per bank (SHA-1/256 only) per measurement";
    for (label, family, banks, c_cmds) in [
        ("TPM 1.2", TpmFamily::Tpm12, None, 2u64),
        ("TPM 2.0, 2 banks", TpmFamily::Tpm20, Some(vec!["sha1", "sha256"]), 4),
        ("TPM 2.0, 3 banks", TpmFamily::Tpm20, Some(vec!["sha1", "sha256", "sha384"]), 4),
    ] {
        let r = Launch::new().tpm(family, TpmInterface::Tis, banks).run();
        assert_eq!(r.status, Some(33), "{}", r.summary());
        row(
            format!("TPM commands per launch, {label}"),
            r.tpm_commands_at_locality_2 as u64,
            "cmds",
            Some(c_cmds),
            c_skl,
        );
    }
    // Instruction counts for two fixed scenarios: the test kernel as DLME,
    // and Multiboot2 mode measuring a 2 MiB module (the "2 MiB kernel").
    for (mode, mb2) in [("DLME mode", false), ("Multiboot2 mode, 2 MiB module", true)] {
        let mut best = u64::MAX;
        let mut dlme = 0;
        for _ in 0..3 {
            let mut l = Launch::new().icount().tpm(TpmFamily::Tpm20, TpmInterface::Tis, Some(vec!["sha1", "sha256"]));
            if mb2 {
                l = l.kernel(artifact("qemu-tests/kernel-plain.elf")).module(module(2 << 20), "kernel");
            }
            let r = l.run();
            assert_eq!(r.status, Some(33), "{}", r.summary());
            best = best.min(r.tsc_entry_to_kernel.expect("TSC stamps"));
            dlme = r.plan.as_ref().map_or(0, |p| p.dlme_size);
        }
        // The DLME's size as the launcher placed it (not a label to go stale).
        let label = if mb2 { mode.to_string() } else { format!("{mode}, {dlme} B DLME") };
        row(format!("instructions entry -> hand-off, {label}, TPM 2.0 sha1+sha256"), best, "insns", None, "");
    }
    // The two-stage skl-amdsl.bin, launched as GRUB tb-dev does, the same
    // kernel and banks: SKL hashes 4.8 KB of stage 1 per bank for the
    // "SKINIT" event instead of 35 KB, and stage 2 once (SHA-256).
    let mut best = u64::MAX;
    let mut dlme = 0;
    for _ in 0..3 {
        let r = Launch::tb_dev().icount().tpm(TpmFamily::Tpm20, TpmInterface::Tis, Some(vec!["sha1", "sha256"])).run();
        assert_eq!(r.status, Some(33), "{}", r.summary());
        best = best.min(r.tsc_entry_to_kernel.expect("TSC stamps"));
        dlme = r.plan.as_ref().map_or(0, |p| p.dlme_size);
    }
    row(
        format!(
            "instructions entry -> hand-off, skl-amdsl.bin (two stages), DLME mode, {dlme} B DLME, TPM 2.0 sha1+sha256"
        ),
        best,
        "insns",
        Some(3_770_000),
        "C SKL (skl.bin's launch, measured when issue 20 was filed)",
    );
    println!("{}", serde_json::to_string_pretty(&rows).expect("rows serialise"));
}
