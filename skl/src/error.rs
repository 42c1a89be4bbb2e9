//! One error type for the whole launch, each variant with the offending
//! value and a stable numeric code (documented in `docs/launch-errors.md`).

use skl_bootinfo::multiboot2::MbiError;
use skl_bootinfo::slrt::SlrtError;

use crate::dma::DmaError;
#[cfg(any(test, feature = "psp"))]
use crate::psp::PspError;
use crate::tpm::TpmError;
use crate::txt::TxtError;

/// Why a launch stopped. No hand-off happens after any of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaunchError {
    /// The SLRT failed validation.
    Slrt(SlrtError),
    /// The SLRT has no DL_INFO entry.
    NoDlInfo,
    /// DL_INFO's DCE is not this SLB (base, measured size).
    DceMismatch { dce_base: u64, dce_size: u64 },
    /// DLME of size 0.
    DlmeEmpty,
    /// `dlme_base + dlme_size` overflows.
    DlmeOverflow { base: u64 },
    /// DLME reaches above 4 GiB.
    DlmeAbove4G { end: u64 },
    /// DLME overlaps the SLB.
    DlmeOverlapsSlb { base: u64 },
    /// Entry offset outside the DLME.
    EntryOutsideDlme { entry: u64 },
    /// Boot parameters (MBI) address above 4 GiB or inside the SLB.
    BadContext { context: u64 },
    /// `skl-amdsl.bin`: the SLRT has no AMD_INFO (the AMD SL generation
    /// names the boot parameters there; Xen v3 stops without it).
    NoAmdInfo,
    /// AMD_INFO `setup_type` is not `SETUP_SECURE_LAUNCH` (10).
    AmdInfoType { setup_type: u32 },
    /// AMD_INFO `slrt_base`/`slrt_size` do not describe this SLRT inside
    /// the SLB.
    AmdInfoSlrt { slrt_base: u64 },
    /// `skl.bin`: AMD_INFO `boot_params_base` is not DL_INFO's context.
    BootParamsMismatch { boot_params_base: u64 },
    /// 88-byte DL_INFO: `dlme_header_offset` is not where SKL finds the
    /// DLME's MLE header.
    MleHeaderMismatch { offset: u64 },
    /// 88-byte DL_INFO: `dlme_config_table` above 4 GiB or inside the SLB.
    BadConfigTable { addr: u64 },
    /// `skl-amdsl.bin`: stage 2 in the SLB does not hash to the SHA-256
    /// stage 1 carries (`hw::stage1`; `found` = the first four bytes of
    /// the digest of what is there, little-endian). A bootloader that copied
    /// only the measured bytes (GRUB `aem-qubes-4.2.3`) gets this too.
    Stage2Mismatch { found: u32 },
    /// Our own SLB (header or bootloader-data area) cannot be addressed:
    /// the base SKINIT gave is not usable. Cannot happen on a real SKINIT.
    SlbUnreadable { base: u64 },
    /// LOG_INFO range overflows, lies above 4 GiB or overlaps SLB/DLME.
    BadLogRange { addr: u64 },
    /// LOG_INFO format not what the TPM family needs.
    LogFormat { format: u16 },
    /// The event log has no room for the next event.
    LogFull { needed: u32 },
    /// A TPM operation failed.
    Tpm(TpmError),
    /// Multiboot2 mode without an MBI the policy names as the context.
    NoMbi,
    /// The MBI failed validation.
    Mbi(MbiError),
    /// An object lies outside available RAM of the MBI memory map.
    NotInRam { addr: u64 },
    /// A module overflows, overlaps the SLB or lies outside RAM.
    BadModule { start: u64 },
    /// A policy entry names a PCR other than 17 or 18.
    PolicyPcr { pcr: u16 },
    /// A policy entity type SKL does not measure in Multiboot2 mode (or a
    /// required one is missing).
    PolicyEntity { entity_type: u16 },
    /// A policy entry does not match the object it names (or repeats one).
    PolicyMismatch { entity: u64 },
    /// An MBI module is not named exactly once by the policy.
    ModuleNotInPolicy { start: u64 },
    /// A module overlaps the DLME, the MBI or another module.
    Overlap { addr: u64 },
    /// Multiboot2 mode: the MBI cannot grow in place to reserve the SLB and
    /// the log in its memory map (the bytes after it are not free RAM).
    MbiNoRoom { end: u64 },
    /// DMA protection could not be established.
    Dma(DmaError),
    /// An Intel TXT post-SENTER check failed (`skl-txt.bin`).
    Txt(TxtError),
    /// The AMD PSP DRTM service failed, or SKL refused what it returned.
    #[cfg(any(test, feature = "psp"))]
    Psp(PspError),
    /// The stack canary below SKL's stack was overwritten.
    StackOverflow,
}

