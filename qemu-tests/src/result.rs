//! What a launch produced ([`LaunchResult`]), collected from the run's
//! files (debugcon, COM1, proxy and QEMU trace logs, guest RAM, the TXT
//! register window) and swtpm's PCRs; and the hand-off register check.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::guest_ram::{read_at, Plan, Records};
use crate::qemu::Finished;
use crate::report::Report;
use crate::{swtpm, timeline, Launch, SlbHeader};

/// Reads everything the tests assert on from the finished run in `d`.
/// `slb`: the launched SLB's header.
pub(crate) fn collect(l: &Launch, d: &Path, slb: SlbHeader, q: Finished) -> LaunchResult {
    let text = |name: &str| String::from_utf8_lossy(&read_run_file(&d.join(name), &q.stderr)).into_owned();
    let debugcon = text("debugcon.log");
    let serial = text("serial.log");
    let report = Report::parse(&debugcon);
    let ram_path = d.join("guest.ram");
    let ram = |at: u64, len: usize| read_at(&ram_path, at, len);
    let rec = Records::read(&ram_path, q.at_kernel_start, l.slb_base, slb.bootloader_data, report.mbi);
    let failure = failure_record(&rec.slrt);
    let slb_image_after = ram(rec.slb_base as u64, slb.measured);
    let slb_after = ram(rec.slb_base as u64, 0x10000);
    let stamps = ram(0x50_0018, 16);
    let tsc = |o: usize| u64::from_le_bytes(stamps[o..o + 8].try_into().unwrap());
    let tsc_entry_to_kernel = (tsc(8) > tsc(0) && tsc(0) != 0).then(|| tsc(8) - tsc(0));
    let host_pcrs = swtpm::read_pcrs(d, l.family);
    let proxy_log = text("proxy.log");
    let txt_regs = if l.txt { read_run_file(&d.join("txt.regs"), &q.stderr) } else { vec![] };
    // The launcher's TXT heap (qemu-tests/guest/launcher/txt.h).
    let txt_heap = if l.txt { ram(0x60_0000, 0x1_0000) } else { vec![] };
    if let Some(to) = std::env::var_os("SKL_QEMU_LOG_COPY") {
        fs::copy(d.join("qemu-trace.log"), to).expect("SKL_QEMU_LOG_COPY is writable");
    }
    let tpm_commands_at_locality_2 = count_commands_at_locality(&text("qemu-trace.log"), 2);
    LaunchResult {
        status: q.status,
        wall: q.wall,
        timeline: q.timeline,
        serial,
        plan: rec.plan,
        mbi_as_built: rec.mbi_as_built,
        debugcon,
        report,
        failure,
        host_pcrs,
        log: rec.log,
        slrt: rec.slrt,
        mbi: rec.mbi,
        qemu_err: q.stderr,
        proxy_log,
        tpm_commands_at_locality_2,
        tsc_entry_to_kernel,
        slb_image_after,
        slb_after,
        txt_regs,
        txt_heap,
    }
}

/// SKL's failure record ("SKLERROR", code, detail) at the start of `b`.
fn failure_record(b: &[u8]) -> Option<(u32, u32)> {
    let r = b.get(..16)?;
    (r[..8] == b"SKLERROR"[..])
        .then(|| (u32::from_le_bytes(r[8..12].try_into().unwrap()), u32::from_le_bytes(r[12..16].try_into().unwrap())))
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
    /// SKL's stack size, `STACK_SIZE` of `linker/slb.ld` (a test compares
    /// them). The stack lies wherever the image's size puts it (below the
    /// page-aligned tables); its bottom is where the canary is.
    pub const STACK_SIZE: usize = 0x1C00;
    const CANARY: &'static [u8; 4] = b"SSLK";
    const CANARY_LEN: usize = 32;

    /// The test kernel's DMA-attack lines, "SKLTEST dma <phase> <target>
    /// <addr> before <hex> after <hex>", as (phase, target, before, after).
    pub fn dma_lines(&self) -> Vec<(String, String, String, String)> {
        self.debugcon
            .lines()
            .filter_map(|l| l.strip_prefix("SKLTEST dma "))
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                (w.len() == 7 && w[3] == "before" && w[5] == "after")
                    .then(|| (w[0].to_string(), w[1].to_string(), w[4].to_string(), w[6].to_string()))
            })
            .collect()
    }

    /// Offset in the SLB of SKL's stack bottom: the canary entry_common.S
    /// wrote ("SSLK" × 8), found after the bootloader data; `None` if it
    /// is gone (or SKL never ran).
    fn stack_bottom(&self) -> Option<usize> {
        let canary: Vec<u8> = Self::CANARY.iter().copied().cycle().take(Self::CANARY_LEN).collect();
        self.slb_after.windows(Self::CANARY_LEN).position(|w| w == canary)
    }

    /// Bytes of SKL's stack ever written: from the lowest byte below the
    /// stack top that no longer holds the launcher's 0xA5 fill (above SKL's
    /// 32-byte canary at the stack bottom). Panics without the canary.
    pub fn stack_used(&self) -> usize {
        let bottom = self.stack_bottom().expect("SKL's stack canary") + Self::CANARY_LEN;
        let stack = &self.slb_after[bottom..bottom - Self::CANARY_LEN + Self::STACK_SIZE];
        stack.len() - stack.iter().position(|&b| b != 0xA5).unwrap_or(stack.len())
    }

    /// SKL's stack canary ("SSLK" × 8 at the stack bottom) is intact.
    pub fn stack_canary_intact(&self) -> bool {
        self.stack_bottom().is_some()
    }

    /// `len` bytes of the SLB at `offset` after the run (e.g. the SLRT of
    /// `skl-amdsl.bin`, whose bootloader-data offset is the u16 at 0x44).
    pub fn slb_bytes(&self, offset: usize, len: usize) -> &[u8] {
        &self.slb_after[offset..offset + len]
    }

    /// SKL's failure record (code, detail) at SLB + `offset`, if there is
    /// one there. [`LaunchResult::failure`] looks at the image's own
    /// bootloader-data offset (u16 at 6, or 0x44 in the AMD SL header).
    pub fn failure_at(&self, offset: usize) -> Option<(u32, u32)> {
        failure_record(self.slb_after.get(offset..)?)
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

/// A file QEMU, swtpm or the proxy must have written during the run; a
/// missing one fails the test (an empty stand-in would read as "nothing
/// happened", which some assertions expect).
fn read_run_file(path: &Path, qemu_err: &str) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{}: {e}\n--- qemu stderr ---\n{qemu_err}", path.display()))
}
