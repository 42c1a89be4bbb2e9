//! The TXT heap: four tables, each preceded by a u64 size that includes the
//! size field (SDG App. C Table C-1; `txt-mle.md` §3.1).
//!
//! [`TxtHeap::parse`] takes the heap bytes the caller read from HEAP.BASE
//! with HEAP.SIZE bytes and validates, in one pass: every size (at least the
//! minimum for the table's version, no 64-bit overflow, the four together
//! inside the heap), every version range of `txt-mle.md` §3.2–§3.5, the
//! extended element lists (§3.6), the event-log pointer elements of
//! OsSinitData, and SinitMleData's MDR and DMAR offsets (§3.4). Afterwards
//! the accessors cannot fail and cannot point outside the heap.
//!
//! Choices where the sources differ (see each item for the source):
//! - Sizes need not be multiples of 8: SDG asks for it, real BIOS ACMs break
//!   it for BiosData (GRUB `txt.c`, X3 `intel-txt.h` read sizes unaligned).
//! - Bytes after a table's END element (padding) are allowed.
//! - SinitMleData's MDR and DMAR offsets count from the SinitMleDataSize
//!   field, not from the table (tboot `print_sinit_mle_data`, Llate
//!   `slaunch.c`), and must not reach back into the fixed fields.

use core::ops::RangeInclusive;

use static_assertions::const_assert_eq;
use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::ext::{ext_type, EventLogDescr, EventLogPtr12, EventLogPtr2, EventLogPtr21, ExtElements, END_SIZE};
use crate::addr::{PhysAddr, PhysRange};

/// The four heap tables, in heap order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum HeapTable {
    BiosData = 0,
    OsMleData = 1,
    OsSinitData = 2,
    SinitMleData = 3,
}

impl HeapTable {
    pub const ALL: [HeapTable; 4] =
        [HeapTable::BiosData, HeapTable::OsMleData, HeapTable::OsSinitData, HeapTable::SinitMleData];

    pub const fn index(self) -> usize {
        self as usize
    }

    /// Versions accepted (`txt-mle.md` §3.2–§3.5).
    pub const fn versions(self) -> RangeInclusive<u32> {
        match self {
            HeapTable::BiosData => BIOS_DATA_VERSIONS,
            HeapTable::OsMleData => OS_MLE_DATA_VERSION..=OS_MLE_DATA_VERSION,
            HeapTable::OsSinitData => OS_SINIT_DATA_VERSIONS,
            HeapTable::SinitMleData => SINIT_MLE_DATA_VERSIONS,
        }
    }

    /// Bytes of fixed fields at `version` (after the size field).
    const fn fixed_len(self, version: u32) -> usize {
        match self {
            HeapTable::BiosData if version >= 3 => BIOS_DATA_V3_LEN,
            HeapTable::BiosData => core::mem::size_of::<BiosData>(),
            HeapTable::OsMleData => core::mem::size_of::<OsMleData>(),
            HeapTable::OsSinitData if version >= 5 => OS_SINIT_DATA_V5_LEN,
            HeapTable::OsSinitData => core::mem::size_of::<OsSinitData>(),
            HeapTable::SinitMleData if version >= 8 => SINIT_MLE_DATA_V8_LEN,
            HeapTable::SinitMleData if version >= 7 => SINIT_MLE_DATA_V7_LEN,
            HeapTable::SinitMleData => core::mem::size_of::<SinitMleData>(),
        }
    }

    /// Whether an extended element list follows the fixed fields.
    const fn has_ext_elements(self, version: u32) -> bool {
        match self {
            HeapTable::BiosData => version >= 4,
            HeapTable::OsMleData => false,
            HeapTable::OsSinitData => version >= 6,
            HeapTable::SinitMleData => version >= 9,
        }
    }

    /// Smallest table size (size field included) valid at `version`: the
    /// fixed fields, plus an END element where a list is required.
    pub const fn min_size(self, version: u32) -> u64 {
        let list = if self.has_ext_elements(version) { END_SIZE as usize } else { 0 };
        (SIZE_FIELD + self.fixed_len(version) + list) as u64
    }
}

/// Bytes of the size field in front of each table.
pub const SIZE_FIELD: usize = 8;

