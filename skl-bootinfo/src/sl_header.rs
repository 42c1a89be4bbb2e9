//! The Secure Launch header at offset 0 of the SLB image, and `skl_info`,
//! in the two layouts TrenchBoot has used ([`Generation`]).
//!
//! **Qubes 4.2.3 generation** (`skl.bin`), 8 bytes, as TrenchBoot GRUB
//! `aem-qubes-4.2.3-rebase` reads it (`grub-core/loader/i386/skinit.c`,
//! `grub_skinit_is_slb`, b3fd5906) and TrenchBoot Xen
//! `aem-staging-14-10-24-rebase` finds the SLRT (`slaunch_early.c`, SLB +
//! word 3, 6a50fd9e).
//!
//! **AMD SL generation** (`skl-amdsl.bin`), 0x46 bytes: AMD's extended SLB
//! header (GUID, total length, SOC-flag list) followed by the `skl_info` and
//! bootloader-data words at 0x42/0x44, as TrenchBoot GRUB `tb-dev` reads it
//! (`grub-core/loader/slaunch/skl.c` `grub_skl_set_module`, 66aec2e2) and
//! TrenchBoot Xen v3 finds the SLRT (`xen/arch/x86/boot/slaunch-early.c`,
//! `struct skinit_sl_header`, SLB + the u16 at 0x44). The TrenchBoot documents
//! call it the 68-byte header (the bytes before the two offset words).
//!
//! In both, words 0 and 1 are architectural (AMD APM vol. 2, §15.27 SKINIT):
//! entry offset and the length SKINIT hashes.
//!
//! An AMD SL image may carry bytes past the measured part (`total_size` >
//! `measured_size`): the PSP path's signature area ([`PSP_SIGNATURE_AREA`]),
//! or stage 2 of a two-stage image ([`SlbLayout::stage2`]), whose SHA-256
//! stage 1 carries ([`Stage2Digest`]) and checks before running it.

use static_assertions::const_assert_eq;
use zerocopy::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// UUID in `skl_info`, byte order as stored: 78f1268e-0492-11e9-832a-c85b76c4cc02.
pub const SKL_UUID: [u8; 16] =
    [0x78, 0xf1, 0x26, 0x8e, 0x04, 0x92, 0x11, 0xe9, 0x83, 0x2a, 0xc8, 0x5b, 0x76, 0xc4, 0xcc, 0x02];

/// AMD Secure Loader GUID at offset 0x04 of the AMD SL header, as stored
/// (da75c40e-d0d3-5d48-b6ae-3cb20fb7ad3a).
pub const AMD_SL_GUID: [u8; 16] =
    [0xda, 0x75, 0xc4, 0x0e, 0xd0, 0xd3, 0x5d, 0x48, 0xb6, 0xae, 0x3c, 0xb2, 0x0f, 0xb7, 0xad, 0x3a];

/// The CPU signatures (CPUID 1 EAX, model and stepping nibbles zero) the
/// AMD SL header lists, in the order of the zarhus SKL build (family 1Ah
/// Turin first, then family 19h). AMD's PSP compares the CPU with this list
/// (`docs/amd-sl.md`).
pub const SOC_FLAGS: [u32; 8] =
    [0x00B0_0F00, 0x00A5_0F00, 0x00A4_0F00, 0x00A7_0F00, 0x00A0_0F00, 0x00A1_0F00, 0x00A8_0F00, 0x00AA_0F00];

/// The SLB is 64 KiB (SKINIT).
pub const SLB_SIZE: u32 = 0x1_0000;
/// GRUB keeps the last 4 KiB for the SLRT: the file may be at most 60 KiB.
pub const MAX_FILE_SIZE: u32 = SLB_SIZE - 0x1000;
/// Room GRUB reserves (and zeroes) for the SLRT at the bootloader-data offset.
pub const BOOTLOADER_DATA_SIZE: u32 = 0x1000;
/// What the PSP path (`skl-amdsl-psp.bin`) appends after the measured part:
/// `$AS1` header 0x100, signature 0x200, key token 0x440 (docs/psp-drtm.md).
/// A two-stage image's stage 2 is never exactly this long (the payload's
/// linker asserts it), so the length alone tells the two apart.
pub const PSP_SIGNATURE_AREA: usize = 0x740;

