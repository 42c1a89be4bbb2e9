//! TXT post-launch checks against a register file and the `tpm20` seed heap
//! (`fuzz/corpus/txt_heap/tpm20`, a TPM 2.0 heap that parses), patched per
//! case.

use std::collections::BTreeMap;

use skl_bootinfo::slrt::IntelInfo;
use skl_bootinfo::txt::heap::HeapTable;
use skl_bootinfo::txt::{TxtHeap, TxtReg};
use zerocopy::FromZeros;

use crate::error::LaunchError;

use super::*;

const SEED: &[u8] = include_bytes!("../../../fuzz/corpus/txt_heap/tpm20");

/// The PMR layout, then each range DMA-protected (the heap itself placed
/// where no test range lies).
fn check_heap_and_dma(heap: &TxtHeap, ranges: &[PhysRange]) -> Result<(), TxtError> {
    heap.check_tpm20().map_err(TxtError::Heap)?;
    check_pmr_layout(heap)?;
    let heap_r = PhysRange::new(PhysAddr(0xFFF0_0000), 0x1000).unwrap();
    ranges.iter().try_for_each(|r| mle::check_protected(heap, &heap_r, r))
}

#[derive(Default)]
struct Regs {
    v: BTreeMap<u16, u64>,
    writes: Vec<(u16, u64)>,
}

impl TxtRegs for Regs {
    fn read(&mut self, reg: TxtReg) -> u64 {
        self.v.get(&reg.offset()).copied().unwrap_or(0)
    }
    fn write(&mut self, reg: TxtReg, v: u64) {
        self.writes.push((reg.offset(), v));
        self.v.insert(reg.offset(), v);
    }
}

fn launched() -> Regs {
    let mut r = Regs::default();
    r.v.insert(TxtReg::STS.offset(), 1 | 1 << 16);
    r.v.insert(TxtReg::DIDVID.offset(), 0x0001_B002_8086);
    r.v.insert(TxtReg::ERRORCODE.offset(), 0xC000_0001);
    r.v.insert(TxtReg::HEAP_BASE.offset(), 0x7B00_0000);
    r.v.insert(TxtReg::HEAP_SIZE.offset(), 0x10_0000);
    r
}

#[test]
fn status_after_a_good_senter_is_accepted_and_cleared() {
    let mut r = launched();
    check_status(&mut r).unwrap();
    assert_eq!(r.writes, vec![(TxtReg::ERRORCODE.offset(), 0), (TxtReg::ESTS.offset(), u64::MAX)]);
    assert_eq!(heap_range(&mut r).unwrap(), PhysRange::new(PhysAddr(0x7B00_0000), 0x10_0000).unwrap());
}

#[test]
fn bad_status_is_refused_before_anything_is_written() {
    type Case = (TxtReg, u64, fn(TxtError) -> bool);
    let cases: [Case; 4] = [
        (TxtReg::STS, 0, |e| matches!(e, TxtError::NotLaunched { .. })),
        (TxtReg::STS, 1 | 2, |e| matches!(e, TxtError::NotLaunched { .. })),
        (TxtReg::DIDVID, 0xFFFF_FFFF, |e| matches!(e, TxtError::PrivateSpaceClosed { .. })),
        (TxtReg::ERRORCODE, 0xC000_0002, |e| e == TxtError::SinitError { code: 0xC000_0002 }),
    ];
    for (reg, v, want) in cases {
        let mut r = launched();
        r.v.insert(reg.offset(), v);
        let e = check_status(&mut r).unwrap_err();
        assert!(want(e), "{reg:?}={v:#x}: {e:?}");
        assert!(r.writes.is_empty());
    }
}

#[test]
fn heap_registers_are_bounded() {
    for (base, size) in [(0, 0x1000), (0x7B00_0000, 0), (0xFFFF_F000, 0x2000), (u64::MAX, 2)] {
        let mut r = launched();
        r.v.insert(TxtReg::HEAP_BASE.offset(), base);
        r.v.insert(TxtReg::HEAP_SIZE.offset(), size);
        assert_eq!(heap_range(&mut r), Err(TxtError::HeapRange { base, size }));
    }
}

/// The seed heap with OsSinitData's PMR fields replaced.
fn heap_with_pmrs(lo: (u64, u64), hi: (u64, u64)) -> Vec<u8> {
    let mut b = SEED.to_vec();
    let at = TxtHeap::parse(SEED).unwrap().table_offset(HeapTable::OsSinitData) + 8 + 32;
    for (i, v) in [lo.0, lo.1, hi.0, hi.1].into_iter().enumerate() {
        b[at + 8 * i..at + 8 * i + 8].copy_from_slice(&v.to_le_bytes());
    }
    b
}