/// BiosData versions: 2..=6; 5 for TPM 1.2, 6 required for TPM 2.0; tboot
/// rejects < 2 (SDG Table C-2; `txt-mle.md` §3.2).
pub const BIOS_DATA_VERSIONS: RangeInclusive<u32> = 2..=6;
/// TrenchBoot OS2MLE `version` (`TXT_OS_MLE_STRUCT_VERSION`, every layout of
/// `txt-mle.md` §3.5).
pub const OS_MLE_DATA_VERSION: u32 = 1;
/// OsSinitData versions: 4–6 for TPM 1.2, 7 for TPM 2.0; tboot caps at 7
/// (SDG Table C-4; `txt-mle.md` §3.3).
pub const OS_SINIT_DATA_VERSIONS: RangeInclusive<u32> = 4..=7;
/// SinitMleData versions: 6..=9; TPM 1.2 SINIT at most 8, TPM 2.0 SINIT 9;
/// tboot rejects < 6 (SDG Table C-5; `txt-mle.md` §3.4).
pub const SINIT_MLE_DATA_VERSIONS: RangeInclusive<u32> = 6..=9;

/// BiosData fields of every version (2+), SDG Table C-2 (28 bytes).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BiosData {
    pub version: U32,
    /// 0 = the BIOS provides no SINIT.
    pub bios_sinit_size: U32,
    /// L16 `reserved1`.
    pub lcp_pd_base: U64,
    /// L16 `reserved2`.
    pub lcp_pd_size: U64,
    /// Logical processors; L16 waits for this many after RLP wake.
    pub num_log_procs: U32,
}
const_assert_eq!(core::mem::size_of::<BiosData>(), 28);
const_assert_eq!(core::mem::offset_of!(BiosData, num_log_procs), 24);

/// BiosData flags at offset 28, version 3+. SDG gives SinitFlags from v3 and
/// MleFlags from v5; since the v4 element list starts at 36, the MleFlags
/// slot exists (reserved) from v3, as tboot's single u64 `flags` for v3+ has
/// it (`tboot/include/txt/heap.h`).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BiosDataFlags {
    pub sinit_flags: U32,
    /// v5+, bits in [`mle_flags`].
    pub mle_flags: U32,
}
const_assert_eq!(core::mem::size_of::<BiosDataFlags>(), 8);
const BIOS_DATA_V3_LEN: usize = 36;
const_assert_eq!(core::mem::size_of::<BiosData>() + core::mem::size_of::<BiosDataFlags>(), BIOS_DATA_V3_LEN);

/// `BiosData.MleFlags` bits (SDG Table C-2).
pub mod mle_flags {
    /// v5+: ACPI PPI supported.
    pub const ACPI_PPI: u32 = 1 << 0;
    /// v6: bits 2:1 platform type, 01 client, 10 server.
    pub const PLATFORM_TYPE_MASK: u32 = 3 << 1;
    pub const PLATFORM_TYPE_SHIFT: u32 = 1;
}

/// TrenchBoot OS2MLE as TrenchBoot GRUB `aem-qubes-4.2.3-rebase`
/// (`include/grub/i386/txt.h`) writes it and TrenchBoot Xen
/// `aem-staging-14-10-24-rebase` (`asm/intel_txt.h`) reads it: 88 bytes,
/// 32-bit addresses (`txt-mle.md` §3.5, "GA / X24"). This is the generation
/// the rest of this crate follows (its INTEL_INFO is the 552-byte
/// [`crate::slrt::IntelInfo`]); the newer layouts, also version 1, are
/// [`OsMleDataLinux`] and [`OsMleDataSpec`]. GRUB's Multiboot2 path stores
/// the SLRT itself right after this struct ([`TxtHeap::os_mle_data_trailing`]).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct OsMleData {
    pub version: U32,
    /// Multiboot2 MBI (or Linux zero page) PA.
    pub boot_params_addr: U32,
    /// PA of the SLRT.
    pub slrt: U32,
    /// PA of the SLRT's INTEL_INFO entry ([`crate::slrt::IntelInfo`]).
    pub txt_info: U32,
    /// PA of a loader-reserved, PMR-covered block where the MLE parks APs.
    pub ap_wake_block: U32,
    pub ap_wake_block_size: U32,
    /// MLE scratch, offsets in [`mle_scratch`].
    pub mle_scratch: [u8; 64],
}
const_assert_eq!(core::mem::size_of::<OsMleData>(), 88);
const_assert_eq!(core::mem::offset_of!(OsMleData, mle_scratch), 24);

/// OS2MLE of Linux v15/v16 `include/linux/slaunch.h` and Xen v3
/// `asm/intel-txt.h` (96 bytes): boot params moved to the 560-byte
/// INTEL_INFO (`txt-mle.md` §3.5, §7.3).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct OsMleDataLinux {
    pub version: U32,
    pub reserved: U32,
    pub slrt: U64,
    pub txt_info: U64,
    pub ap_wake_block: U32,
    pub ap_wake_block_size: U32,
    pub mle_scratch: [u8; 64],
}
const_assert_eq!(core::mem::size_of::<OsMleDataLinux>(), 96);
const_assert_eq!(core::mem::offset_of!(OsMleDataLinux, mle_scratch), 32);

