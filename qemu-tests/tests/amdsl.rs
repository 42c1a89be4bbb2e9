//! `skl-amdsl.bin` (the AMD SL generation) launched the way TrenchBoot GRUB
//! `tb-dev` @66aec2e2 does (`grub=tb-dev`), checked against an independent
//! host computation (`qemu_tests::predict`), the test kernel's report, the
//! PCRs read back from swtpm and `skl-tool`'s prediction; and the refusal
//! matrix across the two generations (each image given the other GRUB's
//! tables), and the two stages (stage 1 runs only the stage 2 it carries
//! the digest of). What the launcher does for tb-dev: docs/test-contract.md,
//! "Current generation (GRUB tb-dev)".

use std::fs;
use std::path::PathBuf;

use qemu_tests::predict::{self, dlme_from_elf32, extend, pcr17_after_skinit, pcr17_after_skl, zero};
use qemu_tests::{artifact, Launch, LaunchResult, TempDir, TpmFamily, TpmInterface};

const BANKS: [&str; 2] = ["sha1", "sha256"];
const TAG_DL_INFO: u32 = 1;
const TAG_LOG_INFO: u32 = 2;
const TAG_POLICY: u32 = 3;
const TAG_AMD_INFO: u32 = 5;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

fn amdsl() -> Vec<u8> {
    fs::read(artifact("skl-amdsl.bin")).unwrap()
}

fn skl() -> Vec<u8> {
    fs::read(artifact("skl.bin")).unwrap()
}

/// The SLRT's offset in the SLB: the u16 at 0x44 of the AMD SL header.
fn slrt_off() -> usize {
    u16_at(&amdsl(), 0x44) as usize
}

fn kernel() -> PathBuf {
    artifact("qemu-tests/kernel.elf")
}

fn plain_kernel() -> PathBuf {
    artifact("qemu-tests/kernel-plain.elf")
}

/// Host PCR (swtpm, tpm2-tools) and, after a hand-off, the kernel's reading both equal `want`.
fn assert_pcr(r: &LaunchResult, alg: &str, pcr: u32, want: &[u8]) {
    let key = (alg.to_string(), pcr);
    let host = r.host_pcrs.get(&key).unwrap_or_else(|| panic!("no {alg} PCR {pcr} from swtpm\n{}", r.summary()));
    assert_eq!(hex(host), hex(want), "{alg} PCR {pcr} read back from swtpm vs host computation\n{}", r.summary());
    if r.handed_off() {
        let k = r.report.pcrs.get(&key).unwrap_or_else(|| panic!("kernel did not report {alg} PCR {pcr}"));
        assert_eq!(hex(k), hex(want), "{alg} PCR {pcr} as the kernel read it vs host computation");
    }
}

/// (tag, offset, size) of each SLRT entry up to END, from a table image.
fn entries(t: &[u8]) -> Vec<(u32, usize, usize)> {
    let size = u32_at(t, 8) as usize;
    let (mut o, mut v) = (16, vec![]);
    while o + 8 <= size {
        let (tag, s) = (u32_at(t, o), u32_at(t, o + 4) as usize);
        v.push((tag, o, s));
        if tag == 0xFFFF || s < 8 {
            break;
        }
        o += s;
    }
    v
}

fn entry(t: &[u8], tag: u32) -> (usize, usize) {
    let e = entries(t).into_iter().find(|e| e.0 == tag).unwrap_or_else(|| panic!("no SLRT entry {tag}"));
    (e.1, e.2)
}

/// The SLRT of a run, as SKL left it (`size` bytes from the header).
fn slrt_after(r: &LaunchResult) -> Vec<u8> {
    let head = r.slb_bytes(slrt_off(), 16);
    assert_eq!(u32_at(head, 0), 0x4452_544D, "SLRT magic after the run\n{}", r.summary());
    r.slb_bytes(slrt_off(), u32_at(head, 8) as usize).to_vec()
}

/// The SLRT as the bootloader wrote it: SKL sets MEASURED (bit 0) in each
/// policy entry it measured (Multiboot2 mode); clear it again.
fn as_written(mut t: Vec<u8>) -> Vec<u8> {
    let (p, _) = entry(&t, TAG_POLICY);
    for i in 0..u16_at(&t, p + 14) as usize {
        let e = p + 16 + 56 * i;
        if u16_at(&t, e + 2) != 0xFFFF {
            t[e + 4] &= !1;
        }
    }
    t
}

