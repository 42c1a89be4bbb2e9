//! The DLME as TrenchBoot GRUB (`aem-qubes-4.2.3-rebase`,
//! `multiboot_elfxx.c`, `slaunch.c`) derives it from a Multiboot2 ELF kernel:
//! the PT_LOAD segments placed at `p_paddr − min(p_paddr)` in a zeroed image;
//! the TXT MLE header found in the first 4 KiB on 16-byte steps gives the
//! entry offset and the end (`mle_end`). Without an MLE header the whole
//! image is the DLME and the ELF entry its entry (SKL's Multiboot2 mode).

/// TXT MLE header UUID as stored.
pub const MLE_UUID: [u8; 16] =
    [0x5a, 0xac, 0x82, 0x90, 0x6f, 0x47, 0xa7, 0x74, 0x0f, 0x5c, 0x55, 0xa2, 0xcb, 0x51, 0xb6, 0x42];

#[derive(Debug, Clone)]
pub struct Dlme {
    pub bytes: Vec<u8>,
    pub entry_offset: u32,
    pub load_base: u64,
    pub has_mle_header: bool,
}

fn rd(b: &[u8], o: usize, n: usize) -> Result<u64, String> {
    let s = b.get(o..o + n).ok_or_else(|| format!("offset {o:#x}: file too short"))?;
    Ok(s.iter().rev().fold(0u64, |a, &x| a << 8 | x as u64))
}

/// Load an ELF32 or ELF64 kernel the way GRUB does and return its DLME.
pub fn dlme_from_elf(elf: &[u8]) -> Result<Dlme, String> {
    if elf.get(..4) != Some(b"\x7fELF") {
        return Err("not an ELF file (field e_ident)".into());
    }
    let is64 = match elf[4] {
        1 => false,
        2 => true,
        c => return Err(format!("e_ident[EI_CLASS] = {c}")),
    };
    if elf.get(5) != Some(&1) {
        return Err("not little-endian (field e_ident[EI_DATA])".into());
    }
    let (entry, phoff, phentsize, phnum) = if is64 {
        (rd(elf, 24, 8)?, rd(elf, 32, 8)?, rd(elf, 54, 2)?, rd(elf, 56, 2)?)
    } else {
        (rd(elf, 24, 4)?, rd(elf, 28, 4)?, rd(elf, 42, 2)?, rd(elf, 44, 2)?)
    };
    let mut segs = vec![];
    for i in 0..phnum {
        let p = (phoff + i * phentsize) as usize;
        let (ty, off, paddr, filesz, memsz) = if is64 {
            (rd(elf, p, 4)?, rd(elf, p + 8, 8)?, rd(elf, p + 24, 8)?, rd(elf, p + 32, 8)?, rd(elf, p + 40, 8)?)
        } else {
            (rd(elf, p, 4)?, rd(elf, p + 4, 4)?, rd(elf, p + 12, 4)?, rd(elf, p + 16, 4)?, rd(elf, p + 20, 4)?)
        };
        if ty == 1 && memsz > 0 {
            if filesz > memsz || off.checked_add(filesz).is_none_or(|e| e > elf.len() as u64) {
                return Err(format!("program header {i}: segment outside the file (p_offset/p_filesz)"));
            }
            segs.push((off, paddr, filesz, memsz));
        }
    }
    let lo = segs.iter().map(|s| s.1).min().ok_or("no PT_LOAD segment")?;
    let hi = segs.iter().map(|s| s.1.saturating_add(s.3)).max().unwrap_or(lo);
    if hi - lo > 256 << 20 {
        return Err(format!("load range {:#x} bytes: implausibly large (p_paddr/p_memsz)", hi - lo));
    }
    let mut img = vec![0u8; (hi - lo) as usize];
    for (off, paddr, filesz, _) in &segs {
        let at = (paddr - lo) as usize;
        img[at..at + *filesz as usize].copy_from_slice(&elf[*off as usize..(off + filesz) as usize]);
    }
    let hdr = (0..4096.min(img.len().saturating_sub(40))).step_by(16).find(|&o| img[o..o + 16] == MLE_UUID);
    match hdr {
        Some(o) => {
            let entry_point = rd(&img, o + 24, 4)? as u32;
            let (start, end) = (rd(&img, o + 32, 4)? as usize, rd(&img, o + 36, 4)? as usize);
            if start >= end || end > img.len() || entry_point as usize >= end - start {
                return Err(format!("MLE header at {o:#x}: mle_start/mle_end/entry_point out of the image"));
            }
            Ok(Dlme { bytes: img[start..end].to_vec(), entry_offset: entry_point, load_base: lo, has_mle_header: true })
        }
        None => {
            let off = entry.checked_sub(lo).filter(|&e| e < img.len() as u64).ok_or("e_entry outside the image")?;
            Ok(Dlme { bytes: img, entry_offset: off as u32, load_base: lo, has_mle_header: false })
        }
    }
}
