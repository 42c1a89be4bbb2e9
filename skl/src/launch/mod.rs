//! The launch after entry: validate the bootloader's data, measure the DLME,
//! say where to hand off. Hardware-free: memory and TPM come in through
//! traits, so the whole flow runs on the host.
//!
//! What is measured follows the TrenchBoot SKL that speaks SLRT-B
//! (secure-kernel-loader `main.c`, `skl_main`): PCR 17 ← the DLME entry
//! offset as 4 little-endian bytes ("DLME entry offset"), then PCR 17 ← the
//! DLME bytes ("DLME"). Each measurement is also logged (at LOG_INFO),
//! preceded by a "SKINIT" event carrying the digests of the SLB image.
//!
//! Two hand-off modes, chosen by the DLME itself (see [`Mode`]): a
//! TrenchBoot-aware kernel measures the rest (MBI, modules) under the DRTM
//! policy, as TrenchBoot Xen does; for a plain Multiboot2 kernel SKL applies
//! the policy itself ([`policy`]). Either way each object is measured once.

use skl_bootinfo::addr::{PhysAddr, PhysRange, FOUR_GIB};
use skl_bootinfo::sl_header::{Generation, HeaderWords, BOOTLOADER_DATA_SIZE, SLB_SIZE};
use skl_bootinfo::slrt::{Architecture, DlInfoRef, Slrt, SETUP_SECURE_LAUNCH};

use crate::error::LaunchError;
use crate::hash::{digest_all, BankSet, DigestList, HashAlg, MAX_BANKS};
use crate::memory::PhysMemory;
use crate::tpm::tpm2::Tpm2;
use crate::tpm::{tpm12, Pcr, TpmError, TpmFamily, TpmTransport};
use skl_bootinfo::drtm;
use skl_bootinfo::event_log::{AlgSize, LogError, Tcg2Log, Tpm12Log, EV_SLAUNCH};
use skl_bootinfo::multiboot2::Mbi;
use skl_bootinfo::slrt::log_format;

pub mod policy;

/// How the kernel is entered, decided by what the (measured) DLME contains.
///
/// A DLME that carries a TXT MLE header in its first 4 KiB (what GRUB uses
/// to find the Secure Launch entry of Xen or Linux) is Secure-Launch aware:
/// it is entered in DLME mode and measures the DRTM policy itself. Any other
/// DLME is a plain Multiboot2 kernel: SKL measures everything the policy
/// names and enters it in the Multiboot2 machine state. The choice is a
/// function of bytes already in PCR 17, so it cannot be flipped unseen, and
/// no object is measured by both SKL and the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Dlme,
    Multiboot2,
}

pub use skl_bootinfo::mle::MLE_UUID;
use skl_bootinfo::mle::{MLE_ALIGN, MLE_SEARCH};

/// GRUB scans the first 4 KiB of the image in 16-byte steps
/// (`skl_bootinfo::mle`; `mle::find` does the same with a memcmp, which the
/// measured image avoids).
pub fn has_mle_header(dlme: &[u8]) -> bool {
    mle_header_offset(dlme).is_some()
}

/// Offset of the first TXT MLE header in the first 4 KiB of `dlme`, found
/// as GRUB finds it (16-byte steps).
pub fn mle_header_offset(dlme: &[u8]) -> Option<u64> {
    // Compared as one 128-bit value: no memcmp in the measured image.
    let uuid = u128::from_le_bytes(MLE_UUID);
    dlme.chunks_exact(MLE_ALIGN)
        .take(MLE_SEARCH / MLE_ALIGN)
        .position(|c| c.try_into().is_ok_and(|a: [u8; 16]| u128::from_le_bytes(a) == uuid))
        .map(|i| (i * MLE_ALIGN) as u64)
}

