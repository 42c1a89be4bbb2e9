//! Intel TXT: what the MLE checks after GETSEC[SENTER] before it trusts the
//! platform, and the TXT reset path every failure takes. Hardware-free: the
//! TXT registers come in through [`TxtRegs`], the heap as bytes parsed by
//! `skl_bootinfo::txt`; host-tested against a register file and built heaps.
//!
//! Order and checks follow the Intel TXT Software Development Guide's MLE
//! launch listing merged with tboot `txt_post_launch`, Linux Secure Launch
//! `sl_main.c`/`slaunch.c` and TrenchBoot Xen (`docs/design.md`, "Intel
//! TXT", names the revisions): status, error code, heap,
//! DMA protection (PMRs, MDRs), saved MTRRs. [`mle`] runs them in order for
//! `skl-txt.bin`.

use skl_bootinfo::slrt::IntelInfo;
use skl_bootinfo::txt::regs::{DidVid, ErrorCode, Sts, INTEL_VID};
use skl_bootinfo::txt::{TxtHeap, TxtHeapError, TxtReg};
use skl_bootinfo::{PhysAddr, PhysRange};

pub mod mle;
#[cfg(test)]
mod tests;

/// The TXT configuration registers (private space after a launch).
pub trait TxtRegs {
    fn read(&mut self, reg: TxtReg) -> u64;
    fn write(&mut self, reg: TxtReg, v: u64);
}

/// Why the MLE refuses the launch: launch error 0x70xx, ERRORCODE
/// 0xC000F0xx (see [`reset`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxtError {
    /// STS: SENTER.DONE clear or SEXIT.DONE set.
    NotLaunched { sts: u64 },
    /// DIDVID vendor is not Intel: private space is not open.
    PrivateSpaceClosed { didvid: u64 },
    /// ERRORCODE is not SINIT's success value.
    SinitError { code: u32 },
    /// HEAP.BASE/SIZE zero, overflowing or above 4 GiB.
    HeapRange { base: u64, size: u64 },
    /// A heap table failed validation.
    Heap(TxtHeapError),
    /// PmrLowBase not 0, PmrLowSize 0, or the high PMR below 4 GiB /
    /// overlapping the low one.
    PmrLayout { base: u64, size: u64 },
    /// A region the MLE trusts is not inside a PMR (or straddles 4 GiB).
    NotDmaProtected { addr: u64 },
    /// A region the MLE trusts is not in usable memory of SINIT's MDRs.
    NotInMdr { addr: u64 },
    /// Saved MTRR state refused (count, mask, type, or the TXT space not UC).
    Mtrr { index: u32 },
    /// OsSinitData's MleSize / MleHeaderBase are not this MLE's.
    MleMismatch { size: u64, header: u64 },
    /// The MLE page table does not map the measured linear page to where
    /// this MLE runs (or is malformed there).
    MlePlacement { linear: u64 },
    /// No usable event-log element in OsSinitData (or its range overflows).
    EventLog { addr: u64 },
    /// OsMleData.slrt does not lead to an SLRT with INTEL_INFO.
    Slrt { addr: u64 },
    /// APs exist but SINIT did not negotiate MONITOR wake-up, or its
    /// MONITOR line would not be write-back after the MTRR restore.
    RlpWakeup { caps: u32 },
    /// GETSEC is not available: this is not a post-SENTER CPU.
    NoSmx,
    /// The saved IA32_MISC_ENABLE changes bits SENTER does not, or turns
    /// NX off.
    MiscEnable { saved: u64 },
}

