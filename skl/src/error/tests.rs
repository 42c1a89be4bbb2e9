//! Every launch error has its own code, and `docs/launch-errors.md` lists
//! exactly those codes, each with its variant's name.
//!
//! `every_error` must name every variant: the exhaustive `match`es in
//! `named` stop the build when a variant is added and not listed here.

use std::collections::BTreeMap;

use super::*;
use crate::psp::PspError;
use crate::tpm::TpmFamily;
use skl_bootinfo::txt::heap::{HeapTable, TxtHeapError};

/// Compile-time guard: one arm per variant, no wildcard.
fn named(e: &LaunchError) -> bool {
    match e {
        LaunchError::Slrt(s) => match s {
            SlrtError::Truncated(_)
            | SlrtError::BadMagic(_)
            | SlrtError::UnsupportedRevision(_)
            | SlrtError::WrongArchitecture(_)
            | SlrtError::SizeTooSmall(_)
            | SlrtError::SizeExceedsMax { .. }
            | SlrtError::SizeExceedsBuffer { .. }
            | SlrtError::EntryHeaderOverrun { .. }
            | SlrtError::EntryTooSmall { .. }
            | SlrtError::EntryOverrun { .. }
            | SlrtError::EntryWrongSize { .. }
            | SlrtError::UnknownEntry { .. }
            | SlrtError::DuplicateEntry(_)
            | SlrtError::MissingEnd
            | SlrtError::EndNotLast { .. }
            | SlrtError::UnsupportedPolicyRevision(_)
            | SlrtError::PolicySizeMismatch { .. }
            | SlrtError::LegacySlrtA
            | SlrtError::LegacyTagProtocol => true,
        },
        LaunchError::Mbi(m) => match m {
            MbiError::Truncated { .. }
            | MbiError::BadTotalSize(_)
            | MbiError::TagOverrun { .. }
            | MbiError::TagTooSmall { .. }
            | MbiError::MissingEnd
            | MbiError::BadModule { .. }
            | MbiError::BadMmap { .. }
            | MbiError::DuplicateTag(_) => true,
        },
        LaunchError::Tpm(t) => match t {
            TpmError::NoDevice { .. }
            | TpmError::UnsupportedInterface(_)
            | TpmError::UnsupportedFamily(_)
            | TpmError::LocalityTimeout(_)
            | TpmError::LocalityNotSupported(_)
            | TpmError::ReadyTimeout { .. }
            | TpmError::FifoTimeout { .. }
            | TpmError::ResponseTimeout { .. }
            | TpmError::FifoProtocol { .. }
            | TpmError::BadResponseSize(_)
            | TpmError::MalformedResponse(_)
            | TpmError::ResponseCode(_)
            | TpmError::NoPcrBanks
            | TpmError::UnsupportedBank(_) => true,
        },
        LaunchError::Dma(d) => match d {
            DmaError::UnknownFamily { .. }
            | DmaError::NoNorthbridge
            | DmaError::NoDevCapability { .. }
            | DmaError::NoExtendedConfig
            | DmaError::NodeNotLifted { .. }
            | DmaError::NoIommu
            | DmaError::TooManyIommus
            | DmaError::IommuBase { .. }
            | DmaError::IommuNoResponse { .. }
            | DmaError::IommuTimeout { .. }
            | DmaError::DeviceTableChanged { .. }
            | DmaError::TablesMisplaced { .. } => true,
        },
        LaunchError::Txt(x) => match x {
            TxtError::NotLaunched { .. }
            | TxtError::PrivateSpaceClosed { .. }
            | TxtError::SinitError { .. }
            | TxtError::HeapRange { .. }
            | TxtError::Heap(_)
            | TxtError::PmrLayout { .. }
            | TxtError::NotDmaProtected { .. }
            | TxtError::NotInMdr { .. }
            | TxtError::Mtrr { .. }
            | TxtError::MleMismatch { .. }
            | TxtError::MlePlacement { .. }
            | TxtError::EventLog { .. }
            | TxtError::Slrt { .. }
            | TxtError::RlpWakeup { .. }
            | TxtError::NoSmx
            | TxtError::MiscEnable { .. } => true,
        },
        LaunchError::Psp(p) => match p {
            PspError::NotSupported { .. }
            | PspError::LaunchRefused { .. }
            | PspError::TmrSetupFailed { .. }
            | PspError::TmrDestroyFailed { .. }
            | PspError::TcgLogsFailed { .. }
            | PspError::OutOfResources { .. }
            | PspError::Generic { .. }
            | PspError::InvalidServiceId { .. }
            | PspError::MemoryUnaligned { .. }
            | PspError::MinimumSize { .. }
            | PspError::TmrDescriptorFailed { .. }
            | PspError::ExtendOsslFailed { .. }
            | PspError::SetupNotAllowed { .. }
            | PspError::IvrsTableFailed { .. }
            | PspError::UnknownStatus { .. }
            | PspError::NoMailbox { .. }
            | PspError::NeverReady { .. }
            | PspError::Busy { .. }
            | PspError::Timeout { .. }
            | PspError::DlmeTooLarge { .. }
            | PspError::BadTcgLog { .. }
            | PspError::TcgLogRange { .. }
            | PspError::NeedsSha256Bank
            | PspError::PcrMismatch { .. }
            | PspError::NotDlmeMode
            | PspError::NoService => true,
        },
        LaunchError::NoDlInfo
        | LaunchError::DceMismatch { .. }
        | LaunchError::DlmeEmpty
        | LaunchError::DlmeOverflow { .. }
        | LaunchError::DlmeAbove4G { .. }
        | LaunchError::DlmeOverlapsSlb { .. }
        | LaunchError::EntryOutsideDlme { .. }
        | LaunchError::BadContext { .. }
        | LaunchError::SlbUnreadable { .. }
        | LaunchError::Stage2Mismatch { .. }
        | LaunchError::BadLogRange { .. }
        | LaunchError::LogFormat { .. }
        | LaunchError::LogFull { .. }
        | LaunchError::NoMbi
        | LaunchError::NotInRam { .. }
        | LaunchError::BadModule { .. }
        | LaunchError::PolicyPcr { .. }
        | LaunchError::PolicyEntity { .. }
        | LaunchError::PolicyMismatch { .. }
        | LaunchError::ModuleNotInPolicy { .. }
        | LaunchError::Overlap { .. }
        | LaunchError::MbiNoRoom { .. }
        | LaunchError::NoAmdInfo
        | LaunchError::AmdInfoType { .. }
        | LaunchError::AmdInfoSlrt { .. }
        | LaunchError::BootParamsMismatch { .. }
        | LaunchError::MleHeaderMismatch { .. }
        | LaunchError::BadConfigTable { .. }
        | LaunchError::StackOverflow => true,
    }
}