/// Where and how to enter the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handoff {
    pub mode: Mode,
    /// Absolute entry address (EIP; EDI).
    pub entry: u32,
    /// SLB base (EBP, EDX).
    pub slb_base: u32,
    /// DLME mode: the entry (Xen: "%ebx = %eip"); Multiboot2 mode: the MBI.
    pub ebx: u32,
    /// Boot parameters (MBI / zero page): DL_INFO `bl_context.context`
    /// (Qubes 4.2.3 generation) or AMD_INFO `boot_params_base` (AMD SL).
    pub esi: u32,
}

/// The validated facts a launch acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaunchPlan {
    pub dlme: PhysRange,
    pub entry_offset: u32,
    /// The boot parameters (MBI / zero page), whichever entry of the
    /// generation names them ([`boot_params`]).
    pub context: u32,
    pub log: Option<EventLog>,
    /// The MBI, when the policy says the context is one (validated). In
    /// Multiboot2 mode, after [`reserve_for_kernel`], the grown MBI.
    pub mbi: Option<PhysRange>,
    /// The MBI's size as the bootloader wrote it (what the policy names).
    pub mbi_declared_len: u64,
    /// Offset of the DLME's MLE header ([`mle_header_offset`]): `Some`
    /// chooses DLME mode.
    pub mle_header: Option<u64>,
}

/// The DRTM event log: its area, format (SLRT `log_format`) and, on Intel
/// TXT, where the append offset lives (the heap's EVENT_LOG_POINTER2_1
/// `NextRecordOffset`; on AMD it sits in the log's own header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventLog {
    pub range: PhysRange,
    pub format: u16,
    pub next_record_at: Option<PhysAddr>,
}

/// What differs between the two dynamic launches for everything after
/// entry: where the SLRT is, which memory is the loader's own, what the
/// DCE must be, and what "DMA-protected" means. Built by the entry of each
/// payload (`skl.bin`: [`Dce::skinit`]; `skl-txt.bin`: `txt::launch`).
pub struct Dce<G: DmaGuard> {
    /// The loader's own 64 KiB (SLB or MLE): nothing else may overlap it.
    pub own: PhysRange,
    /// What DL_INFO's DCE must name: the SLB's measured part (SKINIT) or
    /// the SINIT ACM region (TXT.SINIT.BASE/SIZE).
    pub dce_base: u64,
    pub dce_size: u64,
    /// Where the SLRT lies and the architecture its header must state.
    pub slrt: PhysRange,
    pub arch: Architecture,
    /// SKINIT extended PCR 17 with this image without logging it: SKL logs
    /// it first. `None` on TXT, where SINIT logs its own measurements.
    pub dce_image: Option<PhysRange>,
    /// The log from the launch itself (TXT heap) instead of SLRT LOG_INFO;
    /// LOG_INFO, if present, must then name the same area.
    pub log: Option<EventLog>,
    /// What keeps devices off the objects the launch trusts.
    pub guard: G,
    /// Which protocol generation the image speaks: where the boot
    /// parameters come from and whether AMD_INFO is required
    /// ([`boot_params`]). `skl-txt.bin`: [`Generation::Qubes423`].
    pub generation: Generation,
}

/// What protects the objects the launch trusts (DLME, MBI, modules) from
/// DMA while and after they are measured. A type parameter rather than an
/// enum so each payload links only its own (SKINIT: nothing to check).
pub trait DmaGuard {
    fn check<M: PhysMemory>(&self, mem: &M, r: &PhysRange) -> Result<(), LaunchError>;
}

/// AMD: every IOMMU blocks every device (`dma::protect` ran first).
pub struct Iommus;

impl DmaGuard for Iommus {
    fn check<M: PhysMemory>(&self, _mem: &M, _r: &PhysRange) -> Result<(), LaunchError> {
        Ok(())
    }
}

impl Dce<Iommus> {
    /// AMD SKINIT: the SLB at `slb` with the header it was measured with.
    /// DL_INFO's DCE size is what the bootloader copied: GRUB-B the
    /// measured size, GRUB `tb-dev` the whole file, which the AMD SL
    /// header's total length states (`HeaderWords::total_size`).
    pub fn skinit(slb: PhysAddr, hdr: &HeaderWords) -> Option<Self> {
        let measured = hdr.measured_size as u64;
        Some(Dce {
            own: slb_range(slb),
            dce_base: slb.as_u64(),
            dce_size: hdr.total_size as u64,
            slrt: bootloader_data(slb, hdr)?,
            arch: Architecture::AmdSkinit,
            dce_image: PhysRange::new(slb, measured),
            log: None,
            guard: Iommus,
            generation: hdr.generation,
        })
    }
}

