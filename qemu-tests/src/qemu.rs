//! QEMU for one launch: the command line (machine, CPU, the launcher as
//! `-kernel`, the SLB and config over fw_cfg, staged files, TPM, IOMMU,
//! TXT window, logs), and the run itself, followed line by line until QEMU
//! exits or the timeout.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::guest_ram::AtKernelStart;
use crate::timeline::{Follower, Timeline};
use crate::{artifact, qemu_binary, qemu_cpu, Launch, TpmInterface, QEMU_AMD_NODE};

/// A QEMU run that has ended.
pub(crate) struct Finished {
    /// Exit status (`None`: killed after the timeout).
    pub(crate) status: Option<i32>,
    pub(crate) wall: Duration,
    pub(crate) timeline: Timeline,
    /// What the launcher and SKL left in RAM when the kernel first wrote
    /// to COM1 (`None`: it never did).
    pub(crate) at_kernel_start: Option<AtKernelStart>,
    /// QEMU's stderr.
    pub(crate) stderr: String,
}

/// The QEMU command line for `l` in `d`, with `loaders` placed by QEMU's
/// loader device. A TXT launch gets its zeroed register window file here.
pub(crate) fn command(l: &Launch, d: &Path, loaders: &[(PathBuf, u64)]) -> Command {
    let mut q = Command::new(qemu_binary());
    let mem = format!("{}M", l.memory_mib);
    q.args(["-machine", "q35,memory-backend=ram", "-cpu", &qemu_cpu(), "-m", &mem, "-smp", "1"])
        .arg("-object")
        .arg(format!("memory-backend-file,id=ram,size={mem},mem-path={},share=on", d.join("guest.ram").display()))
        .args(["-display", "none", "-no-reboot", "-nodefaults"])
        .arg("-kernel")
        .arg(artifact("qemu-tests/launcher.elf"))
        .arg("-fw_cfg")
        .arg(format!("name=opt/skl/slb,file={}", l.slb.display()))
        .arg("-fw_cfg")
        .arg(format!("name=opt/skl/config,file={}", d.join("config.txt").display()));
    for (f, at) in loaders {
        q.arg("-device").arg(format!("loader,file={},addr={at:#x},force-raw=on", f.display()));
    }
    let dev = match l.interface {
        TpmInterface::Tis => "tpm-tis",
        TpmInterface::Crb => "tpm-crb",
    };
    q.arg("-chardev")
        .arg(format!("socket,id=chrtpm,path={}", d.join("proxy.ctrl").display()))
        .args(["-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device"])
        .arg(format!("{dev},tpmdev=tpm0"))
        .args(if l.iommu { &["-device", "amd-iommu"][..] } else { &[][..] })
        .args(if l.edu { &["-device", "edu"][..] } else { &[][..] })
        .args(if l.txt { &[][..] } else { &QEMU_AMD_NODE[..] });
    if l.txt {
        // 128 KiB: the TXT private (0xFED20000) and public (0xFED30000) spaces.
        fs::write(d.join("txt.regs"), vec![0u8; 0x20000]).unwrap();
        q.arg("-object")
            .arg(format!("memory-backend-file,id=txtregs,size=128K,share=on,mem-path={}", d.join("txt.regs").display()))
            .args(["-device", "ivshmem-plain,memdev=txtregs"]);
    }
    q.arg("-debugcon")
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
        .args(if l.icount { &["-icount", "shift=0,sleep=off"][..] } else { &[][..] })
        .args(&l.qemu_args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    q
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

/// Runs `q` until QEMU exits or `timeout` passes (then kills it),
/// following debugcon and COM1. The launcher's record and the MBI as the
/// kernel got them are read as soon as the kernel writes to COM1 (polled):
/// a real kernel (Xen) reuses that RAM later, and in Multiboot2 mode SKL
/// has edited the MBI by then. `slrt_offset`: the SLB header's
/// bootloader-data offset.
pub(crate) fn run(mut q: Command, d: &Path, timeout: Duration, slrt_offset: u64) -> Finished {
    let started = Instant::now();
    let mut child = q.spawn().expect("build/qemu/bin/qemu-system-x86_64 runs (make setup builds it)");
    let mut follow = Follower::new(&d.join("debugcon.log"), &d.join("serial.log"));
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
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let wall = started.elapsed();
    follow.poll(wall, true);
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    Finished { status, wall, timeline: follow.timeline, at_kernel_start, stderr }
}