/// OS2MLE of the Secure Launch specification (Dec 2024) and TrenchBoot GRUB
/// `grub-sl-2.12-v11` (104 bytes; `txt-mle.md` §3.5).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct OsMleDataSpec {
    pub version: U32,
    pub reserved: U32,
    pub boot_params_addr: U64,
    pub slrt: U64,
    pub txt_info: U64,
    pub ap_wake_block: U32,
    pub ap_wake_block_size: U32,
    pub mle_scratch: [u8; 64],
}
const_assert_eq!(core::mem::size_of::<OsMleDataSpec>(), 104);
const_assert_eq!(core::mem::offset_of!(OsMleDataSpec, mle_scratch), 40);

/// Offsets inside `mle_scratch` (L16 `sl_stub.S`).
pub mod mle_scratch {
    /// BSP base register for the APs.
    pub const AP_EBX: usize = 0;
    /// Offset of the far-jump operand in the AP wake block.
    pub const AP_JMP_OFFSET: usize = 4;
    /// Offset of the AP stack/monitor array in the wake block.
    pub const AP_STACKS_OFFSET: usize = 8;
}

impl OsMleData {
    pub fn ap_wake_block(&self) -> PhysRange {
        // u32 + u32 cannot overflow u64.
        PhysRange::new(PhysAddr(self.ap_wake_block.get() as u64), self.ap_wake_block_size.get() as u64)
            .unwrap_or_else(|| unreachable!())
    }
}

/// OsSinitData fields of every version (4+), SDG Table C-4 (84 bytes).
/// Written by the loader, consumed by SINIT; the MLE reads it back from the
/// DPR-protected heap.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct OsSinitData {
    pub version: U32,
    /// v7: bit 0 PCR extend policy (1 = maximum performance).
    pub flags: U32,
    /// PA of the MLE PDPT.
    pub mle_ptab: U64,
    /// Bytes of MLE image SINIT hashed.
    pub mle_size: U64,
    /// *Linear* address of the MLE header in MLE page-table space.
    pub mle_hdr_base: U64,
    /// 2 MiB aligned; everyone requires 0 post-launch.
    pub vtd_pmr_lo_base: U64,
    pub vtd_pmr_lo_size: U64,
    pub vtd_pmr_hi_base: U64,
    pub vtd_pmr_hi_size: U64,
    pub lcp_po_base: U64,
    pub lcp_po_size: U64,
    /// [`super::caps`]; the RLP-wake bit chosen here is the one to use.
    pub capabilities: U32,
}
const_assert_eq!(core::mem::size_of::<OsSinitData>(), 84);
const_assert_eq!(core::mem::offset_of!(OsSinitData, vtd_pmr_lo_base), 32);
const_assert_eq!(core::mem::offset_of!(OsSinitData, vtd_pmr_hi_size), 56);
const_assert_eq!(core::mem::offset_of!(OsSinitData, capabilities), 80);
/// v5+ adds EfiRsdtPtr (v5) / EfiRsdpPtr (v6+), u64 at 84.
const OS_SINIT_DATA_V5_LEN: usize = 92;

/// `OsSinitData.Flags` bits.
pub mod os_sinit_flags {
    /// v7: PCR extend policy, 0 = maximum agility, 1 = maximum performance.
    pub const PCR_EXTEND_MAX_PERFORMANCE: u32 = 1 << 0;
}

impl OsSinitData {
    /// The low VT-d PMR; `None` if base + size overflows.
    pub fn pmr_low(&self) -> Option<PhysRange> {
        PhysRange::new(PhysAddr(self.vtd_pmr_lo_base.get()), self.vtd_pmr_lo_size.get())
    }
    /// The high VT-d PMR; `None` if base + size overflows.
    pub fn pmr_high(&self) -> Option<PhysRange> {
        PhysRange::new(PhysAddr(self.vtd_pmr_hi_base.get()), self.vtd_pmr_hi_size.get())
    }
    /// True if every byte of `r` lies inside one of the two PMRs. A range
    /// straddling both is refused even where they touch (`txt-mle.md` §4.2
    /// step 6: reject regions straddling 4 GiB). An overflowing PMR covers
    /// nothing; an empty `r` is never covered (a caller asking about an
    /// empty region has a bug, and "covered" must not hide it).
    pub fn pmr_covers(&self, r: &PhysRange) -> bool {
        !r.is_empty() && [self.pmr_low(), self.pmr_high()].into_iter().flatten().any(|p| p.contains_range(r))
    }
}

