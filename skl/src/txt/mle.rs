//! The MLE's own post-SENTER sequence (`skl-txt.bin`), up to the point where
//! the launch is the same as after SKINIT: which registers, heap tables and
//! CPU state are checked, in which order, and what [`Dce`] the shared
//! launch ([`crate::launch::run_after_entry`]) then runs with.
//!
//! Order (`txt-mle.md` §4.2, SDG Listing 7 merged with tboot
//! `txt_post_launch` and Linux `sl_main.c`): TXT status and error code →
//! heap bounds and tables → the MLE SINIT measured is the one running
//! (size, header, page table) → event log element → DMA protection of
//! everything the MLE owns → saved MTRRs validated → GETSEC[SMCTRL] →
//! MTRRs and IA32_MISC_ENABLE restored. TPM, measurement and hand-off
//! follow in the shared code; [`finish`] sets TXT.CMD.SECRETS last.
//!
//! Application processors stay in the SENTER sleep SINIT left them in: the
//! kernel wakes them (TrenchBoot Xen's `wake_aps_in_txt` writes MLE.JOIN
//! and RlpWakeupAddr; Linux does the same from its own MLE stub). For that
//! wake-up to work after the MTRR restore the RLP MONITOR line must be
//! write-back under the restored MTRRs (SDG §2.3), which is checked here.

use skl_bootinfo::sl_header::Generation;
use skl_bootinfo::slrt::{log_format, Architecture, IntelInfo, Slrt};
use skl_bootinfo::txt::heap::{mdrs_cover, Mdr, OsSinitData};
use skl_bootinfo::txt::{caps, TxtHeap, TxtReg};
use skl_bootinfo::{PhysAddr, PhysRange};
use zerocopy::FromBytes;

use super::{check_saved_mtrrs, check_status, effective_mtrr_type, heap_range, TxtError, TxtRegs, MTRR_WB};
use crate::error::LaunchError;
use crate::launch::{Dce, DmaGuard, EventLog};
use crate::memory::PhysMemory;

/// The CPU operations the MLE needs (`hw::txt_cpu` on hardware).
pub trait TxtCpu {
    /// IA32_MTRRCAP[7:0]: variable MTRR pairs.
    fn mtrr_cap_vcnt(&mut self) -> u32;
    /// CPUID 80000008h EAX[7:0].
    fn maxphyaddr(&mut self) -> u32;
    /// GETSEC[SMCTRL]: SMIs back on. `false` if the CPU has no SMX.
    fn smctrl(&mut self) -> bool;
    /// IA32_MISC_ENABLE as it is now.
    fn misc_enable(&mut self) -> u64;
    /// Write the saved variable MTRRs, MTRRdefType and IA32_MISC_ENABLE
    /// (SDM vol. 3 §12.11.7.2 sequence); pairs past the saved count are
    /// disabled, so nothing of the loader's ACM setup stays in force.
    fn restore(&mut self, info: &IntelInfo);
}

/// The bits of IA32_MISC_ENABLE GETSEC[SENTER] changes: it keeps
/// `old & 0xFFF37CEA` of the low half, sets bit 3 and sets bit 18 when
/// MONITOR wake-up was chosen (Intel TXT MLE Developer's Guide, MLE entry
/// state). Restoring may change these and nothing else of the low half.
pub const MISC_ENABLE_SENTER_BITS: u64 = !0xFFF3_7CEA & 0xFFFF_FFFF | 1 << 3;
/// IA32_MISC_ENABLE bit 34, XD Bit Disable: set, it turns NX off.
pub const MISC_ENABLE_XD_DISABLE: u64 = 1 << 34;

