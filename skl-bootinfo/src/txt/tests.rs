//! Heap images written by hand from `txt-mle.md` §3 (offsets from the
//! documentation tables, not from the structs in `heap.rs`).

use super::ext::{ext_type, ExtElement};
use super::heap::*;
use crate::addr::{PhysAddr, PhysRange};

use crate::test_bytes::{put16, put32, put64};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// One element: type, size (8 + data), data.
fn elt(typ: u32, data: &[u8]) -> Vec<u8> {
    let mut e = vec![0u8; 8];
    put32(&mut e, 0, typ);
    put32(&mut e, 4, 8 + data.len() as u32);
    e.extend_from_slice(data);
    e
}

/// The elements followed by END (type 0, size 8).
fn list(elts: &[Vec<u8>]) -> Vec<u8> {
    let mut l: Vec<u8> = elts.concat();
    l.extend(elt(ext_type::END, &[]));
    l
}

/// BiosData (§3.2): version, NumLogProcs 8; v3+ flags; v4+ the list (with a
/// 14-byte BIOS_SPEC_VER element: sizes need not be multiples of 4 or 8).
fn bios_data(version: u32) -> Vec<u8> {
    let mut b = vec![0u8; if version >= 3 { 36 } else { 28 }];
    put32(&mut b, 0, version);
    put32(&mut b, 4, 0); // BiosSinitSize
    put64(&mut b, 8, 0x7B00_0000); // LcpPdBase
    put64(&mut b, 16, 0x1000); // LcpPdSize
    put32(&mut b, 24, 8); // NumLogProcs
    if version >= 3 {
        put32(&mut b, 28, 0x1); // SinitFlags
        put32(&mut b, 32, 0b011); // MleFlags: PPI, client
    }
    if version >= 4 {
        b.extend(list(&[elt(ext_type::BIOS_SPEC_VER, &[2, 0, 1, 0, 0, 0])]));
    }
    b
}

/// GRUB AEM OS2MLE (§3.5, 88 bytes) followed by `trailing` bytes (the SLRT).
fn os_mle(trailing: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 88];
    put32(&mut b, 0, 1);
    put32(&mut b, 4, 0x0080_0000); // boot_params_addr (MBI)
    put32(&mut b, 8, 0x7AF0_0100); // slrt
    put32(&mut b, 12, 0x7AF0_0200); // txt_info
    put32(&mut b, 16, 0x0090_0000); // ap_wake_block
    put32(&mut b, 20, 0x1_4000); // ap_wake_block_size
    b[24] = 0xAA; // mle_scratch[0]
    b.extend_from_slice(trailing);
    b
}

/// TCG event log pointer data (type 8, 20 bytes).
fn ptr21(addr: u64, size: u32, first: u32, next: u32) -> Vec<u8> {
    let mut d = vec![0u8; 20];
    put64(&mut d, 0, addr);
    put32(&mut d, 8, size);
    put32(&mut d, 12, first);
    put32(&mut d, 16, next);
    d
}

/// OsSinitData (§3.3) with the given PMRs; v5+ RSDP; v6+ `elts` + END.
fn os_sinit(version: u32, lo: (u64, u64), hi: (u64, u64), elts: &[Vec<u8>]) -> Vec<u8> {
    let mut b = vec![0u8; if version >= 5 { 92 } else { 84 }];
    put32(&mut b, 0, version);
    put32(&mut b, 4, 1); // Flags
    put64(&mut b, 8, 0x00FE_0000); // MlePageTableBase
    put64(&mut b, 16, 0x20_0000); // MleSize
    put64(&mut b, 24, 0x40); // MleHeaderBase
    put64(&mut b, 32, lo.0);
    put64(&mut b, 40, lo.1);
    put64(&mut b, 48, hi.0);
    put64(&mut b, 56, hi.1);
    put64(&mut b, 64, 0x7C00_0000); // LcpPoBase
    put64(&mut b, 72, 0x2000); // LcpPoSize
    put32(&mut b, 80, 0x223); // Capabilities
    if version >= 5 {
        put64(&mut b, 84, 0x000F_0000); // EfiRsdpPtr
    }
    if version >= 6 {
        b.extend(list(elts));
    }
    b
}

const GA_PMR_LO: (u64, u64) = (0, 0x7A00_0000);
const GA_PMR_HI: (u64, u64) = (4 * GIB, 12 * GIB);

/// SinitMleData (§3.4); v7+ MDRs then the DMAR after the fixed fields (and
/// the v9 list), offsets from the size field.
fn sinit_mle(version: u32, mdrs: &[(u64, u64, u8)], dmar: &[u8], elts: &[Vec<u8>]) -> Vec<u8> {
    let fixed = match version {
        6 => 120,
        7 => 144,
        _ => 148,
    };
    let mut b = vec![0u8; fixed];
    put32(&mut b, 0, version);
    b[4] = 0xB1; // BiosAcmID
    put32(&mut b, 24, 0); // EdxSenterFlags
    b[56] = 0x5A; // MleHash
    put32(&mut b, 116, 0x2); // PolicyControl
    if version >= 9 {
        b.extend(list(elts));
    }
    if version >= 7 {
        put32(&mut b, 120, 0x8F_0040); // RlpWakeupAddr
        put32(&mut b, 128, mdrs.len() as u32);
        let at = (8 + b.len()) as u32;
        put32(&mut b, 132, at);
        for &(base, len, typ) in mdrs {
            let mut r = [0u8; 24];
            put64(&mut r, 0, base);
            put64(&mut r, 8, len);
            r[16] = typ;
            b.extend_from_slice(&r);
        }
        put32(&mut b, 136, dmar.len() as u32);
        let at = (8 + b.len()) as u32;
        put32(&mut b, 140, at);
        b.extend_from_slice(dmar);
    }
    if version >= 8 {
        put32(&mut b, 144, 1); // ProcessorSCRTMStatus
    }
    b
}

