//! Multiboot2 mode: SKL applies the SLRT's DRTM policy itself, for a kernel
//! that has no Secure Launch support of its own.
//!
//! Policy semantics follow TrenchBoot Xen `aem-staging-14-10-24-rebase`
//! (`xen/arch/x86/tpm.c`, `tpm_process_drtm_policy`): every Multiboot2
//! module must appear exactly once with matching start and size; entries are
//! measured in table order into their PCR with event type 0x502 and the
//! entry's `evt_info` as event data. Stricter than Xen, because nothing runs
//! after SKL to catch a mistake: only PCR 17/18 (the DRTM PCRs a locality-2
//! loader owns), only entity types that exist in a Multiboot2 launch, and
//! the SLRT entry must be present so the policy itself is measured.

use core::mem::size_of;
use skl_bootinfo::addr::{PhysAddr, PhysRange};
use skl_bootinfo::multiboot2::Mbi;

use skl_bootinfo::slrt::{entity, policy_flags, PolicyEntry, Slrt};
use zerocopy::FromBytes;

use super::{extend, log_events, LaunchPlan, LogRoom, LogStart, Measurement};
use crate::error::LaunchError;
use crate::hash::{digest_all, BankSet};
use crate::memory::PhysMemory;
use crate::tpm::{Pcr, TpmTransport};

/// Proof that the policy was checked against the MBI, and where its
/// entries lie, so that measuring it parses nothing again.
#[derive(Clone, Copy, Debug)]
pub struct PolicyWork {
    /// Offset of the first entry in the SLRT area, and how many there are.
    first: usize,
    entries: usize,
    /// The SLRT's size (what its own policy entry measures).
    slrt_size: u32,
    /// What the policy's events will take in the log.
    pub log_room: LogRoom,
}

/// The bytes an entry names, once `target` has accepted it (`None`: an
/// unused slot). The MBI is `mbi_r`: at measure time the MBI as grown by the
/// reservation of SKL's memory (`reserve_for_kernel`).
fn range_of(e: &PolicyEntry, mbi_r: PhysRange, slrt_r: PhysRange) -> Option<PhysRange> {
    match e.entity_type.get() {
        entity::MULTIBOOT2_INFO => Some(mbi_r),
        entity::SLRT => Some(slrt_r),
        entity::MULTIBOOT2_MODULE => PhysRange::new(PhysAddr(e.entity.get()), e.size.get()),
        _ => None,
    }
}

/// The memory an entry names, or why it is refused.
/// `mbi_r` is the MBI as it will be measured; `mbi_len` its size as the
/// bootloader wrote it, which the policy entry names.
fn target(
    e: &PolicyEntry,
    mbi: &Mbi,
    (mbi_r, mbi_len): (PhysRange, u64),
    slrt_addr: PhysAddr,
    slrt_size: u32,
) -> Result<Option<PhysRange>, LaunchError> {
    let implicit = e.flags.get() & policy_flags::IMPLICIT_SIZE != 0;
    let (ent, size) = (e.entity.get(), e.size.get());
    let mismatch = LaunchError::PolicyMismatch { entity: ent };
    match e.entity_type.get() {
        entity::UNUSED => Ok(None),
        entity::MULTIBOOT2_INFO => {
            if ent != mbi_r.start().as_u64() || !(implicit || size == mbi_len) {
                return Err(mismatch);
            }
            Ok(range_of(e, mbi_r, PhysRange::EMPTY))
        }
        entity::SLRT => {
            if ent != slrt_addr.as_u64() || !(implicit || size == slrt_size as u64) {
                return Err(mismatch);
            }
            Ok(PhysRange::new(slrt_addr, slrt_size as u64).and_then(|r| range_of(e, mbi_r, r)))
        }
        entity::MULTIBOOT2_MODULE => {
            let matches = mbi.modules().any(|m| m.start as u64 == ent && (m.end - m.start) as u64 == size);
            if !matches || implicit {
                return Err(mismatch);
            }
            Ok(range_of(e, mbi_r, PhysRange::EMPTY))
        }
        t => Err(LaunchError::PolicyEntity { entity_type: t }),
    }
}

fn read_mbi<M: PhysMemory>(mem: &M, mbi_r: PhysRange) -> Result<Mbi<'_>, LaunchError> {
    let b = mem.read(mbi_r).ok_or(LaunchError::NoMbi)?;
    Mbi::parse(b).map_err(LaunchError::Mbi)
}