fn usable_mdr(heap: &TxtHeap) -> PhysRange {
    heap.mdrs().find(|m| m.is_usable()).and_then(|m| m.range()).expect("the seed has a usable MDR")
}

#[test]
fn trusted_regions_must_be_in_a_pmr_and_usable_memory() {
    let mdr = usable_mdr(&TxtHeap::parse(SEED).unwrap());
    assert!(mdr.end() <= 1 << 32 && mdr.len() >= 0x2000, "{mdr:?}");
    let last_page = PhysRange::new(PhysAddr(mdr.end() - 0x1000), 0x1000).unwrap();
    let b = heap_with_pmrs((0, 1 << 32), (0, 0));
    let heap = TxtHeap::parse(&b).unwrap();
    check_heap_and_dma(&heap, &[last_page]).unwrap();

    // The low PMR ends just below the region.
    let b = heap_with_pmrs((0, mdr.end() - 0x1000), (0, 0));
    let heap = TxtHeap::parse(&b).unwrap();
    assert_eq!(check_heap_and_dma(&heap, &[last_page]), Err(TxtError::NotDmaProtected { addr: mdr.end() - 0x1000 }));

    // Inside the PMR, one page past the usable MDR.
    let b = heap_with_pmrs((0, 1 << 32), (0, 0));
    let heap = TxtHeap::parse(&b).unwrap();
    let past = PhysRange::new(PhysAddr(mdr.end() - 0x1000), 0x2000).unwrap();
    assert!(!heap.mdr_covers(&past));
    assert_eq!(check_heap_and_dma(&heap, &[past]), Err(TxtError::NotInMdr { addr: mdr.end() - 0x1000 }));
}

/// The guard the launch checks DLME, MBI and modules with, built once from
/// the parsed heap, decides every range as parsing the heap in RAM for it
/// does, reading only the MDR table back; an unreadable table fails closed.
#[test]
fn heap_guard_decides_as_the_parsed_heap_does() {
    use crate::launch::DmaGuard;
    use crate::memory::FakeRam;
    let mdr = usable_mdr(&TxtHeap::parse(SEED).unwrap());
    let b = heap_with_pmrs((0, mdr.end() - 0x1000), (0, 0));
    let heap_at = 0x7B00_0000;
    let mut ram = FakeRam::new(heap_at, b.len());
    ram.bytes.copy_from_slice(&b);
    let heap_r = PhysRange::new(PhysAddr(heap_at), b.len() as u64).unwrap();
    let heap = TxtHeap::parse(&b).unwrap();
    let guard = mle::HeapGuard::new(&heap, heap_r);
    assert_eq!(guard.heap, heap_r);
    let r = |a: u64, n: u64| PhysRange::new(PhysAddr(a), n).unwrap();
    let cases = [
        (r(heap_at + 0x100, 0x100), Ok(())),
        (r(mdr.start().as_u64(), 0x1000), Ok(())),
        (r(mdr.end() - 0x2000, 0x1000), Ok(())),
        (r(mdr.end() - 0x1000, 0x1000), Err(TxtError::NotDmaProtected { addr: mdr.end() - 0x1000 })),
        (r(mdr.start().as_u64(), 0), Err(TxtError::NotDmaProtected { addr: mdr.start().as_u64() })),
    ];
    for (range, want) in cases {
        assert_eq!(mle::check_protected(&heap, &heap_r, &range), want, "{range:?}");
        assert_eq!(guard.check(&ram, &range), want.map_err(LaunchError::from), "{range:?}");
    }
    // In the PMR, outside every MDR: refused by the records read back.
    let b = heap_with_pmrs((0, 1 << 32), (0, 0));
    ram.bytes.copy_from_slice(&b);
    let guard = mle::HeapGuard::new(&TxtHeap::parse(&b).unwrap(), heap_r);
    let past = r(mdr.end() - 0x1000, 0x2000);
    assert_eq!(guard.check(&ram, &past), Err(TxtError::NotInMdr { addr: mdr.end() - 0x1000 }.into()));
    assert_eq!(guard.check(&ram, &r(mdr.start().as_u64(), 0x1000)), Ok(()));
    // The MDR table no longer readable: refused, not "no MDRs".
    let ram = FakeRam::new(heap_at, 0x10);
    assert!(matches!(
        guard.check(&ram, &r(mdr.start().as_u64(), 0x1000)),
        Err(LaunchError::Txt(TxtError::HeapRange { .. }))
    ));
}