/// Two-stage image: where stage 1 (measured by SKINIT) carries the SHA-256
/// of stage 2, found by this magic in the measured bytes (exactly once).
/// The build writes the digest after linking (`skl/seal-stage2.py`); stage
/// 1 runs stage 2 only if the bytes in the SLB hash to it, so SKINIT's
/// measurement of stage 1 covers stage 2 too.
pub const STAGE2_DIGEST_MAGIC: [u8; 8] = *b"SKLstg2\0";

/// The magic and the digest, as stored in stage 1.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct Stage2Digest {
    pub magic: [u8; 8],
    pub sha256: [u8; 32],
}
const_assert_eq!(core::mem::size_of::<Stage2Digest>(), 40);

/// Offset of the [`Stage2Digest`] in `stage1` (the measured bytes), if the
/// magic occurs exactly once.
pub fn find_stage2_digest(stage1: &[u8]) -> Option<usize> {
    let mut at = stage1.windows(8).enumerate().filter(|(_, w)| *w == STAGE2_DIGEST_MAGIC).map(|(i, _)| i);
    let first = at.next()?;
    (at.next().is_none() && first + core::mem::size_of::<Stage2Digest>() <= stage1.len()).then_some(first)
}

/// Which header layout (and with it which bootloader and kernel generation)
/// an image speaks. Detected by the AMD SL GUID at offset 0x04.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generation {
    /// 8-byte header (`skl.bin`): GRUB `aem-qubes-4.2.3-rebase`, Xen
    /// `aem-staging-14-10-24-rebase`. AMD_INFO optional; the boot
    /// parameters are DL_INFO's context.
    Qubes423,
    /// 0x46-byte AMD SL header (`skl-amdsl.bin`): GRUB `tb-dev`, Xen
    /// `aem-staging-2025-05-30-v3`, Linux Secure Launch v16. AMD_INFO
    /// required; the boot parameters are AMD_INFO's `boot_params_base`.
    AmdSl,
}

impl Generation {
    /// The generation whose header `file` starts with: AMD SL if the GUID is
    /// at 0x04, else the 8-byte header.
    pub fn detect(file: &[u8]) -> Generation {
        if file.get(4..20) == Some(&AMD_SL_GUID[..]) {
            Generation::AmdSl
        } else {
            Generation::Qubes423
        }
    }

    /// Bytes of the header; the image head (`skl_info`) follows.
    pub const fn header_size(self) -> usize {
        match self {
            Generation::Qubes423 => core::mem::size_of::<SlHeader>(),
            Generation::AmdSl => core::mem::size_of::<AmdSlHeader>(),
        }
    }

    /// Short name for tools and logs.
    pub const fn name(self) -> &'static str {
        match self {
            Generation::Qubes423 => "Qubes 4.2.3 (8-byte SL header)",
            Generation::AmdSl => "AMD SL (extended SL header)",
        }
    }
}

/// Offset 0 of a Qubes 4.2.3-generation SLB.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct SlHeader {
    /// Entry point, offset from the SLB base (SKINIT jumps there).
    pub entry: U16,
    /// Bytes SKINIT hashes into PCR 17 (and the bytes GRUB copies).
    pub measured_size: U16,
    /// Offset of [`SklInfo`].
    pub skl_info: U16,
    /// Offset where the bootloader writes the SLRT.
    pub bootloader_data: U16,
}
const_assert_eq!(core::mem::size_of::<SlHeader>(), 8);