/// SinitMleData fields of every version (6+), SDG Table C-5 (120 bytes).
/// The hashes are SHA-1 and meaningful only up to v8.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct SinitMleData {
    pub version: U32,
    pub bios_acm_id: [u8; 20],
    pub edx_senter_flags: U32,
    pub mseg_valid: U64,
    pub sinit_hash: [u8; 20],
    pub mle_hash: [u8; 20],
    pub stm_hash: [u8; 20],
    pub lcp_policy_hash: [u8; 20],
    pub policy_control: U32,
}
const_assert_eq!(core::mem::size_of::<SinitMleData>(), 120);
const_assert_eq!(core::mem::offset_of!(SinitMleData, mseg_valid), 28);
const_assert_eq!(core::mem::offset_of!(SinitMleData, mle_hash), 56);
const_assert_eq!(core::mem::offset_of!(SinitMleData, policy_control), 116);

/// SinitMleData fields at offset 120, version 7+.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct SinitMleDataV7 {
    /// PA of the MONITOR line; write a non-zero u32 to wake the RLPs.
    pub rlp_wakeup_addr: U32,
    pub reserved: U32,
    pub number_of_sinit_mdrs: U32,
    /// From the SinitMleDataSize field (see the module notes).
    pub sinit_mdr_table_offset: U32,
    pub sinit_vtd_dmar_table_size: U32,
    /// From the SinitMleDataSize field.
    pub sinit_vtd_dmar_table_offset: U32,
}
const_assert_eq!(core::mem::size_of::<SinitMleDataV7>(), 24);
const SINIT_MLE_DATA_V7_LEN: usize = 144;
const_assert_eq!(core::mem::size_of::<SinitMleData>() + core::mem::size_of::<SinitMleDataV7>(), SINIT_MLE_DATA_V7_LEN);
/// v8+ adds ProcessorSCRTMStatus (u32 at 144); v9 elements start at 148.
const SINIT_MLE_DATA_V8_LEN: usize = 148;

/// SINIT Memory Descriptor Record (SDG Table C-6, 24 bytes).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct Mdr {
    pub base: U64,
    /// 0-length records must be ignored; the list is unordered.
    pub length: U64,
    /// [`mdr_type`].
    pub typ: u8,
    pub reserved: [u8; 7],
}
const_assert_eq!(core::mem::size_of::<Mdr>(), 24);
const_assert_eq!(core::mem::offset_of!(Mdr, typ), 16);

/// MDR types (SDG Table C-6).
pub mod mdr_type {
    /// Usable good RAM; SINIT verified the MLE and its page table lie here.
    pub const GOOD: u8 = 0;
    /// Deprecated.
    pub const SMRAM_OVERLAY: u8 = 1;
    /// Deprecated.
    pub const SMRAM_NON_OVERLAY: u8 = 2;
    /// PCIe extended configuration space (ECAM).
    pub const PCIE_CONFIG: u8 = 3;
    /// Persistent memory (tboot: "protected"); no secrets there.
    pub const PROTECTED: u8 = 4;
}

impl Mdr {
    /// `None` if base + length overflows (never for a record of a parsed heap).
    pub fn range(&self) -> Option<PhysRange> {
        PhysRange::new(PhysAddr(self.base.get()), self.length.get())
    }
    /// Type 0 and non-empty.
    pub fn is_usable(&self) -> bool {
        self.typ == mdr_type::GOOD && self.length.get() != 0
    }
}

/// True if every byte of `r` lies in usable (type 0, non-empty) records of
/// `mdrs` (adjacent or overlapping records count together) and in no
/// record of another type (zero-length records are ignored, SDG Table C-6).
/// SDG §2.4.1: the MDRs, not e820, are the authoritative RAM map. Empty
/// `r`: `false`, as in [`OsSinitData::pmr_covers`].
pub fn mdrs_cover(mdrs: &[Mdr], r: &PhysRange) -> bool {
    if r.is_empty() {
        return false;
    }
    let mdrs = mdrs.iter();
    let bad = |m: &Mdr| m.typ != mdr_type::GOOD && m.length.get() != 0 && m.range().is_some_and(|mr| mr.overlaps(r));
    if mdrs.clone().any(bad) {
        return false;
    }
    let mut cursor = r.start().as_u64();
    // Each step moves `cursor` to the end of a record that contained it,
    // so no record is used twice: at most `len` steps.
    for _ in 0..mdrs.len() {
        let reach = mdrs
            .clone()
            .filter(|m| m.is_usable())
            .filter_map(Mdr::range)
            .filter(|mr| mr.contains(PhysAddr(cursor)))
            .map(|mr| mr.end())
            .max();
        match reach {
            Some(e) if e >= r.end() => return true,
            Some(e) => cursor = e,
            None => return false,
        }
    }
    false
}

