//! `txt_heap`: bytes → `TxtHeap::parse` (the bytes are the whole heap). On
//! an accepted heap: the four tables are consecutive from offset 0, each at
//! least its version's minimum, their sum inside the input; every typed view,
//! element, event-log pointer, MDR and the DMAR copy lies inside its own
//! table; element lists end with END; re-parsing the tables alone agrees;
//! `pmr_covers` and `mdr_covers` agree with independent (u128, sort-and-merge)
//! readings of the same fields, for ranges taken from the heap and the input.

use skl_bootinfo::txt::ext::ExtElement;
use skl_bootinfo::txt::heap::{
    mdr_type, HeapTable, Mdr, OsMleData, OsMleDataLinux, OsMleDataSpec, OsSinitData, SinitMleData, SinitMleDataV7,
    BIOS_DATA_VERSIONS, OS_SINIT_DATA_VERSIONS, SINIT_MLE_DATA_VERSIONS,
};
use skl_bootinfo::txt::{TxtHeap, TxtHeapError};
use skl_bootinfo::{PhysAddr, PhysRange};
use zerocopy::IntoBytes;

use crate::offset_in;

fn u64_le(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
    u64::from_le_bytes(a)
}

/// Heap range of `x`, which must lie inside `heap[lo..hi]`.
fn inside<T: IntoBytes + zerocopy::Immutable + ?Sized>(heap: &[u8], x: &T, lo: usize, hi: usize, what: &str) -> usize {
    let b = x.as_bytes();
    let o = offset_in(heap, b.as_ptr(), b.len()).unwrap_or_else(|| panic!("{what} outside the heap"));
    assert!(o >= lo && o + b.len() <= hi, "{what} at {o}+{} outside {lo}..{hi}", b.len());
    o
}

pub fn run(data: &[u8]) {
    let h = match TxtHeap::parse(data) {
        Ok(h) => h,
        Err(e) => {
            check_error(data, e);
            return;
        }
    };
    check(data, &h);
    // Parsing is a function of the tables' bytes alone.
    let again = TxtHeap::parse(&data[..h.total_size()]).expect("the tables alone parse too");
    assert_eq!(again.total_size(), h.total_size());
    assert_eq!(again.mdrs().len(), h.mdrs().len());
    assert_eq!(again.check_tpm20(), h.check_tpm20());
}

/// Errors name places inside the input.
fn check_error(data: &[u8], e: TxtHeapError) {
    let len = data.len() as u64;
    match e {
        TxtHeapError::Truncated { offset, heap_size, .. } => assert!(heap_size == len && offset + 8 > len),
        TxtHeapError::TableOverrun { offset, size, heap_size, .. } => {
            assert!(heap_size == len && offset.checked_add(size).is_some_and(|e| e > len))
        }
        TxtHeapError::TableOverflow { offset, size, .. } => assert!(offset.checked_add(size).is_none()),
        TxtHeapError::TableTooSmall { size, min, .. } => assert!(size < min),
        TxtHeapError::ElementTooSmall { offset, size, .. } => assert!(size < 8 && offset < len),
        TxtHeapError::ElementOverrun { offset, .. } | TxtHeapError::MissingEnd { offset, .. } => assert!(offset <= len),
        _ => {}
    }
}