/// Offset 0 of an AMD SL-generation SLB.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct AmdSlHeader {
    pub entry: U16,
    pub measured_size: U16,
    /// [`AMD_SL_GUID`].
    pub guid: [u8; 16],
    /// 0xFFFF_FFFF.
    pub reserved: U32,
    /// The whole image (= file size): the measured part, then the PSP
    /// path's 0x740-byte `$AS1` area or a two-stage image's stage 2.
    pub total_size: U32,
    /// Offset of the SOC-flag count (0x1E).
    pub soc_flags_offset: U16,
    /// 8.
    pub soc_flags_count: U32,
    pub soc_flags: [U32; 8],
    pub skl_info: U16,
    pub bootloader_data: U16,
}
const_assert_eq!(core::mem::size_of::<AmdSlHeader>(), 0x46);
const_assert_eq!(core::mem::offset_of!(AmdSlHeader, guid), 0x04);
const_assert_eq!(core::mem::offset_of!(AmdSlHeader, reserved), 0x14);
const_assert_eq!(core::mem::offset_of!(AmdSlHeader, total_size), 0x18);
const_assert_eq!(core::mem::offset_of!(AmdSlHeader, soc_flags_offset), 0x1C);
const_assert_eq!(core::mem::offset_of!(AmdSlHeader, soc_flags_count), 0x1E);
const_assert_eq!(core::mem::offset_of!(AmdSlHeader, soc_flags), 0x22);
const_assert_eq!(core::mem::offset_of!(AmdSlHeader, skl_info), 0x42);
const_assert_eq!(core::mem::offset_of!(AmdSlHeader, bootloader_data), 0x44);

/// `skl_info` (20 bytes): UUID and version, the fields every GRUB reads.
/// GRUB `tb-dev` declares 86 bytes (+ `msb_key_algo`, `msb_key_hash[64]`)
/// but reads only these two (`grub_skl_set_module`), so both images carry
/// the 20-byte form.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct SklInfo {
    pub uuid: [u8; 16],
    pub version: U32,
}
const_assert_eq!(core::mem::size_of::<SklInfo>(), 20);

/// The header words SKL and the loaders act on, from either layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderWords {
    pub generation: Generation,
    pub entry: u16,
    pub measured_size: u16,
    pub skl_info: u16,
    pub bootloader_data: u16,
    /// AMD SL: the header's total length; Qubes 4.2.3: the measured size.
    pub total_size: u32,
}

impl HeaderWords {
    /// The words of a header of generation `g` at the start of `b`.
    pub fn read(b: &[u8], g: Generation) -> Option<HeaderWords> {
        match g {
            Generation::Qubes423 => {
                let (h, _) = SlHeader::read_from_prefix(b).ok()?;
                Some(HeaderWords {
                    generation: g,
                    entry: h.entry.get(),
                    measured_size: h.measured_size.get(),
                    skl_info: h.skl_info.get(),
                    bootloader_data: h.bootloader_data.get(),
                    total_size: h.measured_size.get() as u32,
                })
            }
            Generation::AmdSl => {
                let (h, _) = AmdSlHeader::read_from_prefix(b).ok()?;
                Some(HeaderWords {
                    generation: g,
                    entry: h.entry.get(),
                    measured_size: h.measured_size.get(),
                    skl_info: h.skl_info.get(),
                    bootloader_data: h.bootloader_data.get(),
                    total_size: h.total_size.get(),
                })
            }
        }
    }
}

/// Why an image is not a loadable SLB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlHeaderError {
    /// File shorter than the header.
    TooShort(usize),
    /// File larger than 60 KiB (GRUB refuses it: no room for the SLRT).
    FileTooLarge(usize),
    /// Measured size larger than the file.
    MeasuredBeyondFile { measured: u16, file: usize },
    /// Entry offset not inside the measured bytes.
    EntryNotMeasured { entry: u16, measured: u16 },
    /// `skl_info` not inside the measured bytes.
    InfoNotMeasured { info: u16, measured: u16 },
    /// UUID at the `skl_info` offset is not the SKL UUID.
    BadUuid,
    /// Bootloader data would overlap the measured bytes.
    BootloaderDataMeasured { bootloader_data: u16, measured: u16 },
    /// AMD SL: bootloader data inside the file, past the measured bytes:
    /// GRUB tb-dev would write the SLRT over stage 2 (or the PSP image's
    /// signature area).
    BootloaderDataInFile { bootloader_data: u16, file: usize },
    /// Bootloader data leaves less than 4 KiB before the end of the SLB.
    BootloaderDataTooHigh(u16),
    /// AMD SL: no AMD SL GUID at 0x04 (an 8-byte-header image read as AMD SL).
    NotAmdSl,
    /// AMD SL: `skl_info.version` is not 0 (GRUB `tb-dev` refuses it).
    BadVersion(u32),
    /// AMD SL: a fixed field of the extended header (reserved word, SOC-flag
    /// offset or count) does not have its value; the field's offset.
    AmdSlField(u16),
    /// AMD SL: the total length is not the file size.
    TotalSizeMismatch { total: u32, file: usize },
}