/// GRUB tb-dev's table shape, as written by the launcher (a good launch).
fn assert_tbdev_tables(r: &LaunchResult, t: &[u8], amd_size: usize, dl_size: usize) {
    let plan = r.plan.clone().expect("placement record");
    let f = amdsl();
    let base = plan.slb_base as u64;
    let tags: Vec<(u32, usize)> = entries(t).iter().map(|e| (e.0, e.2)).collect();
    assert_eq!(
        tags,
        [(TAG_DL_INFO, dl_size), (TAG_LOG_INFO, 24), (TAG_POLICY, 16 + 16 * 56), (TAG_AMD_INFO, amd_size), (0xFFFF, 8)],
        "DL_INFO, LOG_INFO, 16-slot policy, AMD_INFO, END"
    );
    assert_eq!(u32_at(t, 12) as usize, 0x10000 - slrt_off(), "max_size = 64 KiB - bootloader-data offset");
    let (d, _) = entry(t, TAG_DL_INFO);
    assert_eq!((u64_at(t, d + 8), u64_at(t, d + 16)), (f.len() as u64, base), "DCE = the whole file at the SLB");
    let ctx_at = if dl_size == 88 { d + 72 } else { d + 56 };
    let ctx = u64_at(t, ctx_at);
    assert!((0x10_0000..0x40_0000).contains(&ctx), "DL_INFO context inside the launcher: {ctx:#x}");
    assert_ne!(ctx, plan.mbi_addr as u64, "DL_INFO context is not the MBI");
    assert_ne!(u64_at(t, ctx_at + 8), 0, "dl_handler = the trampoline");
    let (l, _) = entry(t, TAG_LOG_INFO);
    assert_eq!(u16_at(t, l + 8), 2, "LOG_INFO format 2");
    let (a, _) = entry(t, TAG_AMD_INFO);
    assert_eq!(u64_at(t, a + 8), 0, "next");
    assert_eq!((u32_at(t, a + 16), u32_at(t, a + 20) as usize), (10, amd_size), "type, len");
    assert_eq!(u64_at(t, a + 24), 0x10000 - slrt_off() as u64, "slrt_size");
    assert_eq!(u64_at(t, a + 32), base + slrt_off() as u64, "slrt_base");
    assert_eq!(u64_at(t, a + 40), plan.mbi_addr as u64, "boot_params_base = MBI");
}

/// A refusal: SKL's reset, its record at the AMD SL bootloader-data offset,
/// no hand-off, PCR 17 = SKINIT's measurement only.
fn assert_refused(r: &LaunchResult, image: &[u8], record_at: usize, want: (u32, u32), banks: &[&str]) {
    assert_eq!(r.status, Some(0), "expected SKL's reset\n{}", r.summary());
    assert!(!r.handed_off() && !r.handed_off_any_kernel(), "no hand-off\n{}", r.summary());
    assert_eq!(r.failure_at(record_at), Some(want), "failure record\n{}", r.summary());
    for alg in banks {
        assert_pcr(r, alg, 17, &pcr17_after_skinit(alg, image));
    }
}

/// GRUB tb-dev @66aec2e2 exactly: its `struct grub_slr_entry_amd_info`
/// ends at `boot_params_base` (48 bytes, no `psp_version`), while Xen v3,
/// Linux v16 and the Secure Launch spec declare 56. SKL takes both (it
/// refused the 48-byte entry with 0x100B until this test showed what GRUB
/// really writes); with 48 bytes there is no `psp_version` to state.
#[test]
fn tbdev_exact_48_byte_amd_info_launches() {
    let r = Launch::tb_dev().run();
    assert_eq!(r.status, Some(33), "launch did not reach the kernel\n{}", r.summary());
    assert_eq!(r.failure_at(slrt_off()), None);
    let plan = r.plan.clone().unwrap();
    let t = slrt_after(&r);
    assert_tbdev_tables(&r, &t, 48, 72);
    let dlme = dlme_from_elf32(&fs::read(kernel()).unwrap());
    for alg in BANKS {
        assert_pcr(&r, alg, 17, &pcr17_after_skl(alg, &amdsl(), &dlme));
    }
    // SLB allocated high: 64 KiB aligned, below the log (also high), above everything else.
    assert_eq!(plan.slb_base % 0x10000, 0);
    assert!(plan.slb_base > plan.mbi_addr && plan.slb_base > plan.dlme_base, "{plan:x?}");
    assert!(plan.slb_base >= 0x3F00_0000, "tb-dev allocates the SLB high: {:#x}", plan.slb_base);
    eprintln!("tb-dev exact: handed off in {:?}", r.wall);
    // The debug build logs the hand-off on port 0xE9.
    let r = Launch::tb_dev().slb(artifact("skl-amdsl-debug.bin")).run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    assert!(r.debugcon.contains("SKL: hand-off"), "{}", r.debugcon);
}

