//! Expected PCR values, computed from the input files with the sha crates:
//! independent of the payload's hashing and parsing code.

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

pub const BANKS: [&str; 4] = ["sha1", "sha256", "sha384", "sha512"];

pub fn hash(alg: &str, data: &[u8]) -> Vec<u8> {
    match alg {
        "sha1" => Sha1::digest(data).to_vec(),
        "sha256" => Sha256::digest(data).to_vec(),
        "sha384" => Sha384::digest(data).to_vec(),
        "sha512" => Sha512::digest(data).to_vec(),
        _ => panic!("unknown bank {alg}"),
    }
}

/// PCR extend: H(old || H(data)).
pub fn extend(alg: &str, old: &[u8], data: &[u8]) -> Vec<u8> {
    extend_digest(alg, old, &hash(alg, data))
}

pub fn extend_digest(alg: &str, old: &[u8], digest: &[u8]) -> Vec<u8> {
    let mut b = old.to_vec();
    b.extend_from_slice(digest);
    hash(alg, &b)
}

pub fn zero(alg: &str) -> Vec<u8> {
    vec![0; hash(alg, b"").len()]
}

/// The bytes SKINIT measures: skl.bin[0 : u16 at offset 2].
pub fn measured(skl: &[u8]) -> &[u8] {
    &skl[..u16::from_le_bytes([skl[2], skl[3]]) as usize]
}

/// The DLME as GRUB derives it from a Multiboot2 ELF kernel: PT_LOAD
/// segments at p_paddr − min p_paddr in a zeroed image; with a TXT MLE
/// header in the first 4 KiB: image[0 : mle_end], entry = header entry
/// point; without one: the whole image, entry = e_entry − base.
pub struct Dlme {
    pub bytes: Vec<u8>,
    pub entry_offset: u32,
    pub base: u32,
    pub has_mle_header: bool,
}

pub fn dlme_from_elf32(elf: &[u8]) -> Dlme {
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]);
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap());
    assert_eq!(&elf[..4], b"\x7fELF", "kernel is not ELF");
    let (e_entry, phoff, phentsize, phnum) = (u32_at(24), u32_at(28) as usize, u16_at(42) as usize, u16_at(44));
    let mut segs = vec![];
    for i in 0..phnum as usize {
        let p = phoff + i * phentsize;
        let (ty, off, paddr, filesz, memsz) =
            (u32_at(p), u32_at(p + 4), u32_at(p + 12), u32_at(p + 16), u32_at(p + 20));
        if ty == 1 && memsz > 0 {
            segs.push((off as usize, paddr, filesz as usize, memsz));
        }
    }
    let lo = segs.iter().map(|s| s.1).min().unwrap();
    let hi = segs.iter().map(|s| s.1 + s.3).max().unwrap();
    let mut img = vec![0u8; (hi - lo) as usize];
    for (off, paddr, filesz, _) in &segs {
        let at = (paddr - lo) as usize;
        img[at..at + filesz].copy_from_slice(&elf[*off..off + filesz]);
    }
    let uuid = [0x5a, 0xac, 0x82, 0x90, 0x6f, 0x47, 0xa7, 0x74, 0x0f, 0x5c, 0x55, 0xa2, 0xcb, 0x51, 0xb6, 0x42];
    let hdr = (0..4096.min(img.len())).step_by(16).find(|&o| img[o..].starts_with(&uuid));
    match hdr {
        Some(o) => {
            let rd = |x: usize| u32::from_le_bytes(img[o + x..o + x + 4].try_into().unwrap());
            let (entry, start, end) = (rd(24), rd(32), rd(36));
            Dlme {
                bytes: img[start as usize..end as usize].to_vec(),
                entry_offset: entry,
                base: lo,
                has_mle_header: true,
            }
        }
        None => Dlme { bytes: img, entry_offset: e_entry - lo, base: lo, has_mle_header: false },
    }
}

/// PCR 17 right after SKINIT.
pub fn pcr17_after_skinit(alg: &str, skl: &[u8]) -> Vec<u8> {
    extend(alg, &zero(alg), measured(skl))
}

/// PCR 17 after SKL: SKINIT, then the 4-byte LE entry offset, then the DLME.
pub fn pcr17_after_skl(alg: &str, skl: &[u8], dlme: &Dlme) -> Vec<u8> {
    let p = pcr17_after_skinit(alg, skl);
    let p = extend(alg, &p, &dlme.entry_offset.to_le_bytes());
    extend(alg, &p, &dlme.bytes)
}