impl TxtError {
    /// The MLE error number, written as ERRORCODE 0xC0008000 | code.
    pub fn code(&self) -> u16 {
        match self {
            TxtError::NotLaunched { .. } => 0x01,
            TxtError::PrivateSpaceClosed { .. } => 0x02,
            TxtError::SinitError { .. } => 0x03,
            TxtError::HeapRange { .. } => 0x04,
            TxtError::Heap(_) => 0x05,
            TxtError::PmrLayout { .. } => 0x06,
            TxtError::NotDmaProtected { .. } => 0x07,
            TxtError::NotInMdr { .. } => 0x08,
            TxtError::Mtrr { .. } => 0x09,
            TxtError::MleMismatch { .. } => 0x0A,
            TxtError::MlePlacement { .. } => 0x0B,
            TxtError::EventLog { .. } => 0x0C,
            TxtError::Slrt { .. } => 0x0D,
            TxtError::RlpWakeup { .. } => 0x0E,
            TxtError::NoSmx => 0x0F,
            TxtError::MiscEnable { .. } => 0x10,
        }
    }
    /// The offending value for the failure record and the debug log.
    pub fn detail(&self) -> u32 {
        match *self {
            TxtError::NotLaunched { sts } => sts as u32,
            TxtError::PrivateSpaceClosed { didvid } => didvid as u32,
            TxtError::SinitError { code } => code,
            TxtError::HeapRange { base, .. } => base as u32,
            TxtError::Heap(_) => 0,
            TxtError::PmrLayout { base, .. } => base as u32,
            TxtError::NotDmaProtected { addr }
            | TxtError::NotInMdr { addr }
            | TxtError::EventLog { addr }
            | TxtError::Slrt { addr } => addr as u32,
            TxtError::Mtrr { index } => index,
            TxtError::MleMismatch { size, .. } => size as u32,
            TxtError::MlePlacement { linear } => linear as u32,
            TxtError::RlpWakeup { caps } => caps,
            TxtError::NoSmx => 0,
            TxtError::MiscEnable { saved } => saved as u32,
        }
    }
}

/// Step 4 of §4.2: the launch happened, private space is open, SINIT
/// reported success; then clear ERRORCODE and ESTS as tboot and Linux do.
pub fn check_status<R: TxtRegs>(r: &mut R) -> Result<(), TxtError> {
    let sts = r.read(TxtReg::STS);
    if !Sts(sts).launched() {
        return Err(TxtError::NotLaunched { sts });
    }
    let didvid = r.read(TxtReg::DIDVID);
    if DidVid::from_reg(didvid).vid != INTEL_VID {
        return Err(TxtError::PrivateSpaceClosed { didvid });
    }
    let code = ErrorCode::from_reg(r.read(TxtReg::ERRORCODE));
    if !code.is_sinit_success() {
        return Err(TxtError::SinitError { code: code.0 });
    }
    r.write(TxtReg::ERRORCODE, 0);
    r.write(TxtReg::ESTS, u64::MAX);
    Ok(())
}

/// HEAP.BASE/SIZE as a range below 4 GiB (the MLE maps only that).
pub fn heap_range<R: TxtRegs>(r: &mut R) -> Result<PhysRange, TxtError> {
    let (base, size) = (r.read(TxtReg::HEAP_BASE), r.read(TxtReg::HEAP_SIZE));
    let bad = TxtError::HeapRange { base, size };
    let range = PhysRange::new(PhysAddr(base), size).ok_or(bad)?;
    if base == 0 || size == 0 || !range.below_4g() {
        return Err(bad);
    }
    Ok(range)
}

/// Step 6 of §4.2: the PMR layout everyone requires: PmrLowBase 0 and a
/// non-zero low PMR within 4 GiB; a high PMR, if any, at or above 4 GiB.
/// What lies inside them is [`mle::check_protected`]'s question.
pub fn check_pmr_layout(heap: &TxtHeap) -> Result<(), TxtError> {
    let os = heap.os_sinit_data();
    let (lo_base, lo_size) = (os.vtd_pmr_lo_base.get(), os.vtd_pmr_lo_size.get());
    if lo_base != 0 || lo_size == 0 || lo_size > 1 << 32 {
        return Err(TxtError::PmrLayout { base: lo_base, size: lo_size });
    }
    let (hi_base, hi_size) = (os.vtd_pmr_hi_base.get(), os.vtd_pmr_hi_size.get());
    if hi_size != 0 && (hi_base < 1 << 32 || os.pmr_high().is_none()) {
        return Err(TxtError::PmrLayout { base: hi_base, size: hi_size });
    }
    Ok(())
}

/// MTRR memory types a variable MTRR may hold (SDM vol. 3 §12.11.4).
const MTRR_TYPES: [u64; 5] = [0, 1, 4, 5, 6];
const MTRR_VALID: u64 = 1 << 11;
/// The TXT device space that must stay uncacheable (§4.2 step 10).
const TXT_SPACE: (u64, u64) = (0xFED2_0000, 0xFED5_0000);