#[test]
fn pmr_layout_everyone_requires() {
    for (lo, hi) in [
        ((0x20_0000, 0x8000_0000), (0, 0)),             // low PMR not from 0
        ((0, 0), (0, 0)),                               // no low PMR (TPR platform)
        ((0, 0x8000_0000), (0x8000_0000, 0x1000_0000)), // high PMR below 4 GiB
    ] {
        let b = heap_with_pmrs(lo, hi);
        let heap = TxtHeap::parse(&b).unwrap();
        assert!(matches!(check_heap_and_dma(&heap, &[]), Err(TxtError::PmrLayout { .. })), "{lo:x?} {hi:x?}");
    }
    let b = heap_with_pmrs((0, 0x8000_0000), (0x1_0000_0000, 0x1_0000_0000));
    check_heap_and_dma(&TxtHeap::parse(&b).unwrap(), &[]).unwrap();
}

fn mtrrs(default: u64, pairs: &[(u64, u64)]) -> IntelInfo {
    let mut i = IntelInfo::new_zeroed();
    i.default_mem_type.set(default);
    i.mtrr_vcnt.set(pairs.len() as u64);
    for (slot, &(b, m)) in i.mtrr_pairs.iter_mut().zip(pairs) {
        slot.base.set(b);
        slot.mask.set(m);
    }
    i
}

const V: u64 = 1 << 11;

#[test]
fn saved_mtrrs_typical_firmware_layout_is_accepted() {
    // Default UC; WB for 0-2 GiB and 4-8 GiB (MAXPHYADDR 39).
    let i = mtrrs(0, &[(0x06, 0x7F_8000_0000 | V), (0x1_0000_0006, 0x7F_0000_0000 | V)]);
    check_saved_mtrrs(&i, 10, 39).unwrap();
    // Default WB with the MMIO hole 0xC000_0000-4 GiB made UC.
    let i = mtrrs(6, &[(0xC000_0000, 0x7F_C000_0000 | V)]);
    check_saved_mtrrs(&i, 10, 39).unwrap();
}

#[test]
fn saved_mtrrs_that_would_misconfigure_the_cpu_are_refused() {
    let wb_all = (0x06, 0x70_0000_0000 | V);
    let cases: [(IntelInfo, u32); 6] = [
        (mtrrs(0, &[wb_all; 3]), 2),                          // more than IA32_MTRRCAP says
        (mtrrs(0, &[(0x02, 0x7F_8000_0000 | V)]), 10),        // type 2 is reserved
        (mtrrs(0, &[(0x06, 0x7F_8000_1000 | V)]), 10),        // mask with a hole
        (mtrrs(0, &[(0x06, 0xFF_8000_0000 | V)]), 10),        // mask above MAXPHYADDR 39
        (mtrrs(6, &[]), 10),                                  // TXT space WB by default
        (mtrrs(0, &[(0xFED0_0006, 0x7F_FFF0_0000 | V)]), 10), // TXT space made WB
    ];
    for (n, (i, cap)) in cases.iter().enumerate() {
        assert!(matches!(check_saved_mtrrs(i, *cap, 39), Err(TxtError::Mtrr { .. })), "case {n}");
    }
    // UC wins over an overlapping WB range.
    let i = mtrrs(0, &[(0xFED0_0006, 0x7F_FFF0_0000 | V), (0xFED0_0000, 0x7F_FFF0_0000 | V)]);
    check_saved_mtrrs(&i, 10, 39).unwrap();
}

#[test]
fn reset_writes_the_mle_error_code_then_the_reset_sequence() {
    let mut r = launched();
    reset(&mut r, crate::LaunchError::Txt(TxtError::NotInMdr { addr: 0 }).code());
    assert_eq!(
        r.writes,
        vec![
            (TxtReg::ERRORCODE.offset(), 0xC000_F008),
            (TxtReg::CMD_NO_SECRETS.offset(), 1),
            (TxtReg::CMD_UNLOCK_MEM_CONFIG.offset(), 1),
            (TxtReg::CMD_SYS_RESET.offset(), 1),
        ]
    );
}

