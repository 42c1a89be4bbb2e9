//! Secure Launch Resource Table (SLRT), the "SLRT-B" generation: 32-bit entry
//! headers, 72-byte DL_INFO (or the 88-byte DL_INFO of Linux Secure Launch
//! v16, [`DlInfo88`]).
//!
//! Layouts follow TrenchBoot GRUB `aem-qubes-4.2.3-rebase`
//! `include/grub/slr_table.h` (b3fd5906), TrenchBoot Xen
//! `aem-staging-14-10-24-rebase` `xen/include/xen/slr_table.h` (6a50fd9e) and
//! the Secure Launch specification v0.6.0-draft (AMD_INFO). All fields are
//! little-endian and packed; entries follow each other without alignment.
//!
//! [`Slrt::parse`] validates the whole table in one pass; afterwards the
//! accessors cannot fail. Older generations (the SLRT-A table with 16-bit
//! entry headers, and the tag list of SKL `master`) are recognised and refused
//! with their own errors rather than misread.

use static_assertions::const_assert_eq;
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::addr::{PhysAddr, PhysRange};

pub const SLRT_MAGIC: u32 = 0x4452_544D;
pub const SLRT_REVISION: u16 = 1;
pub const DRTM_POLICY_REVISION: u16 = 1;

/// `architecture` field of the table header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Architecture {
    IntelTxt = 1,
    AmdSkinit = 2,
}

/// Entry tags (`SLR_ENTRY_*`).
pub mod tag {
    pub const INVALID: u32 = 0;
    pub const DL_INFO: u32 = 1;
    pub const LOG_INFO: u32 = 2;
    pub const DRTM_POLICY: u32 = 3;
    pub const INTEL_INFO: u32 = 4;
    pub const AMD_INFO: u32 = 5;
    pub const ARM_INFO: u32 = 6;
    pub const UEFI_INFO: u32 = 7;
    pub const UEFI_CONFIG: u32 = 8;
    pub const END: u32 = 0xFFFF;
}

/// Table header (16 bytes).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct SlrtHeader {
    pub magic: U32,
    pub revision: U16,
    pub architecture: U16,
    /// Bytes in use, header and END entry included.
    pub size: U32,
    /// Bytes available to the table.
    pub max_size: U32,
}
const_assert_eq!(core::mem::size_of::<SlrtHeader>(), 16);

/// Entry header (8 bytes); `size` includes it.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct EntryHeader {
    pub tag: U32,
    pub size: U32,
}
const_assert_eq!(core::mem::size_of::<EntryHeader>(), 8);

/// `bl_context` inside DL_INFO.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BlContext {
    /// 1 = GRUB (`SLR_BOOTLOADER_GRUB`).
    pub bootloader: U16,
    pub reserved: [U16; 3],
    /// Boot parameters: the MBI for Multiboot2, the zero page for Linux.
    pub context: U64,
}
const_assert_eq!(core::mem::size_of::<BlContext>(), 16);

/// DL_INFO (72 bytes).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct DlInfo {
    pub hdr: EntryHeader,
    pub dce_size: U64,
    pub dce_base: U64,
    pub dlme_size: U64,
    pub dlme_base: U64,
    /// Offset of the DLME entry from `dlme_base`.
    pub dlme_entry: U64,
    pub bl_context: BlContext,
    pub dl_handler: U64,
}
const_assert_eq!(core::mem::size_of::<DlInfo>(), 72);
const_assert_eq!(core::mem::offset_of!(DlInfo, dlme_entry), 40);
const_assert_eq!(core::mem::offset_of!(DlInfo, bl_context), 48);
const_assert_eq!(core::mem::offset_of!(DlInfo, dl_handler), 64);