/// A validated SLB image header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlbLayout {
    pub generation: Generation,
    pub entry: u16,
    pub measured_size: u16,
    pub skl_info: u16,
    pub bootloader_data: u16,
    pub version: u32,
    /// AMD SL: the header's total length; Qubes 4.2.3: the measured size.
    pub total_size: u32,
}

impl SlbLayout {
    /// The PSP-path image: AMD SL, total = measured + [`PSP_SIGNATURE_AREA`].
    pub fn is_psp(&self) -> bool {
        self.generation == Generation::AmdSl
            && self.total_size as usize == self.measured_size as usize + PSP_SIGNATURE_AREA
    }

    /// Stage 2 of a two-stage image, as a file range: `measured_size ..
    /// total_size` of an AMD SL image that has bytes past the measured part
    /// and is not the PSP image. `None` for one-stage images (the 8-byte
    /// header, AMD SL with total = measured, the PSP image). Stage 1 (what
    /// SKINIT measures) runs these bytes only if their SHA-256 is the one it
    /// carries ([`find_stage2_digest`]).
    pub fn stage2(&self) -> Option<core::ops::Range<usize>> {
        let (m, t) = (self.measured_size as usize, self.total_size as usize);
        (self.generation == Generation::AmdSl && t > m && !self.is_psp()).then_some(m..t)
    }
}

/// Validate an SLB file of the generation its header announces
/// ([`Generation::detect`]): [`parse_slb_image_as`].
pub fn parse_slb_image(file: &[u8]) -> Result<SlbLayout, SlHeaderError> {
    parse_slb_image_as(file, Generation::detect(file))
}

