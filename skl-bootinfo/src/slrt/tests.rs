//! Byte images written by hand from `abi-grub-xen.md` §3.3/§3.4 (offsets
//! from the documentation, not from the structs above).

use super::*;

use crate::test_bytes::{put16, put32, put64};

/// What GRUB-B writes for a Multiboot2 launch with `n` modules:
/// DL_INFO @16, LOG_INFO @88, POLICY @112, entries @128, END; 248 + 56n bytes.
fn grub_b_table(n: usize) -> [u8; 4096] {
    let mut b = [0u8; 4096];
    let size = 248 + 56 * n;
    put32(&mut b, 0, 0x4452544D);
    put16(&mut b, 4, 1);
    put16(&mut b, 6, 2);
    put32(&mut b, 8, size as u32);
    put32(&mut b, 12, 4096);
    // DL_INFO
    put32(&mut b, 16, 1);
    put32(&mut b, 20, 72);
    put64(&mut b, 24, 0x3000); // dce_size
    put64(&mut b, 32, 0x0200_0000); // dce_base
    put64(&mut b, 40, 0x20_0000); // dlme_size
    put64(&mut b, 48, 0x0100_0000); // dlme_base
    put64(&mut b, 56, 0x40); // dlme_entry
    put16(&mut b, 64, 1); // bootloader GRUB
    put64(&mut b, 72, 0x80_0000); // context = MBI
    put64(&mut b, 80, 0); // dl_handler
                          // LOG_INFO
    put32(&mut b, 88, 2);
    put32(&mut b, 92, 24);
    put16(&mut b, 96, 2);
    put32(&mut b, 100, 0x8000);
    put64(&mut b, 104, 0x90_0000);
    // DRTM_POLICY
    put32(&mut b, 112, 3);
    put32(&mut b, 116, (16 + 56 * (2 + n)) as u32);
    put16(&mut b, 124, 1);
    put16(&mut b, 126, (2 + n) as u16);
    let mut e = 128;
    for (pcr, et, flags, size, entity, text) in [
        (18u16, 7u16, 0u16, 0x200u64, 0x80_0000u64, &b"Measured MB2 information"[..]),
        (18, 1, 2, 0, 0x0200_3000, b"Measured SLR Table"),
    ] {
        put16(&mut b, e, pcr);
        put16(&mut b, e + 2, et);
        put16(&mut b, e + 4, flags);
        put64(&mut b, e + 8, size);
        put64(&mut b, e + 16, entity);
        b[e + 24..e + 24 + text.len()].copy_from_slice(text);
        e += 56;
    }
    for i in 0..n {
        put16(&mut b, e, 17);
        put16(&mut b, e + 2, 8);
        put64(&mut b, e + 8, 0x1000);
        put64(&mut b, e + 16, 0xA0_0000 + 0x1000 * i as u64);
        b[e + 24..e + 24 + 19].copy_from_slice(b"Measured MB2 module");
        e += 56;
    }
    put32(&mut b, e, 0xFFFF);
    put32(&mut b, e + 4, 8);
    assert_eq!(e + 8, size);
    b
}

#[test]
fn grub_b_table_parses_with_every_field() {
    let b = grub_b_table(2);
    let t = Slrt::parse(&b, Architecture::AmdSkinit).unwrap();
    assert_eq!(t.size(), 248 + 112);
    let dl = t.dl_info().unwrap();
    assert!(matches!(dl, DlInfoRef::V72(_)));
    assert_eq!(dl.dce_size(), 0x3000);
    assert_eq!(dl.dce_base(), 0x0200_0000);
    assert_eq!(dl.dlme_size(), 0x20_0000);
    assert_eq!(dl.dlme_base(), 0x0100_0000);
    assert_eq!(dl.dlme_entry(), 0x40);
    assert_eq!(dl.bl_context().bootloader.get(), 1);
    assert_eq!(dl.context(), 0x80_0000);
    assert_eq!(dl.dlme_setup(), None);
    assert_eq!(dl.as_bytes(), &b[16..88]);
    let log = t.log_info().unwrap();
    assert_eq!((log.format.get(), log.size.get(), log.addr.get()), (2, 0x8000, 0x90_0000));
    let p: Vec<PolicyEntry> = t.policy_entries().copied().collect();
    assert_eq!(p.len(), 4);
    assert_eq!(p[0].pcr.get(), 18);
    assert_eq!(p[0].entity_type.get(), entity::MULTIBOOT2_INFO);
    assert_eq!(p[0].entity.get(), 0x80_0000);
    assert_eq!(p[0].evt_info(), b"Measured MB2 information");
    assert_eq!(p[1].flags.get(), policy_flags::IMPLICIT_SIZE);
    assert_eq!(p[3].entity.get(), 0xA0_1000);
    assert_eq!(p[3].evt_info(), b"Measured MB2 module");
    assert!(t.amd_info().is_none());
}