/// DL_INFO as the Linux Secure Launch v16 series grew it (88 bytes): the
/// DLME's MLE header offset and a DLME configuration table are inserted
/// before `bl_context`, and `dl_handler` is renamed `dl_launch`.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct DlInfo88 {
    pub hdr: EntryHeader,
    pub dce_size: U64,
    pub dce_base: U64,
    pub dlme_size: U64,
    pub dlme_base: U64,
    pub dlme_entry: U64,
    /// Offset of the DLME's MLE header from `dlme_base`.
    pub dlme_header_offset: U64,
    /// Physical address of a DLME configuration table (kernel-defined;
    /// SKL range-checks it and never reads it).
    pub dlme_config_table: U64,
    pub bl_context: BlContext,
    pub dl_launch: U64,
}
const_assert_eq!(core::mem::size_of::<DlInfo88>(), 88);
const_assert_eq!(core::mem::offset_of!(DlInfo88, dlme_header_offset), 48);
const_assert_eq!(core::mem::offset_of!(DlInfo88, dlme_config_table), 56);
const_assert_eq!(core::mem::offset_of!(DlInfo88, bl_context), 64);
const_assert_eq!(core::mem::offset_of!(DlInfo88, dl_launch), 80);

/// DL_INFO in either size, with the fields both carry as accessors.
#[derive(Clone, Copy, Debug)]
pub enum DlInfoRef<'a> {
    /// 72 bytes: GRUB `aem-qubes-4.2.3-rebase` and `tb-dev`, Xen
    /// `aem-staging-14-10-24-rebase` and v3.
    V72(&'a DlInfo),
    /// 88 bytes: Linux Secure Launch v16.
    V88(&'a DlInfo88),
}

impl<'a> DlInfoRef<'a> {
    pub fn dce_size(&self) -> u64 {
        match self {
            DlInfoRef::V72(d) => d.dce_size.get(),
            DlInfoRef::V88(d) => d.dce_size.get(),
        }
    }
    pub fn dce_base(&self) -> u64 {
        match self {
            DlInfoRef::V72(d) => d.dce_base.get(),
            DlInfoRef::V88(d) => d.dce_base.get(),
        }
    }
    pub fn dlme_size(&self) -> u64 {
        match self {
            DlInfoRef::V72(d) => d.dlme_size.get(),
            DlInfoRef::V88(d) => d.dlme_size.get(),
        }
    }
    pub fn dlme_base(&self) -> u64 {
        match self {
            DlInfoRef::V72(d) => d.dlme_base.get(),
            DlInfoRef::V88(d) => d.dlme_base.get(),
        }
    }
    /// Offset of the DLME entry from `dlme_base`.
    pub fn dlme_entry(&self) -> u64 {
        match self {
            DlInfoRef::V72(d) => d.dlme_entry.get(),
            DlInfoRef::V88(d) => d.dlme_entry.get(),
        }
    }
    pub fn bl_context(&self) -> &'a BlContext {
        match self {
            DlInfoRef::V72(d) => &d.bl_context,
            DlInfoRef::V88(d) => &d.bl_context,
        }
    }
    /// `bl_context.context`.
    pub fn context(&self) -> u64 {
        self.bl_context().context.get()
    }
    /// The 88-byte entry's (`dlme_header_offset`, `dlme_config_table`).
    pub fn dlme_setup(&self) -> Option<(u64, u64)> {
        match self {
            DlInfoRef::V72(_) => None,
            DlInfoRef::V88(d) => Some((d.dlme_header_offset.get(), d.dlme_config_table.get())),
        }
    }
    /// The entry's bytes as stored.
    pub fn as_bytes(&self) -> &'a [u8] {
        match self {
            DlInfoRef::V72(d) => d.as_bytes(),
            DlInfoRef::V88(d) => d.as_bytes(),
        }
    }
    /// The DLME range, `None` if `base + size` overflows.
    pub fn dlme(&self) -> Option<PhysRange> {
        PhysRange::new(PhysAddr(self.dlme_base()), self.dlme_size())
    }
}

/// LOG_INFO `format`.
pub mod log_format {
    pub const TPM12_TXT: u16 = 1;
    pub const TPM20_TCG: u16 = 2;
}

