//! The Intel TXT MLE header (Intel TXT MLE Developer's Guide, "MLE Header
//! Format", version 2.2 as Xen and Linux write it): how GRUB finds a Secure
//! Launch kernel's entry, on AMD as on Intel. GRUB `aem-qubes-4.2.3-rebase`
//! (`grub-core/loader/i386/slaunch.c`) looks for the UUID in the first
//! 4 KiB of the loaded image, at 16-byte steps; SKL and `skl-tool` do the
//! same.

use static_assertions::const_assert_eq;
use zerocopy::little_endian::U32;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// UUID 9082ac5a-476f-74a7-5c0f-55a2cb51b642 as stored.
pub const MLE_UUID: [u8; 16] =
    [0x5a, 0xac, 0x82, 0x90, 0x6f, 0x47, 0xa7, 0x74, 0x0f, 0x5c, 0x55, 0xa2, 0xcb, 0x51, 0xb6, 0x42];
/// GRUB and SKL look for the header in this many bytes of the image.
pub const MLE_SEARCH: usize = 0x1000;
/// The header is 16-byte aligned.
pub const MLE_ALIGN: usize = 16;

/// The MLE header up to `mle_end` (the fields a DLME launch needs); version
/// 2.0 and later add capabilities and the command line after it.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct MleHeader {
    pub uuid: [u8; 16],
    pub header_len: U32,
    pub version: U32,
    /// Entry, as an offset from the start of the MLE (the DLME base).
    pub entry_point: U32,
    pub first_valid_page: U32,
    pub mle_start: U32,
    pub mle_end: U32,
}
const_assert_eq!(core::mem::size_of::<MleHeader>(), 40);

/// Offset and contents of the MLE header in `img`, as GRUB finds it.
pub fn find(img: &[u8]) -> Option<(usize, MleHeader)> {
    let o = (0..MLE_SEARCH.min(img.len())).step_by(MLE_ALIGN).find(|&o| img.get(o..o + 16) == Some(&MLE_UUID[..]))?;
    MleHeader::read_from_prefix(&img[o..]).ok().map(|(h, _)| (o, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_only_at_16_byte_steps_in_the_first_4_kib() {
        let mut img = vec![0u8; 0x2000];
        img[0x108..0x118].copy_from_slice(&MLE_UUID);
        assert!(find(&img).is_none(), "not 16-byte aligned");
        img[0x1010..0x1020].copy_from_slice(&MLE_UUID);
        assert!(find(&img).is_none(), "beyond 4 KiB");
        img[0x120..0x130].copy_from_slice(&MLE_UUID);
        img[0x130..0x134].copy_from_slice(&0x34u32.to_le_bytes());
        img[0x138..0x13C].copy_from_slice(&0x200u32.to_le_bytes());
        let (o, h) = find(&img).unwrap();
        assert_eq!((o, h.header_len.get(), h.entry_point.get()), (0x120, 0x34, 0x200));
        assert!(find(&img[..0x140]).is_none(), "header cut short");
    }
}