/// Check the policy before anything is measured: every entry names an
/// object of the launch, and every byte it names is readable now.
pub fn plan<M: PhysMemory>(
    mem: &M,
    slrt: &Slrt,
    slrt_addr: PhysAddr,
    launch: &LaunchPlan,
) -> Result<PolicyWork, LaunchError> {
    let mbi_r = launch.mbi.ok_or(LaunchError::NoMbi)?;
    let mbi = read_mbi(mem, mbi_r)?;
    let mut saw_mbi = false;
    let mut saw_slrt = false;
    let first = slrt.policy_entry_offset(0).unwrap_or(0);
    let mut work = PolicyWork { first, entries: 0, slrt_size: slrt.size(), log_room: LogRoom::default() };
    for e in slrt.policy_entries() {
        work.entries += 1;
        let Some(t) = target(e, &mbi, (mbi_r, launch.mbi_declared_len), slrt_addr, slrt.size())? else { continue };
        if !t.is_empty() && mem.read(t).is_none() {
            return Err(LaunchError::BadModule { start: t.start().as_u64() });
        }
        work.log_room.events += 1;
        work.log_room.data += e.evt_info().len();
        let pcr = e.pcr.get();
        if pcr != 17 && pcr != 18 {
            return Err(LaunchError::PolicyPcr { pcr });
        }
        match e.entity_type.get() {
            entity::MULTIBOOT2_INFO if saw_mbi => return Err(LaunchError::PolicyMismatch { entity: e.entity.get() }),
            entity::MULTIBOOT2_INFO => saw_mbi = true,
            entity::SLRT if saw_slrt => return Err(LaunchError::PolicyMismatch { entity: e.entity.get() }),
            entity::SLRT => saw_slrt = true,
            _ => {}
        }
    }
    if !saw_mbi {
        return Err(LaunchError::NoMbi);
    }
    if !saw_slrt {
        return Err(LaunchError::PolicyEntity { entity_type: entity::SLRT });
    }
    // Every module exactly once.
    for m in mbi.modules() {
        let n = slrt
            .policy_entries()
            .filter(|e| {
                e.entity_type.get() == entity::MULTIBOOT2_MODULE
                    && e.entity.get() == m.start as u64
                    && e.size.get() == (m.end - m.start) as u64
            })
            .count();
        if n != 1 {
            return Err(LaunchError::ModuleNotInPolicy { start: m.start as u64 });
        }
    }
    Ok(work)
}

/// Measure and log every policy entry in table order, then mark it MEASURED
/// in the SLRT so nothing after SKL measures it again.
pub fn measure<M: PhysMemory, T: TpmTransport>(
    mem: &mut M,
    tpm: &mut T,
    work: &PolicyWork,
    banks: BankSet,
    plan: &LaunchPlan,
    slrt_area: PhysRange,
) -> Result<(), LaunchError> {
    let mbi_r = plan.mbi.ok_or(LaunchError::NoMbi)?;
    let base = slrt_area.start();
    let unreadable = LaunchError::SlbUnreadable { base: base.as_u64() };
    let slrt_r = PhysRange::new(base, work.slrt_size as u64).ok_or(unreadable)?;
    // Each entry straight from the table plan() checked: it sits in the
    // DMA-protected SLB and only this CPU runs, so it is what plan() saw.
    let entry_at = |i: usize| PhysRange::new(base.checked_add((work.first + i * ENTRY) as u64)?, ENTRY as u64);
    for i in 0..work.entries {
        let e = entry_at(i).and_then(|r| mem.read(r)).and_then(|b| PolicyEntry::ref_from_bytes(b).ok());
        let e = e.ok_or(unreadable)?;
        let Some(r) = range_of(e, mbi_r, slrt_r) else { continue };
        let pcr = Pcr(e.pcr.get() as u8);
        let mut text = [0u8; 32];
        let n = e.evt_info().len();
        text[..n].copy_from_slice(e.evt_info());
        // An empty module (GRUB: start 0, size 0) is measured as no bytes,
        // without touching memory.
        let data = if r.is_empty() {
            &[][..]
        } else {
            mem.read(r).ok_or(LaunchError::BadModule { start: r.start().as_u64() })?
        };
        let digests = digest_all(banks, data);
        let m = Measurement { pcr, digests: &digests, event: &text[..n], logged_only: false };
        if let Some(log) = plan.log {
            log_events(mem, log, tpm.family(), banks, core::slice::from_ref(&m), LogStart::Append)?;
        }
        extend(tpm, pcr, m.digests)?;
    }
    // Flag only now: the SLRT entry measures the table as the bootloader
    // wrote it, which is what a verifier can reproduce.
    let area = mem.write(slrt_area).ok_or(unreadable)?;
    for i in 0..work.entries {
        let o = work.first + i * ENTRY;
        let e = area.get_mut(o..o + ENTRY).and_then(|b| PolicyEntry::mut_from_bytes(b).ok()).ok_or(unreadable)?;
        if e.entity_type.get() != entity::UNUSED {
            e.flags.set(e.flags.get() | policy_flags::MEASURED);
        }
    }
    Ok(())
}

/// A policy entry's size.
const ENTRY: usize = size_of::<PolicyEntry>();
