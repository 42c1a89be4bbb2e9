//! Run the shipped `build/skl.bin` through an emulated GRUB `slaunch` +
//! SKINIT in QEMU with swtpm, and collect everything a test asserts on.
//! The parts and their contract: `docs/test-contract.md`.
//!
//! Expected values are computed here from the input files with the sha
//! crates ([`predict`]), never with the payload's code.

pub mod predict;
pub mod synth;
pub mod timeline;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Where `make` put the artifacts (`SKL_BUILD_DIR`, else `<workspace>/build`).
pub fn build_dir() -> PathBuf {
    std::env::var_os("SKL_BUILD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../build"))
}

/// An artifact the tests need; panics (fails the test) if it is missing.
pub fn artifact(rel: &str) -> PathBuf {
    let p = build_dir().join(rel);
    assert!(p.exists(), "{} is missing: run `make test` (it builds the payload and the guests first)", p.display());
    p
}

/// Our QEMU with SKINIT (`qemu-tests/qemu/`, built by `make setup` into
/// `build/qemu/`); `SKL_QEMU` overrides it.
pub fn qemu_binary() -> PathBuf {
    std::env::var_os("SKL_QEMU").map(PathBuf::from).unwrap_or_else(|| build_dir().join("qemu/bin/qemu-system-x86_64"))
}

/// The CPU model: qemu64 (AMD family 0Fh, SVM) with the SKINIT CPUID bit
/// our QEMU adds; `SKL_QEMU_CPU` overrides it (e.g. `EPYC,+skinit`, 17h).
pub const QEMU_CPU: &str = "qemu64,+pdpe1gb,+skinit";

fn qemu_cpu() -> String {
    std::env::var("SKL_QEMU_CPU").unwrap_or_else(|_| QEMU_CPU.into())
}