/// One value of every variant, nested ones included.
fn every_error() -> Vec<LaunchError> {
    use LaunchError as L;
    let slrt = [
        SlrtError::Truncated(0),
        SlrtError::BadMagic(0),
        SlrtError::UnsupportedRevision(0),
        SlrtError::WrongArchitecture(0),
        SlrtError::SizeTooSmall(0),
        SlrtError::SizeExceedsMax { size: 0, max_size: 0 },
        SlrtError::SizeExceedsBuffer { size: 0, buffer: 0 },
        SlrtError::EntryHeaderOverrun { offset: 0 },
        SlrtError::EntryTooSmall { offset: 0, size: 0 },
        SlrtError::EntryOverrun { offset: 0, size: 0 },
        SlrtError::EntryWrongSize { tag: 0, size: 0 },
        SlrtError::UnknownEntry { tag: 0, offset: 0 },
        SlrtError::DuplicateEntry(0),
        SlrtError::MissingEnd,
        SlrtError::EndNotLast { offset: 0 },
        SlrtError::UnsupportedPolicyRevision(0),
        SlrtError::PolicySizeMismatch { size: 0, nr_entries: 0 },
        SlrtError::LegacySlrtA,
        SlrtError::LegacyTagProtocol,
    ];
    let mbi = [
        MbiError::Truncated { have: 0, total_size: 0 },
        MbiError::BadTotalSize(0),
        MbiError::TagOverrun { offset: 0 },
        MbiError::TagTooSmall { offset: 0, size: 0 },
        MbiError::MissingEnd,
        MbiError::BadModule { index: 0 },
        MbiError::BadMmap { offset: 0 },
        MbiError::DuplicateTag(0),
    ];
    let tpm = [
        TpmError::NoDevice { access: 0 },
        TpmError::UnsupportedInterface(0),
        TpmError::UnsupportedFamily(TpmFamily::Tpm12),
        TpmError::LocalityTimeout(0),
        TpmError::LocalityNotSupported(0),
        TpmError::ReadyTimeout { sts: 0 },
        TpmError::FifoTimeout { done: 0 },
        TpmError::ResponseTimeout { sts: 0 },
        TpmError::FifoProtocol { sts: 0 },
        TpmError::BadResponseSize(0),
        TpmError::MalformedResponse(0),
        TpmError::ResponseCode(0),
        TpmError::NoPcrBanks,
        TpmError::UnsupportedBank(0),
    ];
    let dma = [
        DmaError::UnknownFamily { family: 0 },
        DmaError::NoNorthbridge,
        DmaError::NoDevCapability { node: 0 },
        DmaError::NoExtendedConfig,
        DmaError::NodeNotLifted { node: 0, value: 0 },
        DmaError::NoIommu,
        DmaError::TooManyIommus,
        DmaError::IommuBase { device: 0, base: 0 },
        DmaError::IommuNoResponse { base: 0, reg: 0, value: 0 },
        DmaError::IommuTimeout { base: 0, head: 0 },
        DmaError::DeviceTableChanged { index: 0 },
        DmaError::TablesMisplaced { addr: 0 },
    ];
    let txt = [
        TxtError::NotLaunched { sts: 0 },
        TxtError::PrivateSpaceClosed { didvid: 0 },
        TxtError::SinitError { code: 0 },
        TxtError::HeapRange { base: 0, size: 0 },
        TxtError::Heap(TxtHeapError::TableOverflow { table: HeapTable::BiosData, offset: 0, size: 0 }),
        TxtError::PmrLayout { base: 0, size: 0 },
        TxtError::NotDmaProtected { addr: 0 },
        TxtError::NotInMdr { addr: 0 },
        TxtError::Mtrr { index: 0 },
        TxtError::MleMismatch { size: 0, header: 0 },
        TxtError::MlePlacement { linear: 0 },
        TxtError::EventLog { addr: 0 },
        TxtError::Slrt { addr: 0 },
        TxtError::RlpWakeup { caps: 0 },
        TxtError::NoSmx,
        TxtError::MiscEnable { saved: 0 },
    ];
    let psp = [
        PspError::NotSupported { cmd: 0 },
        PspError::LaunchRefused { cmd: 0 },
        PspError::TmrSetupFailed { cmd: 0 },
        PspError::TmrDestroyFailed { cmd: 0 },
        PspError::TcgLogsFailed { cmd: 0 },
        PspError::OutOfResources { cmd: 0 },
        PspError::Generic { cmd: 0 },
        PspError::InvalidServiceId { cmd: 0 },
        PspError::MemoryUnaligned { cmd: 0 },
        PspError::MinimumSize { cmd: 0 },
        PspError::TmrDescriptorFailed { cmd: 0 },
        PspError::ExtendOsslFailed { cmd: 0 },
        PspError::SetupNotAllowed { cmd: 0 },
        PspError::IvrsTableFailed { cmd: 0 },
        PspError::UnknownStatus { cmd: 0, status: 0 },
        PspError::NoMailbox { base: 0 },
        PspError::NeverReady { value: 0 },
        PspError::Busy { cmd: 0 },
        PspError::Timeout { cmd: 0 },
        PspError::DlmeTooLarge { size: 0 },
        PspError::BadTcgLog { offset: 0 },
        PspError::TcgLogRange { addr: 0 },
        PspError::NeedsSha256Bank,
        PspError::PcrMismatch { alg: 0, pcr: 0 },
        PspError::NotDlmeMode,
        PspError::NoService,
    ];
    let mut v = vec![
        L::NoDlInfo,
        L::DceMismatch { dce_base: 0, dce_size: 0 },
        L::DlmeEmpty,
        L::DlmeOverflow { base: 0 },
        L::DlmeAbove4G { end: 0 },
        L::DlmeOverlapsSlb { base: 0 },
        L::EntryOutsideDlme { entry: 0 },
        L::BadContext { context: 0 },
        L::SlbUnreadable { base: 0 },
        L::Stage2Mismatch { found: 0 },
        L::BadLogRange { addr: 0 },
        L::LogFormat { format: 0 },
        L::LogFull { needed: 0 },
        L::NoMbi,
        L::NotInRam { addr: 0 },
        L::BadModule { start: 0 },
        L::PolicyPcr { pcr: 0 },
        L::PolicyEntity { entity_type: 0 },
        L::PolicyMismatch { entity: 0 },
        L::ModuleNotInPolicy { start: 0 },
        L::Overlap { addr: 0 },
        L::MbiNoRoom { end: 0 },
        L::NoAmdInfo,
        L::AmdInfoType { setup_type: 0 },
        L::AmdInfoSlrt { slrt_base: 0 },
        L::BootParamsMismatch { boot_params_base: 0 },
        L::MleHeaderMismatch { offset: 0 },
        L::BadConfigTable { addr: 0 },
        L::StackOverflow,
    ];
    v.extend(slrt.map(L::Slrt));
    v.extend(mbi.map(L::Mbi));
    v.extend(tpm.map(L::Tpm));
    v.extend(dma.map(L::Dma));
    v.extend(txt.map(L::Txt));
    v.extend(psp.map(L::Psp));
    assert!(v.iter().all(named));
    v
}