#[test]
fn each_malformation_has_its_error() {
    let good = grub_b_table(0);
    let parse = |b: &[u8]| Slrt::parse(b, Architecture::AmdSkinit).map(|_| ());
    assert_eq!(parse(&good), Ok(()));

    let mut b = good;
    put32(&mut b, 0, 0x4452544E);
    assert_eq!(parse(&b), Err(SlrtError::BadMagic(0x4452544E)));

    let mut b = good;
    put16(&mut b, 4, 2);
    assert_eq!(parse(&b), Err(SlrtError::UnsupportedRevision(2)));

    let mut b = good;
    put16(&mut b, 6, 1);
    assert_eq!(parse(&b), Err(SlrtError::WrongArchitecture(1)));

    let mut b = good;
    put32(&mut b, 8, 4097);
    assert_eq!(parse(&b), Err(SlrtError::SizeExceedsMax { size: 4097, max_size: 4096 }));

    assert_eq!(parse(&good[..200]), Err(SlrtError::SizeExceedsBuffer { size: 248, buffer: 200 }));

    let mut b = good;
    put32(&mut b, 8, 16 + 36); // cuts DL_INFO in half
    assert_eq!(parse(&b), Err(SlrtError::EntryOverrun { offset: 16, size: 72 }));

    let mut b = good;
    put32(&mut b, 92, 0); // LOG_INFO size 0
    assert_eq!(parse(&b), Err(SlrtError::EntryTooSmall { offset: 88, size: 0 }));

    let mut b = good;
    put32(&mut b, 20, 64);
    assert_eq!(parse(&b), Err(SlrtError::EntryWrongSize { tag: tag::DL_INFO, size: 64 }));

    let mut b = good;
    put32(&mut b, 240, 0x7777); // END replaced
    assert_eq!(parse(&b), Err(SlrtError::UnknownEntry { tag: 0x7777, offset: 240 }));

    let mut b = good;
    put32(&mut b, 8, 240); // END cut off
    assert_eq!(parse(&b), Err(SlrtError::MissingEnd));

    let mut b = good;
    put32(&mut b, 8, 256); // 8 bytes after END
    assert_eq!(parse(&b), Err(SlrtError::EndNotLast { offset: 240 }));

    let mut b = good;
    put16(&mut b, 124, 2);
    assert_eq!(parse(&b), Err(SlrtError::UnsupportedPolicyRevision(2)));

    let mut b = good;
    put16(&mut b, 126, 3);
    assert_eq!(parse(&b), Err(SlrtError::PolicySizeMismatch { size: 128, nr_entries: 3 }));
}

#[test]
fn duplicate_singleton_is_refused() {
    let mut b = grub_b_table(0);
    // Insert a copy of LOG_INFO before END: END moves 24 bytes up.
    let log: [u8; 24] = b[88..112].try_into().unwrap();
    b[240..264].copy_from_slice(&log);
    put32(&mut b, 264, 0xFFFF);
    put32(&mut b, 268, 8);
    put32(&mut b, 8, 272);
    assert_eq!(Slrt::parse(&b, Architecture::AmdSkinit).map(|_| ()), Err(SlrtError::DuplicateEntry(tag::LOG_INFO)));
}

#[test]
fn amd_info_is_accepted_and_read() {
    let mut b = grub_b_table(0);
    let e = 240;
    put32(&mut b, e, 5);
    put32(&mut b, e + 4, 56);
    put32(&mut b, e + 16, 10);
    put32(&mut b, e + 20, 40);
    put64(&mut b, e + 24, 4096);
    put64(&mut b, e + 32, 0x0200_3000);
    put64(&mut b, e + 40, 0x80_0000);
    put32(&mut b, e + 56, 0xFFFF);
    put32(&mut b, e + 60, 8);
    put32(&mut b, 8, 304);
    let t = Slrt::parse(&b, Architecture::AmdSkinit).unwrap();
    let a = t.amd_info().unwrap();
    assert_eq!((a.setup_type.get(), a.slrt_base.get(), a.boot_params_base.get()), (10, 0x0200_3000, 0x80_0000));
    assert_eq!(t.psp_version_offset(), Some(e + 48));
}

