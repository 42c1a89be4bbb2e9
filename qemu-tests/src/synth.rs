//! Synthetic kernels for launches that do not need the C test kernel: a
//! Multiboot2 ELF32 shaped like Debian's Xen (relocatable tag, optional TXT
//! MLE header, real size), whose position-independent entry prints a line
//! on COM1 and ends QEMU with status 33.

/// Options for [`xen_like_elf`].
#[derive(Clone, Debug)]
pub struct XenLike {
    /// Link (and `p_paddr`) address of the image.
    pub link: u32,
    /// Bytes of the loaded image (file contents; `.bss` comes on top).
    pub size: usize,
    pub bss: u32,
    /// Multiboot2 relocatable tag: (min, max, align, preference 0/1/2).
    pub relocatable: Option<(u32, u32, u32, u32)>,
    /// Put a TXT MLE header in the first 4 KiB (DLME mode) or not
    /// (Multiboot2 mode, like Debian's Xen).
    pub mle_header: bool,
    /// The line the entry prints on COM1.
    pub banner: String,
}

impl Default for XenLike {
    /// Xen 4.17's values: linked at 2 MiB, relocatable anywhere 2 MiB-aligned
    /// below 4 GiB, preference high; 4 MiB; no MLE header.
    fn default() -> Self {
        XenLike {
            link: 0x20_0000,
            size: 4 << 20,
            bss: 0x1_0000,
            relocatable: Some((0x20_0000, 0xFFFF_FFFF, 0x20_0000, 2)),
            mle_header: false,
            banner: "XENLIKE: entered".into(),
        }
    }
}

const CODE: usize = 0x100; // entry offset in the image
const MLE: usize = 0x40; // MLE header offset (16-byte aligned, first 4 KiB)
const FILE_OFF: usize = 0x1000; // the segment's file offset

/// The ELF32 file.
pub fn xen_like_elf(o: &XenLike) -> Vec<u8> {
    let mut img = vec![0u8; o.size];
    // Deterministic filler so the DLME is not mostly zeros.
    let mut x: u32 = 0x1234_5678;
    for b in img.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    // Multiboot2 header: magic, arch 0, length, checksum; tags 8-aligned.
    let mut tags: Vec<u8> = vec![];
    if let Some((min, max, align, pref)) = o.relocatable {
        tags.extend_from_slice(&10u16.to_le_bytes());
        tags.extend_from_slice(&1u16.to_le_bytes()); // optional, as Xen
        tags.extend_from_slice(&24u32.to_le_bytes());
        for v in [min, max, align, pref] {
            tags.extend_from_slice(&v.to_le_bytes());
        }
    }
    tags.extend_from_slice(&[0, 0, 0, 0, 8, 0, 0, 0]); // end tag
    let len = 16 + tags.len() as u32;
    let magic = 0xE852_50D6u32;
    let mut hdr = vec![];
    for v in [magic, 0, len, 0u32.wrapping_sub(magic.wrapping_add(len))] {
        hdr.extend_from_slice(&v.to_le_bytes());
    }
    hdr.extend_from_slice(&tags);
    img[..hdr.len()].copy_from_slice(&hdr);
    if o.mle_header {
        let m = &mut img[MLE..MLE + 0x34];
        m[..16].copy_from_slice(&[
            0x5a, 0xac, 0x82, 0x90, 0x6f, 0x47, 0xa7, 0x74, 0x0f, 0x5c, 0x55, 0xa2, 0xcb, 0x51, 0xb6, 0x42,
        ]);
        let end = o.size as u32 + o.bss;
        for (i, v) in [0x34u32, 0x0002_0002, CODE as u32, 0, 0, end, 0x223, 0, 0].iter().enumerate() {
            m[16 + 4 * i..20 + 4 * i].copy_from_slice(&v.to_le_bytes());
        }
    } else {
        img[MLE..MLE + 16].fill(0); // no stray UUID from the filler
    }
    // Entry: mov $0x3f8,%dx; per byte mov $c,%al; out %al,%dx; then
    // mov $0x10,%al; out %al,$0xf4 (status 33); hlt. Position-independent.
    let mut code = vec![0x66, 0xBA, 0xF8, 0x03];
    for c in o.banner.bytes().chain(*b"\n") {
        code.extend_from_slice(&[0xB0, c, 0xEE]);
    }
    code.extend_from_slice(&[0xB0, 0x10, 0xE6, 0xF4, 0xF4, 0xEB, 0xFE]);
    img[CODE..CODE + code.len()].copy_from_slice(&code);

    let mut f = vec![0u8; FILE_OFF];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 1; // ELFCLASS32
    f[5] = 1; // little endian
    f[6] = 1; // EV_CURRENT
    let put16 = |f: &mut Vec<u8>, at: usize, v: u16| f[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put32 = |f: &mut Vec<u8>, at: usize, v: u32| f[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put16(&mut f, 16, 2); // ET_EXEC
    put16(&mut f, 18, 3); // EM_386
    put32(&mut f, 20, 1);
    put32(&mut f, 24, o.link + CODE as u32); // e_entry
    put32(&mut f, 28, 52); // e_phoff
    put16(&mut f, 40, 52); // e_ehsize
    put16(&mut f, 42, 32); // e_phentsize
    put16(&mut f, 44, 1); // e_phnum
    put16(&mut f, 46, 40); // e_shentsize
                           // PT_LOAD: offset, vaddr, paddr, filesz, memsz, flags RWX, align.
    let ph = 52;
    for (i, v) in
        [1u32, FILE_OFF as u32, o.link, o.link, o.size as u32, o.size as u32 + o.bss, 7, 0x1000].iter().enumerate()
    {
        put32(&mut f, ph + 4 * i, *v);
    }
    f.extend_from_slice(&img);
    f
}

/// Deterministic pseudo-random bytes (module contents).
pub fn bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}