/// Our own header, read from the measured image (trusted: SKINIT hashed
/// it). The payload knows its generation: each image is linked with its
/// own header.
pub fn own_header<M: PhysMemory>(mem: &M, slb: PhysAddr, g: Generation) -> Option<HeaderWords> {
    let b = PhysRange::new(slb, g.header_size() as u64).and_then(|r| mem.read(r))?;
    HeaderWords::read(b, g)
}

/// The SLB as a range.
pub fn slb_range(slb: PhysAddr) -> PhysRange {
    PhysRange::new(slb, SLB_SIZE as u64).unwrap_or(PhysRange::new(PhysAddr(0), 0).unwrap())
}

/// The bootloader-data area (where the SLRT lives) of the SLB at `slb`.
pub fn bootloader_data(slb: PhysAddr, hdr: &HeaderWords) -> Option<PhysRange> {
    PhysRange::new(slb.checked_add(hdr.bootloader_data as u64)?, BOOTLOADER_DATA_SIZE as u64)
}

/// The boot parameters (MBI / zero page) of the launch, and AMD_INFO's
/// consistency with the table it lies in.
///
/// Qubes 4.2.3 generation: DL_INFO's context; AMD_INFO optional, and when
/// present its `boot_params_base` must be the same address. AMD SL
/// generation: AMD_INFO required (Xen v3 stops without it) and its
/// `boot_params_base` is the address — GRUB `tb-dev` fills DL_INFO's
/// context with a GRUB-internal address that SKL neither uses nor checks.
/// Either way a present AMD_INFO (AMD SKINIT only) must be a
/// `SETUP_SECURE_LAUNCH` node whose `slrt_base`/`slrt_size` describe this
/// table inside our 64 KiB, since Linux finds the SLRT through them.
pub fn boot_params<G: DmaGuard>(slrt: &Slrt, dl: &DlInfoRef, dce: &Dce<G>) -> Result<u64, LaunchError> {
    let context = dl.context();
    let amd = slrt.amd_info().filter(|_| dce.arch == Architecture::AmdSkinit);
    let Some(a) = amd else {
        return match dce.generation {
            Generation::AmdSl => Err(LaunchError::NoAmdInfo),
            Generation::Qubes423 => Ok(context),
        };
    };
    if a.setup_type.get() != SETUP_SECURE_LAUNCH {
        return Err(LaunchError::AmdInfoType { setup_type: a.setup_type.get() });
    }
    let (base, size) = (a.slrt_base.get(), a.slrt_size.get());
    let fits = base.checked_add(size).is_some_and(|end| end <= dce.own.end());
    if base != dce.slrt.start().as_u64() || size < slrt.size() as u64 || !fits {
        return Err(LaunchError::AmdInfoSlrt { slrt_base: base });
    }
    let bp = a.boot_params_base.get();
    match dce.generation {
        Generation::Qubes423 if bp != context => Err(LaunchError::BootParamsMismatch { boot_params_base: bp }),
        Generation::Qubes423 => Ok(context),
        Generation::AmdSl => Ok(bp),
    }
}