/// One AMD node (our QEMU's northbridge model, family 10h-16h DEV with
/// SL_DEV_EN, set by SKINIT; it blocks device DMA to the SLB through
/// amd-iommu's translation) at 00:18.0 and 00:18.3, for every AMD launch.
pub const QEMU_AMD_NODE: [&str; 4] =
    ["-device", "amd-nb-ht,addr=18.0,multifunction=on", "-device", "amd-nb-misc,addr=18.3"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TpmFamily {
    Tpm12,
    Tpm20,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TpmInterface {
    Tis,
    Crb,
}

/// Which firmware's Multiboot2 information the launcher writes (GRUB's tag
/// set differs: `docs/test-contract.md`, "MBI").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firmware {
    Bios,
    /// UEFI with boot services exited (EFI memory map tag).
    Uefi,
    /// UEFI with boot services kept (Xen's EFI_BS header tag: EFI_BS and
    /// image-handle tags instead of the memory maps).
    UefiBootServices,
}

/// Where a module's bytes come from.
#[derive(Clone, Debug)]
pub enum ModuleSource {
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// A launch to run.
#[derive(Clone, Debug)]
pub struct Launch {
    pub slb: PathBuf,
    /// The Multiboot2 ELF32 kernel (`None`: replay without a kernel file).
    pub kernel: Option<PathBuf>,
    pub modules: Vec<(ModuleSource, String)>,
    /// SLB base; `None` = GRUB's own choice (lowest free 64 KiB-aligned chunk).
    pub slb_base: Option<u32>,
    /// Kernel command line (the launcher's default: "skl-test-kernel").
    pub cmdline: Option<String>,
    /// Guest RAM in MiB (all of it below 4 GiB: at most 2815).
    pub memory_mib: u32,
    pub firmware: Firmware,
    /// Replay: a captured SLRT copied into the SLB instead of the launcher's own.
    pub replay_slrt: Option<PathBuf>,
    /// Files the host writes at exact guest-physical addresses before boot.
    pub placements: Vec<(PathBuf, u64)>,
    pub scenario: String,
    pub extra_config: Vec<(String, String)>,
    pub family: TpmFamily,
    pub interface: TpmInterface,
    /// PCR banks to allocate (TPM 2.0); `None` = swtpm's default (all four).
    pub banks: Option<Vec<&'static str>>,
    pub timeout: Duration,
    /// Run with `-icount shift=0,sleep=off` (the TSC then counts instructions).
    pub icount: bool,
    /// An AMD IOMMU (`-device amd-iommu`, QEMU 7.2: MMIO at 0xFED80000).
    pub iommu: bool,
    /// QEMU's `edu` device, a DMA engine the test kernel can aim.
    pub edu: bool,
    /// Intel TXT: the launcher emulates the post-SENTER state for an MLE
    /// (TXT registers in an ivshmem window at 0xFED20000, heap, MLE page
    /// table, SINIT's PCR 17 and log) instead of SKINIT.
    pub txt: bool,
}

impl Launch {
    /// The shipped skl.bin, the test kernel with its MLE header, TPM 2.0 over TIS.
    pub fn new() -> Self {
        Launch {
            slb: artifact("skl.bin"),
            kernel: Some(artifact("qemu-tests/kernel.elf")),
            modules: vec![],
            slb_base: Some(0x0200_0000),
            cmdline: None,
            memory_mib: 1024,
            firmware: Firmware::Bios,
            replay_slrt: None,
            placements: vec![],
            scenario: "good".into(),
            extra_config: vec![],
            family: TpmFamily::Tpm20,
            interface: TpmInterface::Tis,
            banks: Some(vec!["sha1", "sha256"]),
            timeout: Duration::from_secs(60),
            icount: false,
            iommu: true,
            edu: false,
            txt: false,
        }
    }
    /// The shipped skl-amdsl.bin launched as TrenchBoot GRUB `tb-dev` does
    /// (`grub=tb-dev`: AMD SL header checks, whole-file copy into a SLB
    /// allocated high, SLRT at SLB + the u16 at 0x44 with tb-dev's tables;
    /// `docs/test-contract.md`, "Current generation (GRUB tb-dev)").
    pub fn tb_dev() -> Self {
        Launch::new().slb(artifact("skl-amdsl.bin")).config("grub", "tb-dev").config("slb_base", "high")
    }
    /// The shipped skl-txt.bin as an Intel TXT MLE (no AMD IOMMU: on Intel
    /// the PMRs SINIT programs protect memory, which QEMU does not model).
    pub fn txt() -> Self {
        let mut l = Launch::new().slb(artifact("skl-txt.bin")).without_iommu().config("txt", "1");
        l.txt = true;
        l
    }
    pub fn without_iommu(mut self) -> Self {
        self.iommu = false;
        self
    }
    /// QEMU's edu device. Its DMA reaches only the low 256 MiB and the test
    /// kernel aims it at 0x0090_0000, so the log is pinned there
    /// (`log_addr`) instead of GRUB's highest fit below 4 GiB.
    pub fn with_edu(mut self) -> Self {
        self.edu = true;
        self.config("log_addr", "0x900000")
    }
    pub fn icount(mut self) -> Self {
        self.icount = true;
        self
    }
    pub fn slb(mut self, p: PathBuf) -> Self {
        self.slb = p;
        self
    }
    pub fn kernel(mut self, p: PathBuf) -> Self {
        self.kernel = Some(p);
        self
    }
    /// A Multiboot2 ELF32 kernel file of any size (e.g. Debian's decompressed
    /// `xen-4.17-amd64`), placed in RAM by the host and loaded by the
    /// launcher as GRUB's multiboot2 loader does (relocatable tag honoured).
    pub fn kernel_file(self, p: impl Into<PathBuf>) -> Self {
        self.kernel(p.into())
    }
    pub fn module(mut self, bytes: Vec<u8>, cmdline: &str) -> Self {
        self.modules.push((ModuleSource::Bytes(bytes), cmdline.into()));
        self
    }
    /// A module file of any size (dom0 kernel, initrd), placed by the host.
    /// An empty file becomes GRUB's empty module (start 0, end 0).
    pub fn module_file(mut self, p: impl Into<PathBuf>, cmdline: &str) -> Self {
        self.modules.push((ModuleSource::File(p.into()), cmdline.into()));
        self
    }
    /// The kernel command line in the MBI (GRUB: the `multiboot2` arguments after the file name).
    pub fn cmdline(mut self, s: &str) -> Self {
        self.cmdline = Some(s.into());
        self
    }
    pub fn memory_mib(mut self, n: u32) -> Self {
        self.memory_mib = n;
        self
    }
    pub fn timeout(mut self, secs: u64) -> Self {
        self.timeout = Duration::from_secs(secs);
        self
    }
    pub fn firmware(mut self, f: Firmware) -> Self {
        self.firmware = f;
        self
    }
    pub fn base(mut self, b: u32) -> Self {
        self.slb_base = Some(b);
        self
    }
    /// Let the launcher place the SLB as GRUB does (lowest free 64 KiB-aligned chunk).
    pub fn slb_low(mut self) -> Self {
        self.slb_base = None;
        self
    }
    /// Write `file` at guest-physical `addr` before boot (byte for byte).
    pub fn place(mut self, file: impl Into<PathBuf>, addr: u64) -> Self {
        self.placements.push((file.into(), addr));
        self
    }
    /// Replay mode: no MBI, log or modules built by the launcher; the given
    /// SLRT is copied into the SLB after its 4 KiB are zeroed.
    pub fn replay(mut self, slrt: impl Into<PathBuf>) -> Self {
        self.replay_slrt = Some(slrt.into());
        self
    }
    pub fn scenario(mut self, s: &str) -> Self {
        self.scenario = s.into();
        self
    }
    pub fn config(mut self, k: &str, v: &str) -> Self {
        self.extra_config.push((k.into(), v.into()));
        self
    }
    pub fn tpm(mut self, family: TpmFamily, interface: TpmInterface, banks: Option<Vec<&'static str>>) -> Self {
        self.family = family;
        self.interface = interface;
        self.banks = banks;
        self
    }

    pub fn run(&self) -> LaunchResult {
        let dir = TempDir::new();
        let d = dir.path.clone();
        assert!(self.memory_mib >= 128 && self.memory_mib < 2816, "memory_mib: 128..2815 (all RAM below 4 GiB)");
        let mut cfg = format!("scenario={}\n", self.scenario);
        cfg.push_str(&match self.slb_base {
            Some(b) => format!("slb_base={b:#x}\n"),
            None => "slb_base=low\n".into(),
        });
        if self.family == TpmFamily::Tpm12 {
            cfg.push_str("log_format=1\n");
        }
        if let Some(c) = &self.cmdline {
            cfg.push_str(&format!("cmdline={c}\n"));
        }
        cfg.push_str(match self.firmware {
            Firmware::Bios => "firmware=bios\n",
            Firmware::Uefi => "firmware=uefi\n",
            Firmware::UefiBootServices => "firmware=uefi\nefi_bs=1\n",
        });
        // Large files go into RAM through QEMU's loader device at staging
        // addresses (fw_cfg port I/O is a byte per exit under TCG); the
        // launcher then loads or copies them where GRUB would.
        let mut stage = Staging::new(self.memory_mib);
        let mut loaders: Vec<(PathBuf, u64)> = self.placements.clone();
        for (f, at) in &self.placements {
            let len = fs::metadata(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())).len();
            cfg.push_str(&format!("reserve={at:#x},{len}\n"));
        }
        if let Some(k) = &self.kernel {
            let (at, size) = stage.add(k, &mut loaders);
            cfg.push_str(&format!("kernel_at={at:#x}\nkernel_size={size}\n"));
        }
        for (i, (m, c)) in self.modules.iter().enumerate() {
            let path = match m {
                ModuleSource::Bytes(b) => {
                    let p = d.join(format!("module{i}.bin"));
                    fs::write(&p, b).unwrap();
                    p
                }
                ModuleSource::File(p) => p.clone(),
            };
            let (at, size) = stage.add(&path, &mut loaders);
            cfg.push_str(&format!("module{i}_cmdline={c}\nmodule{i}_at={at:#x}\nmodule{i}_size={size}\n"));
        }
        if let Some(slrt) = &self.replay_slrt {
            let (at, size) = stage.add(slrt, &mut loaders);
            cfg.push_str(&format!("replay=1\nslrt_at={at:#x}\nslrt_size={size}\n"));
        }
        for (k, v) in &self.extra_config {
            cfg.push_str(&format!("{k}={v}\n"));
        }
        fs::write(d.join("config.txt"), cfg).unwrap();
        check_placements(&loaders, self.memory_mib);

        // swtpm: manufacture with the requested banks, then serve the control channel.
        let tpm2 = self.family == TpmFamily::Tpm20;
        if let (true, Some(banks)) = (tpm2, &self.banks) {
            run_ok(Command::new("swtpm_setup").args(["--tpm2", "--tpmstate"]).arg(&d).args([
                "--pcr-banks",
                &banks.join(","),
                "--overwrite",
            ]));
        }
        let mut swtpm = Command::new("swtpm");
        swtpm.arg("socket");
        if tpm2 {
            swtpm.arg("--tpm2");
        }
        swtpm
            .arg("--tpmstate")
            .arg(format!("dir={}", d.display()))
            .arg("--ctrl")
            .arg(format!("type=unixio,path={}", d.join("swtpm.ctrl").display()))
            .args(["--flags", "startup-clear"])
            .arg("--pid")
            .arg(format!("file={}", d.join("swtpm.pid").display()))
            .arg("--log")
            .arg(format!("file={},level=1", d.join("swtpm.log").display()))
            .arg("-d");
        run_ok(&mut swtpm);
        let _swtpm_guard = PidGuard(d.join("swtpm.pid"));

        let proxy = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("harness/drtm_proxy.py"))
            .arg("--swtpm-ctrl")
            .arg(d.join("swtpm.ctrl"))
            .arg("--listen")
            .arg(d.join("proxy.ctrl"))
            .arg("--ram")
            .arg(d.join("guest.ram"))
            .arg("--banks")
            .arg(self.banks.as_ref().map_or("sha1,sha256,sha384,sha512".to_string(), |b| b.join(",")))
            .arg("--log")
            .arg(d.join("proxy.log"))
            .arg("--ready")
            .arg(d.join("proxy.ready"))
            .spawn()
            .expect("python3 runs the DRTM proxy");
        let mut proxy = KillOnDrop(proxy);
        wait_for(&d.join("proxy.ready"), Duration::from_secs(10));

        let mut q = Command::new(qemu_binary());
        let mem = format!("{}M", self.memory_mib);
        q.args(["-machine", "q35,memory-backend=ram", "-cpu", &qemu_cpu(), "-m", &mem, "-smp", "1"])
            .arg("-object")
            .arg(format!("memory-backend-file,id=ram,size={mem},mem-path={},share=on", d.join("guest.ram").display()))
            .args(["-display", "none", "-no-reboot", "-nodefaults"])
            .arg("-kernel")
            .arg(artifact("qemu-tests/launcher.elf"))
            .arg("-fw_cfg")
            .arg(format!("name=opt/skl/slb,file={}", self.slb.display()))
            .arg("-fw_cfg")
            .arg(format!("name=opt/skl/config,file={}", d.join("config.txt").display()));
        for (f, at) in &loaders {
            q.arg("-device").arg(format!("loader,file={},addr={at:#x},force-raw=on", f.display()));
        }
        let dev = match self.interface {
            TpmInterface::Tis => "tpm-tis",
            TpmInterface::Crb => "tpm-crb",
        };
        q.arg("-chardev")
            .arg(format!("socket,id=chrtpm,path={}", d.join("proxy.ctrl").display()))
            .args(["-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device"])
            .arg(format!("{dev},tpmdev=tpm0"))
            .args(if self.iommu { &["-device", "amd-iommu"][..] } else { &[][..] })
            .args(if self.edu { &["-device", "edu"][..] } else { &[][..] })
            .args(if self.txt { &[][..] } else { &QEMU_AMD_NODE[..] })
            .args(if self.txt {
                // 128 KiB: the TXT private (0xFED20000) and public (0xFED30000) spaces.
                fs::write(d.join("txt.regs"), vec![0u8; 0x20000]).unwrap();
                vec![
                    "-object".to_string(),
                    format!(
                        "memory-backend-file,id=txtregs,size=128K,share=on,mem-path={}",
                        d.join("txt.regs").display()
                    ),
                    "-device".to_string(),
                    "ivshmem-plain,memdev=txtregs".to_string(),
                ]
            } else {
                vec![]
            })
            .arg("-debugcon")
            .arg(format!("file:{}", d.join("debugcon.log").display()))
            .arg("-serial")
            .arg(format!("file:{}", d.join("serial.log").display()))
            .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=4"])
            // Every TPM command QEMU passes to swtpm, and each locality change.
            // `SKL_QEMU_LOG`: more `-d` items (the profile of `make bench` adds
            // `exec,nochain,in_asm`), the log then copied to `SKL_QEMU_LOG_COPY`.
            .arg("-d")
            .arg(qemu_log_items())
            .arg("-D")
            .arg(d.join("qemu-trace.log"))
            .args(if self.icount { &["-icount", "shift=0,sleep=off"][..] } else { &[][..] })
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = q.spawn().expect("build/qemu/bin/qemu-system-x86_64 runs (make setup builds it)");
        let mut follow = timeline::Follower::new(&d.join("debugcon.log"), &d.join("serial.log"));
        // The launcher's record and the MBI as the kernel got them, read as
        // soon as the kernel writes to COM1 (polled): a real kernel (Xen)
        // reuses that RAM later, and in Multiboot2 mode SKL has edited the
        // MBI by then. Checked against the log's digest by the tests.
        let slb_bytes = fs::read(&self.slb).unwrap();
        let slrt_offset = u16::from_le_bytes([slb_bytes[6], slb_bytes[7]]) as u64;
        let mut at_kernel_start: Option<AtKernelStart> = None;
        let status = loop {
            // Every 10 ms until the kernel's first line, then every 50 ms.
            follow.poll(started.elapsed(), at_kernel_start.is_none());
            if at_kernel_start.is_none() && follow.timeline.kernel_wrote() {
                at_kernel_start = AtKernelStart::read(&d.join("guest.ram"), slrt_offset);
            }
            if let Some(s) = child.try_wait().unwrap() {
                break s.code();
            }
            if started.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let wall = started.elapsed();
        follow.poll(wall, true);
        let mut qemu_err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut qemu_err);
        }
        // The proxy ends when QEMU closes the control channel.
        let t = Instant::now();
        while proxy.0.try_wait().unwrap().is_none() && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = proxy.0.kill();

        let debugcon = String::from_utf8_lossy(&read_run_file(&d.join("debugcon.log"), &qemu_err)).into_owned();
        let report = Report::parse(&debugcon);
        let ram_path = d.join("guest.ram");
        let ram = |at: u64, len: usize| read_at(&ram_path, at, len);
        let serial = String::from_utf8_lossy(&read_run_file(&d.join("serial.log"), &qemu_err)).into_owned();
        let plan = match &at_kernel_start {
            Some(k) => Some(k.plan.clone()),
            None => Plan::parse(&ram(PLAN_AT, PLAN_LEN)),
        };
        let mbi_as_built = match &at_kernel_start {
            Some(k) => k.mbi_as_built.clone(),
            None => plan.as_ref().and_then(|p| mbi_as_built(&ram_path, p)),
        };
        let slb_base = plan.as_ref().map(|p| p.slb_base).or(self.slb_base).unwrap_or(0);
        let slb = fs::read(&self.slb).unwrap();
        let bl = u16::from_le_bytes([slb[6], slb[7]]) as u64;
        let slrt = at_kernel_start.as_ref().map_or_else(|| ram(slb_base as u64 + bl, 4096), |k| k.slrt.clone());
        let failure = (slrt.get(..8) == Some(&b"SKLERROR"[..])).then(|| {
            (u32::from_le_bytes(slrt[8..12].try_into().unwrap()), u32::from_le_bytes(slrt[12..16].try_into().unwrap()))
        });
        let log = match &at_kernel_start {
            Some(k) => k.log.clone(),
            None => plan.as_ref().map_or_else(Vec::new, |p| ram(p.log_addr as u64, p.log_size as usize)),
        };
        let measured = u16::from_le_bytes([slb[2], slb[3]]) as usize;
        let slb_image_after = ram(slb_base as u64, measured);
        let slb_after = ram(slb_base as u64, 0x10000);
        let stamps = ram(0x50_0018, 16);
        let tsc = |o: usize| u64::from_le_bytes(stamps[o..o + 8].try_into().unwrap());
        let tsc_entry_to_kernel = (tsc(8) > tsc(0) && tsc(0) != 0).then(|| tsc(8) - tsc(0));
        // The MBI the kernel reported, else the one the launcher built, at
        // its size after the run (Multiboot2-mode SKL edits the memory map).
        let mbi = match report.mbi {
            Some((a, n)) => Some(ram(a as u64, n as usize)),
            None => match at_kernel_start {
                Some(k) => k.mbi,
                None => plan.as_ref().and_then(|p| mbi_of_plan(&ram_path, p)),
            },
        };
        let host_pcrs = if tpm2 { read_pcrs_tpm2_tools(&d) } else { read_pcrs_tpm12(&d) };
        let proxy_log = String::from_utf8_lossy(&read_run_file(&d.join("proxy.log"), &qemu_err)).into_owned();
        let txt_regs = if self.txt { read_run_file(&d.join("txt.regs"), &qemu_err) } else { vec![] };
        // The launcher's TXT heap (qemu-tests/guest/launcher/txt.h).
        let txt_heap = if self.txt { ram(0x60_0000, 0x1_0000) } else { vec![] };
        if let Some(to) = std::env::var_os("SKL_QEMU_LOG_COPY") {
            fs::copy(d.join("qemu-trace.log"), to).expect("SKL_QEMU_LOG_COPY is writable");
        }
        let trace = String::from_utf8_lossy(&read_run_file(&d.join("qemu-trace.log"), &qemu_err)).into_owned();
        let tpm_commands_at_locality_2 = count_commands_at_locality(&trace, 2);
        LaunchResult {
            status,
            wall,
            timeline: follow.timeline,
            serial,
            plan,
            mbi_as_built,
            debugcon,
            report,
            failure,
            host_pcrs,
            log,
            slrt,
            mbi,
            qemu_err,
            proxy_log,
            tpm_commands_at_locality_2,
            tsc_entry_to_kernel,
            slb_image_after,
            slb_after,
            txt_regs,
            txt_heap,
        }
    }
}

