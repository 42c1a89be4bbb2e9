//! The whole launch flow on the host: fake RAM, fake TIS + TPM 2.0.

use std::cell::RefCell;

use super::*;
use crate::fake_tpm::{hash, FakeTis, FakeTpm};
use crate::memory::FakeRam;
use crate::tpm::tis::Tis;
use crate::tpm::Locality;

const RAM: u64 = 0x10_0000;
const SLB: u64 = 0x20_0000;
const MEASURED: u16 = 0x3000;
const BL: u64 = SLB + MEASURED as u64;
const DLME: u64 = 0x40_0000;
const DLME_SIZE: u64 = 0x2345;
const ENTRY: u64 = 0x40;
const MBI: u64 = 0x30_0000;
const LOG: u64 = 0x50_0000;
const Q: Generation = Generation::Qubes423;

fn put(ram: &mut FakeRam, at: u64, b: &[u8]) {
    let o = (at - RAM) as usize;
    ram.bytes[o..o + b.len()].copy_from_slice(b);
}

/// RAM with an SLB header, a GRUB-B style SLRT (DL_INFO, LOG_INFO, END) and
/// a DLME of recognisable bytes. Offsets from abi-grub-xen.md §3.3.
fn setup(edit: impl FnOnce(&mut [u8])) -> FakeRam {
    let mut ram = FakeRam::new(RAM, 0x80_0000);
    let mut hdr = vec![];
    for w in [0x1cu16, MEASURED, 8, MEASURED] {
        hdr.extend_from_slice(&w.to_le_bytes());
    }
    put(&mut ram, SLB, &hdr);
    let mut t = vec![0u8; 128];
    let p32 = |t: &mut [u8], o: usize, v: u32| t[o..o + 4].copy_from_slice(&v.to_le_bytes());
    let p64 = |t: &mut [u8], o: usize, v: u64| t[o..o + 8].copy_from_slice(&v.to_le_bytes());
    p32(&mut t, 0, 0x4452544D);
    t[4] = 1;
    t[6] = 2;
    p32(&mut t, 8, 16 + 72 + 24 + 8);
    p32(&mut t, 12, 4096);
    p32(&mut t, 16, 1);
    p32(&mut t, 20, 72);
    p64(&mut t, 24, MEASURED as u64);
    p64(&mut t, 32, SLB);
    p64(&mut t, 40, DLME_SIZE);
    p64(&mut t, 48, DLME);
    p64(&mut t, 56, ENTRY);
    t[64] = 1;
    p64(&mut t, 72, MBI);
    p32(&mut t, 88, 2);
    p32(&mut t, 92, 24);
    t[96] = 2;
    p32(&mut t, 100, 0x8000);
    p64(&mut t, 104, LOG);
    p32(&mut t, 112, 0xFFFF);
    p32(&mut t, 116, 8);
    edit(&mut t);
    put(&mut ram, BL, &t);
    let mut dlme: Vec<u8> = (0..DLME_SIZE).map(|i| (i * 13 + 5) as u8).collect();
    // A TXT MLE header in the first 4 KiB: a Secure-Launch-aware kernel.
    dlme[0x30..0x40].copy_from_slice(&MLE_UUID);
    put(&mut ram, DLME, &dlme);
    ram
}

fn tpm(banks: &[u16]) -> Tis<FakeTis> {
    Tis::open(FakeTis(RefCell::new(FakeTpm::new(banks))), Locality::TWO).unwrap()
}

fn extend(alg: u16, old: &[u8], data: &[u8]) -> Vec<u8> {
    let mut b = old.to_vec();
    b.extend_from_slice(&hash(alg, data));
    hash(alg, &b)
}

#[test]
fn good_launch_measures_entry_then_dlme_in_every_bank_with_one_command_each() {
    let banks = [0x0004, 0x000B, 0x000C];
    let mut ram = setup(|_| {});
    let mut t = tpm(&banks);
    let h = run(&mut ram, &mut t, PhysAddr(SLB), Q).unwrap();
    let entry = (DLME + ENTRY) as u32;
    assert_eq!(h, Handoff { mode: Mode::Dlme, entry, slb_base: SLB as u32, ebx: entry, esi: MBI as u32 });
    let dlme = ram.bytes[(DLME - RAM) as usize..(DLME - RAM + DLME_SIZE) as usize].to_vec();
    let fake = t.into_inner().0.into_inner();
    for alg in banks {
        let zero = vec![0; hash(alg, b"").len()];
        let want = extend(alg, &extend(alg, &zero, &(ENTRY as u32).to_le_bytes()), &dlme);
        assert_eq!(fake.pcr(alg, 17), &want[..], "bank {alg:#x}");
        assert_eq!(fake.pcr(alg, 18), &zero[..], "PCR 18 untouched, bank {alg:#x}");
    }
    assert_eq!(fake.commands, [(0x17A, 2), (0x182, 2), (0x182, 2)]);

    // The log replays to the TPM's PCR 17 in every bank, starting from the
    // zero the DRTM reset leaves (SKINIT event included).
    use skl_bootinfo::event_log::{events, parse_tcg2_header};
    let log = &ram.bytes[(LOG - RAM) as usize..(LOG - RAM) as usize + 0x8000];
    let h = parse_tcg2_header(log).unwrap();
    let ev: Vec<_> = events(log, &h).map(|e| e.unwrap()).collect();
    let names: Vec<&[u8]> = ev.iter().map(|e| e.data).collect();
    assert_eq!(names, [&b"SKINIT"[..], b"DLME entry offset", b"DLME"]);
    let slb_image = &ram.bytes[(SLB - RAM) as usize..(SLB - RAM) as usize + MEASURED as usize];
    for alg in banks {
        let mut pcr = vec![0; hash(alg, b"").len()];
        for e in &ev {
            let d = e.digests(&h).find(|(a, _)| *a == alg).unwrap().1.to_vec();
            let mut b = pcr.clone();
            b.extend_from_slice(&d);
            pcr = hash(alg, &b);
        }
        let skinit = extend(alg, &vec![0; pcr.len()], slb_image);
        let skl = extend(alg, &extend(alg, &skinit, &(ENTRY as u32).to_le_bytes()), &dlme);
        assert_eq!(pcr, skl, "log replay, bank {alg:#x}");
    }
    assert_eq!(fake.active, None, "locality 2 released before hand-off");
}

