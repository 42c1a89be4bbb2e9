//! The DLME as TrenchBoot GRUB (`aem-qubes-4.2.3-rebase`,
//! `multiboot_elfxx.c`, `slaunch.c`) derives it from a Multiboot2 ELF kernel
//! (`abi-grub-xen.md` §3.4): the whole load range `[min p_paddr, max
//! p_paddr + p_memsz)` zeroed, every PT_LOAD segment copied to `p_paddr −
//! min p_paddr`; the TXT MLE header found in the first 4 KiB of that image on
//! 16-byte steps; DL_INFO `dlme_base` = the load base, `dlme_size` =
//! `mle_end − mle_start`, `dlme_entry` = the header's `entry_point`.
//!
//! Without an MLE header the whole image is the DLME and the ELF entry its
//! entry (SKL's Multiboot2 mode, for kernels without Secure Launch support).

pub use skl_bootinfo::mle::{MLE_SEARCH, MLE_UUID};
/// Refuse load ranges larger than this (a broken p_paddr/p_memsz, not a kernel).
const MAX_IMAGE: u64 = 512 << 20;

/// The TXT MLE header fields the launch depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MleHeader {
    /// Offset of the header in the loaded image.
    pub offset: usize,
    pub header_len: u32,
    pub version: u32,
    pub entry_point: u32,
    pub first_valid_page: u32,
    pub mle_start: u32,
    pub mle_end: u32,
}

/// Where the DLME bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Elf32,
    Elf64,
    /// A flat image, as loaded in memory (`--dlme-raw`).
    Raw,
    /// The DLME bytes and entry offset given directly (`--dlme`).
    Direct,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Elf32 => "ELF32",
            Source::Elf64 => "ELF64",
            Source::Raw => "raw image",
            Source::Direct => "DLME file",
        }
    }
}

/// What SKL measures of the kernel: DL_INFO's DLME range and entry offset.
#[derive(Debug, Clone)]
pub struct Dlme {
    pub bytes: Vec<u8>,
    pub entry_offset: u32,
    /// Lowest p_paddr (0 for raw and direct input).
    pub load_base: u64,
    /// SKL's mode choice: DLME mode with an MLE header, Multiboot2 mode without.
    pub has_mle_header: bool,
    pub mle: Option<MleHeader>,
    pub source: Source,
}

/// A kernel image as GRUB lays it out in memory.
#[derive(Debug, Clone)]
pub struct LoadedImage {
    pub bytes: Vec<u8>,
    pub load_base: u64,
    /// Physical entry address (GRUB's `payload_eip`), if e_entry lies in a segment.
    pub entry: Option<u64>,
    pub source: Source,
}

fn rd(b: &[u8], o: u64, n: usize, what: &str) -> Result<u64, String> {
    let s = usize::try_from(o)
        .ok()
        .and_then(|o| b.get(o..o.checked_add(n)?))
        .ok_or_else(|| format!("{what} at offset {o:#x}: past the end of the file"))?;
    Ok(s.iter().rev().fold(0u64, |a, &x| a << 8 | x as u64))
}

/// The MLE header in the first 4 KiB of `img`, 16-byte aligned, as GRUB
/// and SKL search for it.
pub fn find_mle_header(img: &[u8]) -> Option<MleHeader> {
    skl_bootinfo::mle::find(img).map(|(offset, h)| MleHeader {
        offset,
        header_len: h.header_len.get(),
        version: h.version.get(),
        entry_point: h.entry_point.get(),
        first_valid_page: h.first_valid_page.get(),
        mle_start: h.mle_start.get(),
        mle_end: h.mle_end.get(),
    })
}

struct Segment {
    offset: u64,
    vaddr: u64,
    paddr: u64,
    filesz: u64,
    memsz: u64,
}