/// Check every address and size the SLRT gives against the loader's own
/// memory, the DCE and 4 GiB.
pub fn validate<M: PhysMemory, G: DmaGuard>(mem: &M, slrt: &Slrt, dce: &Dce<G>) -> Result<LaunchPlan, LaunchError> {
    let dl = slrt.dl_info().ok_or(LaunchError::NoDlInfo)?;
    let own = dce.own;
    if dl.dce_base() != dce.dce_base || dl.dce_size() != dce.dce_size {
        return Err(LaunchError::DceMismatch { dce_base: dl.dce_base(), dce_size: dl.dce_size() });
    }
    let base = dl.dlme_base();
    let dlme = dl.dlme().ok_or(LaunchError::DlmeOverflow { base })?;
    if dlme.is_empty() {
        return Err(LaunchError::DlmeEmpty);
    }
    if !dlme.below_4g() {
        return Err(LaunchError::DlmeAbove4G { end: dlme.end() });
    }
    if dlme.overlaps(&own) {
        return Err(LaunchError::DlmeOverlapsSlb { base });
    }
    dce.guard.check(mem, &dlme)?;
    let entry = dl.dlme_entry();
    if entry >= dlme.len() {
        return Err(LaunchError::EntryOutsideDlme { entry });
    }
    // Linux Secure Launch v16's 88-byte DL_INFO: the MLE header it names
    // must be the one SKL finds (and decides DLME mode by); the
    // configuration table is the kernel's, only kept off our 64 KiB.
    let mle_header = mem.read(dlme).and_then(mle_header_offset);
    if let Some((offset, table)) = dl.dlme_setup() {
        if mle_header != Some(offset) {
            return Err(LaunchError::MleHeaderMismatch { offset });
        }
        if table != 0 && (table >= FOUR_GIB || own.contains(PhysAddr(table))) {
            return Err(LaunchError::BadConfigTable { addr: table });
        }
    }
    let context = boot_params(slrt, &dl, dce)?;
    if context == 0 || context >= FOUR_GIB || own.contains(PhysAddr(context)) {
        return Err(LaunchError::BadContext { context });
    }
    let from_slrt = match slrt.log_info() {
        None => None,
        Some(li) => {
            let addr = li.addr.get();
            let r = li.range().ok_or(LaunchError::BadLogRange { addr })?;
            Some(EventLog { range: r, format: li.format.get(), next_record_at: None })
        }
    };
    let log = match (dce.log, from_slrt) {
        (Some(l), Some(s)) if s.range.start() != l.range.start() => {
            return Err(LaunchError::BadLogRange { addr: s.range.start().as_u64() })
        }
        (Some(l), _) => Some(l),
        (None, s) => s,
    };
    if let Some(l) = log {
        let r = l.range;
        if r.is_empty() || !r.below_4g() || r.overlaps(&own) || r.overlaps(&dlme) {
            return Err(LaunchError::BadLogRange { addr: r.start().as_u64() });
        }
    }
    Ok(LaunchPlan {
        dlme,
        entry_offset: entry as u32,
        context: context as u32,
        log,
        mbi: None,
        mbi_declared_len: 0,
        mle_header,
    })
}

