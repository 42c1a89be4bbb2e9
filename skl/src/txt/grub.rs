//! The GRUB chain: TrenchBoot GRUB `aem-qubes-4.2.3-rebase` launches
//! `skl-txt.bin` itself as the MLE (`multiboot2 /boot/skl-txt.bin …`), so
//! SLRT DL_INFO names `skl-txt.bin` as the DLME and the real kernel is one
//! of the Multiboot2 modules. [`adopt`] turns that launch into the one the
//! shared code measures — DL_INFO naming the kernel — before anything is
//! measured:
//!
//! 1. DL_INFO must name this MLE exactly (base, measured size, entry), as
//!    GRUB derives them from our MLE header; otherwise the launch is not a
//!    GRUB chain and nothing here runs.
//! 2. No module, nor the MBI, the log, the SLRT or the TXT heap, may lie in
//!    the area GRUB allocated for `skl-txt.bin` (`chain::AREA_SIZE`).
//! 3. The kernel is the one module that is an ELF image with a Multiboot2
//!    header in its first 32 KiB (Xen; a Linux bzImage, an initramfs, an XSM
//!    policy or microcode never is one): none or two are refused.
//! 4. Its `PT_LOAD` segments are loaded as GRUB's `multiboot_elfxx.c` would:
//!    a relocatable kernel at MLE base + `chain::KERNEL_OFFSET` (inside the
//!    area), another at its link address, which must be free RAM.
//! 5. Its TXT MLE header (first 4 KiB, as GRUB scans) gives DLME size and
//!    entry exactly as GRUB would have written DL_INFO for it.
//! 6. The kernel's module tag leaves the MBI and its policy entry the SLRT
//!    (the kernel is measured as the DLME instead); the MBI load-base tag
//!    states where the kernel now is; DL_INFO names it.
//!
//! The kernel then sees what it would have seen had GRUB launched it as the
//! MLE: an MBI with its own modules, an SLRT whose DL_INFO names it and
//! whose policy lists exactly those modules, the heap untouched.

use skl_bootinfo::multiboot2::{tag, Mbi};
use skl_bootinfo::sl_header::Generation;
use skl_bootinfo::slrt::{entity, tag as slrt_tag};
use skl_bootinfo::txt::chain::{AREA_SIZE, KERNEL_OFFSET};
use skl_bootinfo::{PhysAddr, PhysRange};

use crate::error::LaunchError;
use crate::launch::{mle_header_offset, own_header, Dce};
use crate::memory::PhysMemory;
use crate::txt::mle::{HeapGuard, Mle};

/// Why a GRUB-chain launch is refused: codes 0x7011–0x7017 (ERRORCODE
/// 0xC000F011…), after the MLE's own 0x70xx. A type of its own, not a
/// [`LaunchError`] variant: `skl.bin` links `LaunchError`'s tables and must
/// stay byte-identical; only `skl-txt.bin` knows this one ([`Failure`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainError {
    /// No module is a Multiboot2 ELF kernel.
    NoKernel,
    /// A second module is a Multiboot2 ELF kernel.
    TwoKernels { start: u64 },
    /// A module, the MBI, the log, the SLRT or the heap lies in the area
    /// GRUB allocated for skl-txt.bin, or that area is not available RAM.
    InMleArea { addr: u64 },
    /// The kernel's ELF segments or its TXT MLE header are malformed or
    /// missing.
    KernelImage { start: u64 },
    /// The kernel does not fit its place (relocatable: the area or its tag's
    /// bounds; otherwise its link address is not free RAM).
    KernelPlacement { addr: u64 },
    /// DL_INFO names this MLE's base but not its measured size and entry.
    SelfAsDlme { size: u64 },
    /// The SLRT, the MBI DL_INFO names, or a module is unreadable or
    /// malformed.
    Unreadable { addr: u64 },
}

impl ChainError {
    pub fn code(&self) -> u16 {
        match self {
            ChainError::NoKernel => 0x7011,
            ChainError::TwoKernels { .. } => 0x7012,
            ChainError::InMleArea { .. } => 0x7013,
            ChainError::KernelImage { .. } => 0x7014,
            ChainError::KernelPlacement { .. } => 0x7015,
            ChainError::SelfAsDlme { .. } => 0x7016,
            ChainError::Unreadable { .. } => 0x7017,
        }
    }
    pub fn detail(&self) -> u32 {
        match *self {
            ChainError::NoKernel => 0,
            ChainError::TwoKernels { start } | ChainError::KernelImage { start } => start as u32,
            ChainError::InMleArea { addr } | ChainError::KernelPlacement { addr } | ChainError::Unreadable { addr } => {
                addr as u32
            }
            ChainError::SelfAsDlme { size } => size as u32,
        }
    }
}

