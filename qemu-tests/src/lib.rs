//! Run the shipped `build/skl.bin` through an emulated GRUB `slaunch` +
//! SKINIT in QEMU with swtpm, and collect everything a test asserts on.
//! The parts and their contract: `docs/test-contract.md`.
//!
//! Expected values are computed here from the input files with the sha
//! crates ([`predict`]), never with the payload's code.

pub mod predict;

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

/// A launch to run.
#[derive(Clone, Debug)]
pub struct Launch {
    pub slb: PathBuf,
    pub kernel: PathBuf,
    pub modules: Vec<(Vec<u8>, String)>,
    pub slb_base: u32,
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
            kernel: artifact("qemu-tests/kernel.elf"),
            modules: vec![],
            slb_base: 0x0200_0000,
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
    pub fn with_edu(mut self) -> Self {
        self.edu = true;
        self
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
        self.kernel = p;
        self
    }
    pub fn module(mut self, bytes: Vec<u8>, cmdline: &str) -> Self {
        self.modules.push((bytes, cmdline.into()));
        self
    }
    pub fn base(mut self, b: u32) -> Self {
        self.slb_base = b;
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
        let mut cfg = format!("slb_base={:#x}\nscenario={}\n", self.slb_base, self.scenario);
        if self.family == TpmFamily::Tpm12 {
            cfg.push_str("log_format=1\n");
        }
        for (i, (_, c)) in self.modules.iter().enumerate() {
            cfg.push_str(&format!("module{i}_cmdline={c}\n"));
        }
        for (k, v) in &self.extra_config {
            cfg.push_str(&format!("{k}={v}\n"));
        }
        fs::write(d.join("config.txt"), cfg).unwrap();
        for (i, (m, _)) in self.modules.iter().enumerate() {
            fs::write(d.join(format!("module{i}.bin")), m).unwrap();
        }

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
        q.args(["-machine", "q35,memory-backend=ram", "-cpu", &qemu_cpu(), "-m", "1G", "-smp", "1"])
            .arg("-object")
            .arg(format!("memory-backend-file,id=ram,size=1G,mem-path={},share=on", d.join("guest.ram").display()))
            .args(["-display", "none", "-no-reboot", "-nodefaults"])
            .arg("-kernel")
            .arg(artifact("qemu-tests/launcher.elf"))
            .arg("-fw_cfg")
            .arg(format!("name=opt/skl/slb,file={}", self.slb.display()))
            .arg("-fw_cfg")
            .arg(format!("name=opt/skl/kernel,file={}", self.kernel.display()))
            .arg("-fw_cfg")
            .arg(format!("name=opt/skl/config,file={}", d.join("config.txt").display()));
        for i in 0..self.modules.len() {
            q.arg("-fw_cfg").arg(format!("name=opt/skl/module{i},file={}", d.join(format!("module{i}.bin")).display()));
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
            .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=4"])
            // Every TPM command QEMU passes to swtpm, and each locality change.
            .args(["-d", "trace:tpm_emulator_handle_request,trace:tpm_emulator_set_locality", "-D"])
            .arg(d.join("qemu-trace.log"))
            .args(if self.icount { &["-icount", "shift=0,sleep=off"][..] } else { &[][..] })
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = q.spawn().expect("build/qemu/bin/qemu-system-x86_64 runs (make setup builds it)");
        let status = loop {
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

        let debugcon = fs::read_to_string(d.join("debugcon.log")).unwrap_or_default();
        let report = Report::parse(&debugcon);
        let ram_path = d.join("guest.ram");
        let ram = |at: u64, len: usize| read_at(&ram_path, at, len);
        let slb = fs::read(&self.slb).unwrap();
        let bl = u16::from_le_bytes([slb[6], slb[7]]) as u64;
        let slrt = ram(self.slb_base as u64 + bl, 4096);
        let failure = (slrt.get(..8) == Some(&b"SKLERROR"[..])).then(|| {
            (u32::from_le_bytes(slrt[8..12].try_into().unwrap()), u32::from_le_bytes(slrt[12..16].try_into().unwrap()))
        });
        let log = ram(0x90_0000, 0x8000);
        let measured = u16::from_le_bytes([slb[2], slb[3]]) as usize;
        let slb_image_after = ram(self.slb_base as u64, measured);
        let slb_after = ram(self.slb_base as u64, 0x10000);
        let stamps = ram(0x50_0018, 16);
        let tsc = |o: usize| u64::from_le_bytes(stamps[o..o + 8].try_into().unwrap());
        let tsc_entry_to_kernel = (tsc(8) > tsc(0) && tsc(0) != 0).then(|| tsc(8) - tsc(0));
        let mbi = report.mbi.map(|(a, n)| ram(a as u64, n as usize));
        let host_pcrs = if tpm2 { read_pcrs_tpm2_tools(&d) } else { BTreeMap::new() };
        let proxy_log = fs::read_to_string(d.join("proxy.log")).unwrap_or_default();
        let txt_regs = fs::read(d.join("txt.regs")).unwrap_or_default();
        // The launcher's TXT heap (qemu-tests/guest/launcher/txt.h).
        let txt_heap = if self.txt { ram(0x60_0000, 0x1_0000) } else { vec![] };
        let trace = fs::read_to_string(d.join("qemu-trace.log")).unwrap_or_default();
        let tpm_commands_at_locality_2 = count_commands_at_locality(&trace, 2);
        LaunchResult {
            status,
            wall,
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
    pub debugcon: String,
    pub report: Report,
    /// SKL's failure record (code, detail), if it left one.
    pub failure: Option<(u32, u32)>,
    /// PCRs read back from swtpm by tpm2-tools after QEMU exited.
    pub host_pcrs: BTreeMap<(String, u32), Vec<u8>>,
    /// The 32 KiB event-log area (guest 0x0090_0000) after the run.
    pub log: Vec<u8>,
    /// The 4 KiB SLRT area after the run.
    pub slrt: Vec<u8>,
    /// The MBI the kernel reported, read from guest RAM.
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

    /// A TXT private-space register after the run (0 if never written).
    pub fn txt_reg(&self, off: usize) -> u64 {
        self.txt_regs.get(off..off + 8).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()))
    }

    pub fn handed_off(&self) -> bool {
        self.report.done
    }
    /// A short description for assertion messages.
    pub fn summary(&self) -> String {
        format!(
            "status {:?}, failure {:?}, wall {:?}\n--- debugcon ---\n{}\n--- qemu stderr ---\n{}\n--- proxy ---\n{}",
            self.status,
            self.failure.map(|(c, d)| format!("{c:#06x} detail {d:#x}")),
            self.wall,
            self.debugcon,
            self.qemu_err,
            self.proxy_log
        )
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

/// `len` bytes of a file at `at` (guest RAM is a 1 GiB file: read what is needed).
fn read_at(path: &Path, at: u64, len: usize) -> Vec<u8> {
    use std::io::{Seek, SeekFrom};
    let mut buf = vec![0; len];
    if let Ok(mut f) = fs::File::open(path) {
        if f.seek(SeekFrom::Start(at)).is_ok() {
            let _ = f.read_exact(&mut buf);
        }
    }
    buf
}

/// Read PCR 17/18 of every bank from the still-running swtpm with Debian's
/// tpm2-tools (`../shared/docs/qemu.md` §2.4 (b)): save the volatile state,
/// stop, restart with a server socket, resume, `tpm2_pcrread`.
fn read_pcrs_tpm2_tools(d: &Path) -> BTreeMap<(String, u32), Vec<u8>> {
    let ctrl = d.join("swtpm.ctrl");
    run_ok(Command::new("swtpm_ioctl").arg("--unix").arg(&ctrl).arg("-v"));
    run_ok(Command::new("swtpm_ioctl").arg("--unix").arg(&ctrl).arg("-s"));
    let pid = d.join("swtpm.pid");
    let t = Instant::now();
    while pid_alive(&pid) && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let sock = d.join("tpm.sock");
    run_ok(
        Command::new("swtpm")
            .args(["socket", "--tpm2", "--tpmstate"])
            .arg(format!("dir={}", d.display()))
            .arg("--server")
            .arg(format!("type=unixio,path={}", sock.display()))
            .arg("--ctrl")
            .arg(format!("type=unixio,path={}.ctrl", sock.display()))
            .arg("--pid")
            .arg(format!("file={}", d.join("swtpm2.pid").display()))
            .arg("-d"),
    );
    let _guard = PidGuard(d.join("swtpm2.pid"));
    run_ok(Command::new("swtpm_ioctl").arg("--unix").arg(format!("{}.ctrl", sock.display())).arg("-i"));
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