fn launch_err(edit: impl FnOnce(&mut [u8])) -> LaunchError {
    let mut ram = setup(edit);
    let mut t = tpm(&[0x0004, 0x000B]);
    let e = run(&mut ram, &mut t, PhysAddr(SLB), Q).unwrap_err();
    let fake = t.into_inner().0.into_inner();
    assert!(fake.commands.iter().all(|c| c.0 != 0x182), "nothing extended after {e:?}");
    e
}

fn p64(t: &mut [u8], o: usize, v: u64) {
    t[o..o + 8].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn every_bad_dl_info_stops_the_launch() {
    use skl_bootinfo::slrt::SlrtError;
    assert_eq!(launch_err(|t| t[0] ^= 1), LaunchError::Slrt(SlrtError::BadMagic(0x4452544C)));
    assert_eq!(launch_err(|t| p64(t, 56, DLME_SIZE)), LaunchError::EntryOutsideDlme { entry: DLME_SIZE });
    assert_eq!(launch_err(|t| p64(t, 40, 0)), LaunchError::DlmeEmpty);
    assert_eq!(launch_err(|t| p64(t, 48, SLB - 0x1000)), LaunchError::DlmeOverlapsSlb { base: SLB - 0x1000 });
    assert_eq!(launch_err(|t| p64(t, 48, 1 << 32)), LaunchError::DlmeAbove4G { end: (1 << 32) + DLME_SIZE });
    assert_eq!(launch_err(|t| p64(t, 48, 0xFFFF_F000)), LaunchError::DlmeAbove4G { end: 0xFFFF_F000 + DLME_SIZE });
    assert_eq!(launch_err(|t| p64(t, 40, u64::MAX)), LaunchError::DlmeOverflow { base: DLME });
    assert_eq!(launch_err(|t| p64(t, 72, 0)), LaunchError::BadContext { context: 0 });
    assert_eq!(launch_err(|t| p64(t, 72, SLB + 0x100)), LaunchError::BadContext { context: SLB + 0x100 });
    assert_eq!(
        launch_err(|t| p64(t, 32, SLB + 0x10000)),
        LaunchError::DceMismatch { dce_base: SLB + 0x10000, dce_size: MEASURED as u64 }
    );
    assert_eq!(launch_err(|t| p64(t, 104, SLB + 0x8000)), LaunchError::BadLogRange { addr: SLB + 0x8000 });
    assert_eq!(launch_err(|t| p64(t, 104, DLME + 0x100)), LaunchError::BadLogRange { addr: DLME + 0x100 });
    assert_eq!(launch_err(|t| t[16] = 0x77), LaunchError::Slrt(SlrtError::UnknownEntry { tag: 0x77, offset: 16 }));
}

#[test]
fn a_dead_tpm_is_an_error_not_a_hang() {
    let mut f = FakeTpm::new(&[0x000B]);
    f.dead = true;
    let e = Tis::open(FakeTis(RefCell::new(f)), Locality::TWO).err().unwrap();
    assert_eq!(e, crate::tpm::TpmError::NoDevice { access: 0xFF });
}

#[test]
fn failure_record_lands_in_the_bootloader_data_area() {
    let mut ram = setup(|_| {});
    write_failure_record(&mut ram, PhysAddr(SLB), Q, &LaunchError::EntryOutsideDlme { entry: 0x1234 });
    let o = (BL - RAM) as usize;
    assert_eq!(&ram.bytes[o..o + 8], b"SKLERROR");
    assert_eq!(&ram.bytes[o + 8..o + 12], &0x2007u32.to_le_bytes());
    assert_eq!(&ram.bytes[o + 12..o + 16], &0x1234u32.to_le_bytes());
}

#[test]
fn tpm12_launch_extends_sha1_and_writes_the_txt_log() {
    let mut ram = setup(|t| t[96] = 1); // LOG_INFO format 1
    let mut t = Tis::open(FakeTis(RefCell::new(FakeTpm::new_tpm12())), Locality::TWO).unwrap();
    run(&mut ram, &mut t, PhysAddr(SLB), Q).unwrap();
    let fake = t.into_inner().0.into_inner();
    // TIS 1.3 says TPM 1.2: no probe, one TPM_Extend per measurement.
    assert_eq!(fake.commands, [(0x14, 2), (0x14, 2)]);
    let dlme = ram.bytes[(DLME - RAM) as usize..(DLME - RAM + DLME_SIZE) as usize].to_vec();
    let want = extend(4, &extend(4, &[0; 20], &(ENTRY as u32).to_le_bytes()), &dlme);
    assert_eq!(fake.pcr(4, 17), &want[..]);
    let log = &ram.bytes[(LOG - RAM) as usize..(LOG - RAM) as usize + 0x8000];
    let ev: Vec<_> = skl_bootinfo::event_log::events12(log).map(|e| e.unwrap()).collect();
    let names: Vec<&[u8]> = ev.iter().map(|e| e.data).collect();
    assert_eq!(names, [&b"SKINIT"[..], b"DLME entry offset", b"DLME"]);
    assert_eq!(ev[2].sha1, &hash(4, &dlme)[..]);
}

#[test]
fn log_format_must_match_the_tpm_family() {
    assert_eq!(launch_err(|t| t[96] = 1), LaunchError::LogFormat { format: 1 });
}

#[test]
fn crb_with_localities_launches_like_tis() {
    use crate::fake_tpm::FakeCrb;
    use crate::tpm::probe;
    let mut ram = setup(|_| {});
    let mut t = probe::open(FakeCrb::new(FakeTpm::new(&[0x0004, 0x000B]), true), Locality::TWO).unwrap();
    run(&mut ram, &mut t, PhysAddr(SLB), Q).unwrap();
    let crb = t.into_inner();
    assert_eq!(crb.tpm.commands, [(0x17A, 2), (0x182, 2), (0x182, 2)]);
    assert_eq!(crb.active, None);
    let dlme = ram.bytes[(DLME - RAM) as usize..(DLME - RAM + DLME_SIZE) as usize].to_vec();
    let want = extend(0x0B, &extend(0x0B, &[0; 32], &(ENTRY as u32).to_le_bytes()), &dlme);
    assert_eq!(crb.tpm.pcr(0x0B, 17), &want[..]);
}

#[test]
fn crb_without_localities_is_refused_not_driven_at_locality_0() {
    use crate::fake_tpm::FakeCrb;
    use crate::tpm::{probe, TpmError};
    let e = probe::open(FakeCrb::new(FakeTpm::new(&[0x000B]), false), Locality::TWO).err().unwrap();
    assert_eq!(e, TpmError::LocalityNotSupported(2));
}

// ---- Multiboot2 mode ------------------------------------------------------

const MOD0: u64 = 0x60_0000;

/// The memory map the test bootloader gives: all of FakeRam available.
const MAP: [(u64, u64, u32); 2] = [(RAM, 0x80_0000, 1), (0xFED4_0000, 0x5000, 2)];

/// The map the kernel must see in Multiboot2 mode, written out by hand:
/// the SLB and the 32 KiB log carved out of available RAM.
const MAP_FOR_KERNEL: [(u64, u64, u32); 6] = [
    (RAM, SLB - RAM, 1),
    (SLB, 0x1_0000, 2),
    (SLB + 0x1_0000, LOG - SLB - 0x1_0000, 1),
    (LOG, 0x8000, 2),
    (LOG + 0x8000, RAM + 0x80_0000 - LOG - 0x8000, 1),
    (0xFED4_0000, 0x5000, 2),
];

fn mbi_bytes(modules: &[(u64, u64)]) -> Vec<u8> {
    mbi_with_map(modules, &MAP)
}

fn mbi_with_map(modules: &[(u64, u64)], map: &[(u64, u64, u32)]) -> Vec<u8> {
    let mut b = vec![0u8; 8];
    let tag = |b: &mut Vec<u8>, typ: u32, body: &[u8]| {
        b.extend_from_slice(&typ.to_le_bytes());
        b.extend_from_slice(&(8 + body.len() as u32).to_le_bytes());
        b.extend_from_slice(body);
        while !b.len().is_multiple_of(8) {
            b.push(0);
        }
    };
    tag(&mut b, 1, b"console=com1\0");
    for &(start, len) in modules {
        let mut m = (start as u32).to_le_bytes().to_vec();
        m.extend_from_slice(&((start + len) as u32).to_le_bytes());
        m.extend_from_slice(b"mod\0");
        tag(&mut b, 3, &m);
    }
    let mut mm = 24u32.to_le_bytes().to_vec();
    mm.extend_from_slice(&0u32.to_le_bytes());
    for &(base, len, typ) in map {
        mm.extend_from_slice(&base.to_le_bytes());
        mm.extend_from_slice(&len.to_le_bytes());
        mm.extend_from_slice(&typ.to_le_bytes());
        mm.extend_from_slice(&0u32.to_le_bytes());
    }
    tag(&mut b, 6, &mm);
    tag(&mut b, 0, &[]);
    let n = b.len() as u32;
    b[0..4].copy_from_slice(&n.to_le_bytes());
    b
}

/// A plain Multiboot2 kernel (no MLE header), an MBI with `n` modules and
/// GRUB's MB2 policy: MBI (18), SLRT (18, implicit), each module (17).
fn setup_mb2(n: usize, edit: impl FnOnce(&mut Vec<u8>)) -> (FakeRam, Vec<(u64, u64)>) {
    let mods: Vec<(u64, u64)> = (0..n as u64).map(|i| (MOD0 + i * 0x1_0000, 0x800 + i * 3)).collect();
    let mbi = mbi_bytes(&mods);
    let mut ram = setup(|_| {});
    put(&mut ram, DLME + 0x30, &[0u8; 16]); // no MLE header
    put(&mut ram, MBI, &mbi);
    for (i, &(start, len)) in mods.iter().enumerate() {
        let bytes: Vec<u8> = (0..len).map(|j| (j as u8) ^ (i as u8 * 31)).collect();
        put(&mut ram, start, &bytes);
    }
    // Rebuild the SLRT with a policy: header, DL_INFO, LOG_INFO from setup().
    let o = (BL - RAM) as usize;
    let mut t = ram.bytes[o..o + 112].to_vec();
    let mut pol = vec![];
    pol.extend_from_slice(&3u32.to_le_bytes());
    pol.extend_from_slice(&((16 + 56 * (2 + n)) as u32).to_le_bytes());
    pol.extend_from_slice(&[0, 0, 0, 0, 1, 0]);
    pol.extend_from_slice(&((2 + n) as u16).to_le_bytes());
    let mut entry = |pcr: u16, et: u16, flags: u16, size: u64, entity: u64, text: &[u8]| {
        let mut e = vec![0u8; 56];
        e[0..2].copy_from_slice(&pcr.to_le_bytes());
        e[2..4].copy_from_slice(&et.to_le_bytes());
        e[4..6].copy_from_slice(&flags.to_le_bytes());
        e[8..16].copy_from_slice(&size.to_le_bytes());
        e[16..24].copy_from_slice(&entity.to_le_bytes());
        e[24..24 + text.len()].copy_from_slice(text);
        pol.extend_from_slice(&e);
    };
    entry(18, 7, 0, mbi.len() as u64, MBI, b"Measured MB2 information");
    entry(18, 1, 2, 0, BL, b"Measured SLR Table");
    for &(start, len) in &mods {
        entry(17, 8, 0, len, start, b"Measured MB2 module");
    }
    t.extend_from_slice(&pol);
    t.extend_from_slice(&0xFFFFu32.to_le_bytes());
    t.extend_from_slice(&8u32.to_le_bytes());
    let size = t.len() as u32;
    t[8..12].copy_from_slice(&size.to_le_bytes());
    edit(&mut t);
    put(&mut ram, BL, &t);
    (ram, mods)
}

#[test]
fn multiboot2_mode_measures_the_policy_and_enters_with_the_mb2_state() {
    for n in [0usize, 1, 3] {
        let (mut ram, mods) = setup_mb2(n, |_| {});
        let slrt_before = ram.bytes[(BL - RAM) as usize..(BL - RAM) as usize + 4096].to_vec();
        let mut t = tpm(&[0x0004, 0x000B]);
        let h = run(&mut ram, &mut t, PhysAddr(SLB), Q).unwrap();
        let entry = (DLME + ENTRY) as u32;
        assert_eq!(
            h,
            Handoff { mode: Mode::Multiboot2, entry, slb_base: SLB as u32, ebx: MBI as u32, esi: MBI as u32 }
        );
        let fake = t.into_inner().0.into_inner();
        // GetCapability, entry, DLME, MBI, SLRT, one per module.
        assert_eq!(fake.commands.len(), 5 + n, "{n} modules");
        let slrt_size = u32::from_le_bytes(slrt_before[8..12].try_into().unwrap()) as usize;
        // The kernel gets (and PCR 18 holds) the MBI with SLB and log
        // reserved; module tags and command line as the bootloader wrote.
        let mbi = mbi_with_map(&mods, &MAP_FOR_KERNEL);
        assert_eq!(&ram.bytes[(MBI - RAM) as usize..(MBI - RAM) as usize + mbi.len()], &mbi[..]);
        let dlme = ram.bytes[(DLME - RAM) as usize..(DLME - RAM + DLME_SIZE) as usize].to_vec();
        for alg in [0x0004u16, 0x000B] {
            let z = vec![0; hash(alg, b"").len()];
            let p18 = extend(alg, &extend(alg, &z, &mbi), &slrt_before[..slrt_size]);
            assert_eq!(fake.pcr(alg, 18), &p18[..], "PCR 18 bank {alg:#x}");
            let mut p17 = extend(alg, &extend(alg, &z, &(ENTRY as u32).to_le_bytes()), &dlme);
            for &(s, l) in &mods {
                p17 = extend(alg, &p17, &ram.bytes[(s - RAM) as usize..(s - RAM + l) as usize]);
            }
            assert_eq!(fake.pcr(alg, 17), &p17[..], "PCR 17 bank {alg:#x}");
        }
        // Every policy entry is now flagged MEASURED.
        let after = &ram.bytes[(BL - RAM) as usize..];
        for i in 0..2 + n {
            let flags = u16::from_le_bytes([after[128 + 56 * i + 4], after[128 + 56 * i + 5]]);
            assert_eq!(flags & 1, 1, "entry {i} flagged MEASURED");
        }
    }
}

fn mb2_err(n: usize, edit: impl FnOnce(&mut Vec<u8>)) -> LaunchError {
    let (mut ram, _) = setup_mb2(n, edit);
    let mut t = tpm(&[0x000B]);
    let e = run(&mut ram, &mut t, PhysAddr(SLB), Q).unwrap_err();
    let fake = t.into_inner().0.into_inner();
    assert!(fake.commands.iter().all(|c| c.0 != 0x182), "nothing extended after {e:?}");
    e
}

#[test]
fn multiboot2_policy_is_enforced() {
    let e0 = 128; // first policy entry (MBI)
    let e2 = 128 + 112; // first module entry
    assert_eq!(mb2_err(1, |t| t[e2] = 10), LaunchError::PolicyPcr { pcr: 10 });
    assert_eq!(mb2_err(1, |t| t[e2 + 8] ^= 1), LaunchError::PolicyMismatch { entity: MOD0 });
    assert_eq!(mb2_err(1, |t| t[e2 + 2] = 6), LaunchError::PolicyEntity { entity_type: 6 });
    assert_eq!(mb2_err(1, |t| t[e0 + 16] ^= 8), LaunchError::PolicyMismatch { entity: MBI ^ 8 });
    // A module the policy does not name: drop the module entry (UNUSED).
    assert_eq!(
        mb2_err(1, |t| t[e2 + 2..e2 + 4].copy_from_slice(&0xFFFFu16.to_le_bytes())),
        LaunchError::ModuleNotInPolicy { start: MOD0 }
    );
    // No SLRT entry: the policy itself would go unmeasured.
    assert_eq!(
        mb2_err(0, |t| t[e0 + 56 + 2..e0 + 56 + 4].copy_from_slice(&0xFFFFu16.to_le_bytes())),
        LaunchError::PolicyEntity { entity_type: 1 }
    );
    // A module inside the log: the events appended after its measurement
    // would rewrite it (found by fuzz/ `launch`).
    assert_eq!(mb2_err(1, |t| p64(t, 104, MOD0 - 0x100)), LaunchError::BadModule { start: MOD0 });
    // A log with room for SKL's three events but not for the policy's:
    // refused before the first extend, not after the DLME is in PCR 17.
    let e = mb2_err(3, |t| t[100..104].copy_from_slice(&0x1A0u32.to_le_bytes()));
    assert!(matches!(e, LaunchError::LogFull { .. }), "{e:?}");
}

/// Multiboot2 launch with the given modules placed over `setup_mb2`'s.
fn mb2_with(mods: &[(u64, u64)], map: &[(u64, u64, u32)]) -> (FakeRam, Result<Handoff, LaunchError>, FakeTpm) {
    let (mut ram, _) = setup_mb2(mods.len(), |_| {});
    put(&mut ram, MBI, &mbi_with_map(mods, map));
    // Point the policy's module entries at the new modules.
    let o = (BL - RAM) as usize + 128 + 112;
    for (i, &(start, len)) in mods.iter().enumerate() {
        let e = o + 56 * i;
        ram.bytes[e + 8..e + 16].copy_from_slice(&len.to_le_bytes());
        ram.bytes[e + 16..e + 24].copy_from_slice(&start.to_le_bytes());
    }
    let mbi_len = mbi_with_map(mods, map).len() as u64;
    let e0 = (BL - RAM) as usize + 128;
    ram.bytes[e0 + 8..e0 + 16].copy_from_slice(&mbi_len.to_le_bytes());
    let mut t = tpm(&[0x000B]);
    let r = run(&mut ram, &mut t, PhysAddr(SLB), Q);
    let fake = t.into_inner().0.into_inner();
    if r.is_err() {
        assert!(fake.commands.iter().all(|c| c.0 != 0x182), "nothing extended after {r:?}");
    }
    (ram, r, fake)
}

#[test]
fn grub_empty_module_is_measured_as_no_bytes() {
    // GRUB encodes an empty file as start 0, size 0 (module tag 0..0):
    // PCR 17 gets one more extend, with H(""), and nothing is read at 0.
    let (_, r, with_empty) = mb2_with(&[(MOD0, 0x800), (0, 0)], &MAP);
    assert_eq!(r.map(|h| h.mode), Ok(Mode::Multiboot2));
    let (_, r1, without) = mb2_with(&[(MOD0, 0x800)], &MAP);
    r1.unwrap();
    assert_eq!(extend(0x0B, without.pcr(0x0B, 17), b""), with_empty.pcr(0x0B, 17));
}

#[test]
fn overlapping_objects_are_refused_before_any_extend() {
    let dlme_overlap = mb2_with(&[(DLME + 0x100, 0x100)], &MAP).1;
    assert_eq!(dlme_overlap, Err(LaunchError::Overlap { addr: DLME + 0x100 }));
    let mbi_overlap = mb2_with(&[(MBI + 8, 0x10)], &MAP).1;
    assert_eq!(mbi_overlap, Err(LaunchError::Overlap { addr: MBI + 8 }));
    let each_other = mb2_with(&[(MOD0, 0x800), (MOD0 + 0x7FF, 0x10)], &MAP).1;
    assert_eq!(each_other, Err(LaunchError::Overlap { addr: MOD0 + 0x7FF }));
    // Touching is not overlapping.
    assert!(mb2_with(&[(MOD0, 0x800), (MOD0 + 0x800, 0x10)], &MAP).1.is_ok());
}

#[test]
fn every_measured_byte_is_readable_before_the_first_extend() {
    // The map claims RAM beyond what exists; a module there cannot be read.
    let map = [(RAM, 0x100_0000, 1)];
    let beyond = RAM + 0x80_0000 + 0x1000;
    let r = mb2_with(&[(beyond, 0x100)], &map).1;
    assert_eq!(r, Err(LaunchError::BadModule { start: beyond }));
}

#[test]
fn mbi_that_cannot_grow_is_refused_before_any_extend() {
    // A module right behind the MBI: no room to add the reserved entries.
    let end = MBI + mbi_with_map(&[(0, 1)], &MAP).len() as u64;
    let r = mb2_with(&[(end, 0x100)], &MAP).1;
    assert_eq!(r, Err(LaunchError::MbiNoRoom { end }));
    // SLB already reserved, the log an entry of its own: entries are
    // retyped in place, nothing added, no room needed.
    let map = [
        (RAM, SLB - RAM, 1),
        (SLB, 0x1_0000, 2),
        (SLB + 0x1_0000, LOG - SLB - 0x1_0000, 1),
        (LOG, 0x8000, 1),
        (LOG + 0x8000, RAM + 0x80_0000 - LOG - 0x8000, 1),
    ];
    let end = MBI + mbi_with_map(&[(0, 1)], &map).len() as u64;
    let r = mb2_with(&[(end, 0x100)], &map).1;
    assert!(r.is_ok(), "{r:?}");
}

#[test]
fn amd_log_is_erased_whatever_the_bootloader_left_there() {
    // TrenchBoot GRUB pre-fills a TPM 1.2 log area with a bare TXT event
    // container header (txt.c grub_txt_init_tpm_event_log): no Spec ID
    // event in front of it, so it parses as no log at all.
    let mut ram = setup(|t| t[96] = 1);
    let mut grub = b"TXT Event Container\0".to_vec();
    grub.extend_from_slice(&[0; 12]);
    grub.extend_from_slice(&[1, 0, 1, 0]);
    grub.extend_from_slice(&0x8000u32.to_le_bytes());
    grub.extend_from_slice(&48u32.to_le_bytes());
    grub.extend_from_slice(&48u32.to_le_bytes());
    put(&mut ram, LOG, &grub);
    put(&mut ram, LOG + 0x7000, b"stale bytes of an earlier boot");
    let mut t = Tis::open(FakeTis(RefCell::new(FakeTpm::new_tpm12())), Locality::TWO).unwrap();
    run(&mut ram, &mut t, PhysAddr(SLB), Q).unwrap();
    let log = &ram.bytes[(LOG - RAM) as usize..(LOG - RAM) as usize + 0x8000];
    let ev: Vec<_> = skl_bootinfo::event_log::events12(log).map(|e| e.unwrap()).collect();
    assert_eq!(ev.len(), 3);
    assert!(log[0x7000..0x7020].iter().all(|&b| b == 0), "the whole area is erased");
}

/// InterfaceVersion TIS 1.2/1.3 means TPM 1.2, with no command to ask (as
/// the C SKL decides). A TPM 2.0 that reports it answers the first TPM 1.2
/// command with TPM_RC_BAD_TAG: the launch stops and nothing is extended.
#[test]
fn tpm20_behind_a_tis13_interface_fails_closed() {
    let mut f = FakeTpm::new(&[0x0004, 0x000B]);
    f.tis13 = true;
    let mut ram = setup(|t| t[96] = 1); // LOG_INFO format 1: the TPM 1.2 log
    let mut t = Tis::open(FakeTis(RefCell::new(f)), Locality::TWO).unwrap();
    assert_eq!(crate::tpm::TpmTransport::family(&t), crate::tpm::TpmFamily::Tpm12);
    let e = run(&mut ram, &mut t, PhysAddr(SLB), Q).unwrap_err();
    assert!(matches!(e, LaunchError::Tpm(_)), "{e:?}");
    let fake = t.into_inner().0.into_inner();
    assert_eq!(fake.commands, [(0x14, 2)], "one TPM_Extend, refused");
    for alg in [0x0004, 0x000B] {
        assert!(fake.pcr(alg, 17).iter().all(|&b| b == 0), "PCR 17 untouched");
    }
}

// ---- The AMD SL generation (skl-amdsl.bin) and the 88-byte DL_INFO ----

const A: Generation = Generation::AmdSl;
/// GRUB `tb-dev` puts the address of its own `slparams` in DL_INFO's
/// context (`grub-core/loader/slaunch/slrt.c`, `grub_setup_slrt_dl_info`):
/// not the MBI, never read by SKL.
const GRUB_CTX: u64 = 0x7_F000;

/// The SLRT in `ram` as bytes (its `size`).
fn table(ram: &FakeRam) -> Vec<u8> {
    let o = (BL - RAM) as usize;
    let size = u32::from_le_bytes(ram.bytes[o + 8..o + 12].try_into().unwrap()) as usize;
    ram.bytes[o..o + size].to_vec()
}

/// Write `t` back as the SLRT, its `size` field set to its length.
fn set_table(ram: &mut FakeRam, mut t: Vec<u8>) {
    let n = t.len() as u32;
    t[8..12].copy_from_slice(&n.to_le_bytes());
    put(ram, BL, &t);
}

/// An entry inserted before END (the last 8 bytes).
fn insert_entry(t: &mut Vec<u8>, entry: &[u8]) {
    let end = t.len() - 8;
    t.splice(end..end, entry.iter().copied());
}

/// AMD_INFO as GRUB `tb-dev` writes it (`skl.c`,
/// `grub_skl_prepare_bootloader_data`): type 10, len 56, the SLRT from the
/// bootloader-data offset to the end of the SLB; offsets from the Secure
/// Launch specification's table. `psp_version` 3: SKL must write 0.
fn amd_info(boot_params: u64) -> Vec<u8> {
    let mut e = vec![0u8; 56];
    e[0..4].copy_from_slice(&5u32.to_le_bytes());
    e[4..8].copy_from_slice(&56u32.to_le_bytes());
    e[16..20].copy_from_slice(&10u32.to_le_bytes());
    e[20..24].copy_from_slice(&56u32.to_le_bytes());
    p64(&mut e, 24, 0x1_0000 - MEASURED as u64);
    p64(&mut e, 32, BL);
    p64(&mut e, 40, boot_params);
    e[48..50].copy_from_slice(&3u16.to_le_bytes());
    e
}

/// The extended header of `skl-amdsl.bin` (offsets from docs/amd-sl.md):
/// the same entry, measured size and bootloader data as `setup`'s.
fn amdsl_header(ram: &mut FakeRam) {
    let mut h = vec![0u8; 0x46];
    h[0..2].copy_from_slice(&0x60u16.to_le_bytes());
    h[2..4].copy_from_slice(&MEASURED.to_le_bytes());
    h[4..20].copy_from_slice(&skl_bootinfo::sl_header::AMD_SL_GUID);
    h[0x14..0x18].copy_from_slice(&[0xFF; 4]);
    h[0x18..0x1C].copy_from_slice(&(MEASURED as u32).to_le_bytes());
    h[0x1C] = 0x1E;
    h[0x1E] = 8;
    h[0x42..0x44].copy_from_slice(&0x46u16.to_le_bytes());
    h[0x44..0x46].copy_from_slice(&MEASURED.to_le_bytes());
    put(ram, SLB, &h);
}

/// What GRUB `tb-dev` leaves for `skl-amdsl.bin`: the extended header,
/// DL_INFO's context GRUB-internal, AMD_INFO naming the MBI; then `edit`.
fn tb_dev(edit: impl FnOnce(&mut Vec<u8>)) -> FakeRam {
    let mut ram = setup(|_| {});
    amdsl_header(&mut ram);
    let mut t = table(&ram);
    p64(&mut t, 72, GRUB_CTX);
    insert_entry(&mut t, &amd_info(MBI));
    edit(&mut t);
    set_table(&mut ram, t);
    ram
}

/// The 88-byte DL_INFO of Linux Secure Launch v16: `dlme_header_offset`
/// and `dlme_config_table` inserted after `dlme_entry` (entry offset 48).
fn grow_dl_info(t: &mut Vec<u8>, header_offset: u64, config_table: u64) {
    let mut new = header_offset.to_le_bytes().to_vec();
    new.extend_from_slice(&config_table.to_le_bytes());
    t.splice(64..64, new);
    t[20..24].copy_from_slice(&88u32.to_le_bytes());
}

fn launch_with(mut ram: FakeRam, g: Generation) -> (FakeRam, Result<Handoff, LaunchError>, FakeTpm) {
    let mut t = tpm(&[0x000B]);
    let r = run(&mut ram, &mut t, PhysAddr(SLB), g);
    let fake = t.into_inner().0.into_inner();
    if r.is_err() {
        assert!(fake.commands.iter().all(|c| c.0 != 0x182), "nothing extended after {r:?}");
    }
    (ram, r, fake)
}

#[test]
fn amdsl_launch_takes_the_mbi_from_amd_info_and_states_no_psp() {
    let (ram, r, fake) = launch_with(tb_dev(|_| {}), A);
    let entry = (DLME + ENTRY) as u32;
    assert_eq!(r, Ok(Handoff { mode: Mode::Dlme, entry, slb_base: SLB as u32, ebx: entry, esi: MBI as u32 }));
    // The measurements are the 8-byte generation's (entry offset, DLME).
    assert_eq!(fake.commands, [(0x17A, 2), (0x182, 2), (0x182, 2)]);
    let psp = (BL - RAM) as usize + 112 + 48;
    assert_eq!(&ram.bytes[psp..psp + 2], &[0, 0], "psp_version: no PSP took part");
}

#[test]
fn amdsl_requires_amd_info_and_checks_it() {
    let err = |edit: &dyn Fn(&mut Vec<u8>)| launch_with(tb_dev(edit), A).1.unwrap_err();
    // AMD_INFO is the entry before END, at table offset 112.
    assert_eq!(err(&|t| t.drain(112..168).for_each(drop)), LaunchError::NoAmdInfo);
    assert_eq!(LaunchError::NoAmdInfo.code(), 0x200A);
    assert_eq!(err(&|t| t[128] = 9), LaunchError::AmdInfoType { setup_type: 9 });
    assert_eq!(err(&|t| p64(t, 112 + 32, BL + 8)), LaunchError::AmdInfoSlrt { slrt_base: BL + 8 });
    assert_eq!(err(&|t| p64(t, 112 + 24, 0x1_0000)), LaunchError::AmdInfoSlrt { slrt_base: BL });
    assert_eq!(err(&|t| p64(t, 112 + 24, 16)), LaunchError::AmdInfoSlrt { slrt_base: BL });
    assert_eq!(err(&|t| p64(t, 112 + 40, 0)), LaunchError::BadContext { context: 0 });
    assert_eq!(err(&|t| p64(t, 112 + 40, SLB + 0x10)), LaunchError::BadContext { context: SLB + 0x10 });
    assert_eq!(err(&|t| p64(t, 112 + 40, 1 << 32)), LaunchError::BadContext { context: 1 << 32 });
    // The DCE is the whole file GRUB tb-dev copied: the header's total length.
    assert_eq!(
        err(&|t| p64(t, 24, MEASURED as u64 + 0x740)),
        LaunchError::DceMismatch { dce_base: SLB, dce_size: MEASURED as u64 + 0x740 }
    );
}

#[test]
fn skl_bin_accepts_amd_info_naming_the_context_only() {
    let with = |bp: u64| {
        let mut ram = setup(|_| {});
        let mut t = table(&ram);
        insert_entry(&mut t, &amd_info(bp));
        set_table(&mut ram, t);
        launch_with(ram, Q)
    };
    let (ram, r, _) = with(MBI);
    assert_eq!(r.unwrap().esi, MBI as u32);
    let psp = (BL - RAM) as usize + 112 + 48;
    assert_eq!(&ram.bytes[psp..psp + 2], &[0, 0]);
    assert_eq!(with(MBI + 0x1000).1, Err(LaunchError::BootParamsMismatch { boot_params_base: MBI + 0x1000 }));
}

/// Each image refuses the other generation's tables, before any extend.
#[test]
fn each_image_refuses_the_other_generations_tables() {
    // skl-amdsl.bin behind GRUB aem-qubes-4.2.3-rebase: no AMD_INFO.
    let mut ram = setup(|_| {});
    amdsl_header(&mut ram);
    assert_eq!(launch_with(ram, A).1, Err(LaunchError::NoAmdInfo));
    // skl.bin behind GRUB tb-dev (were GRUB to load it): the context is
    // GRUB's, the MBI is in AMD_INFO, and they differ.
    let mut ram = setup(|_| {});
    let mut t = table(&ram);
    p64(&mut t, 72, GRUB_CTX);
    insert_entry(&mut t, &amd_info(MBI));
    set_table(&mut ram, t);
    assert_eq!(launch_with(ram, Q).1, Err(LaunchError::BootParamsMismatch { boot_params_base: MBI }));
}

#[test]
fn dl_info_of_88_bytes_is_checked_against_the_dlme() {
    // `setup` puts the MLE header at 0x30 of the DLME.
    for g in [Q, A] {
        let ram = |h: u64, c: u64| {
            let mut ram = if g == A { tb_dev(|_| {}) } else { setup(|_| {}) };
            let mut t = table(&ram);
            grow_dl_info(&mut t, h, c);
            set_table(&mut ram, t);
            ram
        };
        let (_, r, fake) = launch_with(ram(0x30, 0x7_0000), g);
        assert_eq!(r.unwrap().esi, MBI as u32, "{g:?}");
        assert_eq!(fake.commands.len(), 3);
        assert_eq!(launch_with(ram(0x30, 0), g).1.map(|h| h.mode), Ok(Mode::Dlme));
        assert_eq!(launch_with(ram(0x40, 0), g).1, Err(LaunchError::MleHeaderMismatch { offset: 0x40 }));
        assert_eq!(launch_with(ram(0, 0), g).1, Err(LaunchError::MleHeaderMismatch { offset: 0 }));
        assert_eq!(launch_with(ram(0x30, SLB + 8), g).1, Err(LaunchError::BadConfigTable { addr: SLB + 8 }));
        assert_eq!(launch_with(ram(0x30, 1 << 32), g).1, Err(LaunchError::BadConfigTable { addr: 1 << 32 }));
    }
}

#[test]
fn failure_record_of_skl_amdsl_lands_at_its_bootloader_data() {
    let mut ram = tb_dev(|_| {});
    write_failure_record(&mut ram, PhysAddr(SLB), A, &LaunchError::NoAmdInfo);
    let o = (BL - RAM) as usize;
    assert_eq!(&ram.bytes[o..o + 8], b"SKLERROR");
    assert_eq!(&ram.bytes[o + 8..o + 12], &0x200Au32.to_le_bytes());
}

/// A table that simply lacks DL_INFO (LOG_INFO moved up, size shrunk)
/// parses and is refused with NoDlInfo (0x2001). The QEMU scenario
/// `no_dl_info` rewrites the tag to 0x7777 instead, which the parser
/// refuses first as an unknown entry (0x100C): this is the only case that
/// reaches 0x2001.
#[test]
fn a_table_without_dl_info_is_refused_with_no_dl_info() {
    let e = launch_err(|t| {
        t.copy_within(88..120, 16); // LOG_INFO and END right after the header
        t[48..120].fill(0);
        t[8..12].copy_from_slice(&(16u32 + 24 + 8).to_le_bytes());
    });
    assert_eq!(e, LaunchError::NoDlInfo);
    assert_eq!((e.code(), e.detail()), (0x2001, 0));
}

/// Multiboot2 mode (no MLE header) with a policy that names no MBI (its MBI
/// entry turned UNUSED): NoMbi (0x5001), nothing extended.
#[test]
fn multiboot2_policy_naming_no_mbi_is_refused() {
    let e0 = 128; // the MBI entry
    let e = mb2_err(1, |t| t[e0 + 2..e0 + 4].copy_from_slice(&0xFFFFu16.to_le_bytes()));
    assert_eq!(e, LaunchError::NoMbi);
    assert_eq!((e.code(), e.detail()), (0x5001, 0));
}

/// DLME, MBI or log outside available RAM of the MBI's memory map:
/// NotInRam (0x5002) with the object's address, nothing extended.
#[test]
fn dlme_mbi_and_log_must_lie_in_available_ram() {
    let end = RAM + 0x80_0000;
    // The map with [hole, hole + len) typed reserved (2).
    let map_without = |hole: u64, len: u64| [(RAM, hole - RAM, 1), (hole, len, 2), (hole + len, end - hole - len, 1)];
    for (what, hole, len, addr) in
        [("DLME", DLME, DLME_SIZE, DLME), ("MBI", MBI, 0x100, MBI), ("log", LOG + 0x7000, 0x1000, LOG)]
    {
        let (_, r, _) = mb2_with(&[(MOD0, 0x800)], &map_without(hole, len));
        let e = r.expect_err(what);
        assert_eq!(e, LaunchError::NotInRam { addr }, "{what}");
        assert_eq!((e.code(), e.detail()), (0x5002, addr as u32), "{what}");
    }
    // Control: the same map shape with the hole elsewhere launches.
    let (_, r, _) = mb2_with(&[(MOD0, 0x800)], &map_without(MOD0 + 0x1_0000, 0x1000));
    assert!(r.is_ok(), "{r:?}");
}