/// If the policy names the context as a Multiboot2 MBI, bound it, parse it
/// and check that it, the DLME, the log and every module lie in available
/// RAM of its memory map, clear of the SLB, and that no two of DLME, MBI
/// and modules overlap (a kernel unpacking one in place must not change
/// bytes measured as another).
fn validate_mbi<M: PhysMemory, G: DmaGuard>(
    mem: &M,
    slrt: &Slrt,
    dce: &Dce<G>,
    plan: &mut LaunchPlan,
) -> Result<(), LaunchError> {
    use skl_bootinfo::slrt::entity;
    let named = slrt.policy_entries().any(|e| e.entity_type.get() == entity::MULTIBOOT2_INFO);
    if !named {
        return Ok(());
    }
    let ctx = plan.context as u64;
    let head =
        PhysRange::new(PhysAddr(ctx), 8).and_then(|r| mem.read(r)).ok_or(LaunchError::BadContext { context: ctx })?;
    let total = Mbi::total_size(head).unwrap_or(0);
    let r = PhysRange::new(PhysAddr(ctx), total as u64).ok_or(LaunchError::BadContext { context: ctx })?;
    let slb_r = dce.own;
    let log = plan.log.map_or(PhysRange::EMPTY, |l| l.range);
    if !r.below_4g() || r.overlaps(&slb_r) || r.overlaps(&plan.dlme) || log.overlaps(&r) {
        return Err(LaunchError::BadContext { context: ctx });
    }
    dce.guard.check(mem, &r)?;
    let mbi = Mbi::parse(mem.read(r).ok_or(LaunchError::BadContext { context: ctx })?).map_err(LaunchError::Mbi)?;
    let has_map = mbi.mmap().is_some();
    let in_ram = |x: &PhysRange| !has_map || x.is_empty() || mbi.in_available_ram(x.start().as_u64(), x.len());
    for (x, addr) in [(&plan.dlme, plan.dlme.start().as_u64()), (&r, ctx), (&log, log.start().as_u64())] {
        if !in_ram(x) {
            return Err(LaunchError::NotInRam { addr });
        }
    }
    for (i, m) in mbi.modules().enumerate() {
        let start = m.start as u64;
        let mr = module_range(&m);
        // GRUB passes an empty file as start 0, size 0: no bytes to read,
        // protect or overlap; it is measured as empty.
        if mr.is_empty() {
            continue;
        }
        // Not in the log either: events appended after a module is hashed
        // would change it under its measurement.
        if mr.overlaps(&slb_r) || log.overlaps(&mr) || !in_ram(&mr) {
            return Err(LaunchError::BadModule { start });
        }
        let mut clash = mr.overlaps(&plan.dlme) || mr.overlaps(&r);
        for o in mbi.modules().take(i) {
            clash |= module_range(&o).overlaps(&mr);
        }
        if clash {
            return Err(LaunchError::Overlap { addr: start });
        }
        dce.guard.check(mem, &mr)?;
    }
    plan.mbi = Some(r);
    plan.mbi_declared_len = r.len();
    Ok(())
}

/// A module's bytes (both ends are u32: the range cannot wrap).
fn module_range(m: &skl_bootinfo::multiboot2::Module<'_>) -> PhysRange {
    PhysRange::new(PhysAddr(m.start as u64), (m.end - m.start) as u64).unwrap_or(PhysRange::EMPTY)
}

/// Multiboot2 mode: tell the kernel, which knows nothing of DRTM, that the
/// loader's own 64 KiB (IOMMU tables, SLRT) and the DRTM log are not free
/// RAM, by carving them out of the MBI memory map before the MBI is
/// measured. The MBI grows in place by the added entries; the bytes it
/// grows into must be available RAM clear of the SLB, the log, the DLME and
/// every module. `skl-tool predict` applies the same edit
/// (`multiboot2::reserve`).
fn reserve_for_kernel<M: PhysMemory, G: DmaGuard>(
    mem: &mut M,
    plan: &mut LaunchPlan,
    dce: &Dce<G>,
) -> Result<(), LaunchError> {
    use skl_bootinfo::multiboot2::reserve;
    let Some(r) = plan.mbi else { return Ok(()) };
    let no_room = LaunchError::MbiNoRoom { end: r.end() };
    let (own, log) = (dce.own, plan.log.map_or(PhysRange::EMPTY, |l| l.range));
    let holes = [(own.start().as_u64(), own.end()), (log.start().as_u64(), log.end())];
    let mbi = Mbi::parse(mem.read(r).ok_or(no_room)?).map_err(LaunchError::Mbi)?;
    let grow = reserve::growth(&mbi, &holes).map_err(LaunchError::Mbi)? as u64;
    if grow == 0 {
        return Ok(());
    }
    let tail = PhysRange::new(PhysAddr(r.end()), grow).ok_or(no_room)?;
    let mut clash = !tail.below_4g()
        || !mbi.in_available_ram(tail.start().as_u64(), grow)
        || [own, log, plan.dlme].iter().any(|o| o.overlaps(&tail));
    for m in mbi.modules() {
        clash |= module_range(&m).overlaps(&tail);
    }
    if clash {
        return Err(no_room);
    }
    let new = PhysRange::new(r.start(), r.len() + grow).ok_or(no_room)?;
    dce.guard.check(mem, &new)?;
    let total = reserve::reserve(mem.write(new).ok_or(no_room)?, &holes).map_err(LaunchError::Mbi)?;
    plan.mbi = PhysRange::new(r.start(), total as u64);
    Ok(())
}