/// [`LaunchError::Stage2Mismatch`]'s code, which stage 1 writes without
/// [`LaunchError::code`] (whose jump table lies outside what it may run).
pub const STAGE2_MISMATCH: u16 = 0x2010;

impl LaunchError {
    /// Stable code: high byte = area (0x1_ SLRT, 0x2_ DL_INFO, 0x3_ log,
    /// 0x4_ TPM), low byte = the specific failure.
    pub fn code(&self) -> u16 {
        match self {
            LaunchError::Slrt(e) => 0x1000 | slrt_code(e),
            LaunchError::NoDlInfo => 0x2001,
            LaunchError::DceMismatch { .. } => 0x2002,
            LaunchError::DlmeEmpty => 0x2003,
            LaunchError::DlmeOverflow { .. } => 0x2004,
            LaunchError::DlmeAbove4G { .. } => 0x2005,
            LaunchError::DlmeOverlapsSlb { .. } => 0x2006,
            LaunchError::EntryOutsideDlme { .. } => 0x2007,
            LaunchError::BadContext { .. } => 0x2008,
            LaunchError::SlbUnreadable { .. } => 0x2009,
            LaunchError::Stage2Mismatch { .. } => STAGE2_MISMATCH,
            LaunchError::NoAmdInfo => 0x200A,
            LaunchError::AmdInfoType { .. } => 0x200B,
            LaunchError::AmdInfoSlrt { .. } => 0x200C,
            LaunchError::BootParamsMismatch { .. } => 0x200D,
            LaunchError::MleHeaderMismatch { .. } => 0x200E,
            LaunchError::BadConfigTable { .. } => 0x200F,
            LaunchError::BadLogRange { .. } => 0x3001,
            LaunchError::LogFormat { .. } => 0x3002,
            LaunchError::LogFull { .. } => 0x3003,
            LaunchError::Tpm(e) => 0x4000 | e.code(),
            LaunchError::NoMbi => 0x5001,
            LaunchError::Mbi(e) => 0x5100 | mbi_code(e),
            LaunchError::NotInRam { .. } => 0x5002,
            LaunchError::BadModule { .. } => 0x5003,
            LaunchError::PolicyPcr { .. } => 0x5004,
            LaunchError::PolicyEntity { .. } => 0x5005,
            LaunchError::PolicyMismatch { .. } => 0x5006,
            LaunchError::ModuleNotInPolicy { .. } => 0x5007,
            LaunchError::Overlap { .. } => 0x5008,
            LaunchError::MbiNoRoom { .. } => 0x5009,
            LaunchError::Dma(e) => 0x6000 | e.code(),
            LaunchError::Txt(e) => 0x7000 | e.code(),
            #[cfg(any(test, feature = "psp"))]
            LaunchError::Psp(e) => 0x8000 | e.code(),
            LaunchError::StackOverflow => 0xFFFE,
        }
    }