/// The four bodies, each behind its u64 size (size field included).
fn heap(tables: [&[u8]; 4]) -> Vec<u8> {
    let mut h = Vec::new();
    for t in tables {
        h.extend_from_slice(&(8 + t.len() as u64).to_le_bytes());
        h.extend_from_slice(t);
    }
    h
}

/// A TPM 2.0 heap as GRUB AEM and a TPM 2.0 SINIT leave it.
fn tpm20_heap(mdrs: &[(u64, u64, u8)]) -> Vec<u8> {
    let log = elt(ext_type::EVENT_LOG_POINTER2_1, &ptr21(0x7AE0_0000, 0x8000, 0, 0x1A3));
    heap([
        &bios_data(6),
        &os_mle(&[0x4D, 0x54, 0x52, 0x44, 1, 0, 1, 0]),
        &os_sinit(7, GA_PMR_LO, GA_PMR_HI, &[log]),
        &sinit_mle(9, mdrs, b"DMAR\x30\0\0\0", &[elt(ext_type::MADT, b"APIC....")]),
    ])
}

const RAM: &[(u64, u64, u8)] = &[
    (0, 0x9F000, 0),
    (0x10_0000, 0x7A00_0000 - 0x10_0000, 0),
    (0x7A00_0000, 0x0200_0000, 0), // adjacent to the previous one
    (0xE000_0000, 0x1000_0000, 3), // ECAM
    (4 * GIB, 12 * GIB, 0),
    (0x7FFF_0000, 0, 0), // zero length: ignored
];

fn r(start: u64, len: u64) -> PhysRange {
    PhysRange::new(PhysAddr(start), len).unwrap()
}

#[test]
fn tpm20_heap_parses_with_every_field() {
    let b = tpm20_heap(RAM);
    let h = TxtHeap::parse(&b).unwrap();
    h.check_tpm20().unwrap();
    assert_eq!(h.total_size(), b.len());
    let bd = h.bios_data();
    assert_eq!((bd.version.get(), bd.num_log_procs.get(), bd.lcp_pd_base.get()), (6, 8, 0x7B00_0000));
    let f = h.bios_data_flags().unwrap();
    assert_eq!((f.sinit_flags.get(), f.mle_flags.get()), (1, 3));
    let bios_elts: Vec<ExtElement> = h.ext_elements(HeapTable::BiosData).collect();
    assert_eq!(bios_elts.len(), 1);
    assert_eq!(bios_elts[0].typ, ext_type::BIOS_SPEC_VER);
    assert_eq!(bios_elts[0].offset, 8 + 36);
    assert_eq!(bios_elts[0].data, &[2, 0, 1, 0, 0, 0]);

    let om = h.os_mle_data();
    assert_eq!(om.version.get(), 1);
    assert_eq!(om.boot_params_addr.get(), 0x80_0000);
    assert_eq!(om.slrt.get(), 0x7AF0_0100);
    assert_eq!(om.txt_info.get(), 0x7AF0_0200);
    assert_eq!(om.ap_wake_block(), r(0x90_0000, 0x1_4000));
    assert_eq!(om.mle_scratch[mle_scratch::AP_EBX], 0xAA);
    assert_eq!(h.os_mle_data_trailing(), &[0x4D, 0x54, 0x52, 0x44, 1, 0, 1, 0]);
    assert!(h.os_mle_data_as::<OsMleDataLinux>().is_some(), "96 ≤ 8 + 88 + 8");
    assert!(h.os_mle_data_as::<OsMleDataSpec>().is_none());

    let os = h.os_sinit_data();
    assert_eq!(os.version.get(), 7);
    assert_eq!(os.mle_ptab.get(), 0xFE_0000);
    assert_eq!(os.capabilities.get(), 0x223);
    assert_eq!(os.pmr_low(), Some(r(0, 0x7A00_0000)));
    assert_eq!(os.pmr_high(), Some(r(4 * GIB, 12 * GIB)));
    assert_eq!(h.os_sinit_efi_rsdp_ptr(), Some(0xF_0000));
    let p = h.event_log_ptr21().unwrap();
    assert_eq!(p.phys_addr.get(), 0x7AE0_0000);
    assert_eq!(p.allocated_event_container_size.get(), 0x8000);
    assert_eq!(p.next_record_offset.get(), 0x1A3);
    assert_eq!(p.range(), Some(r(0x7AE0_0000, 0x8000)));
    let o = h.event_log_ptr21_offset().unwrap();
    assert_eq!(&b[o + 16..o + 20], &0x1A3u32.to_le_bytes());
    assert_eq!(o, h.table_offset(HeapTable::OsSinitData) + 8 + 92 + 8);
    assert!(h.event_log_ptr12().is_none() && h.event_log_descrs().is_none());

    let sm = h.sinit_mle_data();
    assert_eq!((sm.version.get(), sm.bios_acm_id[0], sm.mle_hash[0], sm.policy_control.get()), (9, 0xB1, 0x5A, 2));
    assert_eq!(h.rlp_wakeup_addr(), Some(0x8F_0040));
    assert_eq!(h.processor_scrtm_status(), Some(1));
    assert_eq!(h.mdrs().len(), RAM.len());
    for (m, &(base, len, typ)) in h.mdrs().zip(RAM) {
        assert_eq!((m.base.get(), m.length.get(), m.typ), (base, len, typ));
    }
    assert_eq!(h.sinit_vtd_dmar(), Some(&b"DMAR\x30\0\0\0"[..]));
    let madt: Vec<ExtElement> = h.ext_elements(HeapTable::SinitMleData).collect();
    assert_eq!((madt.len(), madt[0].typ, madt[0].data), (1, ext_type::MADT, &b"APIC...."[..]));
    assert_eq!(h.ext_elements(HeapTable::OsMleData).count(), 0);
    assert!(h.ext_list_range(HeapTable::OsMleData).is_none());

    // Tables are consecutive and start at 0; `table` is the body.
    let mut off = 0;
    for t in HeapTable::ALL {
        assert_eq!(h.table_offset(t), off);
        let size = h.table_size(t);
        assert_eq!(&b[off..off + 8], &(size as u64).to_le_bytes());
        assert_eq!(h.table(t), &b[off + 8..off + size]);
        off += size;
    }
}