/// Run the launch of `skl.bin` (AMD SKINIT): parse and validate, measure
/// into every active bank of PCR 17, release the locality. Returns the
/// hand-off or why there is none.
pub fn run<M: PhysMemory, T: TpmTransport>(
    mem: &mut M,
    tpm: &mut T,
    slb: PhysAddr,
    g: Generation,
) -> Result<Handoff, LaunchError> {
    let unreadable = LaunchError::SlbUnreadable { base: slb.as_u64() };
    let hdr = own_header(mem, slb, g).ok_or(unreadable)?;
    let dce = Dce::skinit(slb, &hdr).ok_or(unreadable)?;
    run_after_entry(mem, tpm, &dce)
}

/// Everything after the DCE-specific entry, the same for SKINIT and TXT.
pub fn run_after_entry<M: PhysMemory, T: TpmTransport, G: DmaGuard>(
    mem: &mut M,
    tpm: &mut T,
    dce: &Dce<G>,
) -> Result<Handoff, LaunchError> {
    let bl = dce.slrt;
    let table = mem.read(bl).ok_or(LaunchError::SlbUnreadable { base: bl.start().as_u64() })?;
    let slrt = Slrt::parse(table, dce.arch)?;
    let mut plan = validate(mem, &slrt, dce)?;
    validate_mbi(mem, &slrt, dce, &mut plan)?;
    let mode = if plan.mle_header.is_some() { Mode::Dlme } else { Mode::Multiboot2 };
    // AMD_INFO `psp_version` is SKL's to state: the version of the PSP
    // that took part in the launch, 0 when none did (secure-launch
    // specification; Linux and Xen v3 read it). No PSP takes part in this
    // launch, so 0, whatever the bootloader wrote; written before anything
    // measures the SLRT (Multiboot2 mode here, the kernel in DLME mode).
    // GRUB tb-dev's 48-byte AMD_INFO has no such field: nothing to write.
    let psp_version = slrt
        .psp_version_offset()
        .filter(|_| dce.arch == Architecture::AmdSkinit)
        .map(|o| bl.start().as_u64() + o as u64);
    dlog!("SKL: DLME ", plan.dlme.start().as_u64(), if mode == Mode::Dlme { " DLME mode" } else { " MB2 mode" });
    let work = if mode == Mode::Multiboot2 {
        let w = policy::plan(mem, &slrt, bl.start(), &plan)?;
        reserve_for_kernel(mem, &mut plan, dce)?;
        Some(w)
    } else {
        None
    };
    if let Some(b) = psp_version.and_then(|a| PhysRange::new(PhysAddr(a), 2)).and_then(|r| mem.write(r)) {
        b.copy_from_slice(&0u16.to_le_bytes());
    }

    // Everything is validated and readable: from here on the only refusal
    // left is a TPM that fails a command.
    let later = work.map_or(LogRoom::default(), |w| w.log_room);
    let result = measure(mem, tpm, &plan, dce, later)
        .and_then(|banks| work.map_or(Ok(()), |w| policy::measure(mem, tpm, &w, banks, &plan, bl)));
    tpm.relinquish_locality();
    result?;
    let entry = (plan.dlme.start().as_u64() + plan.entry_offset as u64) as u32;
    let slb_base = dce.own.start().as_u64() as u32;
    Ok(match mode {
        Mode::Dlme => Handoff { mode, entry, slb_base, ebx: entry, esi: plan.context },
        Mode::Multiboot2 => Handoff { mode, entry, slb_base, ebx: plan.context, esi: plan.context },
    })
}

/// One DRTM measurement: what goes into the PCR and the event log.
pub(crate) struct Measurement<'e> {
    pub pcr: Pcr,
    /// Borrowed: a list is ~270 B, and the launch's deepest frame holds
    /// every measurement's (docs/design.md, stack use).
    pub digests: &'e DigestList,
    pub event: &'e [u8],
    /// Already extended by the CPU (SKINIT): logged only.
    pub logged_only: bool,
}

