//! The whole launch of the shipped skl.bin in QEMU + swtpm, checked against
//! an independent host computation (`qemu_tests::predict`), the test
//! kernel's report and the PCRs read back from swtpm with tpm2-tools.

use std::fs;

use qemu_tests::predict::{self, dlme_from_elf32, extend, pcr17_after_skinit, pcr17_after_skl, zero};
use qemu_tests::{artifact, Launch, LaunchResult, TpmFamily, TpmInterface};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn skl() -> Vec<u8> {
    fs::read(artifact("skl.bin")).unwrap()
}

/// Host PCR (tpm2-tools) and kernel-reported PCR both equal `want`.
fn assert_pcr(r: &LaunchResult, alg: &str, pcr: u32, want: &[u8]) {
    let key = (alg.to_string(), pcr);
    let host = r.host_pcrs.get(&key).unwrap_or_else(|| panic!("no {alg} PCR {pcr} from tpm2-tools\n{}", r.summary()));
    assert_eq!(hex(host), hex(want), "{alg} PCR {pcr} read back from swtpm vs host computation");
    if r.handed_off() {
        let k = r.report.pcrs.get(&key).unwrap_or_else(|| panic!("kernel did not report {alg} PCR {pcr}"));
        assert_eq!(hex(k), hex(want), "{alg} PCR {pcr} as the kernel read it vs host computation");
    }
}

/// `skl-tool predict` and `skl-tool eventlog verify` (the library the CLI
/// runs) agree with what swtpm holds after the launch, in every bank.
fn assert_skl_tool_agrees(r: &LaunchResult, kernel: std::path::PathBuf, format: skl_tool::log::Format, banks: &[&str]) {
    use skl_tool::Bank;
    let banks: Vec<Bank> = banks.iter().map(|b| Bank::parse(b).unwrap()).collect();
    let dlme = skl_tool::kernel::dlme_from_elf(&fs::read(kernel).unwrap()).unwrap();
    let steps = skl_tool::predict::steps(&skl(), &dlme, &[], &banks).unwrap();
    let events = skl_tool::log::read(&r.log, format).expect("skl-tool reads the log");
    let replay = skl_tool::log::replay(&events);
    for (b, pcr, v) in skl_tool::predict::pcr_values(&steps, &banks).into_iter().filter(|x| x.1 == 17) {
        let key = (b.name().to_string(), pcr);
        let actual = r.host_pcrs.get(&key).or_else(|| r.report.pcrs.get(&key)).expect("PCR read back");
        assert_eq!(hex(&v), hex(actual), "skl-tool predict, {} PCR 17", b.name());
        let replayed = &replay.iter().find(|x| x.0 == b && x.1 == 17).expect("replayed").2;
        assert_eq!(hex(replayed), hex(actual), "skl-tool eventlog replay, {} PCR 17", b.name());
    }
}

fn assert_good_dlme_launch(r: &LaunchResult, base: u32, banks: &[&str]) {
    assert_eq!(r.status, Some(33), "launch did not reach the kernel:\n{}", r.summary());
    assert!(r.failure.is_none());
    let kernel = fs::read(artifact("qemu-tests/kernel.elf")).unwrap();
    let dlme = dlme_from_elf32(&kernel);
    assert!(dlme.has_mle_header);
    for alg in banks {
        assert_pcr(r, alg, 17, &pcr17_after_skl(alg, &skl(), &dlme));
        assert_pcr(r, alg, 18, &zero(alg)); // DLME mode: PCR 18 is the kernel's to extend
    }
    // Hand-off registers (TrenchBoot Xen head.S, Linux AMD Secure Launch).
    let reg = |n: &str| *r.report.regs.get(n).unwrap_or_else(|| panic!("no register {n}"));
    let entry = dlme.base + dlme.entry_offset;
    // EBX = EIP = DLME entry, EBP = EDX = SLB base, ESI = the MBI, ECX, EDI, ESP.
    qemu_tests::assert_handoff_regs(r, base, entry, entry, r.report.mbi.expect("kernel reported its MBI").0);
    assert_eq!(reg("cr0") & 0x8000_0001, 1, "protected mode, paging off");
    assert_eq!(reg("cr0") & 0x6000_0000, 0, "caches enabled");
    assert_eq!(reg("efer") & 0x1500, 0, "EFER.LME/LMA clear, SVME cleared by SKINIT");
    assert_eq!(reg("cr4") & 0x20, 0, "PAE off");
    assert_eq!(reg("eflags") & 0x200, 0, "interrupts off");
    assert_eq!(reg("cs"), 0x08);
    for s in ["ds", "es", "ss"] {
        assert_eq!(reg(s), 0x10, "{s} flat data");
    }
    assert_eq!(reg("idtr_limit"), 0, "IDT limit still clobbered");
    assert_eq!(r.report.loc2_access.expect("loc2 access reported") & 0x20, 0, "TPM locality 2 released");
    // TPM2_GetCapability, then one TPM2_PCR_Extend per measurement carrying every bank.
    assert_eq!(r.tpm_commands_at_locality_2, 3, "TPM commands sent by SKL");
}