#[test]
fn every_valid_version_parses() {
    for bv in BIOS_DATA_VERSIONS {
        for ov in OS_SINIT_DATA_VERSIONS {
            for sv in SINIT_MLE_DATA_VERSIONS {
                let mut b = heap([
                    &bios_data(bv),
                    &os_mle(&[]),
                    &os_sinit(ov, GA_PMR_LO, (0, 0), &[]),
                    &sinit_mle(sv, RAM, &[], &[]),
                ]);
                // Extra heap space after the tables is fine.
                b.extend_from_slice(&[0xEE; 13]);
                let h = TxtHeap::parse(&b).unwrap_or_else(|e| panic!("{bv}/{ov}/{sv}: {e:?}"));
                assert_eq!(h.total_size(), b.len() - 13);
                assert_eq!(h.version(HeapTable::BiosData), bv);
                assert_eq!(h.version(HeapTable::OsMleData), 1);
                assert_eq!(h.version(HeapTable::OsSinitData), ov);
                assert_eq!(h.version(HeapTable::SinitMleData), sv);
                assert_eq!(h.bios_data_flags().is_some(), bv >= 3);
                assert_eq!(h.ext_list_range(HeapTable::BiosData).is_some(), bv >= 4);
                assert_eq!(h.os_sinit_efi_rsdp_ptr().is_some(), ov >= 5);
                assert_eq!(h.ext_list_range(HeapTable::OsSinitData).is_some(), ov >= 6);
                assert_eq!(h.sinit_mle_data_v7().is_some(), sv >= 7);
                assert_eq!(h.processor_scrtm_status().is_some(), sv >= 8);
                assert_eq!(h.ext_list_range(HeapTable::SinitMleData).is_some(), sv >= 9);
                assert_eq!(h.mdrs().len(), if sv >= 7 { RAM.len() } else { 0 });
                assert_eq!(h.sinit_vtd_dmar(), None);
                let tpm20 = bv == 6 && ov == 7 && sv == 9;
                assert_eq!(
                    h.check_tpm20(),
                    Err(if tpm20 {
                        TxtHeapError::MissingEventLogPointer
                    } else if bv < 6 {
                        TxtHeapError::NotTpm20 { table: HeapTable::BiosData, version: bv }
                    } else if ov < 7 {
                        TxtHeapError::NotTpm20 { table: HeapTable::OsSinitData, version: ov }
                    } else {
                        TxtHeapError::NotTpm20 { table: HeapTable::SinitMleData, version: sv }
                    })
                );
                // The minimal table for each version is accepted, one byte less is not.
                for t in HeapTable::ALL {
                    let v = h.version(t);
                    let min = t.min_size(v);
                    assert!(h.table_size(t) as u64 >= min, "{t:?} v{v}");
                }
            }
        }
    }
}

#[test]
fn minimum_sizes_are_what_the_doc_gives() {
    // tboot calc_os_sinit_data_size: v4 = 92, v5 = 100, v6/7 = 100 + elements.
    assert_eq!(HeapTable::OsSinitData.min_size(4), 92);
    assert_eq!(HeapTable::OsSinitData.min_size(5), 100);
    assert_eq!(HeapTable::OsSinitData.min_size(6), 108);
    assert_eq!(HeapTable::OsSinitData.min_size(7), 108);
    assert_eq!(HeapTable::BiosData.min_size(2), 8 + 28);
    assert_eq!(HeapTable::BiosData.min_size(3), 8 + 36);
    assert_eq!(HeapTable::BiosData.min_size(4), 8 + 36 + 8);
    assert_eq!(HeapTable::OsMleData.min_size(1), 8 + 88);
    assert_eq!(HeapTable::SinitMleData.min_size(6), 8 + 120);
    assert_eq!(HeapTable::SinitMleData.min_size(7), 8 + 144);
    assert_eq!(HeapTable::SinitMleData.min_size(8), 8 + 148);
    assert_eq!(HeapTable::SinitMleData.min_size(9), 8 + 148 + 8);
}