/// The variant's name as the docs write it: the innermost enum variant.
fn variant_name(e: &LaunchError) -> String {
    let d = format!("{e:?}");
    let inner = match e {
        LaunchError::Slrt(_)
        | LaunchError::Mbi(_)
        | LaunchError::Tpm(_)
        | LaunchError::Dma(_)
        | LaunchError::Txt(_)
        | LaunchError::Psp(_) => &d[d.find('(').unwrap() + 1..],
        _ => &d[..],
    };
    inner.split(|c: char| !c.is_alphanumeric()).next().unwrap().to_string()
}

/// Every GRUB-chain refusal of skl-txt.bin (`txt_grub::ChainError`).
fn every_chain_error() -> Vec<crate::txt_grub::ChainError> {
    use crate::txt_grub::ChainError as C;
    let v = vec![
        C::NoKernel,
        C::TwoKernels { start: 0 },
        C::InMleArea { addr: 0 },
        C::KernelImage { start: 0 },
        C::KernelPlacement { addr: 0 },
        C::SelfAsDlme { size: 0 },
        C::Unreadable { addr: 0 },
    ];
    // Compile-time guard, as `named`.
    assert!(v.iter().all(|e| match e {
        C::NoKernel
        | C::TwoKernels { .. }
        | C::InMleArea { .. }
        | C::KernelImage { .. }
        | C::KernelPlacement { .. }
        | C::SelfAsDlme { .. }
        | C::Unreadable { .. } => true,
    }));
    v
}