/// LOG_INFO (24 bytes).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct LogInfo {
    pub hdr: EntryHeader,
    pub format: U16,
    pub reserved: U16,
    pub size: U32,
    pub addr: U64,
}
const_assert_eq!(core::mem::size_of::<LogInfo>(), 24);
const_assert_eq!(core::mem::offset_of!(LogInfo, addr), 16);

/// DRTM_POLICY header (16 bytes); `nr_entries` × [`PolicyEntry`] follow.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct DrtmPolicyHeader {
    pub hdr: EntryHeader,
    pub reserved: [U16; 2],
    pub revision: U16,
    pub nr_entries: U16,
}
const_assert_eq!(core::mem::size_of::<DrtmPolicyHeader>(), 16);

/// Entity types of policy entries (`SLR_ET_*`).
pub mod entity {
    pub const UNSPECIFIED: u16 = 0;
    pub const SLRT: u16 = 1;
    pub const BOOT_PARAMS: u16 = 2;
    pub const SETUP_DATA: u16 = 3;
    pub const CMDLINE: u16 = 4;
    pub const UEFI_MEMMAP: u16 = 5;
    pub const RAMDISK: u16 = 6;
    pub const MULTIBOOT2_INFO: u16 = 7;
    pub const MULTIBOOT2_MODULE: u16 = 8;
    pub const TXT_OS2MLE: u16 = 0x10;
    pub const UNUSED: u16 = 0xFFFF;
}

/// Policy entry flags.
pub mod policy_flags {
    pub const MEASURED: u16 = 1;
    pub const IMPLICIT_SIZE: u16 = 2;
}

/// One DRTM policy entry (56 bytes). Note `size` precedes `entity` here
/// (it is the other way round in the older SLRT-A layout).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct PolicyEntry {
    pub pcr: U16,
    pub entity_type: U16,
    pub flags: U16,
    pub reserved: U16,
    pub size: U64,
    pub entity: U64,
    /// Event text for the log, NUL-padded, not necessarily NUL-terminated.
    pub evt_info: [u8; 32],
}
const_assert_eq!(core::mem::size_of::<PolicyEntry>(), 56);
const_assert_eq!(core::mem::offset_of!(PolicyEntry, entity), 16);

impl PolicyEntry {
    /// The event text up to the first NUL (at most 32 bytes).
    pub fn evt_info(&self) -> &[u8] {
        let n = self.evt_info.iter().position(|&b| b == 0).unwrap_or(self.evt_info.len());
        &self.evt_info[..n]
    }
}

/// AMD_INFO as far as every writer agrees (48 bytes, up to
/// `boot_params_base`): what TrenchBoot GRUB `tb-dev` writes
/// (`include/grub/slr_table.h` @66aec2e2: no `psp_version`). Bytes 8.. form
/// a Linux `setup_data` node of type `SETUP_SECURE_LAUNCH` (10).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct AmdInfoBase {
    pub hdr: EntryHeader,
    pub next: U64,
    pub setup_type: U32,
    pub len: U32,
    pub slrt_size: U64,
    pub slrt_base: U64,
    pub boot_params_base: U64,
}
const_assert_eq!(core::mem::size_of::<AmdInfoBase>(), 48);

/// AMD_INFO (56 bytes) as the Secure Launch specification v0.6.0-draft,
/// Xen v3, Linux v16 and SKL `include/slrt/slrt.h` (03a3bee7) declare it:
/// [`AmdInfoBase`] plus `psp_version`. Both sizes are accepted.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct AmdInfo {
    pub hdr: EntryHeader,
    pub next: U64,
    pub setup_type: U32,
    pub len: U32,
    pub slrt_size: U64,
    pub slrt_base: U64,
    pub boot_params_base: U64,
    pub psp_version: U16,
    pub reserved: [U16; 3],
}
const_assert_eq!(core::mem::size_of::<AmdInfo>(), 56);
const_assert_eq!(core::mem::offset_of!(AmdInfo, boot_params_base), 40);
const_assert_eq!(core::mem::offset_of!(AmdInfo, psp_version), 48);

/// AMD_INFO `setup_type`: Linux `SETUP_SECURE_LAUNCH`.
pub const SETUP_SECURE_LAUNCH: u32 = 10;