#[test]
fn good_launch_pcr17_matches_host_swtpm_and_kernel() {
    let r = Launch::new().run();
    assert_good_dlme_launch(&r, 0x0200_0000, &["sha1", "sha256"]);

    // The event log replays (from zero, SKINIT event included) to PCR 17.
    let (replayed, events) = predict::replay_tcg2(&r.log);
    let names: Vec<&str> = events.iter().map(|e| e.2.as_str()).collect();
    assert_eq!(names, ["SKINIT", "DLME entry offset", "DLME"]);
    assert!(events.iter().all(|e| e.0 == 17 && e.1 == 0x502));
    for alg in ["sha1", "sha256"] {
        assert_eq!(
            hex(&replayed[&(alg.to_string(), 17)]),
            hex(&r.host_pcrs[&(alg.to_string(), 17)]),
            "{alg} log replay"
        );
    }
    eprintln!("good launch: {:?} wall", r.wall);
}

/// What a kernel (Xen, Linux) can observe of the launch: the CPU executed SKINIT (our QEMU,
/// `qemu-tests/qemu/`), so the CPUID SKINIT bit is set, VM_CR has R_INIT (and DPD, DIS_A20M)
/// set, EFER.SVME is clear although the launcher set it, the TPM reports an established DRTM,
/// and SKL found the one node of the northbridge model and lifted SL_DEV on it.
#[test]
fn kernel_sees_a_skinit_launch() {
    // The debug build: its log says on how many nodes SKL lifted SKINIT's protection.
    let r = Launch::new().slb(artifact("skl-debug.bin")).run();
    assert_eq!(r.status, Some(33), "launch did not reach the kernel:\n{}", r.summary());
    let reg = |n: &str| *r.report.regs.get(n).unwrap_or_else(|| panic!("no register {n}\n{}", r.summary()));
    assert_ne!(reg("cpuid_80000001_ecx") & (1 << 12), 0, "CPUID Fn8000_0001 ECX[12] SKINIT");
    assert_ne!(reg("cpuid_80000001_ecx") & (1 << 2), 0, "CPUID Fn8000_0001 ECX[2] SVM");
    assert_eq!(reg("vm_cr") & 0x7, 0x7, "VM_CR.DPD, R_INIT, DIS_A20M set by SKINIT");
    assert_eq!(reg("efer") & (1 << 12), 0, "EFER.SVME cleared by SKINIT (EFER = 0)");
    assert_eq!(r.report.loc2_access.expect("loc2 access reported") & 1, 0, "TIS tpmEstablishment: DRTM done");
    // SKINIT set SL_DEV_EN in node 0's DEV_CR (northbridge model at 00:18.3); SKL lifted it.
    assert_eq!(reg("dev_cr") & (1 << 5), 0, "SL_DEV_EN lifted by SKL");
    assert_ne!(reg("dev_cr"), u32::MAX, "node 0's DEV capability found");
    assert!(r.debugcon.contains("SKL: IOMMUs 0x1 nodes 0x1"), "{}", r.summary());
    assert!(r.debugcon.contains("DRTM: SKINIT measures the SLB itself"), "{}", r.summary());
    assert!(!r.proxy_log.contains("DRTM hash"), "the proxy made no measurement: {}", r.proxy_log);
}

#[test]
fn position_independent_at_other_bases() {
    for base in [0x03FF_0000u32, 0x3FFE_0000] {
        let r = Launch::new().base(base).run();
        assert_good_dlme_launch(&r, base, &["sha256"]);
    }
}