/// The loader's saved IA32_MISC_ENABLE (INTEL_INFO, not measured before
/// this point) may only undo what SENTER changed, and never switch NX off.
pub fn check_misc_enable(saved: u64, live: u64) -> Result<(), TxtError> {
    let changed = saved ^ live;
    let low_outside = changed & 0xFFFF_FFFF & !MISC_ENABLE_SENTER_BITS;
    if low_outside != 0 || (saved & !live & MISC_ENABLE_XD_DISABLE) != 0 {
        return Err(TxtError::MiscEnable { saved });
    }
    Ok(())
}

/// The running MLE: where it is and what SINIT should have measured.
#[derive(Clone, Copy, Debug)]
pub struct Mle {
    /// Physical base (EBX at entry − entry offset).
    pub base: PhysAddr,
    /// Bytes of the image SINIT must have hashed (header word 1).
    pub measured: u64,
    /// Offset of the MLE header (linear address: linear 0 is the base).
    pub header: u64,
    /// The MLE's whole 64 KiB: image, stack, page tables.
    pub footprint: u64,
}

/// PAE entry address bits 51:12.
const PAE_ADDR: u64 = 0x000F_FFFF_FFFF_F000;

/// SINIT hashed the MLE through the page table the loader built
/// (OsSinitData.MlePageTableBase, PAE, 4 KiB pages, linear 0 = first MLE
/// byte); that table, not this code, decided which bytes went into PCR 17.
/// Walk it and require that linear page n maps `base + n × 4 KiB` for every
/// measured page: the code running is the code measured (tboot checks the
/// last page and EBX, Linux derives its base from the first PTE; this walks
/// them all).
pub fn check_mle_pages<M: PhysMemory>(mem: &M, pdpt: u64, mle: &Mle) -> Result<(), TxtError> {
    for lin in (0..mle.measured).step_by(4096) {
        let bad = TxtError::MlePlacement { linear: lin };
        let present = |e: Option<u64>| e.filter(|e| e & 1 == 1).ok_or(bad);
        let entry = |table: u64, index: u64| mem.read_u64(PhysAddr(table.checked_add(index * 8)?));
        let pdpte = present(entry(pdpt, lin >> 30))?;
        let pde = present(entry(pdpte & PAE_ADDR, (lin >> 21) & 511))?;
        if pde & (1 << 7) != 0 {
            return Err(bad); // large page: SDG §2.2.4.1 allows 4 KiB pages only
        }
        let pte = present(entry(pde & PAE_ADDR, (lin >> 12) & 511))?;
        if pte & PAE_ADDR != mle.base.as_u64() + lin {
            return Err(bad);
        }
    }
    Ok(())
}

/// A range the MLE trusts is DMA-protected: inside the TXT heap (DPR) or
/// inside a PMR and in usable SINIT memory (MDR type 0).
pub fn check_protected(heap: &TxtHeap, heap_r: &PhysRange, r: &PhysRange) -> Result<(), TxtError> {
    HeapGuard::new(heap, *heap_r).protects(heap.mdr_table(), r)
}

/// Intel TXT's [`DmaGuard`]: the DMA protection SINIT reports in the TXT
/// heap, taken from it once, when [`prepare`] has parsed it: the heap's own
/// range (DPR-protected), OsSinitData's PMRs, and where SINIT's MDR table
/// lies in the heap. The MLE writes nothing of the heap but the event-log
/// element's next-record offset, so these stay what SINIT wrote; a check
/// reads the MDR table back as records and keeps no borrow of memory
/// across the launch.
pub struct HeapGuard {
    /// The TXT heap (HEAP.BASE, HEAP.SIZE).
    pub heap: PhysRange,
    /// Its PMR fields.
    os_sinit: OsSinitData,
    /// SINIT's MDR table, in the heap (empty before SinitMleData v7).
    mdr_table: PhysRange,
}