/// Load an ELF32 or ELF64 kernel into a zeroed image the way GRUB's
/// Multiboot2 loader does.
pub fn load_elf(elf: &[u8]) -> Result<LoadedImage, String> {
    if elf.starts_with(&[0x1f, 0x8b]) {
        return Err("gzip-compressed (GRUB decompresses it while loading): give the output of zcat".into());
    }
    if elf.get(..4) != Some(b"\x7fELF") {
        return Err("not an ELF file (field e_ident[EI_MAG]); a flat image needs --dlme-raw".into());
    }
    let is64 = match elf.get(4) {
        Some(1) => false,
        Some(2) => true,
        c => return Err(format!("field e_ident[EI_CLASS] = {c:?}: neither ELF32 nor ELF64")),
    };
    if elf.get(5) != Some(&1) {
        return Err("field e_ident[EI_DATA]: not little-endian".into());
    }
    let (e_entry, phoff, phentsize, phnum) = if is64 {
        (
            rd(elf, 24, 8, "e_entry")?,
            rd(elf, 32, 8, "e_phoff")?,
            rd(elf, 54, 2, "e_phentsize")?,
            rd(elf, 56, 2, "e_phnum")?,
        )
    } else {
        (
            rd(elf, 24, 4, "e_entry")?,
            rd(elf, 28, 4, "e_phoff")?,
            rd(elf, 42, 2, "e_phentsize")?,
            rd(elf, 44, 2, "e_phnum")?,
        )
    };
    let min_ent = if is64 { 56 } else { 32 };
    if phnum > 0 && phentsize < min_ent {
        return Err(format!("field e_phentsize = {phentsize}: smaller than a program header ({min_ent})"));
    }
    let mut segs = vec![];
    for i in 0..phnum {
        let p = phoff.checked_add(i * phentsize).ok_or_else(|| format!("field e_phoff = {phoff:#x}: overflows"))?;
        let f = |o: u64, n: usize, what: &str| rd(elf, p.saturating_add(o), n, &format!("program header {i}: {what}"));
        let s = if is64 {
            Segment {
                offset: f(8, 8, "p_offset")?,
                vaddr: f(16, 8, "p_vaddr")?,
                paddr: f(24, 8, "p_paddr")?,
                filesz: f(32, 8, "p_filesz")?,
                memsz: f(40, 8, "p_memsz")?,
            }
        } else {
            Segment {
                offset: f(4, 4, "p_offset")?,
                vaddr: f(8, 4, "p_vaddr")?,
                paddr: f(12, 4, "p_paddr")?,
                filesz: f(16, 4, "p_filesz")?,
                memsz: f(20, 4, "p_memsz")?,
            }
        };
        if f(0, 4, "p_type")? != 1 {
            continue; // not PT_LOAD
        }
        if s.filesz > s.memsz {
            return Err(format!("program header {i}: p_filesz {:#x} > p_memsz {:#x}", s.filesz, s.memsz));
        }
        if s.offset.checked_add(s.filesz).is_none_or(|e| e > elf.len() as u64) {
            return Err(format!("program header {i}: p_offset + p_filesz beyond the end of the file"));
        }
        if s.paddr.checked_add(s.memsz).is_none() {
            return Err(format!("program header {i}: p_paddr + p_memsz overflows"));
        }
        segs.push(s);
    }
    let lo = segs.iter().map(|s| s.paddr).min().ok_or("no PT_LOAD program header")?;
    let hi = segs.iter().map(|s| s.paddr + s.memsz).max().unwrap_or(lo);
    if is64 && hi > 1 << 32 {
        return Err(format!("p_paddr + p_memsz = {hi:#x}: a segment crosses 4 GiB (GRUB refuses it)"));
    }
    if hi - lo > MAX_IMAGE {
        return Err(format!("load range {:#x} bytes (p_paddr/p_memsz): implausibly large", hi - lo));
    }
    let mut img = vec![0u8; (hi - lo) as usize];
    for s in &segs {
        let at = (s.paddr - lo) as usize;
        let src = &elf[s.offset as usize..(s.offset + s.filesz) as usize];
        img[at..at + src.len()].copy_from_slice(src);
    }
    // GRUB: the first segment whose virtual range holds e_entry gives the
    // physical entry.
    let entry =
        segs.iter().find(|s| s.vaddr <= e_entry && e_entry - s.vaddr < s.memsz).map(|s| e_entry - s.vaddr + s.paddr);
    Ok(LoadedImage { bytes: img, load_base: lo, entry, source: if is64 { Source::Elf64 } else { Source::Elf32 } })
}

