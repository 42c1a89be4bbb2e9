//! Run the shipped `build/skl.bin` through an emulated GRUB `slaunch` +
//! SKINIT in QEMU with swtpm, and collect everything a test asserts on.
//! The parts and their contract: `docs/test-contract.md`.
//!
//! Expected values are computed here from the input files with the sha
//! crates ([`predict`]), never with the payload's code.
//!
//! A launch ([`Launch::run`]) in steps, one module each: the launcher's
//! configuration and the files staged into guest RAM
//! ([`launcher_config`]), swtpm ([`swtpm`]) and the DRTM proxy in front of
//! it ([`drtm_proxy`]), QEMU ([`qemu`]), then the results read from the
//! run's files and guest RAM ([`result`], [`guest_ram`], [`report`]).

pub mod predict;
pub mod psp;
pub mod synth;
pub mod timeline;

mod drtm_proxy;
mod guest_ram;
mod launcher_config;
mod process;
mod qemu;
mod report;
mod result;
mod swtpm;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use guest_ram::Plan;
pub use report::{unhex, Report};
pub use result::{assert_handoff_regs, LaunchResult};
pub use swtpm::read_pcrs_tpm2_tools;

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

/// Runs the `skl-tool` binary of this workspace (`cargo run`): what a user
/// runs, with its exit status.
pub fn skl_tool(args: &[&str]) -> std::process::Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    std::process::Command::new(cargo)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args(["run", "-q", "-p", "skl-tool", "--"])
        .args(args)
        .output()
        .expect("cargo runs skl-tool")
}

/// Our QEMU with SKINIT (`qemu-tests/qemu/`, built by `make setup` into
/// `build/qemu/`); `SKL_QEMU` overrides it.
pub fn qemu_binary() -> PathBuf {
    std::env::var_os("SKL_QEMU").map(PathBuf::from).unwrap_or_else(|| build_dir().join("qemu/bin/qemu-system-x86_64"))
}

/// The CPU model: qemu64 (AMD family 0Fh, SVM) with the SKINIT CPUID bit
/// our QEMU adds; `SKL_QEMU_CPU` overrides it (e.g. `EPYC,+skinit`, 17h).
pub const QEMU_CPU: &str = "qemu64,+pdpe1gb,+skinit";

pub(crate) fn qemu_cpu() -> String {
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
    /// Further QEMU arguments (e.g. the PSP device, [`psp`]).
    pub qemu_args: Vec<String>,
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
            qemu_args: vec![],
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

    /// Runs the launch: configuration and staged files, swtpm and the
    /// DRTM proxy, QEMU until it exits or the timeout, then everything the
    /// tests assert on, read from the run's files.
    pub fn run(&self) -> LaunchResult {
        assert!(self.memory_mib >= 128 && self.memory_mib < 2816, "memory_mib: 128..2815 (all RAM below 4 GiB)");
        let dir = TempDir::new();
        let d = dir.path.as_path();
        let slb = SlbHeader::read(&self.slb);
        let loaders = launcher_config::write(self, d);
        let mut tpm = HarnessTpm::start(self, d);
        let finished = qemu::run(qemu::command(self, d, &loaders), d, self.timeout, slb.bootloader_data);
        tpm.finish_proxy();
        // swtpm lives until the PCRs have been read back.
        result::collect(self, d, slb, finished)
    }
}

/// swtpm behind the DRTM proxy in `d`, for `l`'s TPM family and banks, as
/// [`Launch::run`] starts them; for tests that run QEMU themselves
/// (`tests/real_xen.rs`), whose TPM backend then connects to
/// `d/proxy.ctrl`. After QEMU exits: [`HarnessTpm::finish_proxy`], then
/// [`read_pcrs_tpm2_tools`]; dropping it stops swtpm.
pub struct HarnessTpm {
    proxy: Option<drtm_proxy::DrtmProxy>,
    _swtpm: process::PidGuard,
}

impl HarnessTpm {
    pub fn start(l: &Launch, d: &std::path::Path) -> HarnessTpm {
        let swtpm = swtpm::start(l, d);
        HarnessTpm { proxy: Some(drtm_proxy::DrtmProxy::start(l, d)), _swtpm: swtpm }
    }

    /// QEMU has exited: let the proxy end (bounded), keep swtpm.
    pub fn finish_proxy(&mut self) {
        if let Some(p) = self.proxy.take() {
            p.finish();
        }
    }
}

impl Default for Launch {
    fn default() -> Self {
        Self::new()
    }
}

/// What the harness needs of the SLB file's header: the measured size (the
/// u16 at 2) and the bootloader-data offset (the u16 at 6 of the 8-byte
/// header, at 0x44 of the AMD SL header, which has its GUID at 4).
#[derive(Clone, Copy)]
pub(crate) struct SlbHeader {
    pub(crate) measured: usize,
    pub(crate) bootloader_data: u64,
}

impl SlbHeader {
    fn read(slb: &Path) -> SlbHeader {
        let b = fs::read(slb).unwrap_or_else(|e| panic!("{}: {e}", slb.display()));
        let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        const AMD_SL_GUID: [u8; 16] =
            [0xda, 0x75, 0xc4, 0x0e, 0xd0, 0xd3, 0x5d, 0x48, 0xb6, 0xae, 0x3c, 0xb2, 0x0f, 0xb7, 0xad, 0x3a];
        let bl = if b.get(4..20) == Some(&AMD_SL_GUID[..]) { 0x44 } else { 6 };
        SlbHeader { measured: u16_at(2) as usize, bootloader_data: u16_at(bl) as u64 }
    }
}

/// A private directory under the system temp dir (the `tempfile` crate),
/// removed on drop, kept when `SKL_KEEP_TMP` is set (for debugging).
pub struct TempDir {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl TempDir {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("skl-qemu-")
            .disable_cleanup(std::env::var_os("SKL_KEEP_TMP").is_some())
            .tempdir()
            .unwrap_or_else(|e| panic!("a directory under {}: {e}", std::env::temp_dir().display()));
        TempDir { path: dir.path().to_path_buf(), _dir: dir }
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::TempDir;

    #[test]
    fn temp_dir_is_a_fresh_directory_removed_on_drop() {
        let (a, b) = (TempDir::new(), TempDir::new());
        assert_ne!(a.path, b.path);
        assert!(a.path.is_dir() && a.path.read_dir().unwrap().next().is_none(), "{}", a.path.display());
        assert!(a.path.file_name().unwrap().to_string_lossy().starts_with("skl-qemu-"));
        let p = a.path.clone();
        drop(a);
        assert_eq!(p.exists(), std::env::var_os("SKL_KEEP_TMP").is_some(), "{}", p.display());
    }

    /// The harness's stack size is the linker script's: `stack_used` reads
    /// the stack from the canary up by it.
    #[test]
    fn stack_size_is_the_linker_scripts() {
        let ld = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../linker/slb.ld")).unwrap();
        let line = ld.lines().find(|l| l.starts_with("STACK_SIZE")).expect("STACK_SIZE in slb.ld");
        let v = line.split('=').nth(1).unwrap().trim().trim_end_matches(';').trim();
        let v = usize::from_str_radix(v.trim_start_matches("0x"), 16).unwrap();
        assert_eq!(v, crate::LaunchResult::STACK_SIZE);
    }
}