impl HeapGuard {
    /// The protection `heap`, parsed from `heap_r`, describes.
    pub fn new(heap: &TxtHeap, heap_r: PhysRange) -> Self {
        let table = heap.mdr_table();
        let at = heap_r.start().checked_add(heap.mdr_table_offset().unwrap_or(0) as u64);
        let mdr_table = at.and_then(|a| PhysRange::new(a, size_of_val(table) as u64)).unwrap_or(PhysRange::EMPTY);
        HeapGuard { heap: heap_r, os_sinit: *heap.os_sinit_data(), mdr_table }
    }

    /// `r` lies inside the heap, or inside a PMR and in usable memory of
    /// `mdrs` (SINIT's MDR table).
    fn protects(&self, mdrs: &[Mdr], r: &PhysRange) -> Result<(), TxtError> {
        if self.heap.contains_range(r) {
            return Ok(());
        }
        if !self.os_sinit.pmr_covers(r) {
            return Err(TxtError::NotDmaProtected { addr: r.start().as_u64() });
        }
        if !mdrs_cover(mdrs, r) {
            return Err(TxtError::NotInMdr { addr: r.start().as_u64() });
        }
        Ok(())
    }
}

#[cfg(test)]
impl HeapGuard {
    /// A guard for `heap` and no PMR: nothing outside the heap is
    /// protected (tests that need only the heap's range).
    pub(crate) fn heap_only(heap: PhysRange) -> Self {
        use zerocopy::FromZeros;
        HeapGuard { heap, os_sinit: OsSinitData::new_zeroed(), mdr_table: PhysRange::EMPTY }
    }
}

impl DmaGuard for HeapGuard {
    fn check<M: PhysMemory>(&self, mem: &M, r: &PhysRange) -> Result<(), LaunchError> {
        let t = self.mdr_table;
        let unreadable = TxtError::HeapRange { base: t.start().as_u64(), size: t.len() };
        let mdrs = match t.is_empty() {
            true => &[][..],
            false => mem.read(t).and_then(|b| <[Mdr]>::ref_from_bytes(b).ok()).ok_or(unreadable)?,
        };
        Ok(self.protects(mdrs, r)?)
    }
}

/// The TXT event log SINIT started: the TCG-format log of the type-8
/// element (TPM 2.0) or the TPM 1.2 container of the type-5 element.
fn event_log<M: PhysMemory>(mem: &M, heap: &TxtHeap, heap_r: &PhysRange) -> Result<(EventLog, bool), TxtError> {
    if let (Some(p), Some(off)) = (heap.event_log_ptr21(), heap.event_log_ptr21_offset()) {
        let range = p.range().ok_or(TxtError::EventLog { addr: p.phys_addr.get() })?;
        let next_record_at = heap_r.start().checked_add(off as u64 + 16);
        return Ok((EventLog { range, format: log_format::TPM20_TCG, next_record_at }, true));
    }
    if let Some(p) = heap.event_log_ptr12() {
        let addr = p.event_log_phys_addr.get();
        // The container states its own size (TXT Event Container header +36).
        let size = PhysAddr(addr).checked_add(36).and_then(|a| mem.read_u32(a));
        let range = size.and_then(|s| PhysRange::new(PhysAddr(addr), s as u64)).ok_or(TxtError::EventLog { addr })?;
        return Ok((EventLog { range, format: log_format::TPM12_TXT, next_record_at: None }, false));
    }
    Err(TxtError::EventLog { addr: 0 })
}