/// DLME mode (the test kernel has an MLE header), TPM 2.0 with two banks,
/// AMD_INFO of 56 bytes (the layout SKL, Xen v3 and Linux v16 use) with a
/// `psp_version` the bootloader left non-zero.
#[test]
fn dlme_mode_tpm2() {
    let r = Launch::tb_dev().config("amd_info_size", "56").config("psp_version", "7").run();
    assert_eq!(r.status, Some(33), "launch did not reach the kernel\n{}", r.summary());
    assert_eq!(r.failure_at(slrt_off()), None);
    let plan = r.plan.clone().expect("placement record");
    let t = slrt_after(&r);
    assert_tbdev_tables(&r, &t, 56, 72);
    let (a, _) = entry(&t, TAG_AMD_INFO);
    assert_eq!(u16_at(&t, a + 48), 0, "SKL sets AMD_INFO.psp_version = 0 (no PSP took part)");

    let dlme = dlme_from_elf32(&fs::read(kernel()).unwrap());
    assert!(dlme.has_mle_header);
    for alg in BANKS {
        assert_pcr(&r, alg, 17, &pcr17_after_skl(alg, &amdsl(), &dlme));
        assert_pcr(&r, alg, 18, &zero(alg)); // DLME mode: PCR 18 is the kernel's
    }
    let entry_addr = dlme.base + dlme.entry_offset;
    // EBX = EIP = DLME entry, EBP = EDX = SLB base, ESI = AMD_INFO
    // boot_params_base (the MBI, not DL_INFO's context), ECX, EDI, ESP.
    qemu_tests::assert_handoff_regs(&r, plan.slb_base, entry_addr, entry_addr, plan.mbi_addr);
    assert_eq!(r.report.mbi.map(|m| m.0), Some(plan.mbi_addr));
    assert_eq!(r.report.loc2_access.expect("loc2 access") & 0x20, 0, "locality 2 released");

    // The event log replays to PCR 17; skl-tool's prediction agrees with swtpm.
    let (replayed, events) = predict::replay_tcg2(&r.log);
    let names: Vec<&str> = events.iter().map(|e| e.2.as_str()).collect();
    assert_eq!(names, ["SKINIT", "DLME entry offset", "DLME"]);
    let banks: Vec<skl_tool::Bank> = BANKS.iter().map(|b| skl_tool::Bank::parse(b).unwrap()).collect();
    let tdlme = skl_tool::kernel::dlme_from_elf(&fs::read(kernel()).unwrap()).unwrap();
    let steps = skl_tool::predict::steps(&amdsl(), &tdlme, &[], &banks).unwrap();
    for (b, pcr, v) in skl_tool::predict::pcr_values(&steps, &banks).into_iter().filter(|x| x.1 == 17) {
        let key = (b.name().to_string(), pcr);
        assert_eq!(hex(&v), hex(&r.host_pcrs[&key]), "skl-tool predict, {} PCR 17", b.name());
        assert_eq!(hex(&replayed[&key]), hex(&r.host_pcrs[&key]), "log replay, {} PCR 17", b.name());
    }
    // Xen v3's PCR 18 as skl-tool predicts it from this boot's MBI and SLRT:
    // E(E(0, H(MBI)), H(AMD_INFO with next, slrt_base, boot_params_base, psp_version zeroed)).
    let mbi = r.mbi.clone().expect("MBI");
    let xen = skl_tool::predict::predict_full(&amdsl(), &tdlme, &[], Some(&mbi), Some(&t), &banks).unwrap();
    let mut amd = t[a..a + 56].to_vec();
    for (o, n) in [(8, 8), (32, 8), (40, 8), (48, 2)] {
        amd[o..o + n].fill(0);
    }
    for alg in BANKS {
        let want = extend(alg, &extend(alg, &zero(alg), &mbi), &amd);
        let p = xen.pcrs.iter().find(|p| p.bank.name() == alg && p.pcr == 18).unwrap();
        assert_eq!(p.value.as_deref().map(hex), Some(hex(&want)), "skl-tool's Xen v3 PCR 18, {alg}");
    }
    eprintln!("tb-dev DLME mode: {:?} wall, SLB {:#x}", r.wall, plan.slb_base);
}

