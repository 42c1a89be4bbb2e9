//! MBIs built by hand from the Multiboot2 specification §3.6.
use super::*;

fn tag(b: &mut Vec<u8>, typ: u32, body: &[u8]) {
    b.extend_from_slice(&typ.to_le_bytes());
    b.extend_from_slice(&(8 + body.len() as u32).to_le_bytes());
    b.extend_from_slice(body);
    while !b.len().is_multiple_of(8) {
        b.push(0);
    }
}

fn mbi() -> Vec<u8> {
    let mut b = vec![0; 8];
    tag(&mut b, 1, b"console=com1\0");
    let mut m = vec![];
    m.extend_from_slice(&0xA0_0000u32.to_le_bytes());
    m.extend_from_slice(&0xA0_1234u32.to_le_bytes());
    m.extend_from_slice(b"vmlinuz root=/dev/x\0");
    tag(&mut b, 3, &m);
    let mut mm = vec![];
    mm.extend_from_slice(&24u32.to_le_bytes());
    mm.extend_from_slice(&0u32.to_le_bytes());
    for (base, len, typ) in [(0u64, 0x9_F000u64, 1u32), (0x10_0000, 0x3FF0_0000, 1), (0xFED4_0000, 0x5000, 2)] {
        mm.extend_from_slice(&base.to_le_bytes());
        mm.extend_from_slice(&len.to_le_bytes());
        mm.extend_from_slice(&typ.to_le_bytes());
        mm.extend_from_slice(&0u32.to_le_bytes());
    }
    tag(&mut b, 6, &mm);
    tag(&mut b, 21, &0x100_0000u32.to_le_bytes());
    tag(&mut b, 0, &[]);
    let n = b.len() as u32;
    b[0..4].copy_from_slice(&n.to_le_bytes());
    b
}

#[test]
fn hand_built_mbi_reads_back() {
    let b = mbi();
    let m = Mbi::parse(&b).unwrap();
    assert_eq!(m.cmdline(), Some(&b"console=com1"[..]));
    let mods: Vec<_> = m.modules().collect();
    assert_eq!(mods, [Module { start: 0xA0_0000, end: 0xA0_1234, string: b"vmlinuz root=/dev/x" }]);
    assert_eq!(m.load_base_addr(), Some(0x100_0000));
    assert_eq!(m.mmap().unwrap().count(), 3);
    assert!(m.in_available_ram(0x100_0000, 0x1000));
    assert!(!m.in_available_ram(0x9_F000, 0x10));
    assert!(!m.in_available_ram(0xFED4_0000, 0x10));
    assert!(!m.in_available_ram(0x3FFF_F000, 0x2000));
}

#[test]
fn malformed_mbis_have_their_errors() {
    let good = mbi();
    let n = good.len() as u32;
    assert_eq!(
        Mbi::parse(&good[..n as usize - 8]).err(),
        Some(MbiError::Truncated { have: n as usize - 8, total_size: n })
    );
    let mut b = good.clone();
    b[0..4].copy_from_slice(&(n - 8).to_le_bytes());
    assert_eq!(Mbi::parse(&b).err(), Some(MbiError::MissingEnd));
    let mut b = good.clone();
    b[0..4].copy_from_slice(&12u32.to_le_bytes());
    assert_eq!(Mbi::parse(&b).err(), Some(MbiError::BadTotalSize(12)));
    let mut b = good.clone();
    b[12..16].copy_from_slice(&4u32.to_le_bytes()); // cmdline tag size 4
    assert_eq!(Mbi::parse(&b).err(), Some(MbiError::TagTooSmall { offset: 8, size: 4 }));
    let mut b = good.clone();
    b[12..16].copy_from_slice(&0x1_0000u32.to_le_bytes());
    assert_eq!(Mbi::parse(&b).err(), Some(MbiError::TagOverrun { offset: 8 }));
    let mut b = good.clone();
    b[44..48].copy_from_slice(&0x9F_0000u32.to_le_bytes()); // module end before start
    assert_eq!(Mbi::parse(&b).err(), Some(MbiError::BadModule { index: 0 }));
}