impl Default for Launch {
    fn default() -> Self {
        Self::new()
    }
}

/// Everything one launch produced.
#[derive(Debug)]
pub struct LaunchResult {
    /// QEMU exit status (`None`: killed after the timeout). 33 = the test
    /// kernel ran and passed its own checks; 0 = reset (SKL refused).
    pub status: Option<i32>,
    pub wall: Duration,
    /// When each debugcon and COM1 line appeared (host wall clock since QEMU started).
    pub timeline: timeline::Timeline,
    /// Everything written to COM1 (the kernel's console, e.g. Xen and dom0).
    pub serial: String,
    /// Where the launcher put things (read from guest RAM; `None` if it
    /// failed before writing the record).
    pub plan: Option<Plan>,
    /// The MBI exactly as the launcher wrote it (SKL's Multiboot2 mode edits
    /// the memory map of the one in place, see [`LaunchResult::mbi`]).
    pub mbi_as_built: Option<Vec<u8>>,
    /// Debug-console output (port 0xE9): launcher, debug SKL, test kernel.
    pub debugcon: String,
    pub report: Report,
    /// SKL's failure record (code, detail), if it left one.
    pub failure: Option<(u32, u32)>,
    /// PCRs read back from swtpm by tpm2-tools after QEMU exited.
    pub host_pcrs: BTreeMap<(String, u32), Vec<u8>>,
    /// The 32 KiB event-log area (where the launcher put it, `plan.log_addr`) after the run.
    pub log: Vec<u8>,
    /// The 4 KiB SLRT area after the run.
    pub slrt: Vec<u8>,
    /// The MBI the kernel reported (else the one the launcher built), read from guest RAM.
    pub mbi: Option<Vec<u8>>,
    pub qemu_err: String,
    pub proxy_log: String,
    /// TPM commands QEMU passed to swtpm at locality 2: SKL's (the launcher
    /// and the test kernel use locality 0). From QEMU's trace events.
    pub tpm_commands_at_locality_2: usize,
    /// TSC ticks from the SLB entry to the kernel's entry (instructions when
    /// run with [`Launch::icount`]).
    pub tsc_entry_to_kernel: Option<u64>,
    /// The measured part of the SLB as guest RAM held it after the run.
    pub slb_image_after: Vec<u8>,
    /// The whole 64 KiB SLB after the run (the launcher fills it with 0xA5
    /// before copying skl.bin in).
    pub slb_after: Vec<u8>,
    /// TXT launches: the 128 KiB register window after the run (private
    /// space first); empty otherwise.
    pub txt_regs: Vec<u8>,
    /// TXT launches: the 64 KiB TXT heap after the run.
    pub txt_heap: Vec<u8>,
}