#[test]
fn every_code_is_distinct() {
    let mut seen = BTreeMap::new();
    for e in every_error() {
        if let Some(other) = seen.insert(e.code(), format!("{e:?}")) {
            panic!("{:#06x} used by {other} and {e:?}", e.code());
        }
    }
    for e in every_chain_error() {
        if let Some(other) = seen.insert(e.code(), format!("{e:?}")) {
            panic!("{:#06x} used by {other} and {e:?}", e.code());
        }
    }
}

#[test]
fn launch_errors_md_lists_exactly_the_codes_of_the_code() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/launch-errors.md")).unwrap();
    // Table rows: `| 0xNNNN | ... `Variant` ...`.
    let mut documented = BTreeMap::new();
    for line in doc.lines().filter(|l| l.starts_with("| 0x")) {
        let code = u16::from_str_radix(line[2..].split_whitespace().next().unwrap().trim_start_matches("0x"), 16)
            .unwrap_or_else(|_| panic!("row without a code: {line}"));
        let name = line.split('`').nth(1).unwrap_or_else(|| panic!("row without a `Variant`: {line}"));
        assert!(documented.insert(code, name.to_string()).is_none(), "{code:#06x} documented twice");
    }
    let mut missing = vec![];
    for e in every_error() {
        match documented.remove(&e.code()) {
            None if e == LaunchError::StackOverflow => assert!(doc.contains("## 0xFFFE")),
            None => missing.push(format!("{:#06x} {e:?}", e.code())),
            Some(name) => assert_eq!(name, variant_name(&e), "{:#06x} is {e:?} in the code", e.code()),
        }
    }
    // skl-txt.bin's GRUB-chain refusals: their own type (skl.bin must not
    // link them), the same table.
    for e in every_chain_error() {
        match documented.remove(&e.code()) {
            None => missing.push(format!("{:#06x} {e:?}", e.code())),
            Some(name) => assert_eq!(name, format!("{e:?}").split(|c: char| !c.is_alphanumeric()).next().unwrap()),
        }
    }
    assert!(missing.is_empty(), "codes not in docs/launch-errors.md: {missing:?}");
    assert!(documented.is_empty(), "docs/launch-errors.md lists codes the code does not have: {documented:?}");
}
