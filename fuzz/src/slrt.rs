//! `slrt`: bytes → `Slrt::parse` for both architectures; every accessor of
//! an accepted table must point inside the bytes the table's `size` covers.

use skl_bootinfo::slrt::{Architecture, PolicyEntry, Slrt};
use zerocopy::IntoBytes;

use crate::offset_in;

fn inside<T: IntoBytes + zerocopy::Immutable>(table: &[u8], x: Option<&T>, what: &str) {
    if let Some(x) = x {
        let b = x.as_bytes();
        assert!(offset_in(table, b.as_ptr(), b.len()).is_some(), "{what} outside the table");
    }
}

pub fn run(data: &[u8]) {
    let mut accepted = 0;
    for arch in [Architecture::AmdSkinit, Architecture::IntelTxt] {
        let Ok(t) = Slrt::parse(data, arch) else { continue };
        accepted += 1;
        check(data, &t, arch);
    }
    assert!(accepted <= 1, "one table accepted for two architectures");
}

fn check(data: &[u8], t: &Slrt, arch: Architecture) {
    let h = t.header();
    let size = t.size() as usize;
    assert_eq!(h.size.get() as usize, size);
    assert!((24..=data.len()).contains(&size), "size {size} of {}", data.len());
    assert!(h.size.get() <= h.max_size.get());
    assert_eq!(h.architecture.get(), arch as u16);
    assert_eq!(&data[size - 8..size], &[0xFF, 0xFF, 0, 0, 8, 0, 0, 0], "END is the last entry");
    let table = &data[..size];
    inside(table, Some(h), "header");
    if let Some(d) = t.dl_info() {
        let b = d.as_bytes();
        assert!(offset_in(table, b.as_ptr(), b.len()).is_some(), "DL_INFO outside the table");
    }
    inside(table, t.log_info(), "LOG_INFO");
    inside(table, t.amd_info(), "AMD_INFO");
    inside(table, t.intel_info(), "INTEL_INFO");
    inside(table, t.policy_header(), "DRTM_POLICY");
    if let Some(d) = t.dl_info() {
        assert_eq!(d.as_bytes().len(), if d.dlme_setup().is_some() { 88 } else { 72 });
        if let Some(r) = d.dlme() {
            assert_eq!(r.start().as_u64(), d.dlme_base());
            assert_eq!(r.len(), d.dlme_size());
        } else {
            assert!(d.dlme_base().checked_add(d.dlme_size()).is_none());
        }
    }
    if let Some(l) = t.log_info() {
        assert_eq!(l.hdr.size.get(), 24);
        assert_eq!(l.range().is_some(), l.addr.get().checked_add(l.size.get() as u64).is_some());
    }
    let n = t.policy_header().map_or(0, |p| p.nr_entries.get() as usize);
    if let Some(p) = t.policy_header() {
        assert_eq!(p.hdr.size.get() as usize, 16 + 56 * n);
        assert_eq!(p.revision.get(), 1);
    }
    assert_eq!(t.policy_entries().count(), n);
    for (i, e) in t.policy_entries().enumerate() {
        let o = t.policy_entry_offset(i).expect("offset of an entry that exists");
        assert!(o + size_of::<PolicyEntry>() <= size);
        assert_eq!(&table[o..o + 56], e.as_bytes(), "entry {i} is where its offset says");
        let text = e.evt_info();
        assert!(text.len() <= 32 && !text.contains(&0));
        let _ = (e.pcr.get(), e.entity_type.get(), e.flags.get(), e.size.get(), e.entity.get());
    }
    assert_eq!(t.policy_entry_offset(n), None);
    // Parsing is a pure function of the first `size` bytes.
    let again = Slrt::parse(table, arch).expect("the table alone parses too");
    assert_eq!(again.policy_entries().count(), n);
}