/// PCR 17 after an Intel TXT launch of skl-txt.bin: SINIT's MLE
/// measurement (as the DRTM proxy emulates it: the MLE's measured bytes,
/// header word 1), the 4-byte LE entry offset, the DLME, then `modules` in
/// order (Multiboot2 mode: the policy's PCR 17 entries).
pub fn pcr17_after_txt(alg: &str, mle: &[u8], dlme: &Dlme, modules: &[&[u8]]) -> Vec<u8> {
    let n = u16::from_le_bytes([mle[2], mle[3]]) as usize;
    let p = extend(alg, &zero(alg), &mle[..n]);
    let p = extend(alg, &p, &dlme.entry_offset.to_le_bytes());
    let p = extend(alg, &p, &dlme.bytes);
    modules.iter().fold(p, |p, m| extend(alg, &p, m))
}

/// PCR 18 after SKL's Multiboot2 mode (GRUB's policy): the MBI as the
/// kernel got it, then the SLRT's `size` bytes as the bootloader wrote
/// them. `slrt` is the table after the launch: bit 0 (MEASURED) of each
/// policy entry's flags, which SKL sets after measuring, is cleared here
/// (the policy is found by walking the entries; panics if there is none).
pub fn pcr18_after_multiboot2(alg: &str, mbi: &[u8], slrt: &[u8]) -> Vec<u8> {
    let rd32 = |o: usize| u32::from_le_bytes(slrt[o..o + 4].try_into().unwrap()) as usize;
    let mut t = slrt[..rd32(8)].to_vec();
    let mut o = 16;
    while rd32(o) != 3 {
        assert_ne!(rd32(o), 0xFFFF, "SLRT without a DRTM policy");
        o += rd32(o + 4);
    }
    let n = u16::from_le_bytes([t[o + 14], t[o + 15]]) as usize;
    for i in 0..n {
        t[o + 16 + 56 * i + 4] &= !1;
    }
    extend(alg, &extend(alg, &zero(alg), mbi), &t)
}

/// PCR values by (bank, index).
pub type Pcrs = std::collections::BTreeMap<(String, u32), Vec<u8>>;

/// Replay a TPM 2.0 crypto-agile log (parsed independently of skl-bootinfo):
/// (pcr, alg) -> value, starting from zero, plus (pcr, type, text) per event.
/// The log's end comes from the vendor info SKL writes on AMD.
pub fn replay_tcg2(log: &[u8]) -> (Pcrs, Vec<(u32, u32, String)>) {
    let rd32 = |o: usize| u32::from_le_bytes(log[o..o + 4].try_into().unwrap());
    let vendor_at = 60 + 4 * rd32(56) as usize;
    replay_tcg2_until(log, rd32(vendor_at + 1 + 16) as usize)
}

/// As [`replay_tcg2`], for a log whose end (`next`) is kept elsewhere (TXT:
/// the heap's EVENT_LOG_POINTER2_1 NextRecordOffset).
pub fn replay_tcg2_until(log: &[u8], next: usize) -> (Pcrs, Vec<(u32, u32, String)>) {
    let rd32 = |o: usize| u32::from_le_bytes(log[o..o + 4].try_into().unwrap());
    let rd16 = |o: usize| u16::from_le_bytes(log[o..o + 2].try_into().unwrap());
    let hdr_size = rd32(28) as usize;
    let nalgs = rd32(56) as usize;
    let algs: Vec<(u16, usize)> = (0..nalgs).map(|i| (rd16(60 + 4 * i), rd16(62 + 4 * i) as usize)).collect();
    let name = |a: u16| match a {
        4 => "sha1",
        0xB => "sha256",
        0xC => "sha384",
        0xD => "sha512",
        _ => panic!("alg {a:#x}"),
    };
    let mut pcrs = std::collections::BTreeMap::new();
    let mut events = vec![];
    let mut o = 32 + hdr_size;
    while o < next {
        let (pcr, ty, count) = (rd32(o), rd32(o + 4), rd32(o + 8) as usize);
        let mut p = o + 12;
        for _ in 0..count {
            let a = rd16(p);
            let size = algs.iter().find(|x| x.0 == a).expect("digest of an unlisted algorithm").1;
            let d = &log[p + 2..p + 2 + size];
            let e = pcrs.entry((name(a).to_string(), pcr)).or_insert_with(|| zero(name(a)));
            *e = extend_digest(name(a), e, d);
            p += 2 + size;
        }
        let len = rd32(p) as usize;
        events.push((pcr, ty, String::from_utf8_lossy(&log[p + 4..p + 4 + len]).into_owned()));
        o = p + 4 + len;
    }
    (pcrs, events)
}
