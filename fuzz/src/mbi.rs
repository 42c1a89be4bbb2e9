//! `mbi`: bytes → `Mbi::parse`; every iterator of an accepted MBI runs to
//! its end, and `in_available_ram` agrees with a direct reading of the map.

use skl_bootinfo::multiboot2::{Mbi, MMAP_AVAILABLE};

/// Independent reading of "inside one available entry".
fn covered(entries: &[(u64, u64, u32)], start: u64, len: u64) -> bool {
    let Some(end) = start.checked_add(len) else { return false };
    entries.iter().any(|&(b, l, t)| t == MMAP_AVAILABLE && b <= start && b.checked_add(l).is_some_and(|e| end <= e))
}

fn tail_u64(data: &[u8], from_end: usize) -> u64 {
    let n = data.len();
    if n < from_end {
        return 0;
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&data[n - from_end..n - from_end + 8]);
    u64::from_le_bytes(b)
}

pub fn run(data: &[u8]) {
    let Ok(m) = Mbi::parse(data) else { return };
    let total = m.total_size_bytes() as usize;
    assert_eq!(Mbi::total_size(data), Some(total as u32));
    assert!(total >= 16 && total.is_multiple_of(8) && total <= data.len());
    assert_eq!(m.as_bytes(), &data[..total]);
    for md in m.modules() {
        assert!(md.end >= md.start);
        assert!(md.string.len() < total && !md.string.contains(&0));
    }
    if let Some(c) = m.cmdline() {
        assert!(c.len() < total && !c.contains(&0));
    }
    let _ = m.load_base_addr();
    let entries: Vec<(u64, u64, u32)> =
        m.mmap().map(|it| it.map(|e| (e.base_addr.get(), e.length.get(), e.typ.get())).collect()).unwrap_or_default();
    assert!(entries.len() * 24 < total);
    for &(b, l, t) in &entries {
        // An available entry is covered by itself; any entry may be covered
        // by another one.
        let own = t == MMAP_AVAILABLE && b.checked_add(l).is_some();
        assert_eq!(m.in_available_ram(b, l), own || covered(&entries, b, l), "entry {b:#x}+{l:#x} type {t}");
        if own && l > 0 {
            assert!(m.in_available_ram(b + l - 1, 1));
        }
    }
    // Ranges chosen by the input (its last 16 bytes), and the module ranges.
    let (s, l) = (tail_u64(data, 16), tail_u64(data, 8));
    assert_eq!(m.in_available_ram(s, l), m.mmap().is_some() && covered(&entries, s, l));
    for md in m.modules() {
        let (s, l) = (md.start as u64, (md.end - md.start) as u64);
        assert_eq!(m.in_available_ram(s, l), m.mmap().is_some() && covered(&entries, s, l));
    }
}
