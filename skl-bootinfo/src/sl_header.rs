//! The Secure Launch header at offset 0 of `skl.bin`, and `skl_info`.
//!
//! Layout as TrenchBoot GRUB `aem-qubes-4.2.3-rebase` reads it
//! (`grub-core/loader/i386/skinit.c`, `grub_skinit_is_slb`) and TrenchBoot
//! Xen `aem-staging-14-10-24-rebase` (`xen/arch/x86/boot/slaunch_early.c`,
//! SLRT at base + word 3). Words 0 and 1 are architectural (AMD APM vol. 2,
//! §15.27 SKINIT): entry offset and length SKINIT hashes.

use static_assertions::const_assert_eq;
use zerocopy::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// UUID in `skl_info`, byte order as stored: 78f1268e-0492-11e9-832a-c85b76c4cc02.
pub const SKL_UUID: [u8; 16] =
    [0x78, 0xf1, 0x26, 0x8e, 0x04, 0x92, 0x11, 0xe9, 0x83, 0x2a, 0xc8, 0x5b, 0x76, 0xc4, 0xcc, 0x02];

/// The SLB is 64 KiB (SKINIT).
pub const SLB_SIZE: u32 = 0x1_0000;
/// GRUB keeps the last 4 KiB for the SLRT: the file may be at most 60 KiB.
pub const MAX_FILE_SIZE: u32 = SLB_SIZE - 0x1000;
/// Room GRUB reserves (and zeroes) for the SLRT at the bootloader-data offset.
pub const BOOTLOADER_DATA_SIZE: u32 = 0x1000;

/// Offset 0 of the SLB.
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

/// `skl_info` (20 bytes in the SLRT generations of SKL).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct SklInfo {
    pub uuid: [u8; 16],
    pub version: U32,
}
const_assert_eq!(core::mem::size_of::<SklInfo>(), 20);

/// Why an image is not a loadable SLB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlHeaderError {
    /// File shorter than the 8-byte header.
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
    /// Bootloader data leaves less than 4 KiB before the end of the SLB.
    BootloaderDataTooHigh(u16),
}

/// A validated SLB image header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlbLayout {
    pub entry: u16,
    pub measured_size: u16,
    pub skl_info: u16,
    pub bootloader_data: u16,
    pub version: u32,
}

/// Validate an SLB file the way the strictest GRUB does (GRUB-newest
/// `grub-core/loader/slaunch/skl.c` adds `measured ≤ bootloader_data` to
/// GRUB-B's checks): the measured part must never include bootloader data.
pub fn parse_slb_image(file: &[u8]) -> Result<SlbLayout, SlHeaderError> {
    let (hdr, _) = SlHeader::read_from_prefix(file).map_err(|_| SlHeaderError::TooShort(file.len()))?;
    if file.len() > MAX_FILE_SIZE as usize {
        return Err(SlHeaderError::FileTooLarge(file.len()));
    }
    let measured = hdr.measured_size.get();
    let entry = hdr.entry.get();
    let info = hdr.skl_info.get();
    let bl = hdr.bootloader_data.get();
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
    Ok(SlbLayout {
        entry,
        measured_size: measured,
        skl_info: info,
        bootloader_data: bl,
        version: skl_info.version.get(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64-byte image written by hand: header, then skl_info at 8.
    fn image() -> [u8; 64] {
        let mut f = [0u8; 64];
        f[0..8].copy_from_slice(&[0x30, 0, 0x40, 0, 0x08, 0, 0x40, 0]);
        f[8..24].copy_from_slice(&SKL_UUID);
        f[24..28].copy_from_slice(&[1, 0, 0, 0]);
        f
    }

    #[test]
    fn hand_built_image_parses() {
        let l = parse_slb_image(&image()).unwrap();
        assert_eq!(l, SlbLayout { entry: 0x30, measured_size: 0x40, skl_info: 8, bootloader_data: 0x40, version: 1 });
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
}