/// Linux Secure Launch v16's 88-byte DL_INFO (`dlme_header_offset` = where
/// the MLE header is, `dlme_config_table` 0): launches; a wrong header
/// offset and a configuration table inside the SLB are refused.
#[test]
fn dlme_mode_88_byte_dl_info() {
    let l = Launch::tb_dev().config("amd_info_size", "56").config("dl_info_size", "88");
    let r = l.clone().run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    let t = slrt_after(&r);
    assert_tbdev_tables(&r, &t, 56, 88);
    let (d, _) = entry(&t, TAG_DL_INFO);
    let off = u64_at(&t, d + 48);
    let dlme = dlme_from_elf32(&fs::read(kernel()).unwrap());
    assert_eq!(u64_at(&t, d + 56), 0, "dlme_config_table");
    assert_pcr(&r, "sha256", 17, &pcr17_after_skl("sha256", &amdsl(), &dlme));

    let r = l.clone().scenario("mle_header_offset_wrong").run();
    assert_refused(&r, &amdsl(), slrt_off(), (0x200E, off as u32 + 16), &["sha256"]);
    let r = l.scenario("config_table_in_slb").run();
    let base = r.plan.clone().unwrap().slb_base;
    assert_refused(&r, &amdsl(), slrt_off(), (0x200F, base), &["sha256"]);
}

