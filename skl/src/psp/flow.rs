//! What the launch does about the PSP: the decision (PSP path, the SKINIT
//! path SKL has always had, or stop) and the PSP path's steps, written
//! against the traits so that every order and failure runs on the host.
//!
//! Decision ([`decide`], pure): no DRTM-capable PSP, or a PSP whose
//! GET_CAPABILITY says the service is off (bit 0 clear) or absent (status
//! NOT_SUPPORTED / INVALID_SERVICE_ID) → the SKINIT path. Enabled → the PSP
//! path. Anything else (no mailbox base, no answer, another status) → stop:
//! a service that is there but failing is never bypassed.
//!
//! The PSP path ([`run_psp_path`]), after the SLRT is validated:
//! 1. release every TPM locality (the PSP refuses LAUNCH while one is held);
//! 2. LAUNCH;
//! 3. make every IOMMU block every device (`dma::protect_under_psp`, passed
//!    in): the service lifted SKINIT's protection of the SLB, and the TMR
//!    GRUB sized may not cover the MBI and modules the kernel measures;
//!    then request locality 2 again (the service unlocks it with a good
//!    LAUNCH);
//! 4. the TPM's banks: TPM 2.0 with SHA-256 required (the PSP logs only it);
//! 5. EXTEND_OSSL_DIGEST over the DLME where it lies (never a copy);
//! 6. GET_TCG_LOGS; parse the PSP's log, check every record, and check
//!    that it replays, from SKINIT's value, to the TPM's PCR 17 and 18 in
//!    every bank (TPM2_PCR_Read);
//! 7. write the DRTM log: SKL's "SKINIT" event, the PSP's records (bar its
//!    own SL-image record 0x8001) with each of the TPM's banks the record
//!    has no digest for given the placeholder digest (0x01, then zeros),
//!    then SKL's "DLME entry offset" and "DLME" events in every bank;
//! 8. extend: each PSP record's placeholder into the banks it lacks (so
//!    the log replays in every bank), then the entry offset and the DLME in
//!    every bank — so every bank, not only SHA-256, attests the DLME.
//!
//! Any error: no hand-off; nothing SKL extends happens before the log is
//! written, and nothing at all before LAUNCH and EXTEND_OSSL succeed.

use skl_bootinfo::addr::PhysRange;
use skl_bootinfo::drtm;
use skl_bootinfo::event_log::{events, parse_tcg2_header, AlgSize, Event2, Tcg2Header, Tcg2Log, EV_SLAUNCH};
use skl_bootinfo::slrt::log_format;

use super::{Capability, Found, Mailbox, PspError, PspHw};
use crate::dma::DmaError;
use crate::error::LaunchError;
use crate::hash::{digest_all, BankSet, Digest, DigestList, HashAlg, MAX_BANKS};
use crate::launch::{extend, LaunchPlan};
use crate::memory::PhysMemory;
use crate::tpm::tpm2::Tpm2;
use crate::tpm::{Locality, Pcr, TpmError, TpmFamily, TpmTransport};

/// What probing the platform found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// No PSP function with a DRTM mailbox.
    NoService,
    /// A DRTM-capable PSP: its mailbox opened and GET_CAPABILITY answered,
    /// or the first failure on the way.
    Capability(Result<Capability, PspError>),
}

/// Which launch to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// Plain SKINIT: SKL protects DMA and measures, as on older CPUs.
    Skinit,
    /// The PSP DRTM service checks the SLB and measures the DLME.
    Psp,
}

/// The decision, from what was probed only.
pub fn decide(p: &Probe) -> Result<Path, PspError> {
    match *p {
        Probe::NoService => Ok(Path::Skinit),
        Probe::Capability(Ok(c)) if c.drtm => Ok(Path::Psp),
        Probe::Capability(Ok(_)) => Ok(Path::Skinit),
        // The firmware itself says it has no DRTM service: nothing holds
        // the TPM or protects memory, exactly as on a CPU without a PSP.
        Probe::Capability(Err(PspError::NotSupported { .. } | PspError::InvalidServiceId { .. })) => Ok(Path::Skinit),
        Probe::Capability(Err(e)) => Err(e),
    }
}

/// A PSP whose DRTM service is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Service {
    pub found: Found,
    pub mailbox: Mailbox,
    pub capability: Capability,
}