/// Log space events still to come will need: `events` events whose data
/// (`evt_info`) sums to `data` bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogRoom {
    pub events: usize,
    pub data: usize,
}

impl LogRoom {
    /// Bytes these events take in a log of `family` with `banks`.
    fn bytes(&self, family: TpmFamily, banks: BankSet) -> usize {
        use skl_bootinfo::event_log::{tcg2_event_fixed, TPM12_EVENT_FIXED};
        let per_event = match family {
            TpmFamily::Tpm20 => tcg2_event_fixed(banks.len(), banks.iter().map(|a| a.digest_size()).sum()),
            TpmFamily::Tpm12 => TPM12_EVENT_FIXED,
        };
        self.events * per_event + self.data
    }
}

fn measure<M: PhysMemory, T: TpmTransport, G: DmaGuard>(
    mem: &mut M,
    tpm: &mut T,
    plan: &LaunchPlan,
    dce: &Dce<G>,
    later: LogRoom,
) -> Result<BankSet, LaunchError> {
    let family = tpm.family();
    let banks = match family {
        TpmFamily::Tpm20 => Tpm2::new(tpm).pcr_banks(Pcr::DRTM_CODE)?,
        TpmFamily::Tpm12 => [HashAlg::Sha1].into_iter().collect(),
    };
    dlog!("SKL: TPM banks ", banks.len());

    // Hash everything first (reads), log it (one write), then extend: a log
    // that cannot take the events stops the launch before any extend.
    let skinit = dce.dce_image.map(|r| digest_all(banks, mem.read(r).unwrap_or(&[])));
    let entry = digest_all(banks, &drtm::entry_offset_bytes(plan.entry_offset));
    // validate() proved the DLME lies below 4 GiB, which the payload maps.
    let dlme = mem.read(plan.dlme).ok_or(LaunchError::DlmeAbove4G { end: plan.dlme.end() })?;
    let dlme = digest_all(banks, dlme);
    let steps = [
        Measurement {
            pcr: Pcr::DRTM_CODE,
            digests: skinit.as_ref().unwrap_or(&entry),
            event: drtm::EVENT_SKINIT,
            logged_only: true,
        },
        Measurement { pcr: Pcr::DRTM_CODE, digests: &entry, event: drtm::EVENT_DLME_ENTRY, logged_only: false },
        Measurement { pcr: Pcr::DRTM_CODE, digests: &dlme, event: drtm::EVENT_DLME, logged_only: false },
    ];
    let steps = if skinit.is_some() { &steps[..] } else { &steps[1..] };
    if let Some(log) = plan.log {
        // SKINIT logs nothing: on AMD the log is SKL's to start.
        let start = LogStart::First { erase: dce.arch == Architecture::AmdSkinit, keep: later.bytes(family, banks) };
        log_events(mem, log, family, banks, steps, start)?;
    }
    for m in steps.iter().filter(|m| !m.logged_only) {
        extend(tpm, m.pcr, m.digests)?;
    }
    Ok(banks)
}

/// Extend every bank of `digests` into `pcr`: one command either way.
pub(crate) fn extend<T: TpmTransport>(tpm: &mut T, pcr: Pcr, digests: &DigestList) -> Result<(), TpmError> {
    match tpm.family() {
        TpmFamily::Tpm20 => Tpm2::new(tpm).pcr_extend(pcr, digests),
        TpmFamily::Tpm12 => tpm12::extend(tpm, pcr, &sha1_of(digests)).map(|_| ()),
    }
}

/// Whether this is the launch's first write to the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LogStart {
    /// SKL's first events. On AMD (`erase`) the log is SKL's alone: the area
    /// is erased and a new header written, whatever the bootloader left there
    /// (TrenchBoot GRUB pre-fills a TPM 1.2 area with a bare container
    /// header, `txt.c` `grub_txt_init_tpm_event_log`; the C SKL erases it
    /// too). On TXT, SINIT's header and events are continued. `keep` bytes
    /// must remain free afterwards for the events still to come, so a log
    /// too small for the whole launch stops it before the first extend.
    First { erase: bool, keep: usize },
    /// Later events, appended to what SKL wrote.
    Append,
}

