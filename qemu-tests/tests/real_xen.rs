//! Real kernels after SKL's hand-off (issue 14, part 3): Debian 12's Xen
//! 4.17 hypervisor with Debian's Linux 6.1 as dom0 and a busybox initramfs
//! whose `/init` prints PCR 17/18 as dom0 reads them from sysfs
//! (`qemu-tests/realkernels/`, built by `make realkernels`, packages and
//! versions in `build/realkernels/versions.txt`).
//!
//! Control runs boot Xen through QEMU's own Multiboot loader (`-kernel
//! xen.elf -initrd "vmlinuz …,initrd.gz"`), no SKL: with and without QEMU
//! 7.2's `amd-iommu` under Xen's AMD-Vi driver. The SKL run loads Xen as the
//! Multiboot2 kernel and vmlinuz + initrd as modules through the
//! GRUB-faithful launcher; SKL (Multiboot2 mode: Xen has no MLE header)
//! measures and hands off, and dom0's PCR 17/18 must equal swtpm's read-back,
//! an independent host computation and `skl-tool predict`.
//! What each run shows and how long it takes: docs/test-contract.md, "Real kernels".

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use qemu_tests::predict::{self, dlme_from_elf32, extend, pcr17_after_skl, zero};
use qemu_tests::timeline::Source;
use qemu_tests::{artifact, read_pcrs_tpm2_tools, Launch, LaunchResult, TempDir, TpmFamily, TpmInterface};

const BANKS: [&str; 2] = ["sha1", "sha256"];
/// Xen: COM1 console, every message (the test reads them), 512 MiB dom0.
const XEN_ARGS: &str = "console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all dom0_mem=512M,max:512M";
/// Xen skips its real-mode trampoline's BIOS calls, so it takes the memory
/// map from the MBI (where SKL reserved the SLB and the log) instead of the
/// BIOS's E820, which knows nothing of the launch.
const NO_REAL_MODE: &str = "no-real-mode";
/// dom0: Xen's console (hvc0, which Xen copies to COM1), quiet boot.
const DOM0_ARGS: &str = "console=hvc0 quiet";
const MEMORY_MIB: u32 = 2048;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn rk(name: &str) -> PathBuf {
    artifact(&format!("realkernels/{name}"))
}

/// What dom0's `/init` printed (`RKTEST …` lines, `qemu-tests/realkernels/init.sh`).
#[derive(Debug, Default)]
struct Dom0 {
    init_reached: bool,
    hypervisor: Option<String>,
    tpm: Option<String>,
    /// (bank, pcr) -> value; sysfs prints upper-case hex.
    pcrs: BTreeMap<(String, u32), Vec<u8>>,
    /// dom0's /proc/uptime when /init started, seconds.
    uptime: Option<f64>,
    done: bool,
}

impl Dom0 {
    fn parse(serial: &str) -> Dom0 {
        let mut d = Dom0::default();
        for line in serial.lines() {
            let Some(rest) = line.trim_end().split("RKTEST ").nth(1) else { continue };
            let w: Vec<&str> = rest.split_whitespace().collect();
            match w.as_slice() {
                ["init", "reached"] => d.init_reached = true,
                ["hypervisor", h] => d.hypervisor = Some(h.to_string()),
                ["tpm", t] => d.tpm = Some(t.to_string()),
                ["uptime", u] => d.uptime = u.parse().ok(),
                ["pcr", bank, pcr, v] => {
                    d.pcrs.insert((bank.to_string(), pcr.parse().unwrap()), qemu_tests::unhex(&v.to_lowercase()));
                }
                ["done"] => d.done = true,
                _ => {}
            }
        }
        d
    }
}

/// A control run: Xen straight from QEMU's Multiboot loader, no SKL.
struct Direct {
    status: Option<i32>,
    wall: Duration,
    serial: String,
    dom0: Dom0,
    host_pcrs: BTreeMap<(String, u32), Vec<u8>>,
}

impl Direct {
    fn summary(&self) -> String {
        format!("status {:?}, wall {:?}\n--- serial (COM1) ---\n{}", self.status, self.wall, self.serial)
    }
}

