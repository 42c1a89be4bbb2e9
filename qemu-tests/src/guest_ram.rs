//! Guest RAM (a file shared with QEMU) and what the launcher and SKL leave
//! in it: the launcher's placement record ([`Plan`]), the MBI, the SLRT,
//! the event log.

use std::fs;
use std::io::Read;
use std::path::Path;

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
    pub(crate) fn parse(b: &[u8]) -> Option<Plan> {
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
pub(crate) fn mbi_of_plan(ram_path: &Path, p: &Plan) -> Option<Vec<u8>> {
    if p.mbi_size == 0 {
        return None;
    }
    let total = u32::from_le_bytes(read_at(ram_path, p.mbi_addr as u64, 4).try_into().unwrap());
    Some(read_at(ram_path, p.mbi_addr as u64, total.min(0x1_0000) as usize))
}

/// The launcher's placement record: guest address and length.
pub(crate) const PLAN_AT: u64 = 0x50_0800;
pub(crate) const PLAN_LEN: usize = 13 * 4 + 2 * 4 * 16;

/// The launcher's copy of the MBI as it built it (before SKL's edit).
pub(crate) fn mbi_as_built(ram_path: &Path, p: &Plan) -> Option<Vec<u8>> {
    (p.mbi_copy != 0).then(|| read_at(ram_path, p.mbi_copy as u64, p.mbi_size as usize))
}

/// What the launcher and SKL left in guest RAM, read when the kernel first
/// writes to COM1: Debian's Xen takes its memory map from the BIOS, not the
/// MBI, and scrubs or reuses the SLB, the log and the MBI later.
pub(crate) struct AtKernelStart {
    pub(crate) plan: Plan,
    pub(crate) mbi: Option<Vec<u8>>,
    pub(crate) mbi_as_built: Option<Vec<u8>>,
    pub(crate) slrt: Vec<u8>,
    pub(crate) log: Vec<u8>,
}

impl AtKernelStart {
    pub(crate) fn read(ram_path: &Path, slrt_offset: u64) -> Option<AtKernelStart> {
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

/// `len` bytes of a file at `at` (guest RAM is a 1 GiB file: read what is
/// needed). A missing file or one that ends before `at + len` fails the
/// test: zeros in its place would pass every `== 0` check.
pub(crate) fn read_at(path: &Path, at: u64, len: usize) -> Vec<u8> {
    use std::io::{Seek, SeekFrom};
    let mut buf = vec![0; len];
    let mut f = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    f.seek(SeekFrom::Start(at))
        .and_then(|_| f.read_exact(&mut buf))
        .unwrap_or_else(|e| panic!("{}: {len} bytes at {at:#x}: {e}", path.display()));
    buf
}

/// The launcher's and SKL's records as the tests see them: read when the
/// kernel started ([`AtKernelStart`]), else from guest RAM after the run.
pub(crate) struct Records {
    pub(crate) plan: Option<Plan>,
    pub(crate) mbi_as_built: Option<Vec<u8>>,
    /// The plan's SLB base, else the launch's fixed one, else 0.
    pub(crate) slb_base: u32,
    /// The SLB's 4 KiB bootloader-data area (SLRT or SKL's failure record).
    pub(crate) slrt: Vec<u8>,
    pub(crate) log: Vec<u8>,
    /// The MBI the kernel reported, else the one the launcher built.
    pub(crate) mbi: Option<Vec<u8>>,
}

impl Records {
    /// `slb_base`: the launch's fixed base (for a run that ended before the
    /// launcher wrote its plan); `slrt_offset`: the SLB header's
    /// bootloader-data offset; `reported_mbi`: (address, size) of the MBI
    /// the test kernel reported, read now at that size (Multiboot2-mode SKL
    /// edits the memory map).
    pub(crate) fn read(
        ram_path: &Path,
        at_start: Option<AtKernelStart>,
        slb_base: Option<u32>,
        slrt_offset: u64,
        reported_mbi: Option<(u32, u32)>,
    ) -> Records {
        let ram = |at: u64, len: usize| read_at(ram_path, at, len);
        let reported = reported_mbi.map(|(a, n)| ram(a as u64, n as usize));
        if let Some(k) = at_start {
            return Records {
                slb_base: k.plan.slb_base,
                plan: Some(k.plan),
                mbi_as_built: k.mbi_as_built,
                slrt: k.slrt,
                log: k.log,
                mbi: reported.or(k.mbi),
            };
        }
        let plan = Plan::parse(&ram(PLAN_AT, PLAN_LEN));
        let slb_base = plan.as_ref().map(|p| p.slb_base).or(slb_base).unwrap_or(0);
        Records {
            mbi_as_built: plan.as_ref().and_then(|p| mbi_as_built(ram_path, p)),
            slb_base,
            slrt: ram(slb_base as u64 + slrt_offset, 4096),
            log: plan.as_ref().map_or_else(Vec::new, |p| ram(p.log_addr as u64, p.log_size as usize)),
            mbi: reported.or_else(|| plan.as_ref().and_then(|p| mbi_of_plan(ram_path, p))),
            plan,
        }
    }
}
