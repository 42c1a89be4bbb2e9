//! Multiboot2 boot information (MBI): the tags SKL reads.
//!
//! Layout: Multiboot2 specification 2.0 §3.6 and GRUB's
//! `include/multiboot2.h` (which GRUB `aem-qubes-4.2.3-rebase`
//! `grub-core/loader/multiboot_mbi2.c` writes; where the two differ, e.g. the
//! ELF-sections tag, the header is what GRUB actually writes). Tags are
//! 8-byte aligned; `size` excludes the padding.

use static_assertions::const_assert_eq;
use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// EAX value at a Multiboot2 kernel's entry.
pub const BOOTLOADER_MAGIC: u32 = 0x36d7_6289;

pub mod tag {
    pub const END: u32 = 0;
    pub const CMDLINE: u32 = 1;
    pub const BOOT_LOADER_NAME: u32 = 2;
    pub const MODULE: u32 = 3;
    pub const BASIC_MEMINFO: u32 = 4;
    pub const MMAP: u32 = 6;
    pub const ELF_SECTIONS: u32 = 9;
    pub const LOAD_BASE_ADDR: u32 = 21;
}

/// Fixed start of the MBI.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct MbiHeader {
    pub total_size: U32,
    pub reserved: U32,
}
const_assert_eq!(core::mem::size_of::<MbiHeader>(), 8);

#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct TagHeader {
    pub typ: U32,
    pub size: U32,
}

/// Module tag (type 3) before its NUL-terminated string.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ModuleTag {
    pub hdr: TagHeader,
    pub mod_start: U32,
    /// One past the last byte (GRUB: start + size).
    pub mod_end: U32,
}
const_assert_eq!(core::mem::size_of::<ModuleTag>(), 16);

/// Memory-map tag (type 6) header; `entry_size`-byte entries follow.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct MmapTag {
    pub hdr: TagHeader,
    pub entry_size: U32,
    pub entry_version: U32,
}

/// Memory-map entry (24 bytes).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct MmapEntry {
    pub base_addr: U64,
    pub length: U64,
    /// 1 = available RAM.
    pub typ: U32,
    pub reserved: U32,
}
const_assert_eq!(core::mem::size_of::<MmapEntry>(), 24);

pub const MMAP_AVAILABLE: u32 = 1;

/// ELF-sections tag (type 9) header as GRUB's multiboot2.h declares it.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ElfSectionsTag {
    pub hdr: TagHeader,
    pub num: U32,
    pub entsize: U32,
    pub shndx: U32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MbiError {
    /// Fewer bytes than the header, or than `total_size` says.
    Truncated { have: usize, total_size: u32 },
    /// `total_size` below 16 (header + END) or not a multiple of 8.
    BadTotalSize(u32),
    /// A tag header runs past `total_size`.
    TagOverrun { offset: u32 },
    /// A tag smaller than its own header or its fixed fields.
    TagTooSmall { offset: u32, size: u32 },
    /// No END tag, or END not the last 8 bytes.
    MissingEnd,
    /// A module with `mod_end < mod_start`.
    BadModule { index: u32 },
    /// A memory-map tag with an entry size below 24 or not fitting.
    BadMmap { offset: u32 },
    /// A singleton tag appears twice.
    DuplicateTag(u32),
}

/// A validated MBI.
#[derive(Clone, Copy, Debug)]
pub struct Mbi<'a> {
    bytes: &'a [u8],
}

fn rd32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap_or_default())
}

/// A module as the MBI describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Module<'a> {
    pub start: u32,
    pub end: u32,
    pub string: &'a [u8],
}

impl<'a> Mbi<'a> {
    /// `total_size` of an MBI from its first 8 bytes.
    pub fn total_size(first8: &[u8]) -> Option<u32> {
        MbiHeader::read_from_prefix(first8).ok().map(|(h, _)| h.total_size.get())
    }