/// Why a heap is refused. Offsets count from the start of the heap; a
/// table's offset is that of its size field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxtHeapError {
    /// The size field of `table` does not fit in the heap.
    Truncated { table: HeapTable, offset: u64, heap_size: u64 },
    /// `size` below the minimum for the table at its version (0 included).
    TableTooSmall { table: HeapTable, size: u64, min: u64 },
    /// offset + size overflows 64 bits.
    TableOverflow { table: HeapTable, offset: u64, size: u64 },
    /// The table runs past the end of the heap (the sizes sum above HEAP.SIZE).
    TableOverrun { table: HeapTable, offset: u64, size: u64, heap_size: u64 },
    /// A version outside [`HeapTable::versions`].
    BadVersion { table: HeapTable, version: u32 },
    /// An element's `size` below its 8-byte header (0 included).
    ElementTooSmall { table: HeapTable, offset: u64, size: u32 },
    /// An element runs past its table.
    ElementOverrun { table: HeapTable, offset: u64, size: u32 },
    /// END of a size other than 8, or a known element too small for its data.
    ElementWrongSize { table: HeapTable, typ: u32, offset: u64, size: u32 },
    /// A second event-log pointer element of the same type.
    DuplicateElement { table: HeapTable, typ: u32, offset: u64 },
    /// The list ends (or fewer than 8 bytes remain) before END.
    MissingEnd { table: HeapTable, offset: u64 },
    /// The MDR table lies outside SinitMleData (or over its fixed fields).
    MdrOutOfBounds { offset: u32, count: u32, table_size: u64 },
    /// An MDR whose base + length overflows.
    MdrOverflow { index: u32, base: u64, length: u64 },
    /// SINIT's DMAR copy lies outside SinitMleData (or over its fixed fields).
    DmarOutOfBounds { offset: u32, size: u32, table_size: u64 },
    /// [`TxtHeap::check_tpm20`]: a table version below the TPM 2.0 one.
    NotTpm20 { table: HeapTable, version: u32 },
    /// [`TxtHeap::check_tpm20`]: OsSinitData has no TPM 2.0 log pointer.
    MissingEventLogPointer,
}

/// Where a table lies in the heap.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    /// Heap offset of the size field.
    offset: usize,
    /// Table size, size field included.
    size: usize,
    version: u32,
    /// Heap range of the element list, END included (empty: no list).
    ext: (usize, usize),
}

/// A validated heap. Borrowed from the bytes it was parsed from.
#[derive(Clone, Copy, Debug)]
pub struct TxtHeap<'a> {
    heap: &'a [u8],
    spans: [Span; 4],
    /// Heap offsets of the data of OsSinitData's event-log pointer elements.
    evtlog12: Option<usize>,
    evtlog2: Option<usize>,
    evtlog21: Option<usize>,
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    let s = b.get(off..off.checked_add(8)?)?;
    Some(u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]))
}

/// View of `T` at `off` in `b` (callers pass validated offsets).
fn view<T: FromBytes + KnownLayout + Immutable + Unaligned>(b: &[u8], off: usize) -> Option<&T> {
    T::ref_from_prefix(b.get(off..)?).ok().map(|(t, _)| t)
}

impl<'a> TxtHeap<'a> {
    /// Validate the heap. `heap` is the whole heap (HEAP.SIZE bytes from
    /// HEAP.BASE); the tables must lie inside it.
    pub fn parse(heap: &'a [u8]) -> Result<Self, TxtHeapError> {
        let heap_size = heap.len() as u64;
        let mut h = TxtHeap { heap, spans: [Span::default(); 4], evtlog12: None, evtlog2: None, evtlog21: None };
        let mut off = 0usize;
        for table in HeapTable::ALL {
            let offset = off as u64;
            let size = u64_at(heap, off).ok_or(TxtHeapError::Truncated { table, offset, heap_size })?;
            // The version (first u32 of every table) must be there to go on.
            let min_any = (SIZE_FIELD + 4) as u64;
            if size < min_any {
                return Err(TxtHeapError::TableTooSmall { table, size, min: min_any });
            }
            let end = offset.checked_add(size).ok_or(TxtHeapError::TableOverflow { table, offset, size })?;
            if end > heap_size {
                return Err(TxtHeapError::TableOverrun { table, offset, size, heap_size });
            }
            // end <= heap.len(), so these fit in usize.
            let end = end as usize;
            let version = u32_at(heap, off + SIZE_FIELD).unwrap_or_default();
            if !table.versions().contains(&version) {
                return Err(TxtHeapError::BadVersion { table, version });
            }
            let min = table.min_size(version);
            if size < min {
                return Err(TxtHeapError::TableTooSmall { table, size, min });
            }
            let mut span = Span { offset: off, size: end - off, version, ext: (0, 0) };
            if table.has_ext_elements(version) {
                let start = off + SIZE_FIELD + table.fixed_len(version);
                let list_end = h.walk_elements(table, start, end)?;
                span.ext = (start, list_end);
            }
            if table == HeapTable::SinitMleData && version >= 7 {
                check_sinit_offsets(heap, off, end - off, version)?;
            }
            h.spans[table.index()] = span;
            off = end;
        }
        Ok(h)
    }