#[test]
fn smallest_tables_parse_and_one_byte_less_does_not() {
    let tables = [bios_data(2), os_mle(&[]), os_sinit(4, GA_PMR_LO, (0, 0), &[]), sinit_mle(6, &[], &[], &[])];
    let b = heap([&tables[0], &tables[1], &tables[2], &tables[3]]);
    TxtHeap::parse(&b).unwrap();
    for (i, t) in HeapTable::ALL.into_iter().enumerate() {
        let mut short = tables.clone();
        short[i].pop();
        let b = heap([&short[0], &short[1], &short[2], &short[3]]);
        let min = t.min_size(h_version(t));
        assert_eq!(TxtHeap::parse(&b).unwrap_err(), TxtHeapError::TableTooSmall { table: t, size: min - 1, min });
    }
    fn h_version(t: HeapTable) -> u32 {
        *t.versions().start()
    }
}

#[test]
fn truncated_heaps() {
    assert_eq!(
        TxtHeap::parse(&[]).unwrap_err(),
        TxtHeapError::Truncated { table: HeapTable::BiosData, offset: 0, heap_size: 0 }
    );
    assert_eq!(
        TxtHeap::parse(&[0; 7]).unwrap_err(),
        TxtHeapError::Truncated { table: HeapTable::BiosData, offset: 0, heap_size: 7 }
    );
    let b = tpm20_heap(RAM);
    let h = TxtHeap::parse(&b).unwrap();
    // Cut right after OsMleData: OsSinitData's size field is missing.
    let cut = h.table_offset(HeapTable::OsSinitData);
    assert_eq!(
        TxtHeap::parse(&b[..cut]).unwrap_err(),
        TxtHeapError::Truncated { table: HeapTable::OsSinitData, offset: cut as u64, heap_size: cut as u64 }
    );
    assert_eq!(
        TxtHeap::parse(&b[..cut + 5]).unwrap_err(),
        TxtHeapError::Truncated { table: HeapTable::OsSinitData, offset: cut as u64, heap_size: cut as u64 + 5 }
    );
    // Every shorter heap is refused, none panics.
    for n in 0..b.len() {
        assert!(TxtHeap::parse(&b[..n]).is_err(), "{n}");
    }
    // The sum of the sizes one byte above the heap.
    let last = h.table_offset(HeapTable::SinitMleData);
    let size = h.table_size(HeapTable::SinitMleData) as u64;
    assert_eq!(
        TxtHeap::parse(&b[..b.len() - 1]).unwrap_err(),
        TxtHeapError::TableOverrun {
            table: HeapTable::SinitMleData,
            offset: last as u64,
            size,
            heap_size: b.len() as u64 - 1
        }
    );
}

fn with_size(b: &[u8], h: &TxtHeap, t: HeapTable, size: u64) -> Vec<u8> {
    let mut b = b.to_vec();
    put64(&mut b, h.table_offset(t), size);
    b
}

#[test]
fn bad_size_fields() {
    let b = tpm20_heap(RAM);
    let h = TxtHeap::parse(&b).unwrap();
    for t in HeapTable::ALL {
        let off = h.table_offset(t) as u64;
        for size in [0, 1, 8, 11] {
            assert_eq!(
                TxtHeap::parse(&with_size(&b, &h, t, size)).unwrap_err(),
                TxtHeapError::TableTooSmall { table: t, size, min: 12 },
                "{t:?} {size}"
            );
        }
        for size in [u64::MAX, (u64::MAX - off).wrapping_add(1)].into_iter().filter(|&s| s != 0) {
            let e = TxtHeap::parse(&with_size(&b, &h, t, size)).unwrap_err();
            if off == 0 {
                // 0 + u64::MAX does not overflow: it runs past the heap.
                assert_eq!(e, TxtHeapError::TableOverrun { table: t, offset: 0, size, heap_size: b.len() as u64 });
            } else {
                assert_eq!(e, TxtHeapError::TableOverflow { table: t, offset: off, size }, "{t:?}");
            }
        }
        // Just below overflow: an overrun.
        let size = u64::MAX - off;
        assert_eq!(
            TxtHeap::parse(&with_size(&b, &h, t, size)).unwrap_err(),
            TxtHeapError::TableOverrun { table: t, offset: off, size, heap_size: b.len() as u64 }
        );
    }
    // A table one byte too large swallows the next size field: the next
    // table's size is read misaligned and the heap is refused.
    let grown = with_size(&b, &h, HeapTable::BiosData, h.table_size(HeapTable::BiosData) as u64 + 1);
    assert!(TxtHeap::parse(&grown).is_err());
    // Bios v4+ without room for END.
    let short =
        heap([&bios_data(4)[..36], &os_mle(&[]), &os_sinit(4, GA_PMR_LO, (0, 0), &[]), &sinit_mle(6, &[], &[], &[])]);
    assert_eq!(
        TxtHeap::parse(&short).unwrap_err(),
        TxtHeapError::TableTooSmall { table: HeapTable::BiosData, size: 44, min: 52 }
    );
}