#[test]
fn corrupted_slrt_never_hands_off() {
    let r = Launch::new().scenario("bad_magic").run();
    assert_eq!(r.status, Some(0), "expected SKL's reset:\n{}", r.summary());
    assert!(!r.handed_off());
    assert_eq!(r.failure, Some((0x1002, 0xDEAD_BEEF)), "{}", r.summary());
    assert_eq!(r.tpm_commands_at_locality_2, 0, "SKL refused before talking to the TPM");
    for alg in ["sha1", "sha256"] {
        assert_pcr(&r, alg, 17, &pcr17_after_skinit(alg, &skl()));
    }
}

#[test]
fn a_tampered_kernel_gives_a_different_pcr17() {
    let r = Launch::new().scenario("kernel_tampered").run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    let mut dlme = dlme_from_elf32(&fs::read(artifact("qemu-tests/kernel.elf")).unwrap());
    let good = pcr17_after_skl("sha256", &skl(), &dlme);
    *dlme.bytes.last_mut().unwrap() ^= 0xFF; // what the scenario does
    let tampered = pcr17_after_skl("sha256", &skl(), &dlme);
    assert_pcr(&r, "sha256", 17, &tampered);
    // The scenario really changed the kernel after the launcher loaded it:
    // swtpm does not hold the untampered kernel's PCR 17.
    assert_ne!(hex(&r.host_pcrs[&("sha256".to_string(), 17)]), hex(&good), "PCR 17 of the untampered kernel");
}

/// Issue 3 negative matrix: every malformation ends without a hand-off,
/// with its error code, and PCR 17 holding only SKINIT's measurement.
#[test]
fn negative_matrix() {
    let cases: &[(&str, u32)] = &[
        ("bad_revision", 0x1003),
        ("bad_arch", 0x1004),
        ("no_end", 0x100C),
        ("size_over_max", 0x1006),
        ("size_truncated", 0x100A),
        ("zero_size_entry", 0x1009),
        ("dl_info_wrong_size", 0x100B),
        ("duplicate_dl_info", 0x100D),
        // The tag becomes 0x7777: the parser refuses the unknown entry
        // (0x100C) before validation looks for DL_INFO. A table that
        // lacks DL_INFO (NoDlInfo, 0x2001) is a host test:
        // `launch::tests::a_table_without_dl_info_is_refused_with_no_dl_info`.
        ("no_dl_info", 0x100C),
        ("entry_outside_dlme", 0x2007),
        ("dlme_overlaps_slb", 0x2006),
        ("dlme_above_4g", 0x2005),
        ("dlme_wraps", 0x2004),
        ("log_overlaps_slb", 0x3001),
        ("slrt_a_layout", 0x1012),
        ("tag_protocol", 0x1013),
    ];
    let after_skinit = pcr17_after_skinit("sha256", &skl());
    for (scenario, code) in cases {
        let r = Launch::new().tpm(TpmFamily::Tpm20, TpmInterface::Tis, Some(vec!["sha256"])).scenario(scenario).run();
        assert_eq!(r.status, Some(0), "{scenario}: expected a reset\n{}", r.summary());
        assert!(!r.handed_off(), "{scenario}: handed off");
        assert_eq!(r.failure.map(|f| f.0), Some(*code), "{scenario}: error code\n{}", r.summary());
        assert_eq!(hex(&r.host_pcrs[&("sha256".to_string(), 17)]), hex(&after_skinit), "{scenario}: PCR 17");
    }
}

/// Issue 4 matrix: three banks in one pass, every bank right.
#[test]
fn three_banks_sha1_sha256_sha384() {
    let r = Launch::new().tpm(TpmFamily::Tpm20, TpmInterface::Tis, Some(vec!["sha1", "sha256", "sha384"])).run();
    assert_good_dlme_launch(&r, 0x0200_0000, &["sha1", "sha256", "sha384"]);
    let (replayed, _) = predict::replay_tcg2(&r.log);
    assert_eq!(hex(&replayed[&("sha384".to_string(), 17)]), hex(&r.host_pcrs[&("sha384".to_string(), 17)]));
    assert_skl_tool_agrees(
        &r,
        artifact("qemu-tests/kernel.elf"),
        skl_tool::log::Format::Tpm20,
        &["sha1", "sha256", "sha384"],
    );
}