/// Boots Xen with QEMU's `-kernel` (Xen's ELF32 carries a Multiboot1
/// header) and dom0 + initrd as Multiboot modules, swtpm behind the DRTM
/// proxy (here only a forwarder that keeps swtpm alive for the read-back).
fn direct_boot(iommu: bool, xen_args: &str) -> Direct {
    let dir = TempDir::new();
    let d = &dir.path;
    let l = Launch::new().tpm(TpmFamily::Tpm20, TpmInterface::Tis, Some(BANKS.to_vec()));
    let mut tpm = qemu_tests::HarnessTpm::start(&l, d);
    let mem = format!("{MEMORY_MIB}M");
    let initrd = format!("{} {DOM0_ARGS},{}", rk("vmlinuz").display(), rk("initrd.gz").display());
    // The same QEMU as the SKL runs (our build), without SKL in the boot.
    let mut q = Command::new(qemu_tests::qemu_binary());
    q.args(["-machine", "q35,memory-backend=ram", "-cpu", "qemu64,+pdpe1gb", "-m", &mem, "-smp", "1"])
        .arg("-object")
        .arg(format!("memory-backend-file,id=ram,size={mem},mem-path={},share=on", d.join("guest.ram").display()))
        .args(["-display", "none", "-no-reboot", "-nodefaults"])
        .arg("-kernel")
        .arg(rk("xen.elf"))
        .args(["-append", xen_args, "-initrd", &initrd])
        .args(if iommu { &["-device", "amd-iommu"][..] } else { &[][..] })
        .arg("-chardev")
        .arg(format!("socket,id=chrtpm,path={}", d.join("proxy.ctrl").display()))
        .args(["-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0"])
        .arg("-serial")
        .arg(format!("file:{}", d.join("serial.log").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = q.spawn().expect("build/qemu/bin/qemu-system-x86_64 runs (make setup builds it)");
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = started.elapsed();
    tpm.finish_proxy();
    let serial = String::from_utf8_lossy(&fs::read(d.join("serial.log")).expect("QEMU wrote serial.log")).into_owned();
    let host_pcrs = read_pcrs_tpm2_tools(d);
    drop(tpm); // stops swtpm
    Direct { status, wall, dom0: Dom0::parse(&serial), serial, host_pcrs }
}

/// dom0 ran /init under Xen, read every bank's PCR 17/18 and powered off.
fn assert_dom0_reported(dom0: &Dom0, what: &str, log: &str) {
    assert!(dom0.init_reached, "{what}: dom0 did not reach /init\n{log}");
    assert_eq!(dom0.hypervisor.as_deref(), Some("xen"), "{what}: dom0 runs on Xen\n{log}");
    assert_eq!(dom0.tpm.as_deref(), Some("2"), "{what}: dom0's tpm_tis found the TPM 2.0\n{log}");
    assert!(dom0.done, "{what}: /init did not finish\n{log}");
    for alg in BANKS {
        for pcr in [17, 18] {
            assert!(dom0.pcrs.contains_key(&(alg.to_string(), pcr)), "{what}: dom0 printed no {alg} PCR {pcr}\n{log}");
        }
    }
}

/// Control without SKL and without an IOMMU: Xen boots dom0 to /init, dom0
/// reads PCR 17/18 at their power-on value (all ones: no DRTM happened),
/// equal to swtpm's read-back, and the machine powers off through Xen.
#[test]
fn control_xen_dom0_without_skl() {
    let r = direct_boot(false, XEN_ARGS);
    eprintln!(
        "control run (QEMU -kernel xen.elf, no IOMMU): {:?} wall, dom0 /init at uptime {:?} s",
        r.wall, r.dom0.uptime
    );
    assert!(r.serial.contains("Xen version 4.17"), "{}", r.summary());
    assert_dom0_reported(&r.dom0, "control", &r.summary());
    for alg in BANKS {
        for pcr in [17, 18] {
            let key = (alg.to_string(), pcr);
            let ones = vec![0xFF; zero(alg).len()];
            assert_eq!(hex(&r.dom0.pcrs[&key]), hex(&ones), "{alg} PCR {pcr}: no DRTM, power-on value");
            assert_eq!(hex(&r.host_pcrs[&key]), hex(&ones), "{alg} PCR {pcr}: swtpm read-back");
        }
    }
    assert!(r.serial.contains("Entering ACPI S5 state"), "dom0's poweroff -f shuts Xen down\n{}", r.summary());
    assert_eq!(r.status, Some(0));
}

/// Control with QEMU 7.2's `-device amd-iommu` and Xen's AMD-Vi driver (no
/// `iommu=` option: Xen's default enables it when the IVRS is there), no SKL.
/// What it shows on this Xen/Linux pair: Xen finds and enables the IOMMU,
/// with interrupt remapping, and dom0 still reaches /init (the minimal
/// initramfs loads no DMA-capable driver). Recorded so that a change in
/// QEMU or Xen that breaks it is seen here and not mistaken for SKL's.
#[test]
fn control_xen_amd_vi_with_qemu_amd_iommu() {
    let r = direct_boot(true, XEN_ARGS);
    eprintln!("control run (QEMU -kernel xen.elf, amd-iommu): {:?} wall", r.wall);
    for l in
        r.serial.lines().filter(|l| l.contains("AMD-Vi") || l.contains("I/O virtualisation") || l.contains("remapping"))
    {
        eprintln!("  {l}");
    }
    assert!(r.serial.contains("AMD-Vi: IOMMU 0 Enabled"), "Xen's AMD-Vi driver took QEMU's IOMMU\n{}", r.summary());
    assert!(r.serial.contains("I/O virtualisation enabled"), "{}", r.summary());
    assert!(r.serial.contains("PCI add device 0000:00:01.0"), "the IOMMU's own PCI function is seen by dom0");
    assert_dom0_reported(&r.dom0, "amd-iommu control", &r.summary());
    assert_eq!(r.status, Some(0));
}

/// The SLRT as the launcher wrote it: SKL sets MEASURED (bit 0) in each
/// policy entry it measures in Multiboot2 mode (SLRT-B layout: policy at
/// 112, entries of 56 bytes from 128).
fn slrt_as_written(r: &LaunchResult, entries: usize) -> Vec<u8> {
    let mut slrt = r.slrt.clone();
    let size = u32::from_le_bytes(slrt[8..12].try_into().unwrap()) as usize;
    for i in 0..entries {
        let flags = 128 + 56 * i + 4;
        assert_eq!(slrt[flags] & 1, 1, "policy entry {i} flagged MEASURED");
        slrt[flags] &= !1;
    }
    slrt.truncate(size);
    slrt
}

/// SKL (Multiboot2 mode) launches Debian's Xen with dom0 and its initrd as
/// modules, placed by the GRUB-faithful launcher in a 2 GiB guest with QEMU's
/// amd-iommu (SKL refuses to launch without an IOMMU; in Multiboot2 mode it
/// turns the IOMMUs off at hand-off and Xen's AMD-Vi driver takes them over).
/// dom0 reaches /init and reads PCR 17/18 in both banks: they equal swtpm's
/// read-back, the host's computation from the files (sha crates, not SKL's
/// code), the DRTM log's replay, and `skl-tool predict`.
fn skl_xen_dom0(xen_args: &str) -> LaunchResult {
    let (xen, vmlinuz, initrd) = (rk("xen.elf"), rk("vmlinuz"), rk("initrd.gz"));
    let r = Launch::new()
        .slb_low()
        .kernel_file(&xen)
        .module_file(&vmlinuz, DOM0_ARGS)
        .module_file(&initrd, "initrd")
        .cmdline(xen_args)
        .memory_mib(MEMORY_MIB)
        .tpm(TpmFamily::Tpm20, TpmInterface::Tis, Some(BANKS.to_vec()))
        .timeout(150)
        .run();
    let dom0 = Dom0::parse(&r.serial);
    let entry = r.timeline.first(Source::Debugcon, "SKINIT: entering");
    let xen_banner = r.timeline.first(Source::Serial, "Xen version");
    let init = r.timeline.first(Source::Serial, "RKTEST init reached");
    eprintln!(
        "SKL launch of Xen + dom0 ({xen_args}): {:?} wall; SKL entry at {entry:?}, Xen banner at {xen_banner:?}, \
         dom0 /init at {init:?} (host clock since QEMU start, 50 ms polls); dom0 uptime at /init {:?} s",
        r.wall, dom0.uptime
    );
    if let (Some(e), Some(i)) = (entry, init) {
        eprintln!("SKL entry -> dom0 /init: {:.2} s", (i - e).as_secs_f64());
    }
    assert!(r.failure.is_none(), "SKL refused:\n{}", r.summary());
    assert!(r.handed_off_any_kernel(), "no hand-off:\n{}", r.summary());
    assert!(r.serial.contains("Xen version 4.17"), "Xen did not start:\n{}", r.summary());
    assert!(
        !r.serial.contains("Timed out waiting for alternatives self-NMI"),
        "Xen was entered with GIF = 0 (SKL's Multiboot2 hand-off must STGI)\n{}",
        r.summary()
    );
    assert_dom0_reported(&dom0, "SKL launch", &r.summary());

    // Independent host computation: PCR 17 = SKINIT(skl.bin), entry offset,
    // Xen's image as loaded, then each module in policy order; PCR 18 = the
    // MBI as SKL handed it over (its memory map with the SLB and the log
    // reserved), then the SLRT as written. MBI, SLRT and log are read when
    // Xen first writes to COM1 (`LaunchResult`): Xen reuses that RAM later.
    let skl = fs::read(artifact("skl.bin")).unwrap();
    let xen_elf = fs::read(&xen).unwrap();
    let mods = [fs::read(&vmlinuz).unwrap(), fs::read(&initrd).unwrap()];
    let dlme = dlme_from_elf32(&xen_elf);
    assert!(!dlme.has_mle_header, "Debian's Xen has no MLE header: SKL's Multiboot2 mode");
    let mbi = r.mbi.clone().expect("the MBI the launcher built, read back");
    let slrt = slrt_as_written(&r, 2 + mods.len());
    let plan = r.plan.clone().expect("placement record");
    assert_eq!(plan.modules.len(), 2);
    for (i, m) in mods.iter().enumerate() {
        assert_eq!((plan.modules[i].1 - plan.modules[i].0) as usize, m.len(), "module {i} size in the MBI");
    }
    let (replayed, events) = predict::replay_tcg2(&r.log);
    let names: Vec<&str> = events.iter().map(|e| e.2.as_str()).collect();
    assert_eq!(
        names,
        [
            "SKINIT",
            "DLME entry offset",
            "DLME",
            "Measured MB2 information",
            "Measured SLR Table",
            "Measured MB2 module",
            "Measured MB2 module"
        ],
        "DRTM log events"
    );
    let sk_banks: Vec<skl_tool::Bank> = BANKS.iter().map(|b| skl_tool::Bank::parse(b).unwrap()).collect();
    let sk_dlme = skl_tool::kernel::dlme_from_elf(&xen_elf).unwrap();
    let sk = skl_tool::predict::predict_full(&skl, &sk_dlme, &mods, Some(&mbi), Some(&slrt), &sk_banks)
        .expect("skl-tool predicts both PCRs");
    for alg in BANKS {
        for (pcr, want) in multiboot2_pcrs(alg, &skl, &dlme, &mods, &mbi, &slrt) {
            eprintln!("{alg} PCR {pcr}: {}", hex(&want));
            assert_readings(&r, &dom0, &replayed, alg, pcr, &want);
            let tool = sk
                .pcrs
                .iter()
                .find(|p| p.bank.name() == alg && p.pcr == pcr)
                .and_then(|p| p.value.clone())
                .unwrap_or_else(|| panic!("skl-tool predict gave no {alg} PCR {pcr}"));
            assert_eq!(hex(&tool), hex(&want), "{alg} PCR {pcr}: skl-tool predict vs host computation");
        }
    }
    assert!(r.serial.contains("Entering ACPI S5 state"), "dom0's poweroff -f shuts Xen down\n{}", r.summary());
    r
}

/// Host computation of a Multiboot2-mode launch: PCR 17 = SKINIT of the
/// measured bytes, entry offset, Xen as loaded, each module; PCR 18 = the
/// MBI as handed over, then the SLRT as written.
fn multiboot2_pcrs(
    alg: &str,
    skl: &[u8],
    dlme: &predict::Dlme,
    mods: &[Vec<u8>],
    mbi: &[u8],
    slrt: &[u8],
) -> [(u32, Vec<u8>); 2] {
    let p17 = mods.iter().fold(pcr17_after_skl(alg, skl, dlme), |p, m| extend(alg, &p, m));
    [(17, p17), (18, extend(alg, &extend(alg, &zero(alg), mbi), slrt))]
}

/// dom0's sysfs reading, swtpm's read-back and the DRTM log's replay of
/// `alg` PCR `pcr` all equal the host computation `want`.
fn assert_readings(r: &LaunchResult, dom0: &Dom0, replayed: &predict::Pcrs, alg: &str, pcr: u32, want: &[u8]) {
    let key = (alg.to_string(), pcr);
    assert_eq!(hex(&dom0.pcrs[&key]), hex(want), "{alg} PCR {pcr}: dom0's sysfs reading vs host computation");
    assert_eq!(hex(&r.host_pcrs[&key]), hex(want), "{alg} PCR {pcr}: swtpm read-back vs host computation");
    assert_eq!(hex(&replayed[&key]), hex(want), "{alg} PCR {pcr}: DRTM log replay vs host computation");
}

/// The Xen memory-map line `[start, end] (type)` that contains `addr`.
fn xen_map_entry(serial: &str, addr: u64) -> Option<String> {
    let map = serial.split("RAM map:").nth(1)?;
    map.lines().skip(1).take_while(|l| l.contains(" [")).find_map(|l| {
        let inner = l.split('[').nth(1)?.split(']').next()?;
        let (a, b) = inner.split_once(", ")?;
        let (a, b) = (u64::from_str_radix(a.trim(), 16).ok()?, u64::from_str_radix(b.trim(), 16).ok()?);
        (a <= addr && addr <= b).then(|| l.trim().to_string())
    })
}

/// SKL -> Xen -> dom0 /init with `no-real-mode`: Xen builds its memory map
/// from the MBI SKL handed over, so the SLB and the DRTM log are reserved
/// for Xen and dom0, and the SLB still holds SKL after dom0 powered off.
#[test]
fn skl_launches_xen_and_dom0_reads_the_drtm_pcrs() {
    let r = skl_xen_dom0(&format!("{XEN_ARGS} {NO_REAL_MODE}"));
    let plan = r.plan.clone().unwrap();
    assert!(r.serial.contains("Multiboot-e820 RAM map:"), "Xen used the MBI's map\n{}", r.summary());
    for (what, at) in [("SLB", plan.slb_base as u64), ("log", plan.log_addr as u64)] {
        let e = xen_map_entry(&r.serial, at).unwrap_or_else(|| panic!("{what} {at:#x} not in Xen's map"));
        assert!(e.ends_with("(reserved)"), "{what} {at:#x} reserved for Xen: {e}");
    }
    let skl = fs::read(artifact("skl.bin")).unwrap();
    assert_eq!(r.slb_after[..8], skl[..8], "SKL's header still in the SLB after the whole boot");
}

/// The same launch with Xen's defaults: on a BIOS machine Xen's real-mode
/// trampoline asks the BIOS for E820 and prefers that map to the MBI's, so
/// SKL's reservation of the SLB and the log is not seen: Xen treats both as
/// free RAM (observed: the SLB zeroed by the time dom0 powers off). The
/// measurements are unaffected (made before the hand-off); what is lost is
/// the SLB and the log as evidence after boot.
#[test]
fn skl_xen_default_takes_the_bios_e820() {
    let r = skl_xen_dom0(XEN_ARGS);
    let plan = r.plan.clone().unwrap();
    assert!(r.serial.contains("Xen-e820 RAM map:"), "Xen used the BIOS map\n{}", r.summary());
    for (what, at) in [("SLB", plan.slb_base as u64), ("log", plan.log_addr as u64)] {
        let e = xen_map_entry(&r.serial, at).unwrap_or_else(|| panic!("{what} {at:#x} not in Xen's map"));
        eprintln!("{what} {at:#x} in Xen's map: {e}");
        assert!(e.ends_with("(usable)"), "{what} {at:#x}: Xen's BIOS map does not know it: {e}");
    }
    let zero_slb = r.slb_after.iter().all(|&b| b == 0);
    eprintln!("SLB after the boot: {}", if zero_slb { "all zero (scrubbed by Xen)" } else { "not all zero" });
}

/// The SLRT of a GRUB tb-dev launch as the launcher wrote it: SKL sets
/// MEASURED (bit 0) in each policy entry it measured; cleared again here,
/// found by walking the table (tb-dev's layout: its 16-slot policy).
fn tbdev_slrt_as_written(r: &LaunchResult) -> Vec<u8> {
    let rd16 = |t: &[u8], o: usize| u16::from_le_bytes([t[o], t[o + 1]]) as usize;
    let rd32 = |t: &[u8], o: usize| u32::from_le_bytes(t[o..o + 4].try_into().unwrap()) as usize;
    let mut t = r.slrt.clone();
    t.truncate(rd32(&t, 8));
    let mut o = 16;
    while rd32(&t, o) != 3 {
        assert_ne!(rd32(&t, o), 0xFFFF, "SLRT without a DRTM policy");
        o += rd32(&t, o + 4);
    }
    for i in 0..rd16(&t, o + 14) {
        let e = o + 16 + 56 * i;
        if rd16(&t, e + 2) != 0xFFFF {
            assert_eq!(t[e + 4] & 1, 1, "policy slot {i} flagged MEASURED");
            t[e + 4] &= !1;
        }
    }
    t
}

/// The two-stage `skl-amdsl.bin` (docs/design.md, "The two-stage image"),
/// launched as GRUB tb-dev does, hands off to Debian's Xen in Multiboot2
/// mode and dom0 reaches /init: stage 1 checked stage 2 and ran it, and
/// dom0's PCR 17/18 equal swtpm's read-back, the host computation (PCR 17
/// from the measured stage 1 only) and the DRTM log's replay.
#[test]
fn two_stage_skl_amdsl_launches_xen_and_dom0() {
    let (xen, vmlinuz, initrd) = (rk("xen.elf"), rk("vmlinuz"), rk("initrd.gz"));
    let r = Launch::tb_dev()
        .kernel_file(&xen)
        .module_file(&vmlinuz, DOM0_ARGS)
        .module_file(&initrd, "initrd")
        .cmdline(&format!("{XEN_ARGS} {NO_REAL_MODE}"))
        .memory_mib(MEMORY_MIB)
        .tpm(TpmFamily::Tpm20, TpmInterface::Tis, Some(BANKS.to_vec()))
        .timeout(150)
        .run();
    let dom0 = Dom0::parse(&r.serial);
    eprintln!("skl-amdsl.bin launch of Xen + dom0: {:?} wall; dom0 uptime at /init {:?} s", r.wall, dom0.uptime);
    assert!(r.failure.is_none(), "SKL refused:\n{}", r.summary());
    assert!(r.handed_off_any_kernel(), "no hand-off:\n{}", r.summary());
    assert!(r.serial.contains("Xen version 4.17"), "Xen did not start:\n{}", r.summary());
    assert_dom0_reported(&dom0, "skl-amdsl.bin launch", &r.summary());

    let skl = fs::read(artifact("skl-amdsl.bin")).unwrap();
    let measured = u16::from_le_bytes([skl[2], skl[3]]) as usize;
    assert!(measured < skl.len(), "skl-amdsl.bin has a stage 2");
    let mods = [fs::read(&vmlinuz).unwrap(), fs::read(&initrd).unwrap()];
    let dlme = dlme_from_elf32(&fs::read(&xen).unwrap());
    let mbi = r.mbi.clone().expect("the MBI SKL handed over, read back");
    let slrt = tbdev_slrt_as_written(&r);
    let (replayed, events) = predict::replay_tcg2(&r.log);
    assert_eq!(events.len(), 7, "SKINIT, entry, DLME, MBI, SLRT, two modules: {events:?}");
    for alg in BANKS {
        for (pcr, want) in multiboot2_pcrs(alg, &skl, &dlme, &mods, &mbi, &slrt) {
            assert_readings(&r, &dom0, &replayed, alg, pcr, &want);
        }
    }
}