#[test]
fn bad_versions() {
    let b = tpm20_heap(RAM);
    let h = TxtHeap::parse(&b).unwrap();
    for (t, bad) in [
        (HeapTable::BiosData, [0, 1, 7, u32::MAX]),
        (HeapTable::OsMleData, [0, 2, 3, u32::MAX]),
        (HeapTable::OsSinitData, [0, 3, 8, u32::MAX]),
        (HeapTable::SinitMleData, [0, 5, 10, u32::MAX]),
    ] {
        for version in bad {
            let mut c = b.clone();
            put32(&mut c, h.table_offset(t) + 8, version);
            assert_eq!(TxtHeap::parse(&c).unwrap_err(), TxtHeapError::BadVersion { table: t, version });
        }
    }
}

fn sinit_only(version: u32, patch: impl Fn(&mut Vec<u8>)) -> Result<(), TxtHeapError> {
    let mut s = sinit_mle(version, RAM, b"DMAR", &[]);
    patch(&mut s);
    let b = heap([&bios_data(6), &os_mle(&[]), &os_sinit(7, GA_PMR_LO, GA_PMR_HI, &[]), &s]);
    TxtHeap::parse(&b).map(|_| ())
}

#[test]
fn mdr_and_dmar_bounds() {
    for v in 7..=9u32 {
        let fixed: u32 = match v {
            7 => 144,
            _ => 148,
        } + if v == 9 { 8 } else { 0 };
        let n = RAM.len() as u32;
        let table_size = 8 + fixed as u64 + 24 * n as u64 + 4;
        sinit_only(v, |_| {}).unwrap();
        // MDRs moved to the last 24·n bytes: exact fit.
        let last = table_size as u32 - 24 * n;
        sinit_only(v, |s| put32(s, 132, last)).unwrap();
        // One byte further: out.
        let e = sinit_only(v, |s| put32(s, 132, last + 1)).unwrap_err();
        assert_eq!(e, TxtHeapError::MdrOutOfBounds { offset: last + 1, count: n, table_size });
        // Count one too many.
        let e = sinit_only(v, |s| put32(s, 128, n + 1)).unwrap_err();
        assert_eq!(e, TxtHeapError::MdrOutOfBounds { offset: 8 + fixed, count: n + 1, table_size });
        // Huge count and offset: no overflow, refused.
        for (count, offset) in [(u32::MAX, 8 + fixed), (1, u32::MAX), (u32::MAX, u32::MAX)] {
            let e = sinit_only(v, |s| {
                put32(s, 128, count);
                put32(s, 132, offset)
            })
            .unwrap_err();
            assert_eq!(e, TxtHeapError::MdrOutOfBounds { offset, count, table_size });
        }
        // Offsets count from the size field: an offset into the fixed fields
        // (or at the table start, the SDG reading) is refused.
        for offset in [0, 8, 8 + fixed - 1 - if v == 9 { 8 } else { 0 }] {
            let e = sinit_only(v, |s| put32(s, 132, offset)).unwrap_err();
            assert_eq!(e, TxtHeapError::MdrOutOfBounds { offset, count: n, table_size });
        }
        // Count 0: the offset is not looked at.
        sinit_only(v, |s| {
            put32(s, 128, 0);
            put32(s, 132, u32::MAX)
        })
        .unwrap();
        // DMAR: exact fit, one byte over, overflow, into the header.
        let dmar_off = table_size as u32 - 4;
        sinit_only(v, |s| put32(s, 140, dmar_off)).unwrap();
        for (size, offset) in [(5, dmar_off), (4, dmar_off + 1), (u32::MAX, u32::MAX), (4, 4)] {
            let e = sinit_only(v, |s| {
                put32(s, 136, size);
                put32(s, 140, offset)
            })
            .unwrap_err();
            assert_eq!(e, TxtHeapError::DmarOutOfBounds { offset, size, table_size });
        }
        sinit_only(v, |s| {
            put32(s, 136, 0);
            put32(s, 140, u32::MAX)
        })
        .unwrap();
    }
    // v6 has no MDR fields: whatever lies at 128.. is not read as MDRs.
    sinit_only(6, |s| {
        s.resize(200, 0xFF);
    })
    .unwrap();
}

#[test]
fn mdr_base_plus_length_must_not_overflow() {
    let e = TxtHeap::parse(&tpm20_heap(&[(0, 0x1000, 0), (u64::MAX, 1, 4)])).unwrap_err();
    assert_eq!(e, TxtHeapError::MdrOverflow { index: 1, base: u64::MAX, length: 1 });
    // Ending exactly at u64::MAX is fine.
    TxtHeap::parse(&tpm20_heap(&[(u64::MAX - 0x1000, 0x1000, 0)])).unwrap();
}

/// Heap with OsSinitData v7 holding the given raw element list bytes.
fn with_os_sinit_list(list_bytes: &[u8]) -> Result<(), TxtHeapError> {
    let mut os = os_sinit(7, GA_PMR_LO, GA_PMR_HI, &[]);
    os.truncate(92);
    os.extend_from_slice(list_bytes);
    let b = heap([&bios_data(6), &os_mle(&[]), &os, &sinit_mle(9, RAM, &[], &[])]);
    TxtHeap::parse(&b).map(|_| ())
}