impl LaunchResult {
    /// SKL's stack bottom in the SLB (64 KiB − 8 KiB, `linker/skl.ld`) and
    /// the canary `entry.S` writes there.
    const STACK_BOTTOM: usize = 0xE000;
    const CANARY: &'static [u8; 4] = b"SSLK";
    const CANARY_LEN: usize = 32;

    /// Bytes of SKL's stack ever written: from the lowest byte below the
    /// SLB top that no longer holds the launcher's 0xA5 fill (above SKL's
    /// 32-byte canary at the stack bottom).
    pub fn stack_used(&self) -> usize {
        let stack = &self.slb_after[Self::STACK_BOTTOM + Self::CANARY_LEN..];
        stack.len() - stack.iter().position(|&b| b != 0xA5).unwrap_or(stack.len())
    }

    /// SKL's stack canary ("SSLK" × 8 at the stack bottom) is intact.
    pub fn stack_canary_intact(&self) -> bool {
        self.slb_after[Self::STACK_BOTTOM..Self::STACK_BOTTOM + Self::CANARY_LEN].chunks(4).all(|c| c == Self::CANARY)
    }

    /// `len` bytes of the SLB at `offset` after the run (e.g. the SLRT of
    /// `skl-amdsl.bin`, whose bootloader-data offset is the u16 at 0x44).
    pub fn slb_bytes(&self, offset: usize, len: usize) -> &[u8] {
        &self.slb_after[offset..offset + len]
    }