/// Step 10's validation of the MTRR state the loader saved in the SLRT
/// INTEL_INFO entry, before it is restored: count within the CPU's
/// (`mtrr_cap_vcnt`, IA32_MTRRCAP[7:0]) and 32, valid types, masks
/// contiguous and within MAXPHYADDR, and no write-back or write-combining
/// range over the TXT device space.
pub fn check_saved_mtrrs(info: &IntelInfo, mtrr_cap_vcnt: u32, maxphyaddr: u32) -> Result<(), TxtError> {
    let vcnt = info.mtrr_vcnt.get();
    if vcnt > mtrr_cap_vcnt as u64 || vcnt > 32 {
        return Err(TxtError::Mtrr { index: vcnt as u32 });
    }
    if !MTRR_TYPES.contains(&(info.default_mem_type.get() & 0xFF)) {
        return Err(TxtError::Mtrr { index: u32::MAX });
    }
    let phys_mask = (1u64 << maxphyaddr.clamp(36, 52)) - 1;
    for (i, p) in info.mtrr_pairs[..vcnt as usize].iter().enumerate() {
        let (base, mask) = (p.base.get(), p.mask.get());
        if mask & MTRR_VALID == 0 {
            continue;
        }
        let ty = base & 0xFF;
        let m = mask & !0xFFF;
        // Reserved bits clear, the mask a contiguous run of ones from
        // MAXPHYADDR down (a hole would map aliases), a known type.
        let reserved = (base & !phys_mask & !0xFFF) | (base & 0xF00) | (mask & !phys_mask & !0xFFF) | (mask & 0x7FF);
        let contiguous = m != 0 && ((!m & phys_mask) + 1).is_power_of_two() && m & !phys_mask == 0;
        if reserved != 0 || !contiguous || !MTRR_TYPES.contains(&ty) {
            return Err(TxtError::Mtrr { index: i as u32 });
        }
    }
    // The TXT device space must be uncacheable page by page.
    for page in (TXT_SPACE.0..TXT_SPACE.1).step_by(0x1000) {
        if effective_mtrr_type(info, maxphyaddr, page) != 0 {
            return Err(TxtError::Mtrr { index: (page >> 12) as u32 });
        }
    }
    Ok(())
}

/// Write-back memory type.
pub const MTRR_WB: u64 = 6;

/// The memory type the saved MTRRs give `addr` (SDM vol. 3 §12.11.4.1: UC
/// wins over everything, else the covering type, else the default).
/// Overlaps of other types are refused by no one and resolved here as the
/// last match (the SDM calls them undefined; nothing here relies on them).
pub fn effective_mtrr_type(info: &IntelInfo, maxphyaddr: u32, addr: u64) -> u64 {
    let phys_mask = (1u64 << maxphyaddr.clamp(36, 52)) - 1;
    let vcnt = (info.mtrr_vcnt.get() as usize).min(info.mtrr_pairs.len());
    let mut ty = None;
    for p in info.mtrr_pairs[..vcnt].iter().filter(|p| p.mask.get() & MTRR_VALID != 0) {
        let m = p.mask.get() & phys_mask & !0xFFF;
        if addr & m == p.base.get() & m {
            ty = Some(if ty == Some(0) { 0 } else { p.base.get() & 0xFF });
        }
    }
    ty.unwrap_or(info.default_mem_type.get() & 0xFF)
}

/// Every failure (§2 step 8): ERRORCODE ← 0xC0008000 | launch error code
/// (`docs/launch-errors.md`: TXT checks 0x70xx → 0xC000F0xx, shared launch
/// errors 0x1xxx–0x6xxx → 0xC0009xxx–0xC000Exxx, 0xFFFE/0xFFFF → 0xC000FFFE/F),
/// then NO-SECRETS, UNLOCK-MEM-CONFIG and SYS_RESET, each followed by a
/// status read as the fence the SDG asks for. The caller halts if the reset
/// does not happen.
pub fn reset<R: TxtRegs>(r: &mut R, launch_code: u16) {
    r.write(TxtReg::ERRORCODE, ErrorCode::mle(launch_code).0 as u64);
    let _ = r.read(TxtReg::ESTS);
    for cmd in [TxtReg::CMD_NO_SECRETS, TxtReg::CMD_UNLOCK_MEM_CONFIG, TxtReg::CMD_SYS_RESET] {
        r.write(cmd, 1);
        let _ = r.read(TxtReg::ESTS);
    }
}