    /// Validate the whole MBI (`bytes` must hold at least `total_size`).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, MbiError> {
        let total = Self::total_size(bytes).ok_or(MbiError::Truncated { have: bytes.len(), total_size: 0 })?;
        if total < 16 || !total.is_multiple_of(8) {
            return Err(MbiError::BadTotalSize(total));
        }
        if bytes.len() < total as usize {
            return Err(MbiError::Truncated { have: bytes.len(), total_size: total });
        }
        let b = &bytes[..total as usize];
        let mut off = 8usize;
        let mut seen_cmdline = false;
        let mut seen_mmap = false;
        let mut seen_base = false;
        let mut module_index = 0;
        loop {
            if off + 8 > b.len() {
                return Err(if off >= b.len() {
                    MbiError::MissingEnd
                } else {
                    MbiError::TagOverrun { offset: off as u32 }
                });
            }
            let typ = rd32(b, off);
            let size = rd32(b, off + 4);
            let too_small = || MbiError::TagTooSmall { offset: off as u32, size };
            if size < 8 {
                return Err(too_small());
            }
            let end = off
                .checked_add(size as usize)
                .filter(|&e| e <= b.len())
                .ok_or(MbiError::TagOverrun { offset: off as u32 })?;
            let body = &b[off..end];
            let once = |seen: &mut bool| {
                if core::mem::replace(seen, true) {
                    Err(MbiError::DuplicateTag(typ))
                } else {
                    Ok(())
                }
            };
            match typ {
                tag::END => {
                    if size != 8 || end != b.len() {
                        return Err(MbiError::MissingEnd);
                    }
                    return Ok(Mbi { bytes: b });
                }
                tag::CMDLINE => once(&mut seen_cmdline)?,
                tag::MODULE => {
                    let (m, _) = ModuleTag::read_from_prefix(body).map_err(|_| too_small())?;
                    if m.mod_end.get() < m.mod_start.get() {
                        return Err(MbiError::BadModule { index: module_index });
                    }
                    module_index += 1;
                }
                tag::MMAP => {
                    once(&mut seen_mmap)?;
                    let (m, rest) = MmapTag::read_from_prefix(body).map_err(|_| too_small())?;
                    let es = m.entry_size.get() as usize;
                    if es < core::mem::size_of::<MmapEntry>() || !rest.len().is_multiple_of(es) {
                        return Err(MbiError::BadMmap { offset: off as u32 });
                    }
                }
                tag::LOAD_BASE_ADDR => {
                    once(&mut seen_base)?;
                    if size < 12 {
                        return Err(too_small());
                    }
                }
                _ => {}
            }
            off = (end + 7) & !7;
        }
    }

    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    pub fn total_size_bytes(&self) -> u32 {
        self.bytes.len() as u32
    }

    /// Tags as (type, body without the 8-byte header).
    fn tags(&self) -> impl Iterator<Item = (u32, &'a [u8])> + 'a {
        let b = self.bytes;
        let mut off = 8usize;
        core::iter::from_fn(move || {
            let typ = rd32(b, off);
            if typ == tag::END {
                return None;
            }
            let size = rd32(b, off + 4) as usize;
            let body = &b[off + 8..off + size];
            off = (off + size + 7) & !7;
            Some((typ, body))
        })
    }

    pub fn modules(&self) -> impl Iterator<Item = Module<'a>> + 'a {
        self.tags().filter(|(t, _)| *t == tag::MODULE).map(|(_, body)| {
            let start = rd32(body, 0);
            let end = rd32(body, 4);
            let s = &body[8..];
            let n = s.iter().position(|&c| c == 0).unwrap_or(s.len());
            Module { start, end, string: &s[..n] }
        })
    }

    pub fn cmdline(&self) -> Option<&'a [u8]> {
        self.tags().find(|(t, _)| *t == tag::CMDLINE).map(|(_, s)| {
            let n = s.iter().position(|&c| c == 0).unwrap_or(s.len());
            &s[..n]
        })
    }

    pub fn load_base_addr(&self) -> Option<u32> {
        self.tags().find(|(t, _)| *t == tag::LOAD_BASE_ADDR).map(|(_, s)| rd32(s, 0))
    }

    /// Memory-map entries (`None` without a memory-map tag).
    pub fn mmap(&self) -> Option<impl Iterator<Item = MmapEntry> + 'a> {
        let (_, body) = self.tags().find(|(t, _)| *t == tag::MMAP)?;
        let es = rd32(body, 0) as usize;
        Some(body[8..].chunks_exact(es).filter_map(|c| MmapEntry::read_from_prefix(c).ok().map(|(e, _)| e)))
    }

    /// True if `[start, start + len)` lies inside one available-RAM entry of
    /// the memory map. (Adjacent available entries are not merged: GRUB and
    /// firmware give one entry per contiguous region in practice.)
    pub fn in_available_ram(&self, start: u64, len: u64) -> bool {
        let Some(end) = start.checked_add(len) else { return false };
        self.mmap().is_some_and(|mut m| {
            m.any(|e| {
                e.typ.get() == MMAP_AVAILABLE
                    && e.base_addr.get() <= start
                    && e.base_addr.get().checked_add(e.length.get()).is_some_and(|ee| end <= ee)
            })
        })
    }
}

pub mod reserve;

#[cfg(test)]
mod tests;