/// Multiboot2 mode (`kernel-plain.elf`, no MLE header) with two modules:
/// SKL applies tb-dev's 16-slot policy itself. PCR 17: SKINIT, entry, DLME,
/// the modules; PCR 18: the MBI as SKL edits it (SLB and log reserved;
/// read back from guest RAM) then the SLRT as written; skl-tool agrees.
#[test]
fn multiboot2_mode_policy() {
    let mods = [vec![0x5Au8; 5000], vec![0xC3u8; 70000]];
    let r = Launch::tb_dev()
        .config("amd_info_size", "56")
        .kernel(plain_kernel())
        .module(mods[0].clone(), "m0")
        .module(mods[1].clone(), "m1")
        .run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    let plan = r.plan.clone().unwrap();
    let t = slrt_after(&r);
    assert_tbdev_tables(&r, &t, 56, 72);
    // Policy slots: MBI, SLRT, five unused, the two modules, the rest unused.
    let (p, _) = entry(&t, TAG_POLICY);
    let types: Vec<u16> = (0..16).map(|i| u16_at(&t, p + 16 + 56 * i + 2)).collect();
    let mut want = vec![7u16, 1, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 8, 8];
    want.resize(16, 0xFFFF);
    assert_eq!(types, want, "tb-dev policy slots");
    for i in [0usize, 1, 7, 8] {
        assert_eq!(t[p + 16 + 56 * i + 4] & 1, 1, "slot {i} flagged MEASURED by SKL");
    }

    let dlme = dlme_from_elf32(&fs::read(plain_kernel()).unwrap());
    assert!(!dlme.has_mle_header);
    let mbi = r.mbi.clone().expect("the MBI after the run");
    let built = r.mbi_as_built.clone().expect("the MBI as built");
    assert!(mbi.len() > built.len(), "SKL grew the MBI's memory map");
    // Independently: the measured MBI's map has the SLB and the log reserved.
    let map = mmap(&mbi);
    for (lo, len) in [(plan.slb_base as u64, 0x10000u64), (plan.log_addr as u64, plan.log_size as u64)] {
        assert!(map.iter().any(|e| e.0 <= lo && lo + len <= e.0 + e.1 && e.2 != 1), "{lo:#x} reserved: {map:x?}");
    }
    let written = as_written(t.clone());
    for alg in BANKS {
        let mut p17 = pcr17_after_skl(alg, &amdsl(), &dlme);
        for m in &mods {
            p17 = extend(alg, &p17, m);
        }
        assert_pcr(&r, alg, 17, &p17);
        assert_pcr(&r, alg, 18, &extend(alg, &extend(alg, &zero(alg), &mbi), &written));
    }
    // Multiboot2 state: EBX = MBI, ESI = AMD_INFO boot_params_base, EBP =
    // EDX = SLB base, ECX, EDI, ESP.
    let entry_addr = dlme.base + dlme.entry_offset;
    qemu_tests::assert_handoff_regs(&r, plan.slb_base, entry_addr, plan.mbi_addr, plan.mbi_addr);
    let (replayed, events) = predict::replay_tcg2(&r.log);
    assert_eq!(events.len(), 7, "SKINIT, entry, DLME, MBI, SLRT, two modules: {events:?}");
    for alg in BANKS {
        for pcr in [17, 18] {
            let key = (alg.to_string(), pcr);
            assert_eq!(hex(&replayed[&key]), hex(&r.host_pcrs[&key]), "log replay {alg} PCR {pcr}");
        }
    }
    // skl-tool predict with the MBI as GRUB built it and the SLRT as written.
    let banks: Vec<skl_tool::Bank> = BANKS.iter().map(|b| skl_tool::Bank::parse(b).unwrap()).collect();
    let tdlme = skl_tool::kernel::dlme_from_elf(&fs::read(plain_kernel()).unwrap()).unwrap();
    let p = skl_tool::predict::predict_full(&amdsl(), &tdlme, &mods, Some(&built), Some(&written), &banks).unwrap();
    for v in &p.pcrs {
        let key = (v.bank.name().to_string(), v.pcr);
        assert_eq!(v.value.as_deref().map(hex), Some(hex(&r.host_pcrs[&key])), "skl-tool predict {key:?}");
    }
    // The same through the CLI (`skl-tool predict --json`), from files.
    let dir = TempDir::new();
    let f = |n: &str, b: &[u8]| {
        let p = dir.path.join(n);
        fs::write(&p, b).unwrap();
        p.display().to_string()
    };
    let (mbi_f, slrt_f, m0, m1) = (f("mbi", &built), f("slrt", &written), f("m0", &mods[0]), f("m1", &mods[1]));
    let skl_f = artifact("skl-amdsl.bin").display().to_string();
    let k = plain_kernel().display().to_string();
    let out = skl_tool_cli(&[
        "predict",
        "--skl",
        &skl_f,
        "--kernel",
        &k,
        "--module",
        &m0,
        "--module",
        &m1,
        "--pcr18-mbi",
        &mbi_f,
        "--slrt",
        &slrt_f,
        "--banks",
        "sha1,sha256",
        "--json",
    ]);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(j["mode"], "multiboot2", "{j}");
    for p in j["pcrs"].as_array().unwrap() {
        let key = (p["bank"].as_str().unwrap().to_string(), p["pcr"].as_u64().unwrap() as u32);
        assert_eq!(p["value"], hex(&r.host_pcrs[&key]), "skl-tool predict (CLI) {key:?}");
    }
    eprintln!("tb-dev Multiboot2 mode: {:?} wall", r.wall);
}