    /// Walk the list in `heap[start..end]` to its END; returns the offset
    /// after END. Records OsSinitData's event-log pointers.
    fn walk_elements(&mut self, table: HeapTable, start: usize, end: usize) -> Result<usize, TxtHeapError> {
        let heap = self.heap;
        let mut o = start;
        // Every element is at least 8 bytes, so this ends within
        // (end - start) / 8 steps.
        loop {
            let offset = o as u64;
            let (Some(typ), Some(size)) = (u32_at(&heap[..end], o), u32_at(&heap[..end], o + 4)) else {
                return Err(TxtHeapError::MissingEnd { table, offset });
            };
            if size < 8 {
                return Err(TxtHeapError::ElementTooSmall { table, offset, size });
            }
            if size as usize > end - o {
                return Err(TxtHeapError::ElementOverrun { table, offset, size });
            }
            let wrong = || TxtHeapError::ElementWrongSize { table, typ, offset, size };
            let data = &heap[o + 8..o + size as usize];
            if typ == ext_type::END {
                if size != END_SIZE {
                    return Err(wrong());
                }
                return Ok(o + 8);
            }
            if table == HeapTable::OsSinitData {
                let slot = match typ {
                    ext_type::TPM_EVENT_LOG_PTR => {
                        if data.len() < core::mem::size_of::<EventLogPtr12>() {
                            return Err(wrong());
                        }
                        Some(&mut self.evtlog12)
                    }
                    ext_type::EVENT_LOG_POINTER2 => {
                        let count = u32_at(data, 0).ok_or_else(wrong)? as usize;
                        let need = count
                            .checked_mul(core::mem::size_of::<EventLogDescr>())
                            .and_then(|n| n.checked_add(core::mem::size_of::<EventLogPtr2>()));
                        if need.is_none_or(|n| n > data.len()) {
                            return Err(wrong());
                        }
                        Some(&mut self.evtlog2)
                    }
                    ext_type::EVENT_LOG_POINTER2_1 => {
                        if data.len() < core::mem::size_of::<EventLogPtr21>() {
                            return Err(wrong());
                        }
                        Some(&mut self.evtlog21)
                    }
                    _ => None,
                };
                if let Some(slot) = slot {
                    if slot.replace(o + 8).is_some() {
                        return Err(TxtHeapError::DuplicateElement { table, typ, offset });
                    }
                }
            }
            o += size as usize;
        }
    }

    fn span(&self, t: HeapTable) -> &Span {
        &self.spans[t.index()]
    }

