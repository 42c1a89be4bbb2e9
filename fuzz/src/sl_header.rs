//! `sl_header`: bytes → `parse_slb_image` (and as each generation), what
//! `skl-tool` runs on a user's image file. An accepted image's words point
//! where GRUB's checks demand; a two-stage image's stage 2 is the rest of
//! the file with the SLRT after it; the stage-2 digest record, if found,
//! lies whole in the measured bytes and its magic occurs there once.

use skl_bootinfo::sl_header::{
    find_stage2_digest, parse_slb_image, parse_slb_image_as, Generation, Stage2Digest, BOOTLOADER_DATA_SIZE,
    MAX_FILE_SIZE, PSP_SIGNATURE_AREA, SLB_SIZE, STAGE2_DIGEST_MAGIC,
};

pub fn run(data: &[u8]) {
    for g in [Generation::Qubes423, Generation::AmdSl] {
        let _ = parse_slb_image_as(data, g);
    }
    let _ = find_stage2_digest(data);
    let Ok(l) = parse_slb_image(data) else { return };
    let (m, bl) = (l.measured_size as usize, l.bootloader_data as usize);
    assert_eq!(l.generation, Generation::detect(data));
    assert!(data.len() <= MAX_FILE_SIZE as usize);
    assert!((l.entry as usize) < m && m <= data.len());
    assert!(l.skl_info as usize + 20 <= m);
    assert!(bl >= m && bl + BOOTLOADER_DATA_SIZE as usize <= SLB_SIZE as usize);
    if l.is_psp() {
        assert_eq!(l.total_size as usize, m + PSP_SIGNATURE_AREA);
    }
    match l.stage2() {
        Some(r) => {
            assert_eq!(l.generation, Generation::AmdSl);
            assert!(!l.is_psp());
            assert_eq!((r.start, r.end), (m, data.len()));
            assert!(r.end > r.start && r.len() != PSP_SIGNATURE_AREA);
            assert!(bl >= r.end, "the SLRT would overwrite stage 2");
        }
        None => assert!(l.generation == Generation::Qubes423 || l.total_size as usize == m || l.is_psp()),
    }
    if let Some(at) = find_stage2_digest(&data[..m]) {
        assert!(at + core::mem::size_of::<Stage2Digest>() <= m);
        assert_eq!(data[at..at + 8], STAGE2_DIGEST_MAGIC);
        assert!(!data[..m].windows(8).enumerate().any(|(i, w)| i != at && w == STAGE2_DIGEST_MAGIC));
    }
}