#[test]
fn malformed_element_lists() {
    let os_list = 66 + 96 + 8 + 92; // heap offset of OsSinitData's list
    let t = HeapTable::OsSinitData;
    // Size 0 and 7: refused, no endless loop.
    for size in [0u32, 7] {
        let mut e = elt(ext_type::CUSTOM, &[0; 8]);
        put32(&mut e, 4, size);
        e.extend(list(&[]));
        assert_eq!(
            with_os_sinit_list(&e).unwrap_err(),
            TxtHeapError::ElementTooSmall { table: t, offset: os_list, size }
        );
    }
    // Size past the table.
    let mut e = elt(ext_type::CUSTOM, &[0; 8]);
    put32(&mut e, 4, 17);
    e.extend(list(&[]));
    with_os_sinit_list(&{
        let mut ok = e.clone();
        put32(&mut ok, 4, 16);
        ok
    })
    .unwrap();
    let mut e2 = e.clone();
    put32(&mut e2, 4, 16 + 8 + 1);
    assert_eq!(
        with_os_sinit_list(&e2).unwrap_err(),
        TxtHeapError::ElementOverrun { table: t, offset: os_list, size: 25 }
    );
    put32(&mut e2, 4, u32::MAX);
    assert_eq!(
        with_os_sinit_list(&e2).unwrap_err(),
        TxtHeapError::ElementOverrun { table: t, offset: os_list, size: u32::MAX }
    );
    // Missing END: list exhausted, or fewer than 8 bytes left.
    let one = elt(ext_type::CUSTOM, &[0; 8]);
    assert_eq!(with_os_sinit_list(&one).unwrap_err(), TxtHeapError::MissingEnd { table: t, offset: os_list + 16 });
    let mut tail = one.clone();
    tail.extend_from_slice(&[0; 7]);
    assert_eq!(with_os_sinit_list(&tail).unwrap_err(), TxtHeapError::MissingEnd { table: t, offset: os_list + 16 });
    // END of the wrong size.
    let mut end = elt(ext_type::END, &[0; 8]);
    end.extend(list(&[]));
    assert_eq!(
        with_os_sinit_list(&end).unwrap_err(),
        TxtHeapError::ElementWrongSize { table: t, typ: 0, offset: os_list, size: 16 }
    );
    // Padding after END is allowed.
    let mut padded = list(&[]);
    padded.extend_from_slice(&[0xFF; 5]);
    with_os_sinit_list(&padded).unwrap();
    // Unknown types are skipped.
    with_os_sinit_list(&list(&[elt(0x1234, &[1, 2, 3]), elt(ext_type::TPR_REQ, &[0; 4])])).unwrap();
}

#[test]
fn event_log_pointer_elements() {
    let t = HeapTable::OsSinitData;
    let os_list = 66 + 96 + 8 + 92;
    // TCG (type 8): 28 bytes, or 32 from tboot's unpacked struct; 27 is short.
    for extra in [0usize, 4] {
        let mut d = ptr21(0x1000, 0x4000, 0, 0x60);
        d.resize(20 + extra, 0);
        let os = os_sinit(7, GA_PMR_LO, GA_PMR_HI, &[elt(ext_type::EVENT_LOG_POINTER2_1, &d)]);
        let b = heap([&bios_data(6), &os_mle(&[]), &os, &sinit_mle(9, RAM, &[], &[])]);
        let h = TxtHeap::parse(&b).unwrap();
        assert_eq!(h.event_log_ptr21().unwrap().next_record_offset.get(), 0x60);
        h.check_tpm20().unwrap();
    }
    let short = elt(ext_type::EVENT_LOG_POINTER2_1, &[0; 19]);
    assert_eq!(
        with_os_sinit_list(&list(&[short])).unwrap_err(),
        TxtHeapError::ElementWrongSize { table: t, typ: 8, offset: os_list, size: 27 }
    );
    // Two type-8 elements: which log SINIT used would be ambiguous.
    let p = elt(ext_type::EVENT_LOG_POINTER2_1, &ptr21(0x1000, 0x4000, 0, 0));
    assert_eq!(
        with_os_sinit_list(&list(&[p.clone(), p])).unwrap_err(),
        TxtHeapError::DuplicateElement { table: t, typ: 8, offset: os_list + 28 }
    );
    // TPM 1.2 (type 5).
    let os = os_sinit(6, GA_PMR_LO, GA_PMR_HI, &[elt(ext_type::TPM_EVENT_LOG_PTR, &0x7AE0_0000u64.to_le_bytes())]);
    let b = heap([&bios_data(5), &os_mle(&[]), &os, &sinit_mle(8, RAM, &[], &[])]);
    let h = TxtHeap::parse(&b).unwrap();
    assert_eq!(h.event_log_ptr12().unwrap().event_log_phys_addr.get(), 0x7AE0_0000);
    assert!(h.event_log_ptr21().is_none());
    assert_eq!(
        with_os_sinit_list(&list(&[elt(ext_type::TPM_EVENT_LOG_PTR, &[0; 7])])).unwrap_err(),
        TxtHeapError::ElementWrongSize { table: t, typ: 5, offset: os_list, size: 15 }
    );
    // Original TPM 2.0 format (type 7): count, then 24-byte descriptors.
    let mut d = vec![0u8; 4 + 2 * 24];
    put32(&mut d, 0, 2);
    for (i, alg) in [0x0004u16, 0x000B].into_iter().enumerate() {
        let o = 4 + 24 * i;
        put16(&mut d, o, alg);
        put64(&mut d, o + 4, 0x7AE0_0000 + 0x1_0000 * i as u64);
        put32(&mut d, o + 12, 0x1_0000);
        put32(&mut d, o + 16, 0);
        put32(&mut d, o + 20, 0x40 + i as u32);
    }
    let os = os_sinit(7, GA_PMR_LO, GA_PMR_HI, &[elt(ext_type::EVENT_LOG_POINTER2, &d)]);
    let b = heap([&bios_data(6), &os_mle(&[]), &os, &sinit_mle(9, RAM, &[], &[])]);
    let h = TxtHeap::parse(&b).unwrap();
    h.check_tpm20().unwrap();
    let ds = h.event_log_descrs().unwrap();
    assert_eq!(ds.len(), 2);
    assert_eq!((ds[1].hash_alg_id.get(), ds[1].phys_addr.get()), (0x000B, 0x7AE1_0000));
    assert_eq!((ds[1].allocated_event_container_size.get(), ds[1].next_record_offset.get()), (0x1_0000, 0x41));
    assert_eq!(ds[0].range(), Some(r(0x7AE0_0000, 0x1_0000)));
    // Count larger than the element, and a count that would overflow.
    for count in [3u32, u32::MAX] {
        let mut bad = d.clone();
        put32(&mut bad, 0, count);
        let size = 8 + bad.len() as u32;
        assert_eq!(
            with_os_sinit_list(&list(&[elt(ext_type::EVENT_LOG_POINTER2, &bad)])).unwrap_err(),
            TxtHeapError::ElementWrongSize { table: t, typ: 7, offset: os_list, size }
        );
    }
    // Type 7 without even a count.
    assert_eq!(
        with_os_sinit_list(&list(&[elt(ext_type::EVENT_LOG_POINTER2, &[0; 3])])).unwrap_err(),
        TxtHeapError::ElementWrongSize { table: t, typ: 7, offset: os_list, size: 11 }
    );
}