/// QEMU's tpm-crb implements locality 0 only: SKL must refuse it rather
/// than measure where PCR 17 cannot be extended.
#[test]
fn crb_without_localities_is_refused() {
    let r = Launch::new().tpm(TpmFamily::Tpm20, TpmInterface::Crb, Some(vec!["sha256"])).run();
    assert_eq!(r.status, Some(0), "{}", r.summary());
    assert_eq!(r.failure, Some((0x400E, 2)), "{}", r.summary());
}

/// `tpm2_eventlog` (tpm2-tools) parses the DRTM log SKL wrote.
#[test]
fn tpm2_eventlog_parses_the_log() {
    let r = Launch::new().run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    let next = {
        let n = u32::from_le_bytes(r.log[28..32].try_into().unwrap()) as usize; // header event size
        let nalgs = u32::from_le_bytes(r.log[56..60].try_into().unwrap()) as usize;
        let at = 60 + 4 * nalgs + 1 + 16;
        assert!(32 + n > at);
        u32::from_le_bytes(r.log[at..at + 4].try_into().unwrap()) as usize
    };
    let dir = qemu_tests::TempDir::new();
    let f = dir.path.join("eventlog.bin");
    fs::write(&f, &r.log[..next]).unwrap();
    let out = std::process::Command::new("tpm2_eventlog").arg(&f).output().expect("tpm2_eventlog runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "tpm2_eventlog failed: {}{}", text, String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("EV_NO_ACTION") || text.contains("Spec ID"), "{text}");
    assert_eq!(text.matches("PCRIndex: 17").count(), 3, "{text}");
}

fn module(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed)).collect()
}

