//! Extended data elements of the TXT heap tables (SDG App. C.1; TrenchBoot
//! Xen `aem-staging-14-10-24-rebase` `xen/arch/x86/include/asm/intel_txt.h`,
//! tboot `tboot/include/txt/heap.h`, TrenchBoot GRUB `include/grub/i386/txt.h`;
//! `txt-mle.md` §3.6).
//!
//! A list of `{type u32, size u32, data}` records whose `size` includes the
//! 8-byte header, ended by END (type 0, size 8). Unknown types are skipped.
//! Lists are validated by [`crate::txt::TxtHeap::parse`]; the iterator here
//! only ever walks a validated list.

use static_assertions::const_assert_eq;
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::addr::{PhysAddr, PhysRange};

/// Element types (`HEAP_EXTDATA_TYPE_*`).
pub mod ext_type {
    pub const END: u32 = 0;
    pub const BIOS_SPEC_VER: u32 = 1;
    pub const ACM: u32 = 2;
    pub const STM: u32 = 3;
    pub const CUSTOM: u32 = 4;
    /// TPM 1.2 event log pointer (OsSinitData).
    pub const TPM_EVENT_LOG_PTR: u32 = 5;
    /// Validated ACPI MADT copy (SinitMleData v9).
    pub const MADT: u32 = 6;
    /// TPM 2.0 original TXT-format log descriptors (OsSinitData).
    pub const EVENT_LOG_POINTER2: u32 = 7;
    /// TPM 2.0 TCG-format log (OsSinitData).
    pub const EVENT_LOG_POINTER2_1: u32 = 8;
    /// ACPI MCFG copy (SinitMleData; SDG 013 mislabels the define as MADT).
    pub const MCFG: u32 = 9;
    /// TPR request (OsSinitData; tboot).
    pub const TPR_REQ: u32 = 13;
    pub const DTPR: u32 = 14;
    pub const CEDT: u32 = 15;
}

/// Element header (8 bytes); `size` includes it.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ExtElementHeader {
    pub typ: U32,
    pub size: U32,
}
const_assert_eq!(core::mem::size_of::<ExtElementHeader>(), 8);

/// Size of the END element.
pub const END_SIZE: u32 = 8;

/// TPM_EVENT_LOG_PTR (type 5) data: the TPM 1.2 "TXT Event Container",
/// wholly below 4 GiB.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct EventLogPtr12 {
    pub event_log_phys_addr: U64,
}
const_assert_eq!(core::mem::size_of::<EventLogPtr12>(), 8);

/// EVENT_LOG_POINTER2 (type 7) data starts with `count`, then `count` ×
/// [`EventLogDescr`].
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct EventLogPtr2 {
    pub count: U32,
}
const_assert_eq!(core::mem::size_of::<EventLogPtr2>(), 4);

/// One per-bank log of the original TPM 2.0 TXT format (24 bytes).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct EventLogDescr {
    pub hash_alg_id: U16,
    pub reserved: U16,
    pub phys_addr: U64,
    pub allocated_event_container_size: U32,
    pub first_record_offset: U32,
    pub next_record_offset: U32,
}
const_assert_eq!(core::mem::size_of::<EventLogDescr>(), 24);
const_assert_eq!(core::mem::offset_of!(EventLogDescr, phys_addr), 4);
const_assert_eq!(core::mem::offset_of!(EventLogDescr, next_record_offset), 20);

/// EVENT_LOG_POINTER2_1 (type 8) data: the TCG-format TPM 2.0 log (20 bytes;
/// element size 28, or 32 from tboot, whose C struct is unpacked — both are
/// accepted, the extra bytes ignored). The same 20 bytes sit in the Spec ID
/// event's vendorInfo on AMD (SKL `event_log.c`), where
/// [`crate::event_log`] reads them.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct EventLogPtr21 {
    pub phys_addr: U64,
    pub allocated_event_container_size: U32,
    pub first_record_offset: U32,
    /// SINIT and every later appender advance this in place
    /// (`txt-mle.md` §5.3).
    pub next_record_offset: U32,
}
const_assert_eq!(core::mem::size_of::<EventLogPtr21>(), 20);
const_assert_eq!(core::mem::offset_of!(EventLogPtr21, next_record_offset), 16);

impl EventLogPtr21 {
    /// The allocated container; `None` if `phys_addr + size` overflows.
    pub fn range(&self) -> Option<PhysRange> {
        PhysRange::new(PhysAddr(self.phys_addr.get()), self.allocated_event_container_size.get() as u64)
    }
}

impl EventLogDescr {
    pub fn range(&self) -> Option<PhysRange> {
        PhysRange::new(PhysAddr(self.phys_addr.get()), self.allocated_event_container_size.get() as u64)
    }
}

/// One element of a validated list (never END).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtElement<'a> {
    pub typ: u32,
    /// Offset of the element header from the start of the heap.
    pub offset: usize,
    /// The data after the 8-byte header (`size − 8` bytes).
    pub data: &'a [u8],
}

/// Iterator over a validated element list, stopping before END.
#[derive(Clone, Debug)]
pub struct ExtElements<'a> {
    /// The list, END included.
    list: &'a [u8],
    pos: usize,
    /// Heap offset of `list[0]`.
    base: usize,
}

impl<'a> ExtElements<'a> {
    pub(crate) fn new(list: &'a [u8], base: usize) -> Self {
        ExtElements { list, pos: 0, base }
    }
    /// An iterator that yields nothing (tables without a list).
    pub(crate) fn empty() -> Self {
        ExtElements { list: &[], pos: 0, base: 0 }
    }
}

impl<'a> Iterator for ExtElements<'a> {
    type Item = ExtElement<'a>;

    fn next(&mut self) -> Option<ExtElement<'a>> {
        // The list was validated; the checks below only keep a misuse from
        // panicking or looping.
        let (h, _) = ExtElementHeader::ref_from_prefix(self.list.get(self.pos..)?).ok()?;
        let (typ, size) = (h.typ.get(), h.size.get() as usize);
        if typ == ext_type::END || size < 8 {
            self.pos = self.list.len();
            return None;
        }
        let data = self.list.get(self.pos + 8..self.pos + size)?;
        let offset = self.base + self.pos;
        self.pos += size;
        Some(ExtElement { typ, offset, data })
    }
}