#[test]
fn element_lists_of_bios_and_sinit_tables_are_checked_too() {
    let mut bd = bios_data(4);
    let n = bd.len();
    put32(&mut bd, n - 4, 0); // END size 0
    let b = heap([&bd, &os_mle(&[]), &os_sinit(4, GA_PMR_LO, (0, 0), &[]), &sinit_mle(6, &[], &[], &[])]);
    assert_eq!(
        TxtHeap::parse(&b).unwrap_err(),
        TxtHeapError::ElementTooSmall { table: HeapTable::BiosData, offset: 8 + 36 + 14, size: 0 }
    );
    let mut s = sinit_mle(9, &[], &[], &[]);
    put32(&mut s, 148, 0x1234); // END → unknown type, list never ends
    let b = heap([&bios_data(6), &os_mle(&[]), &os_sinit(7, GA_PMR_LO, (0, 0), &[]), &s]);
    let sinit_at = (66 + 96 + 108) as u64;
    assert_eq!(
        TxtHeap::parse(&b).unwrap_err(),
        TxtHeapError::MissingEnd { table: HeapTable::SinitMleData, offset: sinit_at + 8 + 148 + 8 }
    );
    // Event-log element types outside OsSinitData are opaque.
    let s = sinit_mle(9, &[], &[], &[elt(ext_type::EVENT_LOG_POINTER2_1, &[0; 3])]);
    let b = heap([&bios_data(6), &os_mle(&[]), &os_sinit(7, GA_PMR_LO, (0, 0), &[]), &s]);
    let h = TxtHeap::parse(&b).unwrap();
    assert!(h.event_log_ptr21().is_none());
}

fn pmr_heap(lo: (u64, u64), hi: (u64, u64)) -> Vec<u8> {
    heap([&bios_data(6), &os_mle(&[]), &os_sinit(7, lo, hi, &[]), &sinit_mle(9, RAM, &[], &[])])
}

#[test]
fn pmr_coverage_edges() {
    let b = pmr_heap(GA_PMR_LO, GA_PMR_HI);
    let h = TxtHeap::parse(&b).unwrap();
    let lo_end = GA_PMR_LO.1;
    assert!(h.pmr_covers(&r(0, lo_end)), "exact fit, low");
    assert!(h.pmr_covers(&r(lo_end - 1, 1)));
    assert!(!h.pmr_covers(&r(0, lo_end + 1)), "one byte over");
    assert!(!h.pmr_covers(&r(lo_end, 1)), "first byte after");
    assert!(h.pmr_covers(&r(4 * GIB, 12 * GIB)), "exact fit, high");
    assert!(!h.pmr_covers(&r(4 * GIB, 12 * GIB + 1)));
    assert!(!h.pmr_covers(&r(4 * GIB - 1, 2)), "below the high PMR");
    assert!(!h.pmr_covers(&r(0x1000, 0)), "empty range");
    // Adjacent PMRs meeting at 4 GiB: a straddling range is still refused.
    let h2b = pmr_heap((0, 4 * GIB), (4 * GIB, GIB));
    let h2 = TxtHeap::parse(&h2b).unwrap();
    assert!(h2.pmr_covers(&r(4 * GIB - 4096, 4096)) && h2.pmr_covers(&r(4 * GIB, 4096)));
    assert!(!h2.pmr_covers(&r(4 * GIB - 4096, 8192)));
    // Zero-size PMRs cover nothing (TPR platforms; TrenchBoot refuses them).
    let z = pmr_heap((0, 0), (0, 0));
    let hz = TxtHeap::parse(&z).unwrap();
    assert!(!hz.pmr_covers(&r(0, 1)));
    // High PMR base + size overflowing 2^64 by exactly 1: covers nothing.
    let top = u64::MAX - 2 * MIB + 1; // 2^64 − 2 MiB
    let o = pmr_heap(GA_PMR_LO, (top, 2 * MIB));
    let ho = TxtHeap::parse(&o).unwrap();
    assert_eq!(ho.os_sinit_data().pmr_high(), None);
    assert!(!ho.pmr_covers(&r(top, 4096)));
    assert!(ho.pmr_covers(&r(0, 4096)), "the low PMR still works");
    // Ending at u64::MAX (one byte short of 2^64): fine.
    let e = pmr_heap(GA_PMR_LO, (top, 2 * MIB - 1));
    let he = TxtHeap::parse(&e).unwrap();
    assert!(he.pmr_covers(&r(top, 2 * MIB - 1)));
    assert!(he.pmr_covers(&r(u64::MAX - 1, 1)));
}