    /// The heap bytes given to [`TxtHeap::parse`].
    pub fn as_bytes(&self) -> &'a [u8] {
        self.heap
    }
    /// Bytes the four tables occupy (≤ the heap size).
    pub fn total_size(&self) -> usize {
        let s = self.span(HeapTable::SinitMleData);
        s.offset + s.size
    }
    /// Heap offset of `t`'s size field.
    pub fn table_offset(&self, t: HeapTable) -> usize {
        self.span(t).offset
    }
    /// `t`'s size as its size field gives it (size field included).
    pub fn table_size(&self, t: HeapTable) -> usize {
        self.span(t).size
    }
    /// `t`'s bytes after the size field.
    pub fn table(&self, t: HeapTable) -> &'a [u8] {
        let s = self.span(t);
        &self.heap[s.offset + SIZE_FIELD..s.offset + s.size]
    }
    pub fn version(&self, t: HeapTable) -> u32 {
        self.span(t).version
    }
    /// Heap range of `t`'s element list, END included (`None`: no list at
    /// this version).
    pub fn ext_list_range(&self, t: HeapTable) -> Option<core::ops::Range<usize>> {
        let (a, b) = self.span(t).ext;
        (b > a).then_some(a..b)
    }
    /// `t`'s extended elements, END excluded (empty without a list).
    pub fn ext_elements(&self, t: HeapTable) -> ExtElements<'a> {
        match self.ext_list_range(t) {
            Some(r) => ExtElements::new(&self.heap[r.clone()], r.start),
            None => ExtElements::empty(),
        }
    }

    fn at<T: FromBytes + KnownLayout + Immutable + Unaligned>(&self, t: HeapTable, off: usize) -> Option<&'a T> {
        view(self.table(t), off)
    }

    pub fn bios_data(&self) -> &'a BiosData {
        self.at(HeapTable::BiosData, 0).unwrap_or_else(|| unreachable!("size checked by parse"))
    }
    /// SinitFlags / MleFlags (v3+).
    pub fn bios_data_flags(&self) -> Option<&'a BiosDataFlags> {
        (self.version(HeapTable::BiosData) >= 3).then(|| self.at(HeapTable::BiosData, 28)).flatten()
    }

    /// The OS2MLE in this crate's (GRUB AEM / Xen AEM) layout.
    pub fn os_mle_data(&self) -> &'a OsMleData {
        self.at(HeapTable::OsMleData, 0).unwrap_or_else(|| unreachable!("size checked by parse"))
    }
    /// The OS2MLE read as another layout (e.g. [`OsMleDataLinux`]); `None` if
    /// the table is smaller. Which layout the loader wrote is not recorded
    /// in the heap: all TrenchBoot layouts say version 1.
    pub fn os_mle_data_as<T: FromBytes + KnownLayout + Immutable + Unaligned>(&self) -> Option<&'a T> {
        self.at(HeapTable::OsMleData, 0)
    }
    /// OsMleData bytes after the 88-byte [`OsMleData`]: where GRUB's
    /// Multiboot2 path stores the SLRT (`GRUB_SLAUNCH_STORE_IN_OS2MLE`).
    pub fn os_mle_data_trailing(&self) -> &'a [u8] {
        &self.table(HeapTable::OsMleData)[core::mem::size_of::<OsMleData>()..]
    }

    pub fn os_sinit_data(&self) -> &'a OsSinitData {
        self.at(HeapTable::OsSinitData, 0).unwrap_or_else(|| unreachable!("size checked by parse"))
    }
    /// EfiRsdtPtr (v5) / EfiRsdpPtr (v6+).
    pub fn os_sinit_efi_rsdp_ptr(&self) -> Option<u64> {
        (self.version(HeapTable::OsSinitData) >= 5).then(|| u64_at(self.table(HeapTable::OsSinitData), 84)).flatten()
    }
    /// See [`OsSinitData::pmr_covers`].
    pub fn pmr_covers(&self, r: &PhysRange) -> bool {
        self.os_sinit_data().pmr_covers(r)
    }
    /// TPM 1.2 event log pointer element (type 5) of OsSinitData.
    pub fn event_log_ptr12(&self) -> Option<&'a EventLogPtr12> {
        view(self.heap, self.evtlog12?)
    }
    /// Descriptors of the original-format TPM 2.0 element (type 7).
    pub fn event_log_descrs(&self) -> Option<&'a [EventLogDescr]> {
        let o = self.evtlog2?;
        let count = u32_at(self.heap, o)? as usize;
        let start = o + core::mem::size_of::<EventLogPtr2>();
        let bytes = self.heap.get(start..start + count * core::mem::size_of::<EventLogDescr>())?;
        <[EventLogDescr]>::ref_from_bytes(bytes).ok()
    }
    /// TCG-format TPM 2.0 event log pointer (type 8).
    pub fn event_log_ptr21(&self) -> Option<&'a EventLogPtr21> {
        view(self.heap, self.evtlog21?)
    }
    /// Heap offset of the type-8 element's data, for an MLE that advances
    /// `next_record_offset` (at +16) in place after appending.
    pub fn event_log_ptr21_offset(&self) -> Option<usize> {
        self.evtlog21
    }

    pub fn sinit_mle_data(&self) -> &'a SinitMleData {
        self.at(HeapTable::SinitMleData, 0).unwrap_or_else(|| unreachable!("size checked by parse"))
    }
    /// RLP wakeup, MDR and DMAR fields (v7+).
    pub fn sinit_mle_data_v7(&self) -> Option<&'a SinitMleDataV7> {
        (self.version(HeapTable::SinitMleData) >= 7).then(|| self.at(HeapTable::SinitMleData, 120)).flatten()
    }
    /// ProcessorSCRTMStatus (v8+).
    pub fn processor_scrtm_status(&self) -> Option<u32> {
        (self.version(HeapTable::SinitMleData) >= 8).then(|| u32_at(self.table(HeapTable::SinitMleData), 144)).flatten()
    }
    /// PA of the RLP MONITOR line (v7+).
    pub fn rlp_wakeup_addr(&self) -> Option<u32> {
        self.sinit_mle_data_v7().map(|v| v.rlp_wakeup_addr.get())
    }
    /// Heap offset of the MDR table (`None` before v7 or with no records).
    pub fn mdr_table_offset(&self) -> Option<usize> {
        let v = self.sinit_mle_data_v7()?;
        (v.number_of_sinit_mdrs.get() != 0)
            .then(|| self.table_offset(HeapTable::SinitMleData) + v.sinit_mdr_table_offset.get() as usize)
    }
    /// The SINIT memory descriptor records, unordered, zero-length ones
    /// included (empty before v7); they lie at [`TxtHeap::mdr_table_offset`].
    pub fn mdr_table(&self) -> &'a [Mdr] {
        (|| {
            let n = self.sinit_mle_data_v7()?.number_of_sinit_mdrs.get() as usize;
            let o = self.mdr_table_offset()?;
            <[Mdr]>::ref_from_bytes(self.heap.get(o..o + n * core::mem::size_of::<Mdr>())?).ok()
        })()
        .unwrap_or(&[])
    }
    /// [`TxtHeap::mdr_table`]'s records.
    pub fn mdrs(&self) -> core::slice::Iter<'a, Mdr> {
        self.mdr_table().iter()
    }
    /// SINIT's validated copy of the ACPI DMAR (v7+, non-empty).
    pub fn sinit_vtd_dmar(&self) -> Option<&'a [u8]> {
        let v = self.sinit_mle_data_v7()?;
        let size = v.sinit_vtd_dmar_table_size.get() as usize;
        if size == 0 {
            return None;
        }
        let o = self.table_offset(HeapTable::SinitMleData) + v.sinit_vtd_dmar_table_offset.get() as usize;
        self.heap.get(o..o + size)
    }

    /// [`mdrs_cover`] with this heap's MDRs.
    pub fn mdr_covers(&self, r: &PhysRange) -> bool {
        mdrs_cover(self.mdr_table(), r)
    }

    /// What a TPM 2.0 launch needs (`txt-mle.md` §3.2–§3.4, §4.2 step 5):
    /// BiosData 6, OsSinitData 7, SinitMleData 9, and a TPM 2.0 event log
    /// pointer (type 7 or 8) in OsSinitData.
    pub fn check_tpm20(&self) -> Result<(), TxtHeapError> {
        for (table, min) in [(HeapTable::BiosData, 6), (HeapTable::OsSinitData, 7), (HeapTable::SinitMleData, 9)] {
            let version = self.version(table);
            if version < min {
                return Err(TxtHeapError::NotTpm20 { table, version });
            }
        }
        if self.evtlog2.is_none() && self.evtlog21.is_none() {
            return Err(TxtHeapError::MissingEventLogPointer);
        }
        Ok(())
    }
}