    /// SKL's failure record (code, detail) at SLB + `offset` (its
    /// bootloader-data area), if there is one there. [`LaunchResult::failure`]
    /// looks at the u16 at 0x06 of the SLB file, right for `skl.bin` only.
    pub fn failure_at(&self, offset: usize) -> Option<(u32, u32)> {
        let r = self.slb_after.get(offset..offset + 16)?;
        (r[..8] == b"SKLERROR"[..]).then(|| {
            (u32::from_le_bytes(r[8..12].try_into().unwrap()), u32::from_le_bytes(r[12..16].try_into().unwrap()))
        })
    }

    /// A TXT private-space register after the run (0 if never written; a
    /// non-TXT launch has none: the test fails).
    pub fn txt_reg(&self, off: usize) -> u64 {
        let b = self.txt_regs.get(off..off + 8).unwrap_or_else(|| panic!("TXT register {off:#x}: not a TXT launch"));
        u64::from_le_bytes(b.try_into().unwrap())
    }

    pub fn handed_off(&self) -> bool {
        self.report.done
    }
    /// Whether SKL handed off, for any kernel (not only the test kernel's
    /// report): the launcher entered the SLB, SKL left no failure record,
    /// and either QEMU did not end in a reset (SKL's refusal path resets; a
    /// kernel that runs exits through isa-debug-exit or is still running at
    /// the timeout) or the kernel wrote to COM1 (a kernel that resets, e.g.
    /// Xen's panic; lines of a debug SKL, "SKL…", do not count).
    pub fn handed_off_any_kernel(&self) -> bool {
        let kernel_wrote = self.serial.lines().any(|l| !l.trim().is_empty() && !l.starts_with("SKL"));
        self.report.done
            || (self.failure.is_none()
                && self.debugcon.contains("LAUNCHER: SKINIT: entering")
                && self.status != Some(255)
                && (self.status != Some(0) || kernel_wrote))
    }
    /// A short description for assertion messages.
    pub fn summary(&self) -> String {
        format!(
            "status {:?}, failure {:?}, wall {:?}\n--- debugcon ---\n{}\n--- serial (COM1) ---\n{}\n--- qemu stderr ---\n{}\n--- proxy ---\n{}",
            self.status,
            self.failure.map(|(c, d)| format!("{c:#06x} detail {d:#x}")),
            self.wall,
            self.debugcon,
            self.serial,
            self.qemu_err,
            self.proxy_log
        )
    }
}