/// What stops `skl-txt.bin`: a launch error or a GRUB-chain refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    Launch(LaunchError),
    Chain(ChainError),
}

impl Failure {
    pub fn code(&self) -> u16 {
        match self {
            Failure::Launch(e) => e.code(),
            Failure::Chain(e) => e.code(),
        }
    }
    pub fn detail(&self) -> u32 {
        match self {
            Failure::Launch(e) => e.detail(),
            Failure::Chain(e) => e.detail(),
        }
    }
}

impl From<LaunchError> for Failure {
    fn from(e: LaunchError) -> Self {
        Failure::Launch(e)
    }
}

impl From<ChainError> for Failure {
    fn from(e: ChainError) -> Self {
        Failure::Chain(e)
    }
}

const MB2_MAGIC: u32 = 0xE852_50D6;
const MB2_SEARCH: usize = 32768;
const MB2_TAG_RELOCATABLE: u16 = 10;
const POLICY_ENTRY: usize = 56;
const POLICY_HEADER: usize = 16;

fn rd32(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o.checked_add(4)?)?.try_into().ok()?))
}
fn rd64(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o.checked_add(8)?)?.try_into().ok()?))
}
fn put32(b: &mut [u8], o: usize, v: u32) {
    if let Some(d) = b.get_mut(o..o + 4) {
        d.copy_from_slice(&v.to_le_bytes());
    }
}
fn put64(b: &mut [u8], o: usize, v: u64) {
    if let Some(d) = b.get_mut(o..o + 8) {
        d.copy_from_slice(&v.to_le_bytes());
    }
}

/// The Multiboot2 header in the first 32 KiB of an ELF file, 8-byte
/// aligned and checksummed (GRUB `find_header`): its offset, or `None`.
fn mb2_header(f: &[u8]) -> Option<usize> {
    if !f.starts_with(b"\x7fELF") {
        return None;
    }
    (0..f.len().min(MB2_SEARCH)).step_by(8).find(|&o| {
        let w = |i: usize| rd32(f, o + 4 * i).unwrap_or(0);
        w(0) == MB2_MAGIC && w(0).wrapping_add(w(1)).wrapping_add(w(2)).wrapping_add(w(3)) == 0
    })
}

/// The relocatable tag (min, max, align) of the header at `h`, if any.
fn relocatable(f: &[u8], h: usize) -> Option<(u64, u64, u64)> {
    let end = h.checked_add(rd32(f, h + 8)? as usize)?;
    let mut t = h + 16;
    while t + 8 <= end {
        let (ty, size) = (rd32(f, t)? as u16, rd32(f, t + 4)? as usize);
        if ty == 0 || size < 8 {
            return None;
        }
        if ty == MB2_TAG_RELOCATABLE && size >= 24 {
            return Some((rd32(f, t + 8)? as u64, rd32(f, t + 12)? as u64, rd32(f, t + 16)? as u64));
        }
        t = t.checked_add((size + 7) & !7)?;
    }
    None
}

/// One `PT_LOAD` segment: file offset, size in the file, physical address,
/// size in memory.
#[derive(Clone, Copy)]
struct Segment {
    offset: u64,
    filesz: u64,
    paddr: u64,
    memsz: u64,
}

/// The `PT_LOAD` segments of an ELF32 or ELF64 file, each inside the file.
fn segments(f: &[u8]) -> Option<impl Iterator<Item = Option<Segment>> + '_> {
    let elf64 = *f.get(4)? == 2;
    let (phoff, entsize, num) = if elf64 {
        (rd64(f, 0x20)? as usize, u16::from_le_bytes([*f.get(0x36)?, *f.get(0x37)?]), f.get(0x38)?)
    } else {
        (rd32(f, 0x1C)? as usize, u16::from_le_bytes([*f.get(0x2A)?, *f.get(0x2B)?]), f.get(0x2C)?)
    };
    let num = *num as usize | (*f.get(if elf64 { 0x39 } else { 0x2D })? as usize) << 8;
    Some((0..num).filter_map(move |i| {
        let p = phoff.checked_add(i.checked_mul(entsize as usize)?)?;
        let seg = if elf64 {
            (rd32(f, p)?, rd64(f, p + 8)?, rd64(f, p + 24)?, rd64(f, p + 32)?, rd64(f, p + 40)?)
        } else {
            let r = |o| rd32(f, p + o).map(u64::from);
            (rd32(f, p)?, r(4)?, r(12)?, r(16)?, r(20)?)
        };
        let (ty, offset, paddr, filesz, memsz) = seg;
        if ty != 1 {
            return None;
        }
        let inside = offset.checked_add(filesz).is_some_and(|e| e <= f.len() as u64) && filesz <= memsz;
        Some(inside.then_some(Segment { offset, filesz, paddr, memsz }))
    }))
}