/// RAM at 0x10_0000 with PAE tables at its start mapping `pages` pages of
/// an MLE at 0x20_0000 (PDPT, PD, PT as GRUB builds them).
fn mle_ram(pages: u64) -> (crate::memory::FakeRam, mle::Mle) {
    use crate::memory::PhysMemory;
    let mut ram = crate::memory::FakeRam::new(0x10_0000, 0x20_0000);
    let mut put = |at: u64, v: u64| {
        ram.write(PhysRange::new(PhysAddr(at), 8).unwrap()).unwrap().copy_from_slice(&v.to_le_bytes())
    };
    put(0x10_0000, 0x10_1000 | 1);
    put(0x10_1000, 0x10_2000 | 3);
    for i in 0..pages {
        put(0x10_2000 + 8 * i, (0x20_0000 + 0x1000 * i) | 3);
    }
    let m = mle::Mle { base: PhysAddr(0x20_0000), measured: pages * 0x1000 - 0x80, header: 0x20, footprint: 0x1_0000 };
    (ram, m)
}

#[test]
fn mle_page_table_must_map_every_measured_page_where_we_run() {
    use crate::memory::PhysMemory;
    let (ram, m) = mle_ram(9);
    mle::check_mle_pages(&ram, 0x10_0000, &m).unwrap();
    // Loaded elsewhere than SINIT measured.
    let moved = mle::Mle { base: PhysAddr(0x21_0000), ..m };
    assert_eq!(mle::check_mle_pages(&ram, 0x10_0000, &moved), Err(TxtError::MlePlacement { linear: 0 }));
    // One page remapped, one missing, a 2 MiB page, a PDPT outside RAM.
    for (at, v, linear) in [(0x10_2000 + 8 * 5, 0x30_0000 | 3, 0x5000), (0x10_2000 + 8 * 8, 0, 0x8000)] {
        let (mut ram, m) = mle_ram(9);
        ram.write(PhysRange::new(PhysAddr(at), 8).unwrap()).unwrap().copy_from_slice(&(v as u64).to_le_bytes());
        assert_eq!(mle::check_mle_pages(&ram, 0x10_0000, &m), Err(TxtError::MlePlacement { linear }));
    }
    let (mut ram, m) = mle_ram(9);
    ram.write(PhysRange::new(PhysAddr(0x10_1000), 8).unwrap()).unwrap().copy_from_slice(&(0x20_0083u64).to_le_bytes());
    assert_eq!(mle::check_mle_pages(&ram, 0x10_0000, &m), Err(TxtError::MlePlacement { linear: 0 }));
    assert_eq!(mle::check_mle_pages(&ram, 0xFFFF_F000, &m), Err(TxtError::MlePlacement { linear: 0 }));
}

#[test]
fn effective_mtrr_type_uc_wins_and_default_applies() {
    let i = mtrrs(6, &[(0xC000_0000, 0xF_C000_0000 | V), (0xFED0_0006, 0xF_FFF0_0000 | V)]);
    assert_eq!(effective_mtrr_type(&i, 36, 0x10_0000), MTRR_WB, "default");
    assert_eq!(effective_mtrr_type(&i, 36, 0xFED2_0000), 0, "UC wins over an overlapping WB range");
    assert_eq!(effective_mtrr_type(&i, 36, 0xC000_0000), 0);
}

#[test]
fn saved_misc_enable_may_only_undo_senter() {
    use crate::txt::mle::check_misc_enable;
    // Before SENTER: fast strings (0), EIST (16), MONITOR (18) on. SENTER
    // keeps old & 0xFFF37CEA and sets TM (3): restoring the old value is fine.
    let before = 1 | 1 << 16 | 1 << 18 | 1 << 11;
    let after = (before & 0xFFF3_7CEA) | 1 << 3;
    assert_eq!(check_misc_enable(before, after), Ok(()));
    assert_eq!(check_misc_enable(after, after), Ok(()));
    // Bits SENTER keeps (here 11, 22 limit CPUID) must not change.
    let e = check_misc_enable(before ^ 1 << 22, after);
    assert_eq!(e, Err(TxtError::MiscEnable { saved: before ^ 1 << 22 }));
    // Never switch NX off (XD Bit Disable, bit 34), whatever SENTER did.
    let e = check_misc_enable(before | 1 << 34, after);
    assert_eq!(e, Err(TxtError::MiscEnable { saved: before | 1 << 34 }));
    assert_eq!(check_misc_enable(before, after | 1 << 34), Ok(()), "clearing it is fine");
}