/// The general registers every hand-off sets, both AMD modes and TXT
/// (`docs/design.md`, hand-off table; `skl_handoff` in
/// `skl/src/hw/entry_common.S`): EIP = `entry` (the kernel's own entry
/// symbol), EBX and ESI as the mode gives them, EAX = 0x36D76289,
/// EBP = EDX = SLB (MLE) base, ESP = base + 64 KiB, ECX = 0 and EDI = the
/// entry address (design.md's table says EDI = 0, but `skl_handoff`
/// jumps through EDI; pinned here to what SKL does).
pub fn assert_handoff_regs(r: &LaunchResult, slb_base: u32, entry: u32, ebx: u32, esi: u32) {
    let reg = |n: &str| *r.report.regs.get(n).unwrap_or_else(|| panic!("no register {n}\n{}", r.summary()));
    assert_eq!(reg("entry"), entry, "EIP = the kernel's entry");
    assert_eq!(reg("ebx"), ebx, "EBX");
    assert_eq!(reg("esi"), esi, "ESI = boot parameters");
    assert_eq!(reg("eax"), 0x36d7_6289, "EAX = Multiboot2 magic");
    assert_eq!(reg("ebp"), slb_base, "EBP = SLB base");
    assert_eq!(reg("edx"), slb_base, "EDX = SLB base");
    assert_eq!(reg("esp"), slb_base + 0x1_0000, "ESP = SLB base + 64 KiB");
    assert_eq!(reg("ecx"), 0, "ECX = 0");
    assert_eq!(reg("edi"), entry, "EDI = entry (skl_handoff jumps through it)");
}

/// The launcher's placement record at guest 0x0050_0800 (`docs/test-contract.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub mbi_addr: u32,
    pub mbi_size: u32,
    pub log_addr: u32,
    pub log_size: u32,
    pub slb_base: u32,
    /// Where the kernel image starts (its load base address).
    pub load_base: u32,
    pub dlme_base: u32,
    pub dlme_size: u32,
    pub dlme_entry: u32,
    /// (mod_start, mod_end) of each module tag.
    pub modules: Vec<(u32, u32)>,
    /// The launcher's own copy of the MBI as built (0: none, e.g. replay).
    pub mbi_copy: u32,
}

impl Plan {
    fn parse(b: &[u8]) -> Option<Plan> {
        let w = |i: usize| u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap());
        if &b[..4] != b"PLAN" || w(1) != 1 {
            return None;
        }
        let n = (w(11) as usize).min(16);
        Some(Plan {
            mbi_addr: w(2),
            mbi_size: w(3),
            log_addr: w(4),
            log_size: w(5),
            slb_base: w(6),
            load_base: w(7),
            dlme_base: w(8),
            dlme_size: w(9),
            dlme_entry: w(10),
            modules: (0..n).map(|i| (w(12 + 2 * i), w(13 + 2 * i))).collect(),
            mbi_copy: w(12 + 2 * 16),
        })
    }
}

/// The MBI a plan names, at the size its header gives: in Multiboot2 mode
/// SKL grows the memory map (SLB and log reserved) before measuring it.
fn mbi_of_plan(ram_path: &Path, p: &Plan) -> Option<Vec<u8>> {
    if p.mbi_size == 0 {
        return None;
    }
    let total = u32::from_le_bytes(read_at(ram_path, p.mbi_addr as u64, 4).try_into().unwrap());
    Some(read_at(ram_path, p.mbi_addr as u64, total.min(0x1_0000) as usize))
}

/// The launcher's placement record: guest address and length.
const PLAN_AT: u64 = 0x50_0800;
const PLAN_LEN: usize = 13 * 4 + 2 * 4 * 16;

/// The launcher's copy of the MBI as it built it (before SKL's edit).
fn mbi_as_built(ram_path: &Path, p: &Plan) -> Option<Vec<u8>> {
    (p.mbi_copy != 0).then(|| read_at(ram_path, p.mbi_copy as u64, p.mbi_size as usize))
}

/// What the launcher and SKL left in guest RAM, read when the kernel first
/// writes to COM1: Debian's Xen takes its memory map from the BIOS, not the
/// MBI, and scrubs or reuses the SLB, the log and the MBI later.
struct AtKernelStart {
    plan: Plan,
    mbi: Option<Vec<u8>>,
    mbi_as_built: Option<Vec<u8>>,
    slrt: Vec<u8>,
    log: Vec<u8>,
}

impl AtKernelStart {
    fn read(ram_path: &Path, slrt_offset: u64) -> Option<AtKernelStart> {
        let plan = Plan::parse(&read_at(ram_path, PLAN_AT, PLAN_LEN))?;
        Some(AtKernelStart {
            mbi: mbi_of_plan(ram_path, &plan),
            mbi_as_built: mbi_as_built(ram_path, &plan),
            slrt: read_at(ram_path, plan.slb_base as u64 + slrt_offset, 4096),
            log: read_at(ram_path, plan.log_addr as u64, plan.log_size as usize),
            plan,
        })
    }
}

/// Staging area for files the host puts into guest RAM with QEMU's loader
/// device: from the middle of RAM upwards, 2 MiB aligned, away from where
/// GRUB-like allocations go (low chunks from the bottom, high ones from the top).
struct Staging {
    next: u64,
    limit: u64,
}

