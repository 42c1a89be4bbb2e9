//! The launch after entry: validate the bootloader's data, measure the DLME,
//! say where to hand off. Hardware-free: memory and TPM come in through
//! traits, so the whole flow runs on the host.
//!
//! What is measured follows the TrenchBoot SKL that speaks SLRT-B
//! (secure-kernel-loader `main.c`, `skl_main`): PCR 17 ← the DLME entry
//! offset as 4 little-endian bytes ("DLME entry offset"), then PCR 17 ← the
//! DLME bytes ("DLME"). Everything else (MBI, modules) is the DLME's to
//! measure under the DRTM policy, as TrenchBoot Xen does. Each measurement
//! is also logged (TCG crypto-agile log at LOG_INFO), preceded by a
//! "SKINIT" event carrying the digests of the SLB image SKINIT measured.

use skl_bootinfo::addr::{PhysAddr, PhysRange, FOUR_GIB};
use skl_bootinfo::sl_header::{SlHeader, BOOTLOADER_DATA_SIZE, SLB_SIZE};
use skl_bootinfo::slrt::{Architecture, Slrt};
use zerocopy::FromBytes;

use crate::error::LaunchError;
use crate::hash::{digest_all, BankSet, DigestList, HashAlg, MAX_BANKS};
use crate::memory::PhysMemory;
use crate::tpm::tpm2::Tpm2;
use crate::tpm::{tpm12, Pcr, TpmError, TpmFamily, TpmTransport};
use skl_bootinfo::event_log::{AlgSize, LogError, Tcg2Log, Tpm12Log, EV_SLAUNCH};
use skl_bootinfo::slrt::log_format;

/// Where and how to enter the DLME.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handoff {
    /// Absolute entry address (EBX = EIP).
    pub entry: u32,
    /// SLB base (EBP, EDX).
    pub slb_base: u32,
    /// Boot parameters from DL_INFO `bl_context.context` (ESI).
    pub context: u32,
}

/// The validated facts a launch acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaunchPlan {
    pub dlme: PhysRange,
    pub entry_offset: u32,
    pub context: u32,
    pub log: Option<(PhysRange, u16)>,
}

/// Our own header, read from the measured image (trusted: SKINIT hashed it).
pub fn own_header<M: PhysMemory>(mem: &M, slb: PhysAddr) -> SlHeader {
    let r = PhysRange::new(slb, 8).and_then(|r| mem.read(r));
    // The header is part of the image that is running: always readable.
    r.and_then(|b| SlHeader::read_from_bytes(b).ok()).unwrap_or_else(|| SlHeader::read_from_bytes(&[0u8; 8]).unwrap())
}

/// The SLB as a range.
pub fn slb_range(slb: PhysAddr) -> PhysRange {
    PhysRange::new(slb, SLB_SIZE as u64).unwrap_or(PhysRange::new(PhysAddr(0), 0).unwrap())
}

/// The bootloader-data area (where the SLRT lives) of the SLB at `slb`.
pub fn bootloader_data(slb: PhysAddr, hdr: &SlHeader) -> Option<PhysRange> {
    PhysRange::new(slb.checked_add(hdr.bootloader_data.get() as u64)?, BOOTLOADER_DATA_SIZE as u64)
}