/// The DLME of a loaded image: through its MLE header, or (no header, an
/// entry known) the whole image in Multiboot2 mode.
pub fn dlme_from_image(img: LoadedImage) -> Result<Dlme, String> {
    match find_mle_header(&img.bytes) {
        Some(h) => {
            let at = h.offset;
            // GRUB: dlme_base = load base, dlme_size = mle_end − mle_start.
            let size = h.mle_end.checked_sub(h.mle_start).filter(|&s| s > 0).ok_or_else(|| {
                format!("MLE header at {at:#x}: mle_end {:#x} not above mle_start {:#x}", h.mle_end, h.mle_start)
            })? as usize;
            if size > img.bytes.len() {
                return Err(format!(
                    "MLE header at {at:#x}: mle_end − mle_start = {size:#x} beyond the loaded image ({:#x} bytes)",
                    img.bytes.len()
                ));
            }
            if h.entry_point as usize >= size {
                return Err(format!(
                    "MLE header at {at:#x}: entry_point {:#x} outside the DLME ({size:#x} bytes; SKL refuses it)",
                    h.entry_point
                ));
            }
            Ok(Dlme {
                bytes: img.bytes[..size].to_vec(),
                entry_offset: h.entry_point,
                load_base: img.load_base,
                has_mle_header: true,
                mle: Some(h),
                source: img.source,
            })
        }
        None => {
            let Some(entry) = img.entry else {
                return Err(match img.source {
                    Source::Raw => "no TXT MLE header in the first 4 KiB: give --dlme FILE --entry-offset N".into(),
                    _ => "no TXT MLE header in the first 4 KiB and e_entry not in a PT_LOAD segment".into(),
                });
            };
            let off = entry
                .checked_sub(img.load_base)
                .filter(|&e| e < img.bytes.len() as u64)
                .ok_or_else(|| format!("e_entry (physical {entry:#x}) outside the loaded image"))?;
            Ok(Dlme {
                bytes: img.bytes,
                entry_offset: off as u32,
                load_base: img.load_base,
                has_mle_header: false,
                mle: None,
                source: img.source,
            })
        }
    }
}

/// Load an ELF32 or ELF64 kernel the way GRUB does and return its DLME.
pub fn dlme_from_elf(elf: &[u8]) -> Result<Dlme, String> {
    dlme_from_image(load_elf(elf)?)
}

/// A flat image as it lies in memory from its load base (`--dlme-raw`):
/// it must carry an MLE header.
pub fn dlme_from_raw(img: &[u8]) -> Result<Dlme, String> {
    dlme_from_image(LoadedImage { bytes: img.to_vec(), load_base: 0, entry: None, source: Source::Raw })
}