impl Staging {
    const ALIGN: u64 = 0x20_0000;
    fn new(memory_mib: u32) -> Staging {
        let ram = memory_mib as u64 * 0x10_0000;
        Staging { next: (ram / 2).next_multiple_of(Self::ALIGN), limit: ram - 0x100_0000 }
    }
    /// Stages `f` (an empty file is not placed) and returns its address and size.
    fn add(&mut self, f: &Path, loaders: &mut Vec<(PathBuf, u64)>) -> (u64, u64) {
        let size = fs::metadata(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())).len();
        if size == 0 {
            return (0, 0);
        }
        let at = self.next;
        assert!(at + size <= self.limit, "{} does not fit in the staging area: raise memory_mib", f.display());
        loaders.push((f.to_path_buf(), at));
        self.next = (at + size).next_multiple_of(Self::ALIGN);
        (at, size)
    }
}

/// Files placed by QEMU's loader must not overlap each other, the launcher
/// (1-4 MiB, loaded after them by -kernel), the mailbox and TXT tables
/// (5-7 MiB), or lie outside RAM.
fn check_placements(loaders: &[(PathBuf, u64)], memory_mib: u32) {
    let ram = memory_mib as u64 * 0x10_0000;
    let mut ranges: Vec<(u64, u64, String)> = vec![
        (0x10_0000, 0x40_0000, "the launcher (1-4 MiB)".into()),
        (0x50_0000, 0x70_0000, "the mailbox and TXT tables (5-7 MiB)".into()),
    ];
    for (f, at) in loaders {
        let len = fs::metadata(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())).len();
        let (s, e) = (*at, at + len);
        assert!(e <= ram, "{} at {at:#x} ends beyond guest RAM ({memory_mib} MiB)", f.display());
        for (rs, re, what) in &ranges {
            assert!(e <= *rs || s >= *re, "{} at {at:#x} overlaps {what}", f.display());
        }
        ranges.push((s, e, f.display().to_string()));
    }
}

/// The test kernel's `SKLTEST` lines.
#[derive(Debug, Default)]
pub struct Report {
    pub regs: BTreeMap<String, u32>,
    pub loc2_access: Option<u8>,
    pub pcrs: BTreeMap<(String, u32), Vec<u8>>,
    pub mbi: Option<(u32, u32)>,
    pub modules: Vec<(u32, u32)>,
    pub error: Option<String>,
    pub done: bool,
}

fn hex_u32(s: &str) -> u32 {
    u32::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or(u32::MAX)
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

impl Report {
    pub fn parse(text: &str) -> Report {
        let mut r = Report::default();
        for line in text.lines() {
            let w: Vec<&str> = line.split_whitespace().collect();
            match w.as_slice() {
                ["SKLTEST", "reg", name, v] => {
                    r.regs.insert(name.to_string(), hex_u32(v));
                }
                ["SKLTEST", "tis", "loc2_access", v] => r.loc2_access = Some(hex_u32(v) as u8),
                ["SKLTEST", "pcr", alg, pcr, v] => {
                    r.pcrs.insert((alg.to_string(), pcr.parse().unwrap()), unhex(v));
                }
                ["SKLTEST", "mbi", a, "size", n] => r.mbi = Some((hex_u32(a), n.parse().unwrap())),
                ["SKLTEST", "module", _i, s, e] => r.modules.push((hex_u32(s), hex_u32(e))),
                ["SKLTEST", "error", ..] => r.error = Some(line.to_string()),
                ["SKLTEST", "done"] => r.done = true,
                _ => {}
            }
        }
        r
    }
}

/// Count `tpm_emulator_handle_request` events while the TIS locality is `l`
/// (QEMU traces `tpm_emulator_set_locality` only when it changes).
fn count_commands_at_locality(trace: &str, l: u32) -> usize {
    let mut cur = 0;
    let mut n = 0;
    for line in trace.lines() {
        if let Some(v) = line.split("setting locality to ").nth(1) {
            cur = v.trim().parse().unwrap_or(u32::MAX);
        } else if line.contains("tpm_emulator_handle_request") && cur == l {
            n += 1;
        }
    }
    n
}

/// `len` bytes of a file at `at` (guest RAM is a 1 GiB file: read what is
/// needed). A missing file or one that ends before `at + len` fails the
/// test: zeros in its place would pass every `== 0` check.
fn read_at(path: &Path, at: u64, len: usize) -> Vec<u8> {
    use std::io::{Seek, SeekFrom};
    let mut buf = vec![0; len];
    let mut f = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    f.seek(SeekFrom::Start(at))
        .and_then(|_| f.read_exact(&mut buf))
        .unwrap_or_else(|e| panic!("{}: {len} bytes at {at:#x}: {e}", path.display()));
    buf
}

/// A file QEMU, swtpm or the proxy must have written during the run; a
/// missing one fails the test (an empty stand-in would read as "nothing
/// happened", which some assertions expect).
fn read_run_file(path: &Path, qemu_err: &str) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{}: {e}\n--- qemu stderr ---\n{qemu_err}", path.display()))
}