/// The memory-map type (Multiboot2 tag 6) of the entry holding `addr`.
fn mmap_type_at(mbi: &[u8], addr: u64) -> Option<u32> {
    let u32_at = |o: usize| u32::from_le_bytes(mbi[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(mbi[o..o + 8].try_into().unwrap());
    let mut o = 8;
    while o + 8 <= mbi.len() {
        let (typ, size) = (u32_at(o), u32_at(o + 4) as usize);
        if typ == 0 {
            return None;
        }
        if typ == 6 {
            let es = u32_at(o + 8) as usize;
            let mut e = o + 16;
            while e + 24 <= o + size {
                let (base, len) = (u64_at(e), u64_at(e + 8));
                if base <= addr && addr < base + len {
                    return Some(u32_at(e + 16));
                }
                e += es;
            }
        }
        o += (size + 7) & !7;
    }
    None
}

/// Issue 3 positive matrix, Multiboot2 mode: a plain Multiboot2 kernel with
/// 0, 1 and 3 modules; SKL measures the policy (MBI and SLRT into PCR 18,
/// modules into PCR 17) and enters with EAX = magic, EBX = MBI.
#[test]
fn multiboot2_mode_with_0_1_3_modules() {
    for n in [0usize, 1, 3] {
        let mut l = Launch::new().kernel(artifact("qemu-tests/kernel-plain.elf"));
        let mods: Vec<Vec<u8>> = (0..n).map(|i| module(3000 + 1000 * i, 7 + i as u8)).collect();
        for (i, m) in mods.iter().enumerate() {
            l = l.module(m.clone(), &format!("mod{i}"));
        }
        let r = l.run();
        assert_eq!(r.status, Some(33), "{n} modules:\n{}", r.summary());
        let dlme = dlme_from_elf32(&fs::read(artifact("qemu-tests/kernel-plain.elf")).unwrap());
        assert!(!dlme.has_mle_header);
        let mbi = r.mbi.clone().expect("MBI read back");
        assert_eq!(r.report.modules.len(), n);
        // The kernel is told the SLB and the log are not free RAM (read
        // here from the MBI bytes by hand, not with skl-bootinfo).
        let slb = r.report.regs["edx"] as u64;
        let log = r.plan.as_ref().expect("placement record").log_addr as u64;
        for (what, at) in [("SLB", slb), ("SLB end", slb + 0xFFFF), ("log", log), ("log end", log + 0x7FFF)] {
            assert_eq!(mmap_type_at(&mbi, at), Some(2), "{what} {at:#x} reserved in the kernel's memory map");
        }
        assert_eq!(mmap_type_at(&mbi, slb - 1), Some(1), "RAM below the SLB stays available");
        // SLRT as the bootloader wrote it: SKL sets MEASURED (bit 0) in each
        // policy entry after measuring; GRUB wrote 0, or 2 for the SLRT entry.
        let mut slrt = r.slrt.clone();
        let size = u32::from_le_bytes(slrt[8..12].try_into().unwrap()) as usize;
        for i in 0..2 + n {
            let flags = 128 + 56 * i + 4; // POLICY @112, entries @128 (GRUB-B MB2 layout)
            assert_eq!(slrt[flags] & 1, 1, "entry {i} flagged MEASURED");
            slrt[flags] &= !1;
        }
        for alg in ["sha1", "sha256"] {
            let mut p17 = pcr17_after_skl(alg, &skl(), &dlme);
            for m in &mods {
                p17 = extend(alg, &p17, m);
            }
            assert_pcr(&r, alg, 17, &p17);
            let p18 = extend(alg, &extend(alg, &zero(alg), &mbi), &slrt[..size]);
            assert_pcr(&r, alg, 18, &p18);
        }
        // GetCapability, entry, DLME, then MBI, SLRT and each module.
        assert_eq!(r.tpm_commands_at_locality_2, 5 + n, "TPM commands sent by SKL");
        // Multiboot2 state: EBX = ESI = MBI, EBP = EDX = SLB base, ECX, EDI, ESP.
        let mbi_addr = r.report.mbi.unwrap().0;
        qemu_tests::assert_handoff_regs(&r, 0x0200_0000, dlme.base + dlme.entry_offset, mbi_addr, mbi_addr);
    }
}

/// Issue 4 matrix: TPM 1.2 over TIS. One TPM_Extend per measurement into the
/// SHA-1 bank, the TXT-container log (format 1). No tpm2-tools for 1.2: the
/// kernel's TPM_PCRRead and the log are checked against the host. The log
/// area starts zeroed here (`log_prefill=zero`); GRUB's pre-filled container
/// header is `grub.rs::tpm12_with_grubs_log_contents`.
#[test]
fn tpm12_over_tis() {
    let r = Launch::new().tpm(TpmFamily::Tpm12, TpmInterface::Tis, None).config("log_prefill", "zero").run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    let dlme = dlme_from_elf32(&fs::read(artifact("qemu-tests/kernel.elf")).unwrap());
    let want = pcr17_after_skl("sha1", &skl(), &dlme);
    assert_eq!(hex(&r.report.pcrs[&("sha1".to_string(), 17)]), hex(&want), "TPM 1.2 PCR 17");
    assert_eq!(hex(&r.report.pcrs[&("sha1".to_string(), 18)]), hex(&zero("sha1")));
    // TXT-container log: events from offset 105, each pcr, type, sha1[20], size, data.
    let log = &r.log;
    let next = 57 + u32::from_le_bytes(log[101..105].try_into().unwrap()) as usize;
    let (mut o, mut pcr, mut names) = (105, zero("sha1"), vec![]);
    while o < next {
        let len = u32::from_le_bytes(log[o + 28..o + 32].try_into().unwrap()) as usize;
        pcr = predict::extend_digest("sha1", &pcr, &log[o + 8..o + 28]);
        names.push(String::from_utf8_lossy(&log[o + 32..o + 32 + len]).into_owned());
        o += 32 + len;
    }
    assert_eq!(names, ["SKINIT", "DLME entry offset", "DLME"]);
    assert_eq!(hex(&pcr), hex(&want), "TPM 1.2 log replay");
    // TIS 1.3 (QEMU's TPM 1.2) says TPM 1.2: no probe, one TPM_Extend per
    // measurement, as many commands as the C SKL sends.
    assert_eq!(r.tpm_commands_at_locality_2, 2, "one TPM_Extend per measurement");
    assert_skl_tool_agrees(&r, artifact("qemu-tests/kernel.elf"), skl_tool::log::Format::Tpm12, &["sha1"]);
}

/// The debug build says why it stopped, in one line, on port 0xE9.
#[test]
fn debug_build_logs_a_clear_error() {
    let r = Launch::new().slb(artifact("skl-debug.bin")).scenario("entry_outside_dlme").run();
    assert_eq!(r.status, Some(0), "{}", r.summary());
    let line = r.debugcon.lines().find(|l| l.starts_with("SKL: error")).unwrap_or_else(|| panic!("{}", r.summary()));
    assert!(line.contains("0x2007") && line.contains("entry outside the DLME"), "{line}");
}

/// Newer bootloaders (GRUB-newest, coreboot) add AMD_INFO: accepted, and it
/// changes nothing SKL measures.
#[test]
fn amd_info_entry_is_accepted() {
    let r = Launch::new().config("amd_info", "1").run();
    assert_good_dlme_launch(&r, 0x0200_0000, &["sha1", "sha256"]);
}

/// A DMA-capable device (QEMU's edu) attacks after the hand-off: with the
/// IOMMU as SKL left it, writes aimed at the SLB, the measured kernel and the
/// event log change nothing; the same writes with the IOMMU switched off (the
/// control) land, so the first half can fail. QEMU 7.2 enforces V=1, TV=1,
/// IR=IW=0 and logs no event for it (docs/test-contract.md, "QEMU facts").
#[test]
fn dma_attack_after_handoff_is_blocked() {
    let r = Launch::new().with_edu().run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    let kernel = fs::read(artifact("qemu-tests/kernel.elf")).unwrap();
    let dlme = dlme_from_elf32(&kernel);
    assert_pcr(&r, "sha256", 17, &pcr17_after_skl("sha256", &skl(), &dlme));
    let ctl = r.debugcon.lines().find(|l| l.starts_with("SKLTEST dma iommu_control")).expect("IOMMU state reported");
    assert!(ctl.contains("iommu_control 0x00001001"), "IommuEn + CmdBufEn only: {ctl}");
    let lines = r.dma_lines();
    for l in r.debugcon.lines().filter(|l| l.starts_with("SKLTEST dma")) {
        eprintln!("{l}");
    }
    assert_eq!(lines.len(), 8, "{}", r.debugcon);
    let pattern = hex(b"DMA-ATTACK-BYTES");
    let pattern2 = hex(b"SL_DEV-ATTACK-2!");
    for (phase, target, before, after) in &lines {
        match (phase.as_str(), target.as_str()) {
            ("blocked", _) => assert_eq!(after, before, "DMA into the {target} got through SKL's IOMMU set-up"),
            ("open", _) => assert_eq!(after, &pattern, "control: the same DMA into the {target} must land"),
            // IOMMU off, SL_DEV_EN set again by the kernel: the northbridge model keeps devices
            // off the SLB SKINIT protected, and only off the SLB.
            ("sl_dev", "slb") => assert_eq!(after, before, "DMA into the SLB got through SL_DEV"),
            ("sl_dev", _) => assert_eq!(after, &pattern2, "SL_DEV covers the SLB only: {target}"),
            p => panic!("phase {p:?}"),
        }
        assert_ne!(before, &pattern2);
    }
    assert!(lines.iter().filter(|l| l.0 != "sl_dev").all(|l| l.2 != pattern));
    // The kernel's own measured bytes are what the host hashed.
    let blocked_kernel = lines.iter().find(|l| l.0 == "blocked" && l.1 == "kernel").unwrap();
    assert_eq!(blocked_kernel.2, hex(b"measured-kernel\0"));
}

/// Without an IOMMU nothing could keep devices off the measured kernel:
/// SKL refuses (0x6010) and PCR 17 holds only SKINIT's measurement.
#[test]
fn no_iommu_no_handoff() {
    let r = Launch::new().without_iommu().run();
    assert!(!r.handed_off(), "{}", r.summary());
    assert_eq!(r.failure, Some((0x6010, 0)), "{}", r.summary());
    assert_pcr(&r, "sha256", 17, &pcr17_after_skinit("sha256", &skl()));
}

/// SKL's stack (7 KiB below the tables, linker/slb.ld) keeps a margin: the deepest
/// launch (Multiboot2 mode, four banks, modules) leaves 1 KiB of the stack spare.
#[test]
fn stack_use_leaves_a_margin() {
    let r = Launch::new().kernel(artifact("qemu-tests/kernel-plain.elf")).module(vec![7; 4096], "m0").tpm(
        TpmFamily::Tpm20,
        TpmInterface::Tis,
        None,
    );
    let r = r.run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    let used = r.stack_used();
    let size = qemu_tests::LaunchResult::STACK_SIZE;
    eprintln!("stack used: {used} of {size} bytes");
    assert!(used > 1024 && used < size - 1024, "stack use {used}: keep 1 KiB spare");
    assert!(r.stack_canary_intact(), "the canary SKL checks before hand-off");
}
