//! `launch`: the whole launch flow (`skl::launch::run`) over fuzzed
//! bootloader data.
//!
//! Input: `[flags u8][slrt_len u16 LE][SLRT][mbi_len u16 LE][MBI][log...]`
//! (short input: missing parts empty). flags bit 0: the DLME carries a TXT
//! MLE header (DLME mode, else Multiboot2 mode); bit 1: TPM 1.2 (else 2.0);
//! bit 2: TPM 2.0 banks SHA-1 + SHA-256 (else SHA-256 only).
//!
//! Memory (see [`layout`]): a fixed SLB with a fixed header and the SLRT at
//! its bootloader-data offset, the MBI, a DLME of known bytes, and one data
//! region holding the log (initial contents from the input) and the modules.

use skl::launch::{has_mle_header, run as launch, Handoff, Mode};
use skl::tpm::TpmFamily;
use skl::LaunchError;
use skl_bootinfo::addr::FOUR_GIB;
use skl_bootinfo::multiboot2::Mbi;
use skl_bootinfo::sl_header::{Generation, SKL_UUID, SLB_SIZE};
use skl_bootinfo::slrt::{entity, Architecture, Slrt};
use skl_bootinfo::PhysAddr;

use crate::hash;
use crate::ram::SparseRam;
use crate::tpm::FuzzTpm;

pub mod layout {
    pub const SLB: u64 = 0x20_0000;
    pub const MEASURED: u16 = 0x3000;
    pub const BL: u64 = SLB + MEASURED as u64;
    pub const MBI: u64 = 0x30_0000;
    pub const MBI_REGION: usize = 0x1_0000;
    pub const DLME: u64 = 0x40_0000;
    pub const DLME_REGION: usize = 0x1_0000;
    pub const DATA: u64 = 0x50_0000;
    pub const DATA_REGION: usize = 0x4_0000;
    /// The log GRUB-like seeds use: start of the data region.
    pub const LOG: u64 = DATA;
    pub const LOG_SIZE: u32 = 0x8000;
    /// Modules in the seeds: from here, 64 KiB apart.
    pub const MODULES: u64 = DATA + 0x1_0000;
    pub const ENTRY: u64 = 0x40;
}
use layout::*;

/// The parts of an input.
pub struct Input<'a> {
    pub flags: u8,
    pub slrt: &'a [u8],
    pub mbi: &'a [u8],
    pub log: &'a [u8],
}

fn split(data: &[u8], at: usize) -> (&[u8], &[u8]) {
    data.split_at(at.min(data.len()))
}

fn chunk(data: &[u8]) -> (&[u8], &[u8]) {
    let (len, rest) = split(data, 2);
    let n = match len {
        [a, b] => u16::from_le_bytes([*a, *b]) as usize,
        [a] => *a as usize,
        _ => 0,
    };
    split(rest, n)
}

impl<'a> Input<'a> {
    pub fn decode(data: &'a [u8]) -> Self {
        let (flags, rest) = split(data, 1);
        let (slrt, rest) = chunk(rest);
        let (mbi, log) = chunk(rest);
        Input { flags: flags.first().copied().unwrap_or(0), slrt, mbi, log }
    }
    pub fn encode(&self) -> Vec<u8> {
        let mut v = vec![self.flags];
        v.extend_from_slice(&(self.slrt.len() as u16).to_le_bytes());
        v.extend_from_slice(self.slrt);
        v.extend_from_slice(&(self.mbi.len() as u16).to_le_bytes());
        v.extend_from_slice(self.mbi);
        v.extend_from_slice(self.log);
        v
    }
}

/// Byte `i` of the DLME / of the data region: recognisable, position-dependent.
fn pattern(i: usize, k: u8) -> u8 {
    (i as u8).wrapping_mul(13).wrapping_add(k) ^ (i >> 8) as u8
}

/// The memory every launch starts from (built once: filling ~450 KiB per
/// run would dominate the run time).
fn template() -> &'static [(u64, Vec<u8>)] {
    static T: std::sync::OnceLock<Vec<(u64, Vec<u8>)>> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut slb = vec![0u8; SLB_SIZE as usize];
        for (i, b) in slb[..MEASURED as usize].iter_mut().enumerate() {
            *b = pattern(i, 1);
        }
        for (i, w) in [0x1cu16, MEASURED, 8, MEASURED].into_iter().enumerate() {
            slb[2 * i..2 * i + 2].copy_from_slice(&w.to_le_bytes());
        }
        slb[8..24].copy_from_slice(&SKL_UUID);
        let dlme: Vec<u8> = (0..DLME_REGION).map(|i| pattern(i, 5)).collect();
        let mut data: Vec<u8> = (0..DATA_REGION).map(|i| pattern(i, 9)).collect();
        data[..LOG_SIZE as usize].fill(0);
        vec![(SLB, slb), (MBI, vec![0u8; MBI_REGION]), (DLME, dlme), (DATA, data)]
    })
}

pub fn ram(inp: &Input) -> SparseRam {
    let mut mem = SparseRam { regions: template().to_vec() };
    let n = inp.slrt.len().min(0x1000);
    mem.put(BL, &inp.slrt[..n]);
    let n = inp.mbi.len().min(MBI_REGION);
    mem.put(MBI, &inp.mbi[..n]);
    if inp.flags & 1 != 0 {
        mem.put(DLME + 0x30, &skl::launch::MLE_UUID);
    }
    let n = inp.log.len().min(LOG_SIZE as usize);
    mem.put(LOG, &inp.log[..n]);
    mem
}