/// SinitMleData v7+: the MDR table and the DMAR copy lie inside the table,
/// after its fixed fields; offsets count from the size field at heap offset
/// `off`. Every MDR's base + length must not overflow.
fn check_sinit_offsets(heap: &[u8], off: usize, table_size: usize, version: u32) -> Result<(), TxtHeapError> {
    let t = &heap[off..off + table_size];
    let field = |o: usize| u32_at(t, SIZE_FIELD + 120 + o).unwrap_or_default();
    let (count, mdr_off) = (field(8), field(12));
    let (dmar_size, dmar_off) = (field(16), field(20));
    let header_end = (SIZE_FIELD + HeapTable::SinitMleData.fixed_len(version)) as u64;
    let inside = |o: u32, len: u64| {
        let o = o as u64;
        o >= header_end && o.checked_add(len).is_some_and(|e| e <= table_size as u64)
    };
    let table_size = table_size as u64;
    if count != 0 {
        if !inside(mdr_off, count as u64 * core::mem::size_of::<Mdr>() as u64) {
            return Err(TxtHeapError::MdrOutOfBounds { offset: mdr_off, count, table_size });
        }
        let bytes = &t[mdr_off as usize..mdr_off as usize + count as usize * core::mem::size_of::<Mdr>()];
        for (index, m) in bytes.chunks_exact(core::mem::size_of::<Mdr>()).enumerate() {
            let (base, length) = (u64_at(m, 0).unwrap_or_default(), u64_at(m, 8).unwrap_or_default());
            if base.checked_add(length).is_none() {
                return Err(TxtHeapError::MdrOverflow { index: index as u32, base, length });
            }
        }
    }
    if dmar_size != 0 && !inside(dmar_off, dmar_size as u64) {
        return Err(TxtHeapError::DmarOutOfBounds { offset: dmar_off, size: dmar_size, table_size });
    }
    Ok(())
}