/// The DLME bytes and entry offset given directly (`--dlme`, `--entry-offset`),
/// checked as SKL checks DL_INFO.
pub fn dlme_direct(bytes: &[u8], entry_offset: u32) -> Result<Dlme, String> {
    if bytes.is_empty() {
        return Err("empty DLME (SKL refuses dlme_size 0)".into());
    }
    if entry_offset as usize >= bytes.len() {
        return Err(format!(
            "--entry-offset {entry_offset:#x} outside the DLME ({:#x} bytes; SKL refuses it)",
            bytes.len()
        ));
    }
    let mle = find_mle_header(bytes);
    Ok(Dlme {
        bytes: bytes.to_vec(),
        entry_offset,
        load_base: 0,
        has_mle_header: mle.is_some(),
        mle,
        source: Source::Direct,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF64 with two PT_LOAD segments, the second one higher and with a
    /// zero tail; the MLE header at image offset 0x20.
    fn elf64() -> Vec<u8> {
        let mut e = vec![0u8; 0x200];
        e[..4].copy_from_slice(b"\x7fELF");
        e[4] = 2;
        e[5] = 1;
        e[24..32].copy_from_slice(&0x20_0040u64.to_le_bytes()); // e_entry (virtual)
        e[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        e[54..56].copy_from_slice(&56u16.to_le_bytes());
        e[56..58].copy_from_slice(&2u16.to_le_bytes());
        let ph = |e: &mut Vec<u8>, at: usize, off: u64, vaddr: u64, paddr: u64, filesz: u64, memsz: u64| {
            e[at..at + 4].copy_from_slice(&1u32.to_le_bytes());
            e[at + 8..at + 16].copy_from_slice(&off.to_le_bytes());
            e[at + 16..at + 24].copy_from_slice(&vaddr.to_le_bytes());
            e[at + 24..at + 32].copy_from_slice(&paddr.to_le_bytes());
            e[at + 32..at + 40].copy_from_slice(&filesz.to_le_bytes());
            e[at + 40..at + 48].copy_from_slice(&memsz.to_le_bytes());
        };
        ph(&mut e, 64, 0x100, 0x20_0000, 0x10_0000, 0x80, 0x80);
        ph(&mut e, 120, 0x180, 0x20_0100, 0x10_0100, 0x40, 0x80);
        for (i, b) in e.iter_mut().enumerate().take(0x1c0).skip(0x100) {
            *b = i as u8 | 1;
        }
        e[0x120..0x130].copy_from_slice(&MLE_UUID);
        e[0x120 + 24..0x120 + 28].copy_from_slice(&0x40u32.to_le_bytes());
        e[0x120 + 32..0x120 + 36].copy_from_slice(&0u32.to_le_bytes());
        e[0x120 + 36..0x120 + 40].copy_from_slice(&0x170u32.to_le_bytes());
        e
    }

    #[test]
    fn elf64_segments_land_at_paddr_minus_base() {
        let img = load_elf(&elf64()).unwrap();
        assert_eq!(img.load_base, 0x10_0000);
        assert_eq!(img.bytes.len(), 0x180);
        assert_eq!(img.entry, Some(0x10_0040));
        assert_eq!(&img.bytes[..0x80], &elf64()[0x100..0x180]);
        assert!(img.bytes[0x80..0x100].iter().all(|&b| b == 0));
        assert_eq!(&img.bytes[0x100..0x140], &elf64()[0x180..0x1c0]);
        assert!(img.bytes[0x140..].iter().all(|&b| b == 0));
        let d = dlme_from_image(img.clone()).unwrap();
        assert_eq!(d.bytes, img.bytes[..0x170]);
        assert_eq!(d.entry_offset, 0x40);
        assert_eq!(d.mle.unwrap().offset, 0x20);
    }

    #[test]
    fn mle_header_must_be_16_byte_aligned_and_in_4k() {
        let mut img = vec![0u8; 0x2000];
        img[0x1008..0x1018].copy_from_slice(&MLE_UUID);
        assert_eq!(find_mle_header(&img), None);
        img[0x1000..0x1010].copy_from_slice(&MLE_UUID);
        assert_eq!(find_mle_header(&img), None, "beyond the first 4 KiB");
        img[0xff0..0x1000].copy_from_slice(&MLE_UUID);
        assert_eq!(find_mle_header(&img).unwrap().offset, 0xff0);
    }

    #[test]
    fn bad_headers_are_errors_not_panics() {
        let good = elf64();
        for n in 0..good.len() {
            let _ = dlme_from_elf(&good[..n]);
        }
        for bit in 0..0x180 * 8 {
            let mut e = good.clone();
            e[bit / 8] ^= 1 << (bit % 8);
            let _ = dlme_from_elf(&e);
        }
        assert!(dlme_from_elf(&[0x1f, 0x8b, 8, 0]).unwrap_err().contains("zcat"));
    }

    #[test]
    fn direct_dlme_is_checked_like_dl_info() {
        assert!(dlme_direct(b"abc", 3).is_err());
        assert!(dlme_direct(b"", 0).is_err());
        let d = dlme_direct(b"abc", 2).unwrap();
        assert!(!d.has_mle_header);
    }
}