/// Check every address and size the SLRT gives against the SLB and 4 GiB.
pub fn validate(slrt: &Slrt, slb: PhysAddr, measured_size: u16) -> Result<LaunchPlan, LaunchError> {
    let dl = slrt.dl_info().ok_or(LaunchError::NoDlInfo)?;
    let slb_r = slb_range(slb);
    if dl.dce_base.get() != slb.as_u64() || dl.dce_size.get() != measured_size as u64 {
        return Err(LaunchError::DceMismatch { dce_base: dl.dce_base.get(), dce_size: dl.dce_size.get() });
    }
    let base = dl.dlme_base.get();
    let dlme = dl.dlme().ok_or(LaunchError::DlmeOverflow { base })?;
    if dlme.is_empty() {
        return Err(LaunchError::DlmeEmpty);
    }
    if !dlme.below_4g() {
        return Err(LaunchError::DlmeAbove4G { end: dlme.end() });
    }
    if dlme.overlaps(&slb_r) {
        return Err(LaunchError::DlmeOverlapsSlb { base });
    }
    let entry = dl.dlme_entry.get();
    if entry >= dlme.len() {
        return Err(LaunchError::EntryOutsideDlme { entry });
    }
    let context = dl.bl_context.context.get();
    if context == 0 || context >= FOUR_GIB || slb_r.contains(PhysAddr(context)) {
        return Err(LaunchError::BadContext { context });
    }
    let log = match slrt.log_info() {
        None => None,
        Some(li) => {
            let addr = li.addr.get();
            let r = li.range().ok_or(LaunchError::BadLogRange { addr })?;
            if r.is_empty() || !r.below_4g() || r.overlaps(&slb_r) || r.overlaps(&dlme) {
                return Err(LaunchError::BadLogRange { addr });
            }
            Some((r, li.format.get()))
        }
    };
    Ok(LaunchPlan { dlme, entry_offset: entry as u32, context: context as u32, log })
}

/// Run the launch: parse and validate, measure into every active bank of
/// PCR 17, release the locality. Returns the hand-off or why there is none.
pub fn run<M: PhysMemory, T: TpmTransport>(mem: &mut M, tpm: &mut T, slb: PhysAddr) -> Result<Handoff, LaunchError> {
    let hdr = own_header(mem, slb);
    let bl = bootloader_data(slb, &hdr).ok_or(LaunchError::NoDlInfo)?;
    let table = mem.read(bl).ok_or(LaunchError::BadContext { context: bl.start().as_u64() })?;
    let slrt = Slrt::parse(table, Architecture::AmdSkinit)?;
    let plan = validate(&slrt, slb, hdr.measured_size.get())?;
    dlog!("DLME {:?} entry +{:#x}, context {:#x}", plan.dlme, plan.entry_offset, plan.context);

    let result = measure(mem, tpm, &plan, slb, hdr.measured_size.get());
    tpm.relinquish_locality();
    result?;
    Ok(Handoff {
        entry: (plan.dlme.start().as_u64() + plan.entry_offset as u64) as u32,
        slb_base: slb.as_u64() as u32,
        context: plan.context,
    })
}

/// One DRTM measurement: what goes into the PCR and the event log.
struct Measurement {
    pcr: Pcr,
    digests: DigestList,
    event: &'static [u8],
    /// Already extended by the CPU (SKINIT): logged only.
    logged_only: bool,
}

fn measure<M: PhysMemory, T: TpmTransport>(
    mem: &mut M,
    tpm: &mut T,
    plan: &LaunchPlan,
    slb: PhysAddr,
    measured_size: u16,
) -> Result<(), LaunchError> {
    let family = tpm.family();
    let banks = match family {
        TpmFamily::Tpm20 => Tpm2::new(tpm).pcr_banks(Pcr::DRTM_CODE)?,
        TpmFamily::Tpm12 => [HashAlg::Sha1].into_iter().collect(),
    };
    dlog!("{:?}, PCR 17 banks: {:?}", family, banks);

    // Hash everything first (reads), log it (one write), then extend: a log
    // that cannot take the events stops the launch before any extend.
    let slb_image = PhysRange::new(slb, measured_size as u64).and_then(|r| mem.read(r)).unwrap_or(&[]);
    let skinit = digest_all(banks, slb_image);
    let entry = digest_all(banks, &plan.entry_offset.to_le_bytes());
    // validate() proved the DLME lies below 4 GiB, which the payload maps.
    let dlme = mem.read(plan.dlme).ok_or(LaunchError::DlmeAbove4G { end: plan.dlme.end() })?;
    let dlme = digest_all(banks, dlme);
    let steps = [
        Measurement { pcr: Pcr::DRTM_CODE, digests: skinit, event: b"SKINIT", logged_only: true },
        Measurement { pcr: Pcr::DRTM_CODE, digests: entry, event: b"DLME entry offset", logged_only: false },
        Measurement { pcr: Pcr::DRTM_CODE, digests: dlme, event: b"DLME", logged_only: false },
    ];
    if let Some((range, format)) = plan.log {
        log_events(mem, range, format, family, banks, &steps)?;
    }
    for m in steps.iter().filter(|m| !m.logged_only) {
        extend(tpm, m.pcr, &m.digests)?;
    }
    Ok(())
}