#[test]
fn grub_tb_dev_48_byte_amd_info_is_accepted_without_psp_version() {
    // TrenchBoot GRUB tb-dev @66aec2e2 ends AMD_INFO at boot_params_base.
    let mut b = grub_b_table(0);
    let e = 240;
    put32(&mut b, e, 5);
    put32(&mut b, e + 4, 48);
    put32(&mut b, e + 16, 10);
    put32(&mut b, e + 20, 48);
    put64(&mut b, e + 40, 0x80_0000);
    put32(&mut b, e + 48, 0xFFFF);
    put32(&mut b, e + 52, 8);
    put32(&mut b, 8, 296);
    let t = Slrt::parse(&b, Architecture::AmdSkinit).unwrap();
    assert_eq!(t.amd_info().unwrap().boot_params_base.get(), 0x80_0000);
    assert_eq!(t.psp_version_offset(), None);
    // Any other size is still refused.
    put32(&mut b, e + 4, 52);
    put32(&mut b, e + 52 - 4 + 4, 0xFFFF);
    assert!(Slrt::parse(&b, Architecture::AmdSkinit).is_err());
}

#[test]
fn older_generations_are_recognised() {
    // SLRT-A: u16 tag 1, u16 size 52 right after the header.
    let mut a = [0u8; 4096];
    put32(&mut a, 0, 0x4452544D);
    put16(&mut a, 4, 1);
    put16(&mut a, 6, 2);
    put32(&mut a, 8, 16 + 52 + 4);
    put32(&mut a, 12, 4096);
    put16(&mut a, 16, 1);
    put16(&mut a, 18, 52);
    put16(&mut a, 68, 0xFFFF);
    put16(&mut a, 70, 4);
    assert_eq!(Slrt::parse(&a, Architecture::AmdSkinit).map(|_| ()), Err(SlrtError::LegacySlrtA));
    // SKL master tag list: TAGS_SIZE {0x0F, 4, size u16}.
    let mut t = [0u8; 64];
    t[..4].copy_from_slice(&[0x0F, 4, 6, 0]);
    assert_eq!(Slrt::parse(&t, Architecture::AmdSkinit).map(|_| ()), Err(SlrtError::LegacyTagProtocol));
}

/// The 88-byte DL_INFO of Linux Secure Launch v16, offsets typed from its
/// `include/linux/slr_table.h` (`dlme_header_offset` @48,
/// `dlme_config_table` @56, `bl_context` @64, `dl_launch` @80): the table
/// grows by 16 bytes and every later entry moves up.
pub(crate) fn dl_info_88(b72: &[u8; 4096], header_offset: u64, config_table: u64) -> [u8; 4096] {
    let size = u32::from_le_bytes(b72[8..12].try_into().unwrap()) as usize;
    let mut b = [0u8; 4096];
    b[..16].copy_from_slice(&b72[..16]);
    put32(&mut b, 8, size as u32 + 16);
    // DL_INFO: header and the five u64 up to dlme_entry unchanged.
    b[16..64].copy_from_slice(&b72[16..64]);
    put32(&mut b, 20, 88);
    put64(&mut b, 64, header_offset);
    put64(&mut b, 72, config_table);
    b[80..104].copy_from_slice(&b72[64..88]); // bl_context, dl_handler -> dl_launch
    b[104..size + 16].copy_from_slice(&b72[88..size]);
    b
}

#[test]
fn dl_info_of_88_bytes_parses_with_its_new_fields() {
    let b = dl_info_88(&grub_b_table(1), 0x2000, 0x7F_0000);
    let t = Slrt::parse(&b, Architecture::AmdSkinit).unwrap();
    let dl = t.dl_info().unwrap();
    assert!(matches!(dl, DlInfoRef::V88(_)));
    assert_eq!((dl.dce_base(), dl.dlme_base(), dl.dlme_entry()), (0x0200_0000, 0x0100_0000, 0x40));
    assert_eq!(dl.context(), 0x80_0000);
    assert_eq!(dl.dlme_setup(), Some((0x2000, 0x7F_0000)));
    assert_eq!(dl.as_bytes().len(), 88);
    assert_eq!(t.log_info().unwrap().addr.get(), 0x90_0000);
    assert_eq!(t.policy_entries().count(), 3);
}

#[test]
fn dl_info_of_other_sizes_is_refused() {
    for size in [64u32, 80, 96] {
        let mut b = grub_b_table(0);
        put32(&mut b, 20, size);
        let r = Slrt::parse(&b, Architecture::AmdSkinit).map(|_| ());
        // The entry walk then lands mid-table or the size fits no layout.
        assert!(r.is_err(), "{size}: {r:?}");
    }
}