fn check(data: &[u8], h: &TxtHeap) {
    // Tables: consecutive from 0, size field as stored, minimum size met.
    let mut off = 0usize;
    let mut span = [(0usize, 0usize); 4];
    for t in HeapTable::ALL {
        assert_eq!(h.table_offset(t), off);
        let size = h.table_size(t);
        assert_eq!(u64_le(&data[off..off + 8]), size as u64);
        let v = h.version(t);
        assert!(t.versions().contains(&v), "{t:?} v{v}");
        assert!(size as u64 >= t.min_size(v));
        assert_eq!(h.table(t), &data[off + 8..off + size]);
        assert_eq!(u64_le(&h.table(t)[..4]), v as u64);
        span[t.index()] = (off + 8, off + size);
        off += size;
    }
    assert_eq!(h.total_size(), off);
    assert!(off <= data.len());
    let sp = |t: HeapTable| span[t.index()];

    // Typed views.
    let (lo, hi) = sp(HeapTable::BiosData);
    assert_eq!(inside(data, h.bios_data(), lo, hi, "BiosData"), lo);
    assert!(BIOS_DATA_VERSIONS.contains(&h.bios_data().version.get()));
    if let Some(f) = h.bios_data_flags() {
        assert_eq!(inside(data, f, lo, hi, "BiosData flags"), lo + 28);
    }
    let (lo, hi) = sp(HeapTable::OsMleData);
    assert_eq!(inside(data, h.os_mle_data(), lo, hi, "OsMleData"), lo);
    assert_eq!(h.os_mle_data().version.get(), 1);
    let _ = h.os_mle_data().ap_wake_block();
    assert_eq!(h.os_mle_data_trailing().len(), hi - lo - size_of::<OsMleData>());
    inside(data, h.os_mle_data_trailing(), lo, hi, "OS2MLE trailing bytes");
    assert_eq!(h.os_mle_data_as::<OsMleDataLinux>().is_some(), hi - lo >= size_of::<OsMleDataLinux>());
    assert_eq!(h.os_mle_data_as::<OsMleDataSpec>().is_some(), hi - lo >= size_of::<OsMleDataSpec>());
    let (lo, hi) = sp(HeapTable::OsSinitData);
    let os: &OsSinitData = h.os_sinit_data();
    assert_eq!(inside(data, os, lo, hi, "OsSinitData"), lo);
    assert!(OS_SINIT_DATA_VERSIONS.contains(&os.version.get()));
    assert_eq!(h.os_sinit_efi_rsdp_ptr().is_some(), os.version.get() >= 5);
    if let Some(p) = h.event_log_ptr12() {
        inside(data, p, lo, hi, "TPM 1.2 log pointer");
    }
    if let Some(d) = h.event_log_descrs() {
        inside(data, d, lo, hi, "TPM 2.0 log descriptors");
        for x in d {
            let _ = x.range();
        }
    }
    if let Some(p) = h.event_log_ptr21() {
        let o = inside(data, p, lo, hi, "TCG log pointer");
        assert_eq!(Some(o), h.event_log_ptr21_offset());
        assert_eq!(u64_le(&data[o + 16..o + 20]), p.next_record_offset.get() as u64);
        let _ = p.range();
    }
    let (lo, hi) = sp(HeapTable::SinitMleData);
    let sm: &SinitMleData = h.sinit_mle_data();
    assert_eq!(inside(data, sm, lo, hi, "SinitMleData"), lo);
    assert!(SINIT_MLE_DATA_VERSIONS.contains(&sm.version.get()));
    let v7: Option<&SinitMleDataV7> = h.sinit_mle_data_v7();
    assert_eq!(v7.is_some(), sm.version.get() >= 7);
    assert_eq!(h.processor_scrtm_status().is_some(), sm.version.get() >= 8);
    assert_eq!(h.rlp_wakeup_addr(), v7.map(|v| v.rlp_wakeup_addr.get()));
    let header_end = lo
        + match sm.version.get() {
            6 => 120,
            7 => 144,
            _ => 148,
        };
    let n = v7.map_or(0, |v| v.number_of_sinit_mdrs.get() as usize);
    assert_eq!(h.mdrs().len(), n);
    for m in h.mdrs() {
        inside(data, m, header_end, hi, "MDR");
        assert!(m.range().is_some(), "overflowing MDR accepted");
    }
    if let Some(d) = h.sinit_vtd_dmar() {
        assert!(!d.is_empty());
        inside(data, d, header_end, hi, "DMAR copy");
        assert_eq!(Some(d.len()), v7.map(|v| v.sinit_vtd_dmar_table_size.get() as usize));
    }

    // Element lists: inside their table, after the fixed fields, END last.
    for t in HeapTable::ALL {
        let (lo, hi) = sp(t);
        let Some(r) = h.ext_list_range(t) else {
            assert_eq!(h.ext_elements(t).count(), 0);
            continue;
        };
        assert!(r.start >= lo && r.end <= hi && r.end >= r.start + 8);
        assert_eq!(&data[r.end - 8..r.end], &[0, 0, 0, 0, 8, 0, 0, 0], "{t:?}: END last");
        let mut next = r.start;
        for ExtElement { typ, offset, data: d } in h.ext_elements(t) {
            assert_eq!(offset, next, "{t:?}: elements back to back");
            assert_ne!(typ, 0);
            assert_eq!(u64_le(&data[offset..offset + 4]), typ as u64);
            assert_eq!(u64_le(&data[offset + 4..offset + 8]), 8 + d.len() as u64);
            assert_eq!(inside(data, d, offset + 8, r.end - 8, "element data"), offset + 8);
            next = offset + 8 + d.len();
        }
        assert_eq!(next, r.end - 8);
    }

    match h.check_tpm20() {
        Ok(()) => {
            assert!(h.version(HeapTable::BiosData) >= 6 && os.version.get() == 7 && sm.version.get() == 9);
            assert!(h.event_log_ptr21().is_some() || h.event_log_descrs().is_some());
        }
        Err(e) => assert!(matches!(e, TxtHeapError::NotTpm20 { .. } | TxtHeapError::MissingEventLogPointer)),
    }

    // Coverage, against independent readings, for ranges from the heap and
    // from the input's last 16 bytes.
    let mut queries: Vec<(u64, u64)> = Vec::new();
    for (b, s) in
        [(os.vtd_pmr_lo_base.get(), os.vtd_pmr_lo_size.get()), (os.vtd_pmr_hi_base.get(), os.vtd_pmr_hi_size.get())]
    {
        queries.extend([(b, s), (b, s.wrapping_add(1)), (b.wrapping_sub(1), s), (b.wrapping_add(1), s), (b, 1)]);
    }
    for m in h.mdrs() {
        let (b, s) = (m.base.get(), m.length.get());
        queries.extend([(b, s), (b, s.wrapping_add(1)), (b.wrapping_sub(1), 1), (b.wrapping_add(s), 1)]);
    }
    if data.len() >= 16 {
        let t = &data[data.len() - 16..];
        queries.push((u64_le(&t[..8]), u64_le(&t[8..])));
        queries.push((u64_le(&t[..8]), u64_le(&t[8..]) & 0xFFFF_FFFF));
    }
    for (b, s) in queries {
        let Some(r) = PhysRange::new(PhysAddr(b), s) else { continue };
        assert_eq!(h.pmr_covers(&r), pmr_model(os, b, s), "pmr_covers({b:#x}, {s:#x})");
        assert_eq!(h.mdr_covers(&r), mdr_model(h.mdrs().as_slice(), b, s), "mdr_covers({b:#x}, {s:#x})");
    }
}