/// One variable-range MTRR pair in INTEL_INFO.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct MtrrPair {
    pub base: U64,
    pub mask: U64,
}

/// INTEL_INFO (8 + 8 + 8 + 16 + 32 × 16 = 552 bytes).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct IntelInfo {
    pub hdr: EntryHeader,
    pub txt_heap: U64,
    pub saved_misc_enable_msr: U64,
    pub default_mem_type: U64,
    pub mtrr_vcnt: U64,
    pub mtrr_pairs: [MtrrPair; 32],
}
const_assert_eq!(core::mem::size_of::<IntelInfo>(), 552);

/// Why a table is refused. Each variant carries the offending value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlrtError {
    /// Fewer bytes than the table header.
    Truncated(usize),
    /// First u32 is not `0x4452544D`.
    BadMagic(u32),
    /// A revision this loader does not speak.
    UnsupportedRevision(u16),
    /// Architecture field differs from the launch we are in.
    WrongArchitecture(u16),
    /// `size` too small to hold the header and an END entry.
    SizeTooSmall(u32),
    /// `size` exceeds `max_size`.
    SizeExceedsMax { size: u32, max_size: u32 },
    /// `size` (or `max_size`) exceeds the space the loader gave the table.
    SizeExceedsBuffer { size: u32, buffer: usize },
    /// An entry header does not fit before `size`.
    EntryHeaderOverrun { offset: u32 },
    /// An entry's `size` is below 8.
    EntryTooSmall { offset: u32, size: u32 },
    /// An entry runs past the table's `size`.
    EntryOverrun { offset: u32, size: u32 },
    /// A known entry with a size its layout does not have.
    EntryWrongSize { tag: u32, size: u32 },
    /// A tag this loader does not know (refused: it may carry policy).
    UnknownEntry { tag: u32, offset: u32 },
    /// A singleton entry appears twice.
    DuplicateEntry(u32),
    /// No END entry before `size`.
    MissingEnd,
    /// END is not the last 8 bytes of the table.
    EndNotLast { offset: u32 },
    /// DRTM_POLICY revision not understood.
    UnsupportedPolicyRevision(u16),
    /// DRTM_POLICY size disagrees with `nr_entries`.
    PolicySizeMismatch { size: u32, nr_entries: u16 },
    /// The table is the older SLRT-A generation (16-bit entry headers;
    /// SKL `slrt` branch, GRUB `intel-txt-aem-2.06`).
    LegacySlrtA,
    /// The data is the SKL `master` tag list (GRUB tag protocol).
    LegacyTagProtocol,
}