/// Probe and decide: `Ok(None)` is the SKINIT path.
pub fn choose<H: PspHw>(h: &mut H) -> Result<Option<Service>, PspError> {
    let Some(found) = super::find(h) else {
        return decide(&Probe::NoService).map(|_| None);
    };
    let opened = Mailbox::open(h, &found).and_then(|m| m.get_capability(h).map(|c| (m, c)));
    match decide(&Probe::Capability(opened.map(|(_, c)| c)))? {
        Path::Skinit => Ok(None),
        Path::Psp => {
            // decide() returns Psp only for an Ok capability.
            let (mailbox, capability) = opened.map_err(|_| PspError::Generic { cmd: 0 })?;
            Ok(Some(Service { found, mailbox, capability }))
        }
    }
}

/// The PSP's record of the SKINIT SLB measurement, which SKL logs itself.
pub const EV_PSP_SL_IMAGE: u32 = 0x8001;
/// The digest a record carries for a bank it was not measured into.
pub const PLACEHOLDER: [u8; 64] = {
    let mut p = [0u8; 64];
    p[0] = 1;
    p
};
/// Tries to get locality 2 back after LAUNCH (each a bounded wait).
pub const LOCALITY_TRIES: u32 = 3;

/// Memory the PSP path reads the PSP's log from while it writes the DRTM
/// log: two disjoint ranges borrowed at once.
pub trait SplitMemory: PhysMemory {
    /// `read` for reading and `write` for writing; `None` if either is not
    /// addressable or they overlap.
    fn split(&mut self, read: PhysRange, write: PhysRange) -> Option<(&[u8], &mut [u8])>;
}

/// What the PSP path did, for the tests and the debug log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PspReport {
    pub banks: BankSet,
    /// PSP log records merged (the SL-image record not counted).
    pub merged: u32,
}

/// Run the PSP path for a validated `plan` (DLME mode). `slb_image` is the
/// measured SLB (SKINIT extended it; SKL logs it). The locality is released
/// again on every return.
pub fn run_psp_path<X: SplitMemory + PspHw, T: TpmTransport>(
    x: &mut X,
    tpm: &mut T,
    mbox: &Mailbox,
    plan: &LaunchPlan,
    slb_image: PhysRange,
    dma: impl FnOnce() -> Result<(), DmaError>,
) -> Result<PspReport, LaunchError> {
    tpm.release_all_localities();
    mbox.launch(x)?;
    // The service lifted SKINIT's protection of the SLB: now the IOMMUs
    // can read SKL's tables (`dma::protect_under_psp`).
    let r = dma().map_err(LaunchError::Dma).and_then(|()| after_launch(x, tpm, mbox, plan, slb_image));
    tpm.relinquish_locality();
    r
}