fn pmr_model(os: &OsSinitData, b: u64, s: u64) -> bool {
    let (b, e) = (b as u128, b as u128 + s as u128);
    s != 0
        && [(os.vtd_pmr_lo_base.get(), os.vtd_pmr_lo_size.get()), (os.vtd_pmr_hi_base.get(), os.vtd_pmr_hi_size.get())]
            .into_iter()
            .map(|(pb, ps)| (pb as u128, pb as u128 + ps as u128))
            .any(|(pb, pe)| pe <= u64::MAX as u128 && pb <= b && e <= pe)
}

/// Sort the good records, merge overlapping/adjacent ones, look for one
/// interval holding `[b, b + s)`; any overlapping record of another type
/// refuses.
fn mdr_model(mdrs: &[Mdr], b: u64, s: u64) -> bool {
    let (b, e) = (b as u128, b as u128 + s as u128);
    if s == 0 {
        return false;
    }
    let iv = |m: &Mdr| (m.base.get() as u128, m.base.get() as u128 + m.length.get() as u128);
    if mdrs.iter().filter(|m| m.typ != mdr_type::GOOD && m.length.get() != 0).map(iv).any(|(mb, me)| mb < e && b < me) {
        return false;
    }
    let mut good: Vec<(u128, u128)> =
        mdrs.iter().filter(|m| m.typ == mdr_type::GOOD && m.length.get() != 0).map(iv).collect();
    good.sort();
    let mut merged: Vec<(u128, u128)> = Vec::new();
    for (gb, ge) in good {
        match merged.last_mut() {
            Some(last) if gb <= last.1 => last.1 = last.1.max(ge),
            _ => merged.push((gb, ge)),
        }
    }
    merged.iter().any(|&(mb, me)| mb <= b && e <= me)
}