/// A validated table. Borrowed from the bytes it was parsed from.
#[derive(Clone, Copy, Debug)]
pub struct Slrt<'a> {
    header: &'a SlrtHeader,
    dl_info: Option<DlInfoRef<'a>>,
    log_info: Option<&'a LogInfo>,
    amd_info: Option<&'a AmdInfoBase>,
    /// AMD_INFO is the 56-byte layout (it has `psp_version`).
    amd_info_psp: bool,
    intel_info: Option<&'a IntelInfo>,
    policy: Option<(&'a DrtmPolicyHeader, &'a [u8])>,
    policy_offset: usize,
    amd_info_offset: usize,
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    b.get(off..off + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    b.get(off..off + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

impl<'a> Slrt<'a> {
    /// Validate the table at the start of `buf` (the bootloader-data area;
    /// `buf.len()` is the space the table may occupy).
    pub fn parse(buf: &'a [u8], arch: Architecture) -> Result<Self, SlrtError> {
        // SKL `master` tag list: TAGS_SIZE (type 0x0F, len 4) comes first.
        if buf.len() >= 2 && buf[0] == 0x0F && buf[1] == 4 {
            return Err(SlrtError::LegacyTagProtocol);
        }
        let (header, _) = SlrtHeader::ref_from_prefix(buf).map_err(|_| SlrtError::Truncated(buf.len()))?;
        if header.magic.get() != SLRT_MAGIC {
            return Err(SlrtError::BadMagic(header.magic.get()));
        }
        if header.revision.get() != SLRT_REVISION {
            return Err(SlrtError::UnsupportedRevision(header.revision.get()));
        }
        if header.architecture.get() != arch as u16 {
            return Err(SlrtError::WrongArchitecture(header.architecture.get()));
        }
        let size = header.size.get();
        let max_size = header.max_size.get();
        if size < 16 + 8 {
            return Err(SlrtError::SizeTooSmall(size));
        }
        if size > max_size {
            return Err(SlrtError::SizeExceedsMax { size, max_size });
        }
        // max_size is the bootloader's claim (GRUB-B: 4096; GRUB-newest:
        // 64 KiB minus the offset); what bounds us is the space we own.
        if size as usize > buf.len() {
            return Err(SlrtError::SizeExceedsBuffer { size, buffer: buf.len() });
        }
        let table = &buf[..size as usize];
        // SLRT-A: u16 tag then u16 size; its first entry (DL_INFO, 52 bytes)
        // reads as a u32 tag with a non-zero upper half.
        if let (Some(t16), Some(s16)) = (u16_at(table, 16), u16_at(table, 18)) {
            if s16 != 0 && (t16 as u32 == tag::DL_INFO || t16 as u32 == tag::INTEL_INFO) {
                return Err(SlrtError::LegacySlrtA);
            }
        }

        let mut slrt = Slrt {
            header,
            dl_info: None,
            log_info: None,
            amd_info: None,
            amd_info_psp: false,
            intel_info: None,
            policy: None,
            policy_offset: 0,
            amd_info_offset: 0,
        };
        let mut off: usize = 16;
        loop {
            let (Some(etag), Some(esize)) = (u32_at(table, off), u32_at(table, off + 4)) else {
                return Err(if off + 8 > table.len() && off < table.len() {
                    SlrtError::EntryHeaderOverrun { offset: off as u32 }
                } else {
                    SlrtError::MissingEnd
                });
            };
            if esize < 8 {
                return Err(SlrtError::EntryTooSmall { offset: off as u32, size: esize });
            }
            let end = off.checked_add(esize as usize).filter(|&e| e <= table.len());
            let Some(end) = end else {
                return Err(SlrtError::EntryOverrun { offset: off as u32, size: esize });
            };
            let body = &table[off..end];
            match etag {
                tag::END => {
                    if esize != 8 {
                        return Err(SlrtError::EntryWrongSize { tag: etag, size: esize });
                    }
                    if end != table.len() {
                        return Err(SlrtError::EndNotLast { offset: off as u32 });
                    }
                    return Ok(slrt);
                }
                tag::DL_INFO => {
                    let dup = slrt.dl_info.is_some();
                    slrt.dl_info = Some(if esize as usize == core::mem::size_of::<DlInfo88>() {
                        DlInfoRef::V88(singleton(dup, etag, body)?)
                    } else {
                        DlInfoRef::V72(singleton(dup, etag, body)?)
                    });
                }
                tag::LOG_INFO => slrt.log_info = Some(singleton(slrt.log_info.is_some(), etag, body)?),
                tag::AMD_INFO => {
                    let spec = esize as usize == core::mem::size_of::<AmdInfo>();
                    let base = if spec { &body[..core::mem::size_of::<AmdInfoBase>()] } else { body };
                    slrt.amd_info = Some(singleton(slrt.amd_info.is_some(), etag, base)?);
                    slrt.amd_info_psp = spec;
                    slrt.amd_info_offset = off;
                }
                tag::INTEL_INFO => slrt.intel_info = Some(singleton(slrt.intel_info.is_some(), etag, body)?),
                tag::DRTM_POLICY => {
                    if slrt.policy.is_some() {
                        return Err(SlrtError::DuplicateEntry(etag));
                    }
                    let (ph, rest) = DrtmPolicyHeader::ref_from_prefix(body)
                        .map_err(|_| SlrtError::EntryWrongSize { tag: etag, size: esize })?;
                    if ph.revision.get() != DRTM_POLICY_REVISION {
                        return Err(SlrtError::UnsupportedPolicyRevision(ph.revision.get()));
                    }
                    let n = ph.nr_entries.get();
                    if rest.len() != n as usize * core::mem::size_of::<PolicyEntry>() {
                        return Err(SlrtError::PolicySizeMismatch { size: esize, nr_entries: n });
                    }
                    slrt.policy = Some((ph, rest));
                    slrt.policy_offset = off + core::mem::size_of::<DrtmPolicyHeader>();
                }
                // Known, carried for other architectures or UEFI, not used by
                // an SKINIT launch: their presence changes nothing we measure.
                tag::ARM_INFO | tag::UEFI_INFO | tag::UEFI_CONFIG => {}
                _ => return Err(SlrtError::UnknownEntry { tag: etag, offset: off as u32 }),
            }
            off = end;
        }
    }

    pub fn header(&self) -> &'a SlrtHeader {
        self.header
    }
    /// Bytes of the table (header and END included).
    pub fn size(&self) -> u32 {
        self.header.size.get()
    }
    /// DL_INFO, 72 or 88 bytes.
    pub fn dl_info(&self) -> Option<DlInfoRef<'a>> {
        self.dl_info
    }
    pub fn log_info(&self) -> Option<&'a LogInfo> {
        self.log_info
    }
    pub fn amd_info(&self) -> Option<&'a AmdInfoBase> {
        self.amd_info
    }
    /// Offset of AMD_INFO in the table.
    pub fn amd_info_offset(&self) -> Option<usize> {
        self.amd_info.map(|_| self.amd_info_offset)
    }
    /// Offset of AMD_INFO's `psp_version` in the table, for a loader that
    /// writes it in place (`None`: no AMD_INFO, or the 48-byte one).
    pub fn psp_version_offset(&self) -> Option<usize> {
        let field = core::mem::offset_of!(AmdInfo, psp_version);
        self.amd_info.filter(|_| self.amd_info_psp).map(|_| self.amd_info_offset + field)
    }
    /// INTEL_INFO, for the TXT front end.
    pub fn intel_info(&self) -> Option<&'a IntelInfo> {
        self.intel_info
    }
    pub fn policy_header(&self) -> Option<&'a DrtmPolicyHeader> {
        self.policy.map(|(h, _)| h)
    }
    /// Offset in the table of policy entry `i`, for a loader that marks
    /// entries MEASURED in place.
    pub fn policy_entry_offset(&self, i: usize) -> Option<usize> {
        let (h, _) = self.policy.as_ref()?;
        (i < h.nr_entries.get() as usize).then(|| self.policy_offset + i * core::mem::size_of::<PolicyEntry>())
    }

    /// The policy entries in table order (empty without DRTM_POLICY).
    pub fn policy_entries(&self) -> impl Iterator<Item = &'a PolicyEntry> + 'a {
        let bytes: &'a [u8] = self.policy.map(|(_, b)| b).unwrap_or(&[]);
        bytes.chunks_exact(core::mem::size_of::<PolicyEntry>()).filter_map(|c| PolicyEntry::ref_from_bytes(c).ok())
    }
}

fn singleton<T: FromBytes + KnownLayout + Immutable + Unaligned>(
    dup: bool,
    etag: u32,
    body: &[u8],
) -> Result<&T, SlrtError> {
    if dup {
        return Err(SlrtError::DuplicateEntry(etag));
    }
    T::ref_from_bytes(body).map_err(|_| SlrtError::EntryWrongSize { tag: etag, size: body.len() as u32 })
}

impl DlInfo {
    /// The DLME range, `None` if `base + size` overflows.
    pub fn dlme(&self) -> Option<PhysRange> {
        PhysRange::new(PhysAddr(self.dlme_base.get()), self.dlme_size.get())
    }
}

impl LogInfo {
    pub fn range(&self) -> Option<PhysRange> {
        PhysRange::new(PhysAddr(self.addr.get()), self.size.get() as u64)
    }
}

#[cfg(test)]
mod tests;
