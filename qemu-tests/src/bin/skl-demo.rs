//! `make run`: one launch of the debug build of skl.bin (its log on port
//! 0xE9) with a Multiboot2 test kernel and one module, in QEMU + swtpm.
//! Prints SKL's log, the PCRs read back from swtpm next to the values the
//! host predicts, and the DRTM event log.

use std::fs;

use qemu_tests::predict::{self, dlme_from_elf32, pcr17_after_skl};
use qemu_tests::{artifact, build_dir, Launch};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn main() {
    let debug = build_dir().join("skl-debug.bin");
    let slb = if debug.exists() { debug } else { artifact("skl.bin") };
    println!("== launching {} in QEMU (TCG) + swtpm (TPM 2.0, SHA-1 + SHA-256)", slb.display());
    let r =
        Launch::new().slb(slb.clone()).module(b"demo module: a stand-in for dom0's kernel".to_vec(), "vmlinuz").run();

    println!("\n== guest output (launcher, SKL, test kernel)");
    for line in r.debugcon.lines().filter(|l| !l.starts_with("SKLTEST pcr") && !l.starts_with("SKLTEST reg")) {
        println!("  {line}");
    }
    if !r.handed_off() {
        println!("\nno hand-off: {}", r.summary());
        std::process::exit(1);
    }

    let skl = fs::read(&slb).unwrap();
    let dlme = dlme_from_elf32(&fs::read(artifact("qemu-tests/kernel.elf")).unwrap());
    println!("\n== PCRs read back from swtpm (tpm2-tools) after the launch");
    for alg in ["sha1", "sha256"] {
        for pcr in [17u32, 18] {
            let v = r.host_pcrs.get(&(alg.to_string(), pcr)).map(|v| hex(v)).unwrap_or_default();
            println!("  {alg:<6} PCR {pcr}: {v}");
        }
        let want = hex(&pcr17_after_skl(alg, &skl, &dlme));
        let ok = r.host_pcrs.get(&(alg.to_string(), 17)).map(|v| hex(v)) == Some(want.clone());
        println!("  {alg:<6} predicted PCR 17: {want}  {}", if ok { "(match)" } else { "(MISMATCH)" });
    }

    println!("\n== DRTM event log (TCG crypto-agile, at 0x00900000)");
    let (_, events) = predict::replay_tcg2(&r.log);
    for (i, (pcr, ty, text)) in events.iter().enumerate() {
        println!("  #{i} PCR {pcr} type {ty:#x} \"{text}\"");
    }
    println!("\nlaunch wall time {:?}", r.wall);
}