fn after_launch<X: SplitMemory + PspHw, T: TpmTransport>(
    x: &mut X,
    tpm: &mut T,
    mbox: &Mailbox,
    plan: &LaunchPlan,
    slb_image: PhysRange,
) -> Result<PspReport, LaunchError> {
    let mut got = Err(TpmError::LocalityTimeout(2));
    for _ in 0..LOCALITY_TRIES {
        got = tpm.request_locality(Locality::TWO);
        if got.is_ok() {
            break;
        }
    }
    got?;
    if tpm.family() != TpmFamily::Tpm20 {
        return Err(PspError::NeedsSha256Bank.into());
    }
    let banks = Tpm2::new(tpm).pcr_banks(Pcr::DRTM_CODE)?;
    if !banks.contains(HashAlg::Sha256) {
        return Err(PspError::NeedsSha256Bank.into());
    }

    // In place: the range GRUB loaded and SKL validated (below 4 GiB, clear
    // of the SLB). The C SKL copies it to 0x08000000 first, over whatever
    // lies there.
    mbox.extend_ossl_digest(x, plan.dlme.start().as_u64(), plan.dlme.len())?;
    let psp_log = mbox.get_tcg_logs(x)?;
    let log_range = plan.log.map_or(PhysRange::EMPTY, |l| l.range);
    let psp_range = PhysRange::new(skl_bootinfo::PhysAddr(psp_log.addr), psp_log.size as u64)
        .filter(|r| !r.is_empty() && r.below_4g() && !r.overlaps(&plan.dlme) && !r.overlaps(&log_range))
        .filter(|r| !r.overlaps(&crate::launch::slb_range(slb_image.start())))
        .ok_or(PspError::TcgLogRange { addr: psp_log.addr })?;

    // SKL's own digests, read before anything is written.
    let unreadable = LaunchError::SlbUnreadable { base: slb_image.start().as_u64() };
    let skinit = digest_all(banks, x.read(slb_image).ok_or(unreadable)?);
    let entry = digest_all(banks, &drtm::entry_offset_bytes(plan.entry_offset));
    let dlme = x.read(plan.dlme).ok_or(LaunchError::DlmeAbove4G { end: plan.dlme.end() })?;
    let dlme = digest_all(banks, dlme);

    // Check the PSP's log whole before any of it is logged or extended:
    // it parses, and replayed from SKINIT's value it gives the TPM's PCR
    // 17 and 18 in every bank (a bank a record has no digest for must
    // not have moved).
    let psp = x.read(psp_range).ok_or(PspError::TcgLogRange { addr: psp_log.addr })?;
    let merged = check_psp_log(psp)?;
    for alg in banks.iter() {
        let one = BankSet::from_iter([alg]);
        let chain = |old: &Digest, d: &[u8]| {
            let mut b = [0u8; 2 * crate::hash::MAX_DIGEST];
            let n = alg.digest_size();
            b[..n].copy_from_slice(old.as_bytes());
            b[n..2 * n].copy_from_slice(d);
            *digest_all(one, &b[..2 * n]).iter().next().unwrap_or(old)
        };
        let zero = Digest::new(alg, &[0; crate::hash::MAX_DIGEST]);
        let own = skinit.get(alg).map_or(&[][..], |d| d.as_bytes());
        let mut want = [chain(&zero, own), zero];
        for_each_record(psp, &mut |e, h, _| {
            if let Some((_, d)) = e.digests(h).find(|(id, d)| *id == alg.id() && d.len() == alg.digest_size()) {
                let i = (e.pcr - 17) as usize;
                want[i] = chain(&want[i], d);
            }
            Ok(())
        })?;
        let got = Tpm2::new(tpm).pcr_read_drtm(alg)?;
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            if g != w {
                return Err(PspError::PcrMismatch { alg: alg.id(), pcr: 17 + i as u8 }.into());
            }
        }
    }

    if let Some(log) = plan.log {
        if log.format != log_format::TPM20_TCG {
            return Err(LaunchError::LogFormat { format: log.format });
        }
        let bad = LaunchError::BadLogRange { addr: log.range.start().as_u64() };
        let (psp, buf) = x.split(psp_range, log.range).ok_or(bad)?;
        write_log(buf, log.range, banks, psp, [&skinit, &entry, &dlme])?;
    }

    // Extends: the placeholders, in the log's order, then SKL's own.
    let psp = x.read(psp_range).ok_or(PspError::TcgLogRange { addr: psp_log.addr })?;
    for_each_record(psp, &mut |e, _, have| {
        let lack: BankSet = banks.iter().filter(|a| !have.contains(*a)).collect();
        if lack.is_empty() {
            return Ok(());
        }
        extend(tpm, Pcr(e.pcr as u8), &placeholders(lack)).map_err(LaunchError::Tpm)
    })?;
    extend(tpm, Pcr::DRTM_CODE, &entry)?;
    extend(tpm, Pcr::DRTM_CODE, &dlme)?;
    Ok(PspReport { banks, merged })
}

/// (algorithm, digest) pairs of a list, as the log writer takes them.
fn pairs(l: &DigestList) -> [(u16, &[u8]); MAX_BANKS] {
    let mut d: [(u16, &[u8]); MAX_BANKS] = [(0, &[]); MAX_BANKS];
    for (slot, dg) in d.iter_mut().zip(l.iter()) {
        *slot = (dg.alg().id(), dg.as_bytes());
    }
    d
}

/// The placeholder digest in each of `banks`.
fn placeholders(banks: BankSet) -> DigestList {
    let mut d = [Digest::new(HashAlg::Sha1, &PLACEHOLDER); MAX_BANKS];
    for (slot, a) in d.iter_mut().zip(banks.iter()) {
        *slot = Digest::new(a, &PLACEHOLDER);
    }
    DigestList::from_digests(&d[..banks.len()])
}