#[test]
fn mdr_coverage_edges() {
    let b = tpm20_heap(RAM);
    let h = TxtHeap::parse(&b).unwrap();
    assert!(h.mdr_covers(&r(0, 0x9F000)), "exact fit");
    assert!(!h.mdr_covers(&r(0, 0x9F001)), "one byte over");
    assert!(!h.mdr_covers(&r(0x9F000, 1)), "in the gap");
    assert!(h.mdr_covers(&r(0x10_0000, 0x7BF0_0000)), "across two adjacent records");
    assert!(!h.mdr_covers(&r(0x10_0000, 0x7BF0_0001)));
    assert!(!h.mdr_covers(&r(0xE000_0000, 0x1000)), "ECAM is not usable");
    assert!(h.mdr_covers(&r(4 * GIB, 12 * GIB)));
    assert!(!h.mdr_covers(&r(0x7FFF_0000 - 1, 0)), "empty range");
    // A non-good record inside a good one wins.
    let b = tpm20_heap(&[(0, 16 * MIB, 0), (8 * MIB, 4096, 1)]);
    let h = TxtHeap::parse(&b).unwrap();
    assert!(h.mdr_covers(&r(0, 8 * MIB)) && h.mdr_covers(&r(8 * MIB + 4096, 4096)));
    assert!(!h.mdr_covers(&r(0, 16 * MIB)));
    assert!(!h.mdr_covers(&r(8 * MIB + 4095, 2)));
    // A zero-length record of another type is ignored like any zero-length one.
    let b = tpm20_heap(&[(0, 16 * MIB, 0), (8 * MIB, 0, 3)]);
    assert!(TxtHeap::parse(&b).unwrap().mdr_covers(&r(0, 16 * MIB)));
    // Overlapping good records, listed out of order, near the top of 2^64.
    let top = u64::MAX - 0x3000;
    let b = tpm20_heap(&[(top + 0x1000, 0x2000, 0), (top, 0x2000, 0), (0, 0, 2)]);
    let h = TxtHeap::parse(&b).unwrap();
    assert!(h.mdr_covers(&r(top, 0x3000)), "up to u64::MAX");
    assert!(h.mdr_covers(&r(top + 0x800, 0x2000)));
    assert!(!h.mdr_covers(&r(top - 1, 2)));
    // No records at all (v6, or count 0).
    let b = heap([&bios_data(6), &os_mle(&[]), &os_sinit(7, GA_PMR_LO, GA_PMR_HI, &[]), &sinit_mle(6, &[], &[], &[])]);
    assert!(!TxtHeap::parse(&b).unwrap().mdr_covers(&r(0, 1)));
    let b = tpm20_heap(&[]);
    let h = TxtHeap::parse(&b).unwrap();
    assert_eq!(h.mdrs().len(), 0);
    assert_eq!(h.mdr_table_offset(), None);
    assert!(!h.mdr_covers(&r(0, 1)));
}

#[test]
fn ext_iterator_yields_every_element_once_in_order() {
    let elts = [elt(4, &[0x11; 20]), elt(0x99, &[]), elt(ext_type::MCFG, &[1, 2, 3, 4, 5])];
    let b =
        heap([&bios_data(6), &os_mle(&[]), &os_sinit(7, GA_PMR_LO, GA_PMR_HI, &[]), &sinit_mle(9, RAM, &[], &elts)]);
    let h = TxtHeap::parse(&b).unwrap();
    let got: Vec<ExtElement> = h.ext_elements(HeapTable::SinitMleData).collect();
    assert_eq!(got.iter().map(|e| e.typ).collect::<Vec<_>>(), [4, 0x99, 9]);
    assert_eq!(got.iter().map(|e| e.data.len()).collect::<Vec<_>>(), [20, 0, 5]);
    let list_start = h.table_offset(HeapTable::SinitMleData) + 8 + 148;
    assert_eq!(got[0].offset, list_start);
    assert_eq!(got[2].offset, list_start + 28 + 8);
    let range = h.ext_list_range(HeapTable::SinitMleData).unwrap();
    assert_eq!(range, list_start..list_start + 28 + 8 + 13 + 8);
    assert_eq!(&b[range.end - 8..range.end], &[0, 0, 0, 0, 8, 0, 0, 0]);
}