/// Runs the `skl-tool` binary; it must succeed.
fn skl_tool_cli(args: &[&str]) -> String {
    let out = qemu_tests::skl_tool(args);
    assert!(out.status.success(), "skl-tool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// (addr, len, type) of the MBI's memory-map tag.
fn mmap(mbi: &[u8]) -> Vec<(u64, u64, u32)> {
    let mut o = 8;
    while o + 8 <= mbi.len() {
        let (ty, s) = (u32_at(mbi, o), u32_at(mbi, o + 4) as usize);
        if ty == 6 {
            return mbi[o + 16..o + s].chunks(24).map(|e| (u64_at(e, 0), u64_at(e, 8), u32_at(e, 16))).collect();
        }
        assert_ne!(ty, 0, "no memory map");
        o += s.next_multiple_of(8);
    }
    panic!("no memory map")
}

/// TPM 1.2: GRUB tb-dev states LOG_INFO format 2 for both TPM families
/// (`grub_setup_slrt_log_info`). SKL refuses a TPM 2.0 log on a TPM 1.2
/// (0x3002, detail 2) before any extend. With format 1 (what the table
/// should say) the same launch goes through.
#[test]
fn tpm12() {
    let l = Launch::tb_dev().config("amd_info_size", "56").tpm(TpmFamily::Tpm12, TpmInterface::Tis, None);
    let r = l.clone().run();
    assert_refused(&r, &amdsl(), slrt_off(), (0x3002, 2), &["sha1"]);
    let r = l.config("tb_log_format", "1").run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    let dlme = dlme_from_elf32(&fs::read(kernel()).unwrap());
    assert_pcr(&r, "sha1", 17, &pcr17_after_skl("sha1", &amdsl(), &dlme));
    assert_pcr(&r, "sha1", 18, &zero("sha1"));
}

/// A refusal case: name, launch, the image (for PCR 17), where its record
/// lies, (code, detail) or `None` when the detail is an address of the run.
type Case<'a> = (&'a str, Launch, &'a [u8], usize, Option<(u32, u32)>);

/// Each image given the other generation's tables, and AMD_INFO faults on
/// skl-amdsl.bin: no hand-off, the exact code, PCR 17 = SKINIT only.
#[test]
fn refusal_matrix_across_generations() {
    let (a, s) = (amdsl(), skl());
    let off_a = slrt_off();
    let off_s = u16_at(&s, 6) as usize;
    let tb = || Launch::tb_dev().config("amd_info_size", "56");
    // skl-amdsl.bin loaded as aem-qubes-4.2.3 loads (its table where
    // skl-amdsl.bin reads it): that GRUB copies only the measured bytes, so
    // stage 1 finds the launcher's 0xA5 fill where stage 2 belongs: 0x2010,
    // with the first word of that fill's SHA-256.
    let aem_for_amdsl =
        Launch::new().slb(artifact("skl-amdsl.bin")).config("grub_checks", "0").config("slrt_field", "0x44");
    let (measured, total) = (u16_at(&a, 2) as usize, u32_at(&a, 0x18) as usize);
    let fill = sha256(&vec![0xA5; total - measured]);
    let cases: Vec<Case> = vec![
        ("amdsl + aem loader", aem_for_amdsl.clone(), &a, off_a, Some((0x2010, u32_at(&fill, 0)))),
        ("amdsl + tb-dev, no AMD_INFO", tb().scenario("no_amd_info"), &a, off_a, Some((0x200A, 0))),
        ("amdsl + AMD_INFO type 11", tb().scenario("amd_info_type"), &a, off_a, Some((0x200B, 11))),
        ("amdsl + boot params 0", tb().scenario("boot_params_zero"), &a, off_a, Some((0x2008, 0))),
        ("amdsl + boot params in SLB", tb().scenario("boot_params_in_slb"), &a, off_a, None),
        ("amdsl + AMD_INFO slrt_base off", tb().scenario("amd_info_slrt_base"), &a, off_a, None),
        // skl.bin given tb-dev's tables where skl.bin reads them: with either
        // AMD_INFO size, boot_params_base = MBI != DL_INFO's context.
        (
            "skl + tb-dev exact",
            Launch::tb_dev().slb(artifact("skl.bin")).config("grub_checks", "0").config("slrt_field", "0x06"),
            &s,
            off_s,
            None,
        ),
        (
            "skl + tb-dev, 56-byte AMD_INFO",
            tb().slb(artifact("skl.bin")).config("grub_checks", "0").config("slrt_field", "0x06"),
            &s,
            off_s,
            None,
        ),
        // skl.bin with tb-dev's table at tb-dev's place (SLB + skl.bin's bytes at
        // 0x44): skl.bin reads its own area and finds GRUB's uninitialised bytes.
        (
            "skl + tb-dev table at 0x44",
            tb().slb(artifact("skl.bin")).config("grub_checks", "0"),
            &s,
            off_s,
            Some((0x1002, 0xA5A5_A5A5)),
        ),
    ];
    for (name, l, image, at, want) in cases {
        let r = l.run();
        let plan = r.plan.clone().unwrap_or_else(|| panic!("{name}: no plan\n{}", r.summary()));
        let want = want.unwrap_or(match name {
            "amdsl + boot params in SLB" => (0x2008, plan.slb_base + 0x100),
            "amdsl + AMD_INFO slrt_base off" => (0x200C, plan.slb_base + off_a as u32 + 0x10),
            _ => (0x200D, plan.mbi_addr),
        });
        assert_refused(&r, image, at, want, &["sha256"]);
        eprintln!("{name}: {:#06x} detail {:#x} ({:?})", want.0, want.1, r.wall);
    }
    // The loaders themselves refuse the other image before SKINIT: GRUB tb-dev
    // reads skl.bin's code at 0x42 as skl_info's offset, aem-qubes-4.2.3 reads
    // the AMD SL GUID at 0x04 as that offset (0x75da), past the measured
    // stage 1.
    for (l, msg) in [
        (Launch::tb_dev().slb(artifact("skl.bin")), "tb-dev: SKL module doesn't measure info"),
        (Launch::new().slb(artifact("skl-amdsl.bin")), "SLB skl_info beyond the measured part"),
    ] {
        let r = l.run();
        assert_eq!(r.status, Some(255), "launcher error\n{}", r.summary());
        assert!(r.debugcon.contains(msg), "{msg}\n{}", r.summary());
        assert!(!r.debugcon.contains("SKINIT: entering"), "no SKINIT\n{}", r.summary());
    }
}

fn sha256(b: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(b).to_vec()
}

/// The two stages: SKINIT measures stage 1 only (the header's measured
/// size), which carries SHA-256(stage 2) after the magic "SKLstg2\0" —
/// checked here on the shipped file, independently of the build's
/// `seal-stage2.py` and `check-image.py`. A stage 2 with one byte changed
/// (GRUB tb-dev copies the whole file) is refused by stage 1 before any of
/// it runs: 0x2010 with the first word of what it found, no hand-off, PCR 17
/// SKINIT's measurement of the unchanged stage 1 only.
#[test]
fn stage1_runs_only_the_stage2_it_carries() {
    let a = amdsl();
    let (measured, total) = (u16_at(&a, 2) as usize, u32_at(&a, 0x18) as usize);
    assert!(measured < total && total == a.len() && total - measured != 0x740, "two stages: {measured} / {total}");
    let magic = b"SKLstg2\0";
    let at: Vec<usize> = (0..measured - 8).filter(|&i| &a[i..i + 8] == magic).collect();
    assert_eq!(at.len(), 1, "one digest record in stage 1");
    assert_eq!(hex(&a[at[0] + 8..at[0] + 40]), hex(&sha256(&a[measured..])), "stage 1 carries SHA-256(stage 2)");

    let dir = TempDir::new();
    let mut bad = a.clone();
    bad[total - 1] ^= 0x01;
    let p = dir.path.join("skl-amdsl-stage2-changed.bin");
    fs::write(&p, &bad).unwrap();
    let r = Launch::tb_dev().slb(p).run();
    let found = sha256(&bad[measured..]);
    assert_refused(&r, &bad, slrt_off(), (0x2010, u32_at(&found, 0)), &BANKS);
    assert_eq!(r.tpm_commands_at_locality_2, 0, "stage 1 sends the TPM nothing");
}

/// `check-image.py --two-stage`, the build's proof that stage 1 reaches
/// stage 2 only through `skl_stage2`, fails when it should: on the shipped
/// pair it passes; with the header's measured length cut before the
/// SHA-256 block function (so `skl_main`'s calls into it land in "stage 2")
/// it names the branch; with one byte of stage 2 changed after sealing it
/// names the digest.
#[test]
fn check_image_catches_stage1_reaching_stage2() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let elf = root.join("target/x86_64-unknown-none/payload/skl-amdsl");
    assert!(elf.exists(), "{} is missing: run `make payload`", elf.display());
    let run = |bin: &std::path::Path| {
        std::process::Command::new("python3")
            .arg(root.join("skl/check-image.py"))
            .arg(&elf)
            .arg(bin)
            .args(["--amdsl", "--two-stage"])
            .output()
            .expect("python3 runs check-image.py")
    };
    let ok = run(&artifact("skl-amdsl.bin"));
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));

    let nm = std::process::Command::new("nm").arg(&elf).output().expect("nm runs");
    let sha256 = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .find(|l| l.contains("4soft6sha256"))
        .and_then(|l| u64::from_str_radix(l.split_whitespace().next()?, 16).ok())
        .expect("the SHA-256 block function in the ELF");
    let dir = TempDir::new();
    let mut cut = amdsl();
    cut[2..4].copy_from_slice(&((sha256 & !15) as u16).to_le_bytes());
    let p = dir.path.join("cut.bin");
    fs::write(&p, &cut).unwrap();
    let r = run(&p);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(err.contains("(skl_main): call") && err.contains("branches into stage 2"), "{err}");

    let mut changed = amdsl();
    *changed.last_mut().unwrap() ^= 1;
    let p = dir.path.join("changed.bin");
    fs::write(&p, &changed).unwrap();
    let r = run(&p);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(err.contains("is not SHA-256(stage 2)"), "{err}");
}