/// Visit every record of the PSP's log SKL merges: (PCR, type, the banks
/// it has a digest for, its offset). Each must name PCR 17 or 18 and carry
/// a SHA-256 digest; the log's header must parse.
/// One copy for both uses (`dyn`: generic, it was two, 0.3 KiB more).
fn for_each_record(
    psp: &[u8],
    f: &mut dyn FnMut(&Event2<'_>, &Tcg2Header, BankSet) -> Result<(), LaunchError>,
) -> Result<u32, LaunchError> {
    let h = parse_tcg2_header(psp).map_err(|_| PspError::BadTcgLog { offset: 0 })?;
    let mut n = 0;
    for e in events(psp, &h) {
        let e = e.map_err(|e| PspError::BadTcgLog { offset: log_offset(e) })?;
        if e.ev_type == EV_PSP_SL_IMAGE {
            continue;
        }
        let offset = e.offset as u32;
        let have: BankSet = e.digests(&h).filter_map(|(a, _)| HashAlg::from_tpm(a)).collect();
        if !(e.pcr == 17 || e.pcr == 18) || !have.contains(HashAlg::Sha256) {
            return Err(PspError::BadTcgLog { offset }.into());
        }
        f(&e, &h, have)?;
        n += 1;
    }
    Ok(n)
}

fn check_psp_log(psp: &[u8]) -> Result<u32, LaunchError> {
    for_each_record(psp, &mut |_, _, _| Ok(()))
}

fn log_offset(e: skl_bootinfo::event_log::LogError) -> u32 {
    match e {
        skl_bootinfo::event_log::LogError::Truncated(o) => o as u32,
        _ => 0,
    }
}

/// The DRTM log of a PSP launch, written in one go: a new header for the
/// TPM's banks, "SKINIT", the PSP's records, "DLME entry offset", "DLME".
fn write_log(
    buf: &mut [u8],
    range: PhysRange,
    banks: BankSet,
    psp: &[u8],
    [skinit, entry, dlme]: [&DigestList; 3],
) -> Result<(), LaunchError> {
    let full_or_bad = |e| match e {
        skl_bootinfo::event_log::LogError::Full(n) => LaunchError::LogFull { needed: n as u32 },
        _ => LaunchError::BadLogRange { addr: range.start().as_u64() },
    };
    let mut algs = [AlgSize::default(); MAX_BANKS];
    for (slot, a) in algs.iter_mut().zip(banks.iter()) {
        *slot = AlgSize { alg: a.id(), size: a.digest_size() as u16 };
    }
    let mut log = Tcg2Log::init(buf, range.start().as_u64(), &algs[..banks.len()]).map_err(full_or_bad)?;
    let n = banks.len();
    log.append(Pcr::DRTM_CODE.0 as u32, EV_SLAUNCH, &pairs(skinit)[..n], drtm::EVENT_SKINIT).map_err(full_or_bad)?;
    let h = parse_tcg2_header(psp).map_err(|_| PspError::BadTcgLog { offset: 0 })?;
    for e in events(psp, &h) {
        let e = e.map_err(|e| PspError::BadTcgLog { offset: log_offset(e) })?;
        if e.ev_type == EV_PSP_SL_IMAGE {
            continue;
        }
        let mut d: [(u16, &[u8]); MAX_BANKS] = [(0, &[]); MAX_BANKS];
        for (slot, a) in d.iter_mut().zip(banks.iter()) {
            let own = e.digests(&h).find(|(id, dg)| *id == a.id() && dg.len() == a.digest_size());
            *slot = (a.id(), own.map_or(&PLACEHOLDER[..a.digest_size()], |(_, dg)| dg));
        }
        log.append(e.pcr, e.ev_type, &d[..n], e.data).map_err(full_or_bad)?;
    }
    log.append(Pcr::DRTM_CODE.0 as u32, EV_SLAUNCH, &pairs(entry)[..n], drtm::EVENT_DLME_ENTRY).map_err(full_or_bad)?;
    log.append(Pcr::DRTM_CODE.0 as u32, EV_SLAUNCH, &pairs(dlme)[..n], drtm::EVENT_DLME).map_err(full_or_bad)?;
    Ok(())
}

impl From<PspError> for LaunchError {
    fn from(e: PspError) -> Self {
        LaunchError::Psp(e)
    }
}