pub fn tpm(flags: u8) -> FuzzTpm {
    if flags & 2 != 0 {
        FuzzTpm::new(TpmFamily::Tpm12, &[0x0004])
    } else if flags & 4 != 0 {
        FuzzTpm::new(TpmFamily::Tpm20, &[0x0004, 0x000B])
    } else {
        FuzzTpm::new(TpmFamily::Tpm20, &[0x000B])
    }
}

/// Errors that `run` reports before it sends the TPM anything.
fn before_measuring(e: &LaunchError) -> bool {
    !matches!(
        e,
        LaunchError::LogFull { .. }
            | LaunchError::BadLogRange { .. }
            | LaunchError::BadModule { .. }
            | LaunchError::Tpm(_)
    )
}

pub fn run(data: &[u8]) {
    let inp = Input::decode(data);
    let mut mem = ram(&inp);
    let slrt_before = mem.get(BL, 0x1000).unwrap();
    let mut t = tpm(inp.flags);
    let r = launch(&mut mem, &mut t, PhysAddr(SLB), Generation::Qubes423);
    if r.is_ok() || t.commands > 0 {
        assert!(t.released(), "locality kept after the TPM was used ({r:?})");
    }
    assert_eq!(t.after_release, 0, "commands after the locality was released");
    match r {
        Err(e) => {
            if before_measuring(&e) {
                assert!(t.extends.is_empty(), "{e:?} after {} extends", t.extends.len());
            }
        }
        Ok(h) => check_handoff(&mem, &t, &slrt_before, h),
    }
}

fn digests(t: &FuzzTpm, data: &[u8]) -> Vec<(u16, Vec<u8>)> {
    t.banks.iter().map(|&a| (a, hash(a, data))).collect()
}

fn check_handoff(mem: &SparseRam, t: &FuzzTpm, slrt_before: &[u8], h: Handoff) {
    let slrt = Slrt::parse(slrt_before, Architecture::AmdSkinit).expect("run accepted this table");
    let dl = slrt.dl_info().expect("DL_INFO");
    let (base, size, off) = (dl.dlme_base(), dl.dlme_size(), dl.dlme_entry());
    let end = base.checked_add(size).expect("DLME end");
    let slb_end = SLB + SLB_SIZE as u64;
    assert!(size > 0 && end <= FOUR_GIB, "DLME {base:#x}+{size:#x}");
    assert!(end <= SLB || base >= slb_end, "DLME {base:#x}+{size:#x} overlaps the SLB");
    assert!(off < size && h.entry as u64 == base + off, "entry {:#x} outside DLME {base:#x}+{size:#x}", h.entry);
    assert_eq!(h.slb_base as u64, SLB);
    let ctx = dl.context();
    assert!(ctx != 0 && ctx < FOUR_GIB && !(SLB..slb_end).contains(&ctx));
    assert_eq!(h.esi as u64, ctx);
    if let Some(l) = slrt.log_info() {
        let (la, ls) = (l.addr.get(), l.size.get() as u64);
        let le = la.checked_add(ls).expect("log end");
        assert!(ls > 0 && le <= FOUR_GIB, "log {la:#x}+{ls:#x}");
        assert!(le <= SLB || la >= slb_end, "log overlaps the SLB");
        assert!(le <= base || la >= end, "log overlaps the DLME");
    }

    // What the kernel gets is what was extended: entry offset, then DLME.
    let dlme = mem.get(base, size).expect("DLME readable");
    let mode = if has_mle_header(&dlme) { Mode::Dlme } else { Mode::Multiboot2 };
    assert_eq!(h.mode, mode);
    let mut want: Vec<crate::tpm::Extend> =
        vec![(17, digests(t, &(off as u32).to_le_bytes())), (17, digests(t, &dlme))];
    match mode {
        Mode::Dlme => assert_eq!(h.ebx, h.entry),
        Mode::Multiboot2 => {
            assert_eq!(h.ebx as u64, ctx);
            let total = Mbi::total_size(&mem.get(ctx, 8).expect("MBI head")).unwrap() as u64;
            assert!(ctx + total <= SLB || ctx >= slb_end, "MBI overlaps the SLB");
            let mbi_bytes = mem.get(ctx, total).expect("MBI");
            let mbi = Mbi::parse(&mbi_bytes).expect("MBI parses");
            for m in mbi.modules() {
                let (s, e) = (m.start as u64, m.end as u64);
                assert!(e <= SLB || s >= slb_end, "module {s:#x}..{e:#x} overlaps the SLB");
                let n = slrt
                    .policy_entries()
                    .filter(|p| {
                        p.entity_type.get() == entity::MULTIBOOT2_MODULE && p.entity.get() == s && p.size.get() == e - s
                    })
                    .count();
                assert_eq!(n, 1, "module {s:#x} named {n} times by the policy");
            }
            for p in slrt.policy_entries() {
                let bytes = match p.entity_type.get() {
                    entity::UNUSED => continue,
                    entity::SLRT => slrt_before[..slrt.size() as usize].to_vec(),
                    entity::MULTIBOOT2_INFO => mbi_bytes.clone(),
                    entity::MULTIBOOT2_MODULE => mem.get(p.entity.get(), p.size.get()).expect("module readable"),
                    other => panic!("policy entity type {other} accepted"),
                };
                let pcr = p.pcr.get() as u32;
                assert!(pcr == 17 || pcr == 18);
                want.push((pcr, digests(t, &bytes)));
            }
        }
    }
    assert_eq!(t.extends.len(), want.len(), "number of extends");
    for (i, (got, want)) in t.extends.iter().zip(&want).enumerate() {
        assert!(got == want, "extend {i}: the TPM got {got:02x?}, memory now holds {want:02x?}");
    }
}