/// The kernel module: its range, MBI tag offset, load range and segments'
/// bounds, all read before anything is written.
struct Kernel {
    module: PhysRange,
    tag_at: usize,
    link: u64,
    span: u64,
    reloc: Option<(u64, u64, u64)>,
}

fn inspect(f: &[u8], module: PhysRange, tag_at: usize) -> Result<Kernel, ChainError> {
    let bad = ChainError::KernelImage { start: module.start().as_u64() };
    let h = mb2_header(f).ok_or(bad)?;
    let (mut lo, mut hi) = (u64::MAX, 0u64);
    for s in segments(f).ok_or(bad)? {
        let s = s.ok_or(bad)?;
        lo = lo.min(s.paddr);
        hi = hi.max(s.paddr.checked_add(s.memsz).ok_or(bad)?);
    }
    if hi <= lo || hi > 1 << 32 {
        return Err(bad);
    }
    Ok(Kernel { module, tag_at, link: lo, span: hi - lo, reloc: relocatable(f, h) })
}

/// Copy `len` bytes from `src` to `dst` (ranges checked by the caller not
/// to overlap) through a small buffer: two borrows of memory cannot coexist.
fn copy<M: PhysMemory>(mem: &mut M, src: u64, dst: u64, len: u64) -> Option<()> {
    let mut buf = [0u8; 256];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(buf.len() as u64);
        let b = &mut buf[..n as usize];
        b.copy_from_slice(mem.read(PhysRange::new(PhysAddr(src + done), n)?)?);
        mem.write(PhysRange::new(PhysAddr(dst + done), n)?)?.copy_from_slice(b);
        done += n;
    }
    Some(())
}

/// Offset of the first SLRT entry with `tag`, walking the 32-bit headers.
fn slrt_entry(t: &[u8], want: u32) -> Option<usize> {
    let size = rd32(t, 8)? as usize;
    let mut o = 16;
    while o + 8 <= size {
        let (tag, len) = (rd32(t, o)?, rd32(t, o + 4)? as usize);
        if tag == want {
            return Some(o);
        }
        if tag == slrt_tag::END || len < 8 {
            return None;
        }
        o = o.checked_add(len)?;
    }
    None
}