pub(crate) fn log_events<M: PhysMemory>(
    mem: &mut M,
    log: EventLog,
    family: TpmFamily,
    banks: BankSet,
    steps: &[Measurement],
    start: LogStart,
) -> Result<(), LaunchError> {
    let (range, format) = (log.range, log.format);
    let bad = LaunchError::BadLogRange { addr: range.start().as_u64() };
    // TXT: the append offset SINIT left in the heap element.
    let next_at = log.next_record_at;
    let next = match next_at {
        Some(a) => Some(mem.read_u32(a).ok_or(bad)? as usize),
        None => None,
    };
    let buf = mem.write(range).ok_or(bad)?;
    let size = buf.len();
    let (fresh, keep) = match start {
        LogStart::First { erase, keep } => (erase, keep),
        LogStart::Append => (false, 0),
    };
    let room =
        |used: usize| if size - used < keep { Err(LaunchError::LogFull { needed: keep as u32 }) } else { Ok(()) };
    let err = |e| log_error(e, range);
    match (family, format) {
        (TpmFamily::Tpm20, log_format::TPM20_TCG) => {
            let mut algs = [AlgSize::default(); MAX_BANKS];
            for (slot, a) in algs.iter_mut().zip(banks.iter()) {
                *slot = AlgSize { alg: a.id(), size: a.digest_size() as u16 };
            }
            let algs = &algs[..banks.len()];
            let mut log = match next {
                Some(n) => Tcg2Log::open_at(buf, algs, n),
                None if fresh => Tcg2Log::init(buf, range.start().as_u64(), algs),
                None => Tcg2Log::open(buf, algs),
            }
            .map_err(err)?;
            for m in steps {
                let mut d: [(u16, &[u8]); MAX_BANKS] = [(0, &[]); MAX_BANKS];
                for (slot, dg) in d.iter_mut().zip(m.digests.iter()) {
                    *slot = (dg.alg().id(), dg.as_bytes());
                }
                log.append(m.pcr.0 as u32, EV_SLAUNCH, &d[..m.digests.len()], m.event).map_err(err)?;
            }
            room(log.len())?;
            let end = log.len() as u32;
            if let Some(b) = next_at.and_then(|a| PhysRange::new(a, 4)).and_then(|r| mem.write(r)) {
                b.copy_from_slice(&end.to_le_bytes());
            }
        }
        (TpmFamily::Tpm12, log_format::TPM12_TXT) => {
            let mut log = if fresh { Tpm12Log::init(buf) } else { Tpm12Log::open(buf) }.map_err(err)?;
            for m in steps {
                log.append(m.pcr.0 as u32, EV_SLAUNCH, &sha1_of(m.digests), m.event).map_err(err)?;
            }
            room(log.len())?;
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

/// The 16-byte failure record: magic, code, detail (little-endian). Also
/// what stage 1 of the two-stage image writes (`hw::stage1`), inlined there
/// so that stage 1 runs no code of stage 2.
#[inline(always)]
pub fn failure_record(code: u16, detail: u32) -> [u8; 16] {
    let mut r = [0u8; 16];
    r[..8].copy_from_slice(&FAILURE_MAGIC);
    r[8..12].copy_from_slice(&(code as u32).to_le_bytes());
    r[12..].copy_from_slice(&detail.to_le_bytes());
    r
}

pub fn write_failure_record<M: PhysMemory>(mem: &mut M, slb: PhysAddr, g: Generation, err: &LaunchError) {
    let rec =
        own_header(mem, slb, g).and_then(|h| bootloader_data(slb, &h)).and_then(|r| PhysRange::new(r.start(), 16));
    if let Some(b) = rec.and_then(|r| mem.write(r)) {
        b.copy_from_slice(&failure_record(err.code(), err.detail()));
    }
}

#[cfg(test)]
mod tests;