    /// A short name for the debug log; the code says which failure
    /// (`docs/launch-errors.md`). Terse: the debug image has little room.
    #[cfg(feature = "debug-log")]
    pub fn name(&self) -> &'static str {
        match self {
            LaunchError::Slrt(_) => "SLRT",
            LaunchError::NoDlInfo => "no DL_INFO",
            LaunchError::DceMismatch { .. } => "DCE",
            LaunchError::DlmeEmpty => "DLME empty",
            LaunchError::DlmeOverflow { .. } => "DLME wraps",
            LaunchError::DlmeAbove4G { .. } => "DLME > 4G",
            LaunchError::DlmeOverlapsSlb { .. } => "DLME in SLB",
            LaunchError::EntryOutsideDlme { .. } => "entry outside the DLME",
            LaunchError::BadContext { .. } => "boot params",
            LaunchError::SlbUnreadable { .. } => "SLB",
            LaunchError::Stage2Mismatch { .. } => "stage 2",
            LaunchError::NoAmdInfo => "no AMD_INFO",
            LaunchError::AmdInfoType { .. } => "AMD_INFO type",
            LaunchError::AmdInfoSlrt { .. } => "AMD_INFO SLRT",
            LaunchError::BootParamsMismatch { .. } => "AMD_INFO params",
            LaunchError::MleHeaderMismatch { .. } => "MLE header",
            LaunchError::BadConfigTable { .. } => "config table",
            LaunchError::BadLogRange { .. } => "log",
            LaunchError::LogFormat { .. } => "log format",
            LaunchError::LogFull { .. } => "log full",
            LaunchError::Tpm(_) => "TPM",
            LaunchError::NoMbi => "no MBI",
            LaunchError::Mbi(_) => "MBI",
            LaunchError::NotInRam { .. } => "not in RAM",
            LaunchError::BadModule { .. } => "module",
            LaunchError::PolicyPcr { .. } => "policy PCR",
            LaunchError::PolicyEntity { .. } => "policy entity",
            LaunchError::PolicyMismatch { .. } => "policy entry",
            LaunchError::ModuleNotInPolicy { .. } => "module policy",
            LaunchError::Overlap { .. } => "overlap",
            LaunchError::MbiNoRoom { .. } => "MBI no room",
            LaunchError::Dma(_) => "DMA",
            LaunchError::Txt(_) => "TXT",
            #[cfg(any(test, feature = "psp"))]
            LaunchError::Psp(_) => "PSP",
            LaunchError::StackOverflow => "stack",
        }
    }

    /// The offending value, truncated to 32 bits for the failure record.
    pub fn detail(&self) -> u32 {
        match *self {
            LaunchError::Slrt(e) => slrt_detail(&e),
            LaunchError::NoDlInfo | LaunchError::DlmeEmpty | LaunchError::NoAmdInfo => 0,
            LaunchError::AmdInfoType { setup_type } => setup_type,
            LaunchError::AmdInfoSlrt { slrt_base } => slrt_base as u32,
            LaunchError::BootParamsMismatch { boot_params_base } => boot_params_base as u32,
            LaunchError::MleHeaderMismatch { offset } => offset as u32,
            LaunchError::BadConfigTable { addr } => addr as u32,
            LaunchError::DceMismatch { dce_base, .. } => dce_base as u32,
            LaunchError::DlmeOverflow { base } | LaunchError::DlmeOverlapsSlb { base } => base as u32,
            LaunchError::DlmeAbove4G { end } => (end >> 32) as u32,
            LaunchError::EntryOutsideDlme { entry } => entry as u32,
            LaunchError::BadContext { context } => context as u32,
            LaunchError::SlbUnreadable { base } => base as u32,
            LaunchError::Stage2Mismatch { found } => found,
            LaunchError::BadLogRange { addr } => addr as u32,
            LaunchError::LogFormat { format } => format as u32,
            LaunchError::LogFull { needed } => needed,
            LaunchError::Tpm(e) => e.detail(),
            LaunchError::NoMbi => 0,
            LaunchError::Mbi(e) => mbi_detail(&e),
            LaunchError::NotInRam { addr } | LaunchError::Overlap { addr } => addr as u32,
            LaunchError::MbiNoRoom { end } => end as u32,
            LaunchError::BadModule { start } | LaunchError::ModuleNotInPolicy { start } => start as u32,
            LaunchError::PolicyPcr { pcr } => pcr as u32,
            LaunchError::PolicyEntity { entity_type } => entity_type as u32,
            LaunchError::PolicyMismatch { entity } => entity as u32,
            LaunchError::Dma(e) => e.detail(),
            LaunchError::Txt(e) => e.detail(),
            #[cfg(any(test, feature = "psp"))]
            LaunchError::Psp(e) => e.detail(),
            LaunchError::StackOverflow => 0,
        }
    }
}