/// Turn a GRUB-chain launch into one whose DL_INFO names the kernel (module
/// docs). `Ok(false)`: DL_INFO does not name this MLE, nothing changed.
/// On success `dce.slrt` has the table's new size.
pub fn adopt<M: PhysMemory>(mem: &mut M, dce: &mut Dce<HeapGuard>, mle: &Mle) -> Result<bool, ChainError> {
    let slrt_addr = dce.slrt.start().as_u64();
    let no_slrt = ChainError::Unreadable { addr: slrt_addr };
    let t = mem.read(dce.slrt).ok_or(no_slrt)?;
    let Some(dl) = slrt_entry(t, slrt_tag::DL_INFO) else { return Ok(false) };
    if rd64(t, dl + 32) != Some(mle.base.as_u64()) {
        return Ok(false);
    }
    let entry = own_header(mem, mle.base, Generation::Qubes423).map(|h| h.entry as u64);
    let t = mem.read(dce.slrt).ok_or(no_slrt)?;
    if rd64(t, dl + 24) != Some(mle.measured) || rd64(t, dl + 40) != entry {
        return Err(ChainError::SelfAsDlme { size: rd64(t, dl + 24).unwrap_or(0) });
    }
    let context = rd64(t, dl + 56).ok_or(no_slrt)?;
    let bad_mbi = ChainError::Unreadable { addr: context };
    let head = PhysRange::new(PhysAddr(context), 8).and_then(|r| mem.read(r)).ok_or(bad_mbi)?;
    let mbi_r = PhysRange::new(PhysAddr(context), Mbi::total_size(head).unwrap_or(0) as u64).ok_or(bad_mbi)?;
    let mbi_b = mem.read(mbi_r).ok_or(bad_mbi)?;
    let mbi = Mbi::parse(mbi_b).map_err(|_| bad_mbi)?;

    // 2. Nothing GRUB describes lies in the area it gave skl-txt.bin.
    let area = PhysRange::new(mle.base, AREA_SIZE)
        .filter(|a| a.below_4g())
        .ok_or(ChainError::InMleArea { addr: mle.base.as_u64() })?;
    if !mbi.in_available_ram(area.start().as_u64(), area.len()) {
        return Err(ChainError::InMleArea { addr: area.start().as_u64() });
    }
    let heap = dce.guard.heap;
    let log = dce.log.map_or(PhysRange::EMPTY, |l| l.range);
    for r in [mbi_r, log, dce.slrt, heap] {
        if r.overlaps(&area) {
            return Err(ChainError::InMleArea { addr: r.start().as_u64() });
        }
    }

    // 3. The one module that is a Multiboot2 ELF kernel.
    let mut kernel: Option<Kernel> = None;
    let mut tag_at = 8;
    while tag_at + 8 <= mbi_b.len() {
        let (ty, size) = (rd32(mbi_b, tag_at).unwrap_or(0), rd32(mbi_b, tag_at + 4).unwrap_or(0) as usize);
        if ty == tag::END || size < 8 {
            break;
        }
        if ty == tag::MODULE {
            let (s, e) = (rd32(mbi_b, tag_at + 8).unwrap_or(0), rd32(mbi_b, tag_at + 12).unwrap_or(0));
            let m = PhysRange::new(PhysAddr(s as u64), e.saturating_sub(s) as u64).unwrap_or(PhysRange::EMPTY);
            if m.overlaps(&area) {
                return Err(ChainError::InMleArea { addr: s as u64 });
            }
            let head = PhysRange::new(m.start(), m.len().min(MB2_SEARCH as u64)).and_then(|r| mem.read(r));
            if !m.is_empty() && head.and_then(mb2_header).is_some() {
                if kernel.is_some() {
                    return Err(ChainError::TwoKernels { start: s as u64 });
                }
                let f = mem.read(m).ok_or(ChainError::Unreadable { addr: s as u64 })?;
                kernel = Some(inspect(f, m, tag_at)?);
            }
        }
        tag_at += (size + 7) & !7;
    }
    let k = kernel.ok_or(ChainError::NoKernel)?;

    // 4. Where it goes: a relocatable kernel into the area, any other at
    //    its link address, which must be free RAM clear of everything.
    let start = k.module.start().as_u64();
    let misplaced = ChainError::KernelPlacement { addr: start };
    let dest = match k.reloc {
        Some((min, max, align)) => {
            let d = area.start().as_u64() + KERNEL_OFFSET;
            let fits = k.span <= AREA_SIZE - KERNEL_OFFSET && d >= min && d + k.span <= max.saturating_add(1);
            if !fits || (align > 1 && !d.is_multiple_of(align)) {
                return Err(misplaced);
            }
            PhysRange::new(PhysAddr(d), k.span).ok_or(misplaced)?
        }
        None => {
            let d = PhysRange::new(PhysAddr(k.link), k.span).filter(|d| d.below_4g()).ok_or(misplaced)?;
            let mut clash = !mbi.in_available_ram(k.link, k.span);
            for r in [mbi_r, log, dce.slrt, heap, area] {
                clash |= r.overlaps(&d);
            }
            for m in mbi.modules() {
                let mr = PhysRange::new(PhysAddr(m.start as u64), (m.end - m.start) as u64);
                clash |= mr.is_some_and(|mr| mr.overlaps(&d));
            }
            if clash {
                return Err(misplaced);
            }
            d
        }
    };
    let dest_at = dest.start().as_u64();

    // Load: zero the whole range, then each segment's file bytes.
    let unreadable = ChainError::Unreadable { addr: start };
    mem.write(dest).ok_or(misplaced)?.fill(0);
    let mut segs = [Segment { offset: 0, filesz: 0, paddr: 0, memsz: 0 }; 16];
    let mut n = 0;
    for s in segments(mem.read(k.module).ok_or(unreadable)?).ok_or(unreadable)?.flatten() {
        *segs.get_mut(n).ok_or(ChainError::KernelImage { start })? = s;
        n += 1;
    }
    for s in &segs[..n] {
        copy(mem, start + s.offset, dest_at + (s.paddr - k.link), s.filesz).ok_or(unreadable)?;
    }

    // 5. Its MLE header, as GRUB would read it.
    let image = mem.read(dest).ok_or(misplaced)?;
    let no_header = ChainError::KernelImage { start };
    let h = mle_header_offset(image).ok_or(no_header)? as usize;
    let (entry, mle_start, mle_end) = (rd32(image, h + 0x18), rd32(image, h + 0x20), rd32(image, h + 0x24));
    let (entry, size) = match (entry, mle_start, mle_end) {
        (Some(e), Some(s), Some(end)) if end > s && (end - s) as u64 <= k.span => (e as u64, (end - s) as u64),
        _ => return Err(no_header),
    };

    // 6. The MBI without the kernel's tag, its load base the kernel's.
    let w = mem.write(mbi_r).ok_or(bad_mbi)?;
    let tag_size = (rd32(w, k.tag_at + 4).unwrap_or(0) as usize + 7) & !7;
    let total = w.len();
    w.copy_within(k.tag_at + tag_size..total, k.tag_at);
    w[total - tag_size..].fill(0);
    put32(w, 0, (total - tag_size) as u32);
    let mut o = 8;
    while o + 8 <= total - tag_size {
        let (ty, size) = (rd32(w, o).unwrap_or(0), rd32(w, o + 4).unwrap_or(0) as usize);
        if ty == tag::END || size < 8 {
            break;
        }
        if ty == tag::LOAD_BASE_ADDR {
            put32(w, o + 8, dest_at as u32);
        }
        o += (size + 7) & !7;
    }

    // The SLRT without the kernel's policy entry; the MBI entry's size
    // follows the MBI when it named the whole of it; DL_INFO names the kernel.
    let t = mem.write(dce.slrt).ok_or(no_slrt)?;
    let used = rd32(t, 8).unwrap_or(0) as usize;
    let mut removed = 0;
    if let Some(p) = slrt_entry(t, slrt_tag::DRTM_POLICY) {
        let count = u16::from_le_bytes([t[p + 14], t[p + 15]]) as usize;
        for i in 0..count {
            let e = p + POLICY_HEADER + i * POLICY_ENTRY;
            let ty = u16::from_le_bytes([t[e + 2], t[e + 3]]);
            let (size, ent) = (rd64(t, e + 8).unwrap_or(0), rd64(t, e + 16).unwrap_or(0));
            if ty == entity::MULTIBOOT2_INFO && ent == context && size == total as u64 {
                put64(t, e + 8, (total - tag_size) as u64);
            }
            if removed == 0 && ty == entity::MULTIBOOT2_MODULE && ent == start && size == k.module.len() {
                removed = e;
            }
        }
        if removed != 0 {
            t.copy_within(removed + POLICY_ENTRY..used, removed);
            t[used - POLICY_ENTRY..used].fill(0);
            put32(t, p + 4, rd32(t, p + 4).unwrap_or(0) - POLICY_ENTRY as u32);
            t[p + 14..p + 16].copy_from_slice(&((count - 1) as u16).to_le_bytes());
            put32(t, 8, (used - POLICY_ENTRY) as u32);
        }
    }
    put64(t, dl + 24, size);
    put64(t, dl + 32, dest_at);
    put64(t, dl + 40, entry);
    if removed != 0 {
        dce.slrt = PhysRange::new(dce.slrt.start(), (used - POLICY_ENTRY) as u64).ok_or(no_slrt)?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::FakeRam;
    use crate::txt::mle::HeapGuard;
    use skl_bootinfo::slrt::Architecture;

    const BASE: u64 = 0x100_0000; // the MLE (2 MiB aligned), its area up to 48 MiB
    const MBI: u64 = 0x10_0000;
    const HEAP: u64 = 0x1F_0000;
    const SLRT: u64 = 0x20_0000;
    const KMOD: u64 = 0x30_0000;
    const DOM0: u64 = 0x80_0000;
    const MEASURED: u64 = 0x1000;
    const ENTRY: u64 = 0x54;

    fn p32(v: &mut Vec<u8>, x: u32) {
        v.extend_from_slice(&x.to_le_bytes());
    }
    fn p64(v: &mut Vec<u8>, x: u64) {
        v.extend_from_slice(&x.to_le_bytes());
    }

    /// An ELF32 kernel: Multiboot2 header (relocatable tag or none), one
    /// PT_LOAD of 0x2000 file bytes + 0x1000 bss at `link`, MLE header at
    /// 0x40 (entry 0x100, MleEnd 0x3000) unless `mle` is false.
    fn kernel(reloc: bool, link: u32, mle: bool) -> Vec<u8> {
        let mut f = vec![0u8; 0x1000];
        f[..8].copy_from_slice(b"\x7fELF\x01\x01\x01\0");
        let ph = [1u32, 0x1000, link, link, 0x2000, 0x3000, 7, 0x1000];
        f[0x1C..0x20].copy_from_slice(&52u32.to_le_bytes());
        f[0x2A..0x2C].copy_from_slice(&32u16.to_le_bytes());
        f[0x2C..0x2E].copy_from_slice(&1u16.to_le_bytes());
        for (i, v) in ph.iter().enumerate() {
            f[52 + 4 * i..56 + 4 * i].copy_from_slice(&v.to_le_bytes());
        }
        let mut h = vec![];
        let len: u32 = if reloc { 16 + 24 + 8 } else { 16 + 8 };
        for v in [MB2_MAGIC, 0, len, 0u32.wrapping_sub(MB2_MAGIC.wrapping_add(len))] {
            p32(&mut h, v);
        }
        if reloc {
            for v in [10u32, 24, 0x20_0000, 0xFFFF_FFFF, 0x20_0000, 2] {
                p32(&mut h, v);
            }
        }
        h.extend_from_slice(&[0, 0, 0, 0, 8, 0, 0, 0]);
        f[0x100..0x100 + h.len()].copy_from_slice(&h);
        let mut img: Vec<u8> = (0..0x2000u32).map(|i| (i * 7 + 3) as u8).collect();
        img[0x40..0x50].fill(0);
        if mle {
            img[0x40..0x50].copy_from_slice(&crate::launch::MLE_UUID);
            for (i, v) in [0x34u32, 0x2_0002, 0x100, 0, 0, 0x3000, 0x223, 0, 0].iter().enumerate() {
                img[0x50 + 4 * i..0x54 + 4 * i].copy_from_slice(&v.to_le_bytes());
            }
        }
        f.extend_from_slice(&img);
        f
    }

    struct Setup {
        mem: FakeRam,
        modules: Vec<(u64, u64)>,
    }

    fn put(mem: &mut FakeRam, at: u64, b: &[u8]) {
        mem.write(PhysRange::new(PhysAddr(at), b.len() as u64).unwrap()).unwrap().copy_from_slice(b);
    }
    fn get(mem: &FakeRam, at: u64, n: u64) -> Vec<u8> {
        mem.read(PhysRange::new(PhysAddr(at), n).unwrap()).unwrap().to_vec()
    }
    fn u32_at(mem: &FakeRam, at: u64) -> u32 {
        u32::from_le_bytes(get(mem, at, 4).try_into().unwrap())
    }
    fn u64_at(mem: &FakeRam, at: u64) -> u64 {
        u64::from_le_bytes(get(mem, at, 8).try_into().unwrap())
    }

    /// GRUB's launch: our header at BASE, the modules (kernel file first),
    /// the MBI with a memory map of 0–48 MiB, the SLRT in GRUB's TXT order.
    fn setup(modules: &[(u64, Vec<u8>)]) -> Setup {
        let mut mem = FakeRam::new(0, 0x300_0000);
        let mut hdr = vec![];
        for v in [ENTRY as u16, MEASURED as u16, 8, MEASURED as u16] {
            hdr.extend_from_slice(&v.to_le_bytes());
        }
        put(&mut mem, BASE, &hdr);
        let mut mbi = vec![0u8; 8];
        p32(&mut mbi, 21);
        p32(&mut mbi, 12);
        p32(&mut mbi, BASE as u32);
        p32(&mut mbi, 0);
        let mut mods = vec![];
        for (i, (at, b)) in modules.iter().enumerate() {
            put(&mut mem, *at, b);
            mods.push((*at, b.len() as u64));
            let s = format!("module{i}\0");
            p32(&mut mbi, 3);
            p32(&mut mbi, 16 + s.len() as u32);
            p32(&mut mbi, *at as u32);
            p32(&mut mbi, (*at + b.len() as u64) as u32);
            mbi.extend_from_slice(s.as_bytes());
            mbi.resize(mbi.len().next_multiple_of(8), 0);
        }
        for v in [6u32, 16 + 24, 24, 0] {
            p32(&mut mbi, v);
        }
        p64(&mut mbi, 0);
        p64(&mut mbi, 0x300_0000);
        p64(&mut mbi, 1);
        mbi.extend_from_slice(&[0, 0, 0, 0, 8, 0, 0, 0]);
        let total = mbi.len() as u32;
        mbi[..4].copy_from_slice(&total.to_le_bytes());
        put(&mut mem, MBI, &mbi);

        let n = 3 + mods.len();
        let mut t = vec![];
        p32(&mut t, 0x4452_544D);
        t.extend_from_slice(&[1, 0, 1, 0]);
        p32(&mut t, 0); // size, below
        p32(&mut t, 4096);
        p32(&mut t, 1); // DL_INFO
        p32(&mut t, 72);
        for v in [0x1_0000, 0x7F0_0000, MEASURED, BASE, ENTRY] {
            p64(&mut t, v);
        }
        p64(&mut t, 1);
        p64(&mut t, MBI);
        p64(&mut t, 0);
        p32(&mut t, 3); // policy
        p32(&mut t, 16 + 56 * n as u32);
        t.extend_from_slice(&[0, 0, 0, 0, 1, 0, n as u8, 0]);
        let entry = |t: &mut Vec<u8>, pcr: u16, ty: u16, size: u64, ent: u64| {
            for v in [pcr, ty, 0, 0] {
                t.extend_from_slice(&v.to_le_bytes());
            }
            p64(t, size);
            p64(t, ent);
            t.extend_from_slice(&[0u8; 32]);
        };
        entry(&mut t, 18, entity::MULTIBOOT2_INFO, total as u64, MBI);
        entry(&mut t, 18, entity::SLRT, 0, SLRT);
        entry(&mut t, 18, entity::TXT_OS2MLE, 88, HEAP + 8);
        for (at, len) in &mods {
            entry(&mut t, 17, entity::MULTIBOOT2_MODULE, *len, *at);
        }
        t.extend_from_slice(&[0xFF, 0xFF, 0, 0, 8, 0, 0, 0]);
        let size = t.len() as u32;
        t[8..12].copy_from_slice(&size.to_le_bytes());
        put(&mut mem, SLRT, &t);
        Setup { mem, modules: mods }
    }

    fn dce(mem: &FakeRam) -> Dce<HeapGuard> {
        let size = u32_at(mem, SLRT + 8) as u64;
        Dce {
            own: PhysRange::new(PhysAddr(BASE), 0x1_0000).unwrap(),
            dce_base: 0x7F0_0000,
            dce_size: 0x1_0000,
            slrt: PhysRange::new(PhysAddr(SLRT), size).unwrap(),
            arch: Architecture::IntelTxt,
            dce_image: None,
            log: None,
            guard: HeapGuard::heap_only(PhysRange::new(PhysAddr(HEAP), 0x1_0000).unwrap()),
            generation: Generation::Qubes423,
        }
    }

    fn mle() -> Mle {
        Mle { base: PhysAddr(BASE), measured: MEASURED, header: 0x20, footprint: 0x1_0000 }
    }

    fn run(s: &mut Setup) -> (Result<bool, ChainError>, Dce<HeapGuard>) {
        let mut d = dce(&s.mem);
        let r = adopt(&mut s.mem, &mut d, &mle());
        (r, d)
    }

    #[test]
    fn relocatable_kernel_is_loaded_into_the_area_and_named_by_dl_info() {
        let k = kernel(true, 0x20_0000, true);
        let mut s = setup(&[(KMOD, k.clone()), (DOM0, b"dom0".to_vec())]);
        let old_slrt = u32_at(&s.mem, SLRT + 8);
        let (r, d) = run(&mut s);
        assert_eq!(r, Ok(true));
        let dest = BASE + KERNEL_OFFSET;
        assert_eq!(get(&s.mem, dest, 0x2000), k[0x1000..0x3000], "segment at its offset");
        assert!(get(&s.mem, dest + 0x2000, 0x1000).iter().all(|&b| b == 0), "bss zeroed");
        // DL_INFO: the kernel, as GRUB would have named it.
        assert_eq!((u64_at(&s.mem, SLRT + 16 + 24), u64_at(&s.mem, SLRT + 16 + 32)), (0x3000, dest));
        assert_eq!(u64_at(&s.mem, SLRT + 16 + 40), 0x100);
        // The MBI: only dom0, load base = the kernel's.
        let mbi_b = get(&s.mem, MBI, u32_at(&s.mem, MBI) as u64);
        let mbi = Mbi::parse(&mbi_b).unwrap();
        let mods: Vec<(u32, u32)> = mbi.modules().map(|m| (m.start, m.end)).collect();
        assert_eq!(mods, [(DOM0 as u32, DOM0 as u32 + 4)]);
        assert_eq!(mbi.load_base_addr(), Some(dest as u32));
        // The SLRT: one policy entry less, the MBI entry's size the new MBI's.
        assert_eq!(u32_at(&s.mem, SLRT + 8), old_slrt - 56);
        assert_eq!(d.slrt.len(), (old_slrt - 56) as u64);
        let t = get(&s.mem, SLRT, d.slrt.len());
        let slrt = skl_bootinfo::slrt::Slrt::parse(&t, Architecture::IntelTxt).unwrap();
        let e: Vec<(u16, u64, u64)> =
            slrt.policy_entries().map(|e| (e.entity_type.get(), e.entity.get(), e.size.get())).collect();
        assert_eq!(e.len(), 4);
        assert_eq!(e[0], (entity::MULTIBOOT2_INFO, MBI, mbi_b.len() as u64));
        assert_eq!(e[3], (entity::MULTIBOOT2_MODULE, DOM0, 4));
        assert_eq!(s.modules.len(), 2);
    }

    #[test]
    fn other_kernel_goes_to_its_link_address() {
        let mut s = setup(&[(KMOD, kernel(false, 0x40_0000, true))]);
        assert_eq!(run(&mut s).0, Ok(true));
        assert_eq!(u64_at(&s.mem, SLRT + 16 + 32), 0x40_0000);
        // On the dom0 module: refused before anything is written there.
        let mut s = setup(&[(KMOD, kernel(false, 0x7F_F000, true)), (DOM0, b"dom0".to_vec())]);
        assert_eq!(run(&mut s).0, Err(ChainError::KernelPlacement { addr: KMOD }));
        assert_eq!(get(&s.mem, DOM0, 4), b"dom0");
    }

    #[test]
    fn dl_info_naming_the_kernel_is_left_alone() {
        let mut s = setup(&[(KMOD, kernel(true, 0x20_0000, true))]);
        put(&mut s.mem, SLRT + 16 + 32, &0x40_0000u64.to_le_bytes());
        let before = get(&s.mem, 0, 0x90_0000);
        assert_eq!(run(&mut s).0, Ok(false));
        assert!(get(&s.mem, 0, 0x90_0000) == before, "nothing changed");
    }

    #[test]
    fn each_flaw_has_its_own_refusal() {
        let k = || kernel(true, 0x20_0000, true);
        let mut s = setup(&[(DOM0, b"dom0".to_vec())]);
        assert_eq!(run(&mut s).0, Err(ChainError::NoKernel));
        let mut s = setup(&[(KMOD, k()), (DOM0, k())]);
        assert_eq!(run(&mut s).0, Err(ChainError::TwoKernels { start: DOM0 }));
        let mut s = setup(&[(KMOD, k()), (BASE + 0x40_0000, b"m".to_vec())]);
        assert_eq!(run(&mut s).0, Err(ChainError::InMleArea { addr: BASE + 0x40_0000 }));
        let mut s = setup(&[(KMOD, kernel(true, 0x20_0000, false))]);
        assert_eq!(run(&mut s).0, Err(ChainError::KernelImage { start: KMOD }));
        let mut s = setup(&[(KMOD, k())]);
        put(&mut s.mem, SLRT + 16 + 24, &(MEASURED - 0x10).to_le_bytes());
        assert_eq!(run(&mut s).0, Err(ChainError::SelfAsDlme { size: MEASURED - 0x10 }));
        // A relocatable tag whose alignment the area's 2 MiB offset misses.
        let mut bad = k();
        bad[0x100 + 16 + 16..0x100 + 16 + 20].copy_from_slice(&0x40_0000u32.to_le_bytes());
        let mut s = setup(&[(KMOD, bad)]);
        assert_eq!(run(&mut s).0, Err(ChainError::KernelPlacement { addr: KMOD }));
    }
}