/// The swtpm of a finished run, with its volatile state (the PCRs) kept,
/// restarted with a server socket the host can talk to: save the volatile
/// state, stop it, start it again on `tpm.sock` (TPM 2.0) or `tpm12.sock`,
/// resume. Returns the socket and the guard that stops the new swtpm.
fn restart_swtpm_as_server(d: &Path, tpm2: bool) -> (PathBuf, PidGuard) {
    let ctrl = d.join("swtpm.ctrl");
    run_ok(Command::new("swtpm_ioctl").arg("--unix").arg(&ctrl).arg("-v"));
    run_ok(Command::new("swtpm_ioctl").arg("--unix").arg(&ctrl).arg("-s"));
    let pid = d.join("swtpm.pid");
    let t = Instant::now();
    while pid_alive(&pid) && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (sock, pidfile) = if tpm2 { ("tpm.sock", "swtpm2.pid") } else { ("tpm12.sock", "swtpm3.pid") };
    let (sock, pidfile) = (d.join(sock), d.join(pidfile));
    run_ok(
        Command::new("swtpm")
            .arg("socket")
            .args(if tpm2 { &["--tpm2"][..] } else { &[][..] })
            .arg("--tpmstate")
            .arg(format!("dir={}", d.display()))
            .arg("--server")
            .arg(format!("type=unixio,path={}", sock.display()))
            .arg("--ctrl")
            .arg(format!("type=unixio,path={}.ctrl", sock.display()))
            .arg("--pid")
            .arg(format!("file={}", pidfile.display()))
            .arg("-d"),
    );
    let guard = PidGuard(pidfile);
    init_swtpm(&format!("{}.ctrl", sock.display()));
    (sock, guard)
}

/// Read PCR 17/18 of every bank from the still-running swtpm with Debian's
/// tpm2-tools (`docs/test-contract.md`, "DRTM proxy"): save the volatile state,
/// stop, restart with a server socket, resume, `tpm2_pcrread`.
pub fn read_pcrs_tpm2_tools(d: &Path) -> BTreeMap<(String, u32), Vec<u8>> {
    let (sock, _guard) = restart_swtpm_as_server(d, true);
    let out = Command::new("tpm2_pcrread")
        .env("TPM2TOOLS_TCTI", format!("swtpm:path={}", sock.display()))
        .arg("sha1:17,18+sha256:17,18+sha384:17,18+sha512:17,18")
        .output()
        .expect("tpm2_pcrread runs (make setup installs tpm2-tools)");
    let _ = Command::new("swtpm_ioctl").arg("--unix").arg(format!("{}.ctrl", sock.display())).arg("-s").status();
    let mut pcrs = BTreeMap::new();
    let mut alg = String::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let l = line.trim();
        if let Some(a) = l.strip_suffix(':') {
            alg = a.to_string();
        } else if let Some((n, v)) = l.split_once(": 0x") {
            pcrs.insert((alg.clone(), n.trim().parse().unwrap()), unhex(&v.to_lowercase()));
        }
    }
    pcrs
}

/// Read PCR 17/18 of a TPM 1.2 swtpm after the run (tpm2-tools cannot):
/// the same save/restart as [`read_pcrs_tpm2_tools`], then TPM_PCRRead
/// (TPM 1.2 Main Part 3, ordinal 0x15) over the server socket by hand.
fn read_pcrs_tpm12(d: &Path) -> BTreeMap<(String, u32), Vec<u8>> {
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    let (sock, _guard) = restart_swtpm_as_server(d, false);
    let mut pcrs = BTreeMap::new();
    for pcr in [17u32, 18] {
        let Ok(mut s) = UnixStream::connect(&sock) else { break };
        let mut cmd = vec![0x00, 0xC1, 0, 0, 0, 14, 0, 0, 0, 0x15];
        cmd.extend_from_slice(&pcr.to_be_bytes());
        let mut resp = [0u8; 30];
        if s.write_all(&cmd).is_ok() && s.read_exact(&mut resp).is_ok() && resp[6..10] == [0, 0, 0, 0] {
            pcrs.insert(("sha1".to_string(), pcr), resp[10..30].to_vec());
        }
    }
    let _ = Command::new("swtpm_ioctl").arg("--unix").arg(format!("{}.ctrl", sock.display())).arg("-s").status();
    pcrs
}

fn run_ok(c: &mut Command) {
    let out = c.output().unwrap_or_else(|e| panic!("{c:?}: {e}"));
    assert!(
        out.status.success(),
        "{c:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn wait_for(p: &Path, limit: Duration) {
    let t = Instant::now();
    while !p.exists() {
        assert!(t.elapsed() < limit, "{} did not appear", p.display());
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `swtpm_ioctl -i` on the restarted swtpm, retried while it fails: the
/// stopped swtpm deletes its pid file at once (so `pid_alive` says gone) but
/// keeps the state directory locked a little longer, and PTM_INIT meanwhile
/// answers 0x9 (seen about once in 30 launches on a loaded machine; the lock
/// was free 14 ms after the stop when measured).
fn init_swtpm(ctrl: &str) {
    let t = Instant::now();
    loop {
        let mut c = Command::new("swtpm_ioctl");
        c.args(["--unix", ctrl, "-i"]);
        match c.output() {
            Ok(o) if o.status.success() => return,
            _ if t.elapsed() < Duration::from_secs(10) => {
                eprintln!("swtpm_ioctl -i failed {:?} after the stop: retrying", t.elapsed());
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => return run_ok(&mut c),
        }
    }
}

fn pid_alive(pidfile: &Path) -> bool {
    fs::read_to_string(pidfile)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
}

/// Kills the daemon whose pid file this names.
struct PidGuard(PathBuf);
impl Drop for PidGuard {
    fn drop(&mut self) {
        if let Some(pid) = fs::read_to_string(&self.0).ok().and_then(|s| s.trim().parse::<u32>().ok()) {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

/// QEMU's `-d` items: the TPM trace events the results count, plus
/// `SKL_QEMU_LOG`'s.
fn qemu_log_items() -> String {
    let mut items = "trace:tpm_emulator_handle_request,trace:tpm_emulator_set_locality".to_string();
    if let Ok(more) = std::env::var("SKL_QEMU_LOG") {
        items.push(',');
        items.push_str(&more);
    }
    items
}

struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private directory under the system temp dir, removed on drop (kept
/// when `SKL_KEEP_TMP` is set, for debugging).
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let path =
            std::env::temp_dir().join(format!("skl-qemu-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("SKL_KEEP_TMP").is_none() {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}