/// Extend every bank of `digests` into `pcr`: one command either way.
fn extend<T: TpmTransport>(tpm: &mut T, pcr: Pcr, digests: &DigestList) -> Result<(), TpmError> {
    match tpm.family() {
        TpmFamily::Tpm20 => Tpm2::new(tpm).pcr_extend(pcr, digests),
        TpmFamily::Tpm12 => tpm12::extend(tpm, pcr, &sha1_of(digests)).map(|_| ()),
    }
}

fn log_events<M: PhysMemory>(
    mem: &mut M,
    range: PhysRange,
    format: u16,
    family: TpmFamily,
    banks: BankSet,
    steps: &[Measurement],
) -> Result<(), LaunchError> {
    let buf = mem.write(range).ok_or(LaunchError::BadLogRange { addr: range.start().as_u64() })?;
    // A zeroed area gets a fresh header; otherwise continue the bootloader's.
    let fresh = buf.iter().take(32).all(|&b| b == 0);
    let err = |e| log_error(e, range);
    match (family, format) {
        (TpmFamily::Tpm20, log_format::TPM20_TCG) => {
            let mut algs = [AlgSize::default(); MAX_BANKS];
            for (slot, a) in algs.iter_mut().zip(banks.iter()) {
                *slot = AlgSize { alg: a.id(), size: a.digest_size() as u16 };
            }
            let algs = &algs[..banks.len()];
            let mut log =
                if fresh { Tcg2Log::init(buf, range.start().as_u64(), algs) } else { Tcg2Log::open(buf, algs) }
                    .map_err(err)?;
            for m in steps {
                let mut d: [(u16, &[u8]); MAX_BANKS] = [(0, &[]); MAX_BANKS];
                for (slot, dg) in d.iter_mut().zip(m.digests.iter()) {
                    *slot = (dg.alg().id(), dg.as_bytes());
                }
                log.append(m.pcr.0 as u32, EV_SLAUNCH, &d[..m.digests.len()], m.event).map_err(err)?;
            }
        }
        (TpmFamily::Tpm12, log_format::TPM12_TXT) => {
            let mut log = if fresh { Tpm12Log::init(buf) } else { Tpm12Log::open(buf) }.map_err(err)?;
            for m in steps {
                log.append(m.pcr.0 as u32, EV_SLAUNCH, &sha1_of(&m.digests), m.event).map_err(err)?;
            }
        }
        _ => return Err(LaunchError::LogFormat { format }),
    }
    Ok(())
}

/// The SHA-1 digest of a list (TPM 1.2 has only that bank).
fn sha1_of(digests: &DigestList) -> [u8; 20] {
    let mut sha1 = [0u8; 20];
    if let Some(d) = digests.get(HashAlg::Sha1) {
        sha1.copy_from_slice(d.as_bytes());
    }
    sha1
}

fn log_error(e: LogError, range: PhysRange) -> LaunchError {
    match e {
        LogError::Full(n) => LaunchError::LogFull { needed: n as u32 },
        _ => LaunchError::BadLogRange { addr: range.start().as_u64() },
    }
}

/// Failure record written over the start of the bootloader-data area so the
/// next stage (or a test) can tell why there was no hand-off.
pub const FAILURE_MAGIC: [u8; 8] = *b"SKLERROR";

pub fn write_failure_record<M: PhysMemory>(mem: &mut M, slb: PhysAddr, err: &LaunchError) {
    let hdr = own_header(mem, slb);
    let rec = bootloader_data(slb, &hdr).and_then(|r| PhysRange::new(r.start(), 16));
    if let Some(b) = rec.and_then(|r| mem.write(r)) {
        b[..8].copy_from_slice(&FAILURE_MAGIC);
        b[8..12].copy_from_slice(&(err.code() as u32).to_le_bytes());
        b[12..16].copy_from_slice(&err.detail().to_le_bytes());
    }
}

#[cfg(test)]
mod tests;