/// Everything between SENTER and the shared launch. On success the CPU has
/// its MTRRs back and SMIs enabled, and the returned [`Dce`] describes
/// what the shared launch validates against.
pub fn prepare<M: PhysMemory, R: TxtRegs, C: TxtCpu>(
    mem: &M,
    regs: &mut R,
    cpu: &mut C,
    mle: &Mle,
) -> Result<Dce<HeapGuard>, LaunchError> {
    check_status(regs)?;
    let heap_r = heap_range(regs)?;
    let bytes = mem.read(heap_r).ok_or(TxtError::HeapRange { base: heap_r.start().as_u64(), size: heap_r.len() })?;
    let heap = TxtHeap::parse(bytes).map_err(TxtError::Heap)?;

    // SINIT measured MleSize bytes from the header it was told about,
    // through the loader's page table: all three must describe us.
    let os = heap.os_sinit_data();
    if os.mle_size.get() != mle.measured || os.mle_hdr_base.get() != mle.header {
        return Err(TxtError::MleMismatch { size: os.mle_size.get(), header: os.mle_hdr_base.get() }.into());
    }
    check_mle_pages(mem, os.mle_ptab.get(), mle)?;

    let (log, tpm20) = event_log(mem, &heap, &heap_r)?;
    if tpm20 {
        heap.check_tpm20().map_err(TxtError::Heap)?;
    }
    super::check_pmr_layout(&heap)?;

    // The SLRT the loader handed over (OsMleData.slrt), bounded by its own
    // header's size, and the MLE's 64 KiB: both DMA-protected.
    let slrt_addr = heap.os_mle_data().slrt.get() as u64;
    let slrt_size = PhysAddr(slrt_addr).checked_add(8).and_then(|a| mem.read_u32(a));
    let slrt = slrt_size
        .and_then(|s| PhysRange::new(PhysAddr(slrt_addr), s as u64))
        .ok_or(TxtError::Slrt { addr: slrt_addr })?;
    let own = PhysRange::new(mle.base, mle.footprint).ok_or(TxtError::MlePlacement { linear: 0 })?;
    let guard = HeapGuard::new(&heap, heap_r);
    for r in [own, slrt] {
        guard.protects(heap.mdr_table(), &r)?;
    }
    if slrt.overlaps(&own) {
        return Err(TxtError::Slrt { addr: slrt_addr }.into());
    }

    // Saved MTRRs from INTEL_INFO, checked before anything is restored.
    let table = mem.read(slrt).ok_or(TxtError::Slrt { addr: slrt_addr })?;
    let info = *Slrt::parse(table, Architecture::IntelTxt)?.intel_info().ok_or(TxtError::Slrt { addr: slrt_addr })?;
    let maxphyaddr = cpu.maxphyaddr();
    check_saved_mtrrs(&info, cpu.mtrr_cap_vcnt(), maxphyaddr)?;

    // The kernel wakes the RLPs by MONITOR after this restore: SINIT must
    // have negotiated that method and its line must stay write-back.
    if heap.bios_data().num_log_procs.get() > 1 {
        let caps_v = os.capabilities.get();
        let line = heap.rlp_wakeup_addr().unwrap_or(0) as u64;
        if caps_v & caps::RLP_WAKE_MONITOR == 0 || line == 0 {
            return Err(TxtError::RlpWakeup { caps: caps_v }.into());
        }
        if effective_mtrr_type(&info, maxphyaddr, line) != MTRR_WB {
            return Err(TxtError::RlpWakeup { caps: caps_v }.into());
        }
    }

    check_misc_enable(info.saved_misc_enable_msr.get(), cpu.misc_enable())?;
    if !cpu.smctrl() {
        return Err(TxtError::NoSmx.into());
    }
    cpu.restore(&info);

    let (dce_base, dce_size) = (regs.read(TxtReg::SINIT_BASE), regs.read(TxtReg::SINIT_SIZE));
    Ok(Dce {
        own,
        dce_base,
        dce_size,
        slrt,
        arch: Architecture::IntelTxt,
        dce_image: None,
        log: Some(log),
        guard,
        generation: Generation::Qubes423,
    })
}

/// Just before the hand-off: tell the chipset secrets may now be in memory
/// (TXT.CMD.SECRETS, then a status read as the fence; SDG §2.4.3). From
/// here an unclean reset scrubs memory.
pub fn finish<R: TxtRegs>(regs: &mut R) {
    regs.write(TxtReg::CMD_SECRETS, 1);
    let _ = regs.read(TxtReg::E2STS);
}