/// Entries of the memory map as (base, length, type).
fn map_of(b: &[u8]) -> Vec<(u64, u64, u32)> {
    let m = Mbi::parse(b).unwrap();
    m.mmap().unwrap().map(|e| (e.base_addr.get(), e.length.get(), e.typ.get())).collect()
}

fn reserved(b: &[u8], holes: &[reserve::Hole]) -> Vec<u8> {
    let m = Mbi::parse(b).unwrap();
    let grow = reserve::growth(&m, holes).unwrap();
    let mut buf = b.to_vec();
    buf.resize(b.len() + grow, 0xEE);
    let total = reserve::reserve(&mut buf, holes).unwrap();
    assert!(total as usize <= b.len() + grow);
    buf.truncate(total as usize);
    buf
}

#[test]
fn reserving_splits_available_ram_around_each_hole() {
    let b = mbi();
    let slb = (0x200_0000u64, 0x201_0000u64);
    let log = (0x3FFF_0000u64, 0x4000_0000u64);
    let out = reserved(&b, &[slb, log]);
    assert_eq!(out.len(), b.len() + 3 * 24, "one split in the middle (+2), one at the end (+1)");
    assert_eq!(
        map_of(&out),
        [
            (0, 0x9_F000, 1),
            (0x10_0000, 0x1F0_0000, 1),
            (0x200_0000, 0x1_0000, 2),
            (0x201_0000, 0x3FFF_0000 - 0x201_0000, 1),
            (0x3FFF_0000, 0x1_0000, 2),
            (0xFED4_0000, 0x5000, 2),
        ]
    );
    // Every other tag survives, moved.
    let m = Mbi::parse(&out).unwrap();
    assert_eq!(m.cmdline(), Some(&b"console=com1"[..]));
    assert_eq!(m.load_base_addr(), Some(0x100_0000));
    assert_eq!(m.modules().count(), 1);
    assert!(!m.in_available_ram(0x200_0000, 1));
    assert!(m.in_available_ram(0x201_0000, 0x1000));
}

#[test]
fn reserving_outside_available_ram_changes_nothing() {
    let b = mbi();
    let m = Mbi::parse(&b).unwrap();
    let holes = [(0xFED4_0000u64, 0xFED4_1000u64), (0x9_F000, 0x10_0000)];
    assert_eq!(reserve::growth(&m, &holes), Ok(0));
    assert_eq!(reserved(&b, &holes), b);
}

#[test]
fn holes_at_entry_edges_add_fewer_entries() {
    let b = mbi();
    // A whole entry is retyped; a hole at an entry's start splits it in two.
    let out = reserved(&b, &[(0, 0x9_F000), (0x10_0000, 0x20_0000)]);
    assert_eq!(out.len(), b.len() + 24);
    let map = map_of(&out);
    assert_eq!(map[0], (0, 0x9_F000, 2));
    assert_eq!(map[1], (0x10_0000, 0x10_0000, 2));
    assert_eq!(map[2], (0x20_0000, 0x3FE0_0000, 1));
    // Two touching holes in one entry: growth is an upper bound.
    let out2 = reserved(&b, &[(0x10_0000, 0x18_0000), (0x18_0000, 0x20_0000)]);
    assert_eq!(&map_of(&out2)[1..4], [(0x10_0000, 0x8_0000, 2), (0x18_0000, 0x8_0000, 2), (0x20_0000, 0x3FE0_0000, 1)]);
}

#[test]
fn a_hole_across_an_entry_edge_is_refused() {
    let b = mbi();
    let m = Mbi::parse(&b).unwrap();
    let holes = [(0x9_E000u64, 0x10_1000u64)];
    assert!(matches!(reserve::growth(&m, &holes), Err(MbiError::BadMmap { .. })));
}

#[test]
fn reserving_needs_room_for_the_growth() {
    let mut b = mbi();
    let n = b.len();
    let r = reserve::reserve(&mut b, &[(0x200_0000, 0x201_0000)]);
    assert!(matches!(r, Err(MbiError::Truncated { have, .. }) if have == n));
}
