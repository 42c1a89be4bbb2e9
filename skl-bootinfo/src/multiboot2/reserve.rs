//! Carving ranges out of the MBI memory map: what a Multiboot2-mode
//! hand-off tells a kernel that knows nothing of DRTM about memory the
//! launch still uses (the SLB with the IOMMU tables and the SLRT) or that
//! the OS needs afterwards (the DRTM event log).
//!
//! The available-RAM entry (type 1) that holds a hole is split at the hole's
//! edges: the piece inside becomes type 2 (reserved, Multiboot2
//! specification 2.0 §3.6.8), the pieces around it stay available. Other
//! entries are unchanged and keep their order, so the map still covers
//! exactly what it covered. The MBI grows by the added entries; tags after
//! the memory map move up by as much.
//!
//! Shared by the payload (which edits the MBI in place before measuring it)
//! and `skl-tool predict` (which must hash the same bytes).

use super::{rd32, tag, Mbi, MbiError, MMAP_AVAILABLE};

/// Memory-map type "reserved" (Multiboot2 specification 2.0 §3.6.8).
pub const MMAP_RESERVED: u32 = 2;

/// At most this many holes: the SLB and the log.
pub const MAX_HOLES: usize = 2;

/// A hole: `[start, end)`; empty ones are ignored.
pub type Hole = (u64, u64);

/// Where the memory-map tag of a parsed MBI is: (offset, size field,
/// entry size). The specification makes the entry size a multiple of 8,
/// which keeps the tags after the map aligned when entries are added.
fn mmap_tag(b: &[u8]) -> Result<Option<(usize, usize, usize)>, MbiError> {
    let mut off = 8usize;
    loop {
        let typ = rd32(b, off);
        let size = rd32(b, off + 4) as usize;
        if typ == tag::END {
            return Ok(None);
        }
        if typ == tag::MMAP {
            let es = rd32(b, off + 8) as usize;
            if !es.is_multiple_of(8) {
                return Err(MbiError::BadMmap { offset: off as u32 });
            }
            return Ok(Some((off, size, es)));
        }
        off = (off + size + 7) & !7;
    }
}

fn rd64(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default())
}

/// The available entry a hole cuts: (index, pieces it becomes). `Ok(None)`
/// when the hole touches no available RAM; an error when it straddles the
/// edge of an available entry (firmware maps do not place SLB or log there,
/// and a map that does is refused rather than guessed at).
fn cut(b: &[u8], first: usize, n: usize, es: usize, h: Hole) -> Result<Option<(usize, usize)>, MbiError> {
    for i in 0..n {
        let e = first + i * es;
        let (base, len) = (rd64(b, e), rd64(b, e + 8));
        let end = base.saturating_add(len);
        if rd32(b, e + 16) != MMAP_AVAILABLE || h.0 >= h.1 || h.1 <= base || end <= h.0 {
            continue;
        }
        if h.0 < base || end < h.1 {
            return Err(MbiError::BadMmap { offset: e as u32 });
        }
        return Ok(Some((i, 1 + (base < h.0) as usize + (h.1 < end) as usize)));
    }
    Ok(None)
}

/// At most how many bytes the MBI grows when `holes` are carved out of its
/// memory map (0 without a memory map or when no available entry is cut;
/// two holes in one entry may need less). [`reserve`] returns the size.
pub fn growth(mbi: &Mbi<'_>, holes: &[Hole]) -> Result<usize, MbiError> {
    let b = mbi.as_bytes();
    let Some((off, size, es)) = mmap_tag(b)? else { return Ok(0) };
    let mut extra = 0;
    // Holes are disjoint; each adds at most two entries to the map.
    for &h in holes.iter().take(MAX_HOLES) {
        if let Some((_, k)) = cut(b, off + 16, (size - 16) / es, es, h)? {
            extra += (k - 1) * es;
        }
    }
    Ok(extra)
}

/// Carve `holes` (at most [`MAX_HOLES`], disjoint) out of the memory map of
/// the MBI at the start of `buf`, in place. `buf` must hold the MBI plus
/// [`growth`] bytes; returns the new `total_size`.
pub fn reserve(buf: &mut [u8], holes: &[Hole]) -> Result<u32, MbiError> {
    let mut total = Mbi::parse(buf)?.total_size_bytes() as usize;
    let Some((off, mut size, es)) = mmap_tag(buf)? else { return Ok(total as u32) };
    for &h in holes.iter().take(MAX_HOLES) {
        let Some((i, k)) = cut(buf, off + 16, (size - 16) / es, es, h)? else { continue };
        let e = off + 16 + i * es;
        let (base, end) = (rd64(buf, e), rd64(buf, e) + rd64(buf, e + 8));
        let add = (k - 1) * es;
        if buf.len() < total + add {
            return Err(MbiError::Truncated { have: buf.len(), total_size: (total + add) as u32 });
        }
        // The entry, the entries after it and the tags after the map move up
        // by the added entries (a multiple of 8: tag alignment holds). The
        // entry is copied into each new slot, keeping any bytes past the 24
        // the specification defines, and each piece written over it.
        buf.copy_within(e..total, e + add);
        let mut at = e;
        for (lo, hi, typ) in [(base, h.0, MMAP_AVAILABLE), (h.0, h.1, MMAP_RESERVED), (h.1, end, MMAP_AVAILABLE)] {
            if lo < hi {
                buf.copy_within(e + add..e + add + es, at);
                put_entry(&mut buf[at..at + 20], lo, hi - lo, typ);
                at += es;
            }
        }
        size += add;
        total += add;
    }
    buf[off + 4..off + 8].copy_from_slice(&(size as u32).to_le_bytes());
    buf[0..4].copy_from_slice(&(total as u32).to_le_bytes());
    Ok(total as u32)
}

fn put_entry(b: &mut [u8], base: u64, len: u64, typ: u32) {
    b[..8].copy_from_slice(&base.to_le_bytes());
    b[8..16].copy_from_slice(&len.to_le_bytes());
    b[16..20].copy_from_slice(&typ.to_le_bytes());
}