/// Validate an SLB file as the bootloader of generation `g` does.
///
/// Both: file ≤ 60 KiB, measured ≤ file, entry < measured, `skl_info`
/// inside the measured bytes with the SKL UUID, bootloader data at or past
/// the measured end (GRUB `tb-dev` checks this; GRUB-B does not, but an
/// image that measures its own SLRT area is wrong whatever loads it) with
/// 4 KiB before the end of the SLB. AMD SL adds GRUB `tb-dev`'s version
/// check (0) and the header's own fields: GUID, reserved 0xFFFFFFFF,
/// SOC-flag offset 0x1E and count 8, total length = file size.
pub fn parse_slb_image_as(file: &[u8], g: Generation) -> Result<SlbLayout, SlHeaderError> {
    let w = HeaderWords::read(file, g).ok_or(SlHeaderError::TooShort(file.len()))?;
    if g == Generation::AmdSl {
        let (h, _) = AmdSlHeader::read_from_prefix(file).map_err(|_| SlHeaderError::TooShort(file.len()))?;
        if h.guid != AMD_SL_GUID {
            return Err(SlHeaderError::NotAmdSl);
        }
        if h.reserved.get() != 0xFFFF_FFFF {
            return Err(SlHeaderError::AmdSlField(0x14));
        }
        if h.soc_flags_offset.get() != 0x1E {
            return Err(SlHeaderError::AmdSlField(0x1C));
        }
        if h.soc_flags_count.get() != SOC_FLAGS.len() as u32 {
            return Err(SlHeaderError::AmdSlField(0x1E));
        }
    }
    if file.len() > MAX_FILE_SIZE as usize {
        return Err(SlHeaderError::FileTooLarge(file.len()));
    }
    let (measured, entry, info, bl) = (w.measured_size, w.entry, w.skl_info, w.bootloader_data);
    if measured as usize > file.len() {
        return Err(SlHeaderError::MeasuredBeyondFile { measured, file: file.len() });
    }
    if entry >= measured {
        return Err(SlHeaderError::EntryNotMeasured { entry, measured });
    }
    let info_end = info as usize + core::mem::size_of::<SklInfo>();
    if info_end > measured as usize {
        return Err(SlHeaderError::InfoNotMeasured { info, measured });
    }
    let (skl_info, _) = SklInfo::read_from_prefix(&file[info as usize..])
        .map_err(|_| SlHeaderError::InfoNotMeasured { info, measured })?;
    if skl_info.uuid != SKL_UUID {
        return Err(SlHeaderError::BadUuid);
    }
    if bl < measured {
        return Err(SlHeaderError::BootloaderDataMeasured { bootloader_data: bl, measured });
    }
    if bl as u32 + BOOTLOADER_DATA_SIZE > SLB_SIZE {
        return Err(SlHeaderError::BootloaderDataTooHigh(bl));
    }
    let version = skl_info.version.get();
    if g == Generation::AmdSl {
        if version != 0 {
            return Err(SlHeaderError::BadVersion(version));
        }
        if w.total_size as usize != file.len() {
            return Err(SlHeaderError::TotalSizeMismatch { total: w.total_size, file: file.len() });
        }
        if (bl as usize) < file.len() {
            return Err(SlHeaderError::BootloaderDataInFile { bootloader_data: bl, file: file.len() });
        }
    }
    Ok(SlbLayout {
        generation: g,
        entry,
        measured_size: measured,
        skl_info: info,
        bootloader_data: bl,
        version,
        total_size: w.total_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_bytes::{put16, put32};

    /// A 64-byte image written by hand: header, then skl_info at 8.
    fn image() -> [u8; 64] {
        let mut f = [0u8; 64];
        f[0..8].copy_from_slice(&[0x30, 0, 0x40, 0, 0x08, 0, 0x40, 0]);
        f[8..24].copy_from_slice(&SKL_UUID);
        f[24..28].copy_from_slice(&[1, 0, 0, 0]);
        f
    }

    /// A 0x80-byte AMD SL image written by hand from the header table of
    /// `docs/amd-sl.md` (offsets typed from the table, not from the struct).
    fn amdsl_image() -> [u8; 0x80] {
        let mut f = [0u8; 0x80];
        put16(&mut f, 0x00, 0x60); // entry
        put16(&mut f, 0x02, 0x80); // measured
        f[0x04..0x14].copy_from_slice(&[
            0xda, 0x75, 0xc4, 0x0e, 0xd0, 0xd3, 0x5d, 0x48, 0xb6, 0xae, 0x3c, 0xb2, 0x0f, 0xb7, 0xad, 0x3a,
        ]);
        put32(&mut f, 0x14, 0xFFFF_FFFF);
        put32(&mut f, 0x18, 0x80); // total = file
        put16(&mut f, 0x1C, 0x1E);
        put32(&mut f, 0x1E, 8);
        for (i, v) in
            [0x00B00F00u32, 0x00A50F00, 0x00A40F00, 0x00A70F00, 0x00A00F00, 0x00A10F00, 0x00A80F00, 0x00AA0F00]
                .into_iter()
                .enumerate()
        {
            put32(&mut f, 0x22 + 4 * i, v);
        }
        put16(&mut f, 0x42, 0x46); // skl_info
        put16(&mut f, 0x44, 0x80); // bootloader data
        f[0x46..0x56].copy_from_slice(&SKL_UUID);
        f
    }

    #[test]
    fn hand_built_image_parses() {
        let l = parse_slb_image(&image()).unwrap();
        assert_eq!(
            l,
            SlbLayout {
                generation: Generation::Qubes423,
                entry: 0x30,
                measured_size: 0x40,
                skl_info: 8,
                bootloader_data: 0x40,
                version: 1,
                total_size: 0x40
            }
        );
    }

    #[test]
    fn hand_built_amdsl_image_parses_and_matches_the_struct() {
        let f = amdsl_image();
        assert_eq!(Generation::detect(&f), Generation::AmdSl);
        let l = parse_slb_image(&f).unwrap();
        assert_eq!(
            l,
            SlbLayout {
                generation: Generation::AmdSl,
                entry: 0x60,
                measured_size: 0x80,
                skl_info: 0x46,
                bootloader_data: 0x80,
                version: 0,
                total_size: 0x80
            }
        );
        let (h, _) = AmdSlHeader::read_from_prefix(&f[..]).unwrap();
        assert_eq!(h.soc_flags.map(|v| v.get()), SOC_FLAGS);
        assert_eq!(Generation::AmdSl.header_size(), 0x46);
        assert_eq!(Generation::Qubes423.header_size(), 8);
    }

    #[test]
    fn each_grub_check_has_its_error() {
        let mut f = image();
        f[0] = 0x40;
        assert_eq!(parse_slb_image(&f), Err(SlHeaderError::EntryNotMeasured { entry: 0x40, measured: 0x40 }));
        let mut f = image();
        f[2] = 0x41;
        assert_eq!(parse_slb_image(&f), Err(SlHeaderError::MeasuredBeyondFile { measured: 0x41, file: 64 }));
        let mut f = image();
        f[8] ^= 1;
        assert_eq!(parse_slb_image(&f), Err(SlHeaderError::BadUuid));
        let mut f = image();
        f[6] = 0x3f;
        assert_eq!(
            parse_slb_image(&f),
            Err(SlHeaderError::BootloaderDataMeasured { bootloader_data: 0x3f, measured: 0x40 })
        );
        let mut f = image();
        f[6..8].copy_from_slice(&0xF001u16.to_le_bytes());
        assert_eq!(parse_slb_image(&f), Err(SlHeaderError::BootloaderDataTooHigh(0xF001)));
        let mut f = image();
        f[4] = 0x30;
        assert_eq!(parse_slb_image(&f), Err(SlHeaderError::InfoNotMeasured { info: 0x30, measured: 0x40 }));
        assert_eq!(parse_slb_image(&f[..4]), Err(SlHeaderError::TooShort(4)));
    }

    #[test]
    fn each_amdsl_check_has_its_error() {
        let err = |edit: &dyn Fn(&mut [u8])| {
            let mut f = amdsl_image();
            edit(&mut f);
            parse_slb_image_as(&f, Generation::AmdSl)
        };
        assert_eq!(err(&|f| f[0x04] ^= 1), Err(SlHeaderError::NotAmdSl));
        assert_eq!(err(&|f| f[0x14] = 0), Err(SlHeaderError::AmdSlField(0x14)));
        assert_eq!(err(&|f| f[0x1C] = 0x20), Err(SlHeaderError::AmdSlField(0x1C)));
        assert_eq!(err(&|f| f[0x1E] = 7), Err(SlHeaderError::AmdSlField(0x1E)));
        assert_eq!(err(&|f| f[0x56] = 1), Err(SlHeaderError::BadVersion(1)));
        assert_eq!(err(&|f| f[0x18] = 0x70), Err(SlHeaderError::TotalSizeMismatch { total: 0x70, file: 0x80 }));
        assert_eq!(err(&|f| f[0x46] ^= 1), Err(SlHeaderError::BadUuid));
        assert_eq!(err(&|f| f[0x42] = 0x70), Err(SlHeaderError::InfoNotMeasured { info: 0x70, measured: 0x80 }));
        assert_eq!(
            err(&|f| f[0x44] = 0x7f),
            Err(SlHeaderError::BootloaderDataMeasured { bootloader_data: 0x7f, measured: 0x80 })
        );
        assert_eq!(err(&|f| f[0x00] = 0x80), Err(SlHeaderError::EntryNotMeasured { entry: 0x80, measured: 0x80 }));
        // Bytes past the measured part (stage 2) with the SLRT over them.
        let mut f = amdsl_image().to_vec();
        f.extend_from_slice(&[0u8; 0x20]);
        f[0x18..0x1C].copy_from_slice(&0xA0u32.to_le_bytes());
        assert_eq!(parse_slb_image(&f), Err(SlHeaderError::BootloaderDataInFile { bootloader_data: 0x80, file: 0xA0 }));
        assert_eq!(parse_slb_image_as(&amdsl_image()[..0x40], Generation::AmdSl), Err(SlHeaderError::TooShort(0x40)));
    }

    /// [`amdsl_image`] grown by `extra` bytes past the measured part, total
    /// length and bootloader data moved to the new end.
    fn amdsl_with_tail(extra: usize) -> Vec<u8> {
        let mut f = amdsl_image().to_vec();
        f.resize(0x80 + extra, 0x5A);
        put32(&mut f, 0x18, 0x80 + extra as u32);
        put16(&mut f, 0x44, 0x80 + extra as u16);
        f
    }

    #[test]
    fn stage2_only_for_two_stage_amdsl_images() {
        // One-stage AMD SL: total = measured.
        let l = parse_slb_image(&amdsl_image()).unwrap();
        assert_eq!((l.stage2(), l.is_psp()), (None, false));
        // Two-stage: the bytes past the measured part.
        let f = amdsl_with_tail(0x123);
        let l = parse_slb_image(&f).unwrap();
        assert_eq!((l.stage2(), l.is_psp()), (Some(0x80..0x1A3), false));
        assert_eq!(f[l.stage2().unwrap()].len(), 0x123);
        // The PSP image: exactly the signature area past the measured part.
        let l = parse_slb_image(&amdsl_with_tail(0x740)).unwrap();
        assert_eq!((l.stage2(), l.is_psp()), (None, true));
        assert_eq!(parse_slb_image(&amdsl_with_tail(0x741)).unwrap().stage2(), Some(0x80..0x7C1));
        // The 8-byte header has no total length: never two-stage, even
        // with bytes past the measured part.
        let mut q = [0u8; 0x80];
        q[..64].copy_from_slice(&image());
        let l = parse_slb_image(&q).unwrap();
        assert_eq!((l.generation, l.stage2(), l.is_psp()), (Generation::Qubes423, None, false));
    }

    /// Each generation's bootloader refuses the other generation's image:
    /// GRUB `tb-dev` reads an 8-byte-header image's offset words from its
    /// code, GRUB-B reads the AMD GUID as the `skl_info` offset.
    #[test]
    fn each_loader_refuses_the_other_generations_image() {
        let mut q = [0u8; 0x80];
        q[..64].copy_from_slice(&image());
        assert_eq!(parse_slb_image_as(&q, Generation::AmdSl), Err(SlHeaderError::NotAmdSl));
        // GRUB-B: word 2 = 0x75da (GUID bytes), far past the measured 0x80.
        assert_eq!(
            parse_slb_image_as(&amdsl_image(), Generation::Qubes423),
            Err(SlHeaderError::InfoNotMeasured { info: 0x75da, measured: 0x80 })
        );
    }

    /// The stage-2 digest is found only where its magic occurs once and the
    /// whole record fits.
    #[test]
    fn stage2_digest_is_found_once_and_whole() {
        let mut m = vec![0u8; 100];
        assert_eq!(find_stage2_digest(&m), None);
        m[10..18].copy_from_slice(&STAGE2_DIGEST_MAGIC);
        assert_eq!(find_stage2_digest(&m), Some(10));
        let rec = Stage2Digest::read_from_bytes(&m[10..50]).unwrap();
        assert_eq!(rec.magic, STAGE2_DIGEST_MAGIC);
        m[70..78].copy_from_slice(&STAGE2_DIGEST_MAGIC);
        assert_eq!(find_stage2_digest(&m), None, "twice");
        assert_eq!(find_stage2_digest(&m[..49]), None, "cut short");
    }
}