fn mbi_code(e: &MbiError) -> u16 {
    match e {
        MbiError::Truncated { .. } => 0x01,
        MbiError::BadTotalSize(_) => 0x02,
        MbiError::TagOverrun { .. } => 0x03,
        MbiError::TagTooSmall { .. } => 0x04,
        MbiError::MissingEnd => 0x05,
        MbiError::BadModule { .. } => 0x06,
        MbiError::BadMmap { .. } => 0x07,
        MbiError::DuplicateTag(_) => 0x08,
    }
}

fn mbi_detail(e: &MbiError) -> u32 {
    match *e {
        MbiError::Truncated { total_size, .. } | MbiError::BadTotalSize(total_size) => total_size,
        MbiError::TagOverrun { offset } | MbiError::TagTooSmall { offset, .. } | MbiError::BadMmap { offset } => offset,
        MbiError::BadModule { index } => index,
        MbiError::DuplicateTag(t) => t,
        MbiError::MissingEnd => 0,
    }
}

fn slrt_code(e: &SlrtError) -> u16 {
    match e {
        SlrtError::Truncated(_) => 0x01,
        SlrtError::BadMagic(_) => 0x02,
        SlrtError::UnsupportedRevision(_) => 0x03,
        SlrtError::WrongArchitecture(_) => 0x04,
        SlrtError::SizeTooSmall(_) => 0x05,
        SlrtError::SizeExceedsMax { .. } => 0x06,
        SlrtError::SizeExceedsBuffer { .. } => 0x07,
        SlrtError::EntryHeaderOverrun { .. } => 0x08,
        SlrtError::EntryTooSmall { .. } => 0x09,
        SlrtError::EntryOverrun { .. } => 0x0A,
        SlrtError::EntryWrongSize { .. } => 0x0B,
        SlrtError::UnknownEntry { .. } => 0x0C,
        SlrtError::DuplicateEntry(_) => 0x0D,
        SlrtError::MissingEnd => 0x0E,
        SlrtError::EndNotLast { .. } => 0x0F,
        SlrtError::UnsupportedPolicyRevision(_) => 0x10,
        SlrtError::PolicySizeMismatch { .. } => 0x11,
        SlrtError::LegacySlrtA => 0x12,
        SlrtError::LegacyTagProtocol => 0x13,
    }
}

fn slrt_detail(e: &SlrtError) -> u32 {
    match *e {
        SlrtError::Truncated(n) => n as u32,
        SlrtError::BadMagic(m) => m,
        SlrtError::UnsupportedRevision(r) | SlrtError::WrongArchitecture(r) => r as u32,
        SlrtError::UnsupportedPolicyRevision(r) => r as u32,
        SlrtError::SizeTooSmall(s) => s,
        SlrtError::SizeExceedsMax { size, .. } | SlrtError::SizeExceedsBuffer { size, .. } => size,
        SlrtError::EntryHeaderOverrun { offset }
        | SlrtError::EntryTooSmall { offset, .. }
        | SlrtError::EntryOverrun { offset, .. }
        | SlrtError::EndNotLast { offset } => offset,
        SlrtError::UnknownEntry { tag, .. } | SlrtError::DuplicateEntry(tag) => tag,
        SlrtError::EntryWrongSize { size, .. } | SlrtError::PolicySizeMismatch { size, .. } => size,
        SlrtError::MissingEnd | SlrtError::LegacySlrtA | SlrtError::LegacyTagProtocol => 0,
    }
}

impl From<SlrtError> for LaunchError {
    fn from(e: SlrtError) -> Self {
        LaunchError::Slrt(e)
    }
}

impl From<DmaError> for LaunchError {
    fn from(e: DmaError) -> Self {
        LaunchError::Dma(e)
    }
}

impl From<TxtError> for LaunchError {
    fn from(e: TxtError) -> Self {
        LaunchError::Txt(e)
    }
}

impl From<TpmError> for LaunchError {
    fn from(e: TpmError) -> Self {
        LaunchError::Tpm(e)
    }
}

#[cfg(test)]
mod tests;
