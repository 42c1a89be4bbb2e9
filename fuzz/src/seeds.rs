//! Well-formed inputs, the way GRUB (`aem-qubes-4.2.3-rebase`) writes them:
//! the seed corpora (`examples/gen_corpus.rs`).

use skl_bootinfo::event_log::{AlgSize, Tcg2Log, Tpm12Log, EV_SLAUNCH};

use crate::launch::layout::*;
use crate::launch::Input;

fn p16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn p32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn p64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}

/// Module `i` of a seed: (start, length).
pub fn module(i: usize) -> (u64, u64) {
    (MODULES + i as u64 * 0x1_0000, 0x800 + i as u64 * 3)
}

/// What goes into a seed SLRT.
pub struct SlrtSpec {
    pub arch: u16,
    pub log_format: Option<u16>,
    /// DRTM policy: MBI, SLRT and one entry per module (GRUB's MB2 policy).
    pub policy_modules: Option<usize>,
    pub mbi_size: u64,
    pub amd_info: bool,
}

pub fn slrt(s: &SlrtSpec) -> Vec<u8> {
    let mut t = vec![];
    p32(&mut t, 0x4452_544D);
    p16(&mut t, 1);
    p16(&mut t, s.arch);
    p32(&mut t, 0); // size, patched below
    p32(&mut t, 0x1000);
    // DL_INFO
    p32(&mut t, 1);
    p32(&mut t, 72);
    p64(&mut t, MEASURED as u64);
    p64(&mut t, SLB);
    p64(&mut t, 0x2345);
    p64(&mut t, DLME);
    p64(&mut t, ENTRY);
    p16(&mut t, 1); // GRUB
    t.extend_from_slice(&[0; 6]);
    p64(&mut t, MBI);
    p64(&mut t, 0);
    if let Some(f) = s.log_format {
        p32(&mut t, 2);
        p32(&mut t, 24);
        p16(&mut t, f);
        p16(&mut t, 0);
        p32(&mut t, LOG_SIZE);
        p64(&mut t, LOG);
    }
    if s.amd_info {
        p32(&mut t, 5);
        p32(&mut t, 56);
        p64(&mut t, 0);
        p32(&mut t, 10);
        p32(&mut t, 48);
        p64(&mut t, 0x1000);
        p64(&mut t, BL);
        p64(&mut t, MBI);
        t.extend_from_slice(&[0; 8]);
    }
    if let Some(n) = s.policy_modules {
        p32(&mut t, 3);
        p32(&mut t, 16 + 56 * (2 + n) as u32);
        t.extend_from_slice(&[0, 0, 0, 0]);
        p16(&mut t, 1);
        p16(&mut t, 2 + n as u16);
        let mut entry = |pcr: u16, et: u16, flags: u16, size: u64, entity: u64, text: &[u8]| {
            p16(&mut t, pcr);
            p16(&mut t, et);
            p16(&mut t, flags);
            p16(&mut t, 0);
            p64(&mut t, size);
            p64(&mut t, entity);
            let mut e = [0u8; 32];
            e[..text.len()].copy_from_slice(text);
            t.extend_from_slice(&e);
        };
        entry(18, 7, 0, s.mbi_size, MBI, b"Measured MB2 information");
        entry(18, 1, 2, 0, BL, b"Measured SLR Table");
        for i in 0..n {
            let (start, len) = module(i);
            entry(17, 8, 0, len, start, b"Measured MB2 module");
        }
    }
    p32(&mut t, 0xFFFF);
    p32(&mut t, 8);
    let n = t.len() as u32;
    t[8..12].copy_from_slice(&n.to_le_bytes());
    t
}

fn tag(b: &mut Vec<u8>, typ: u32, body: &[u8]) {
    p32(b, typ);
    p32(b, 8 + body.len() as u32);
    b.extend_from_slice(body);
    while !b.len().is_multiple_of(8) {
        b.push(0);
    }
}

/// An MBI as GRUB writes it: cmdline, loader name, modules, basic meminfo,
/// memory map (the seeds' RAM available), load base address, END.
pub fn mbi(modules: usize) -> Vec<u8> {
    let mut b = vec![0u8; 8];
    tag(&mut b, 1, b"console=com1 dom0_mem=2G\0");
    tag(&mut b, 2, b"GRUB 2.12\0");
    for i in 0..modules {
        let (start, len) = module(i);
        let mut m = vec![];
        p32(&mut m, start as u32);
        p32(&mut m, (start + len) as u32);
        m.extend_from_slice(b"/vmlinuz placeholder=1\0");
        tag(&mut b, 3, &m);
    }
    let mut mi = vec![];
    p32(&mut mi, 639);
    p32(&mut mi, 0x7F_0000);
    tag(&mut b, 4, &mi);
    let mut mm = vec![];
    p32(&mut mm, 24);
    p32(&mut mm, 0);
    for (base, len, typ) in [(0, 0x9_F000u64, 1u32), (0x10_0000, 0x7FF0_0000, 1), (0xFED4_0000, 0x5000, 2)] {
        p64(&mut mm, base);
        p64(&mut mm, len);
        p32(&mut mm, typ);
        p32(&mut mm, 0);
    }
    tag(&mut b, 6, &mm);
    tag(&mut b, 21, &0x10_0000u32.to_le_bytes());
    tag(&mut b, 0, &[]);
    let n = b.len() as u32;
    b[0..4].copy_from_slice(&n.to_le_bytes());
    b
}

/// A TPM 2.0 log (`size` bytes) with `events` events for `algs`.
pub fn tcg2_log(size: usize, algs: &[u16], events: usize) -> Vec<u8> {
    let mut buf = vec![0u8; size];
    let sizes: Vec<AlgSize> =
        algs.iter().map(|&a| AlgSize { alg: a, size: crate::hash(a, b"").len() as u16 }).collect();
    let mut log = Tcg2Log::init(&mut buf, LOG, &sizes).unwrap();
    for i in 0..events {
        let d: Vec<(u16, Vec<u8>)> = algs.iter().map(|&a| (a, crate::hash(a, &[i as u8]))).collect();
        let r: Vec<(u16, &[u8])> = d.iter().map(|(a, v)| (*a, &v[..])).collect();
        log.append(17, EV_SLAUNCH, &r, format!("event {i}").as_bytes()).unwrap();
    }
    buf
}

/// A TPM 1.2 log (`size` bytes) with `events` events.
pub fn tpm12_log(size: usize, events: usize) -> Vec<u8> {
    let mut buf = vec![0u8; size];
    let mut log = Tpm12Log::init(&mut buf).unwrap();
    for i in 0..events {
        let d: [u8; 20] = crate::hash(4, &[i as u8]).try_into().unwrap();
        log.append(17, EV_SLAUNCH, &d, format!("event {i}").as_bytes()).unwrap();
    }
    buf
}

/// Trailing zeros cut (the harness pads the log region with zeros).
fn trim(v: &[u8]) -> &[u8] {
    &v[..v.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1)]
}

/// (name, bytes) of every seed, per target.
pub fn all() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = vec![];
    let spec = |log_format, policy_modules, mbi_size| SlrtSpec {
        arch: 2,
        log_format,
        policy_modules,
        mbi_size,
        amd_info: false,
    };
    // slrt
    out.push(("slrt", "dlme-mode".into(), slrt(&spec(Some(2), None, 0))));
    out.push(("slrt", "no-log".into(), slrt(&spec(None, None, 0))));
    for n in [0, 1, 3] {
        out.push(("slrt", format!("mb2-policy-{n}-modules"), slrt(&spec(Some(2), Some(n), mbi(n).len() as u64))));
    }
    out.push(("slrt", "amd-info".into(), slrt(&SlrtSpec { amd_info: true, ..spec(Some(2), Some(1), 0) })));
    out.push(("slrt", "intel-arch".into(), slrt(&SlrtSpec { arch: 1, ..spec(Some(2), Some(1), 0) })));
    // sl_header
    for (name, image) in sl_images() {
        out.push(("sl_header", name.into(), image));
    }
    // mbi
    for n in [0, 1, 3] {
        out.push(("mbi", format!("grub-{n}-modules"), mbi(n)));
    }
    // event_log
    out.push(("event_log", "tpm2-sha256".into(), trim(&tcg2_log(0x400, &[0x0B], 2)).to_vec()));
    out.push(("event_log", "tpm2-sha1-sha256-sha384".into(), trim(&tcg2_log(0x800, &[4, 0x0B, 0x0C], 3)).to_vec()));
    out.push(("event_log", "tpm2-empty".into(), tcg2_log(0x100, &[4, 0x0B], 0)));
    out.push(("event_log", "tpm12".into(), tpm12_log(0x400, 3)));
    out.push(("event_log", "tpm12-empty".into(), tpm12_log(0x100, 0)));
    // launch
    let tpm2 = spec(Some(2), None, 0);
    let l = |flags, s: &[u8], m: &[u8], log: &[u8]| Input { flags, slrt: s, mbi: m, log }.encode();
    out.push(("launch", "dlme-mode-tpm2".into(), l(1, &slrt(&tpm2), &mbi(1), &[])));
    out.push(("launch", "dlme-mode-tpm2-two-banks".into(), l(5, &slrt(&tpm2), &mbi(1), &[])));
    out.push(("launch", "dlme-mode-tpm12".into(), l(3, &slrt(&spec(Some(1), None, 0)), &mbi(0), &[])));
    out.push(("launch", "dlme-mode-no-log".into(), l(1, &slrt(&spec(None, None, 0)), &mbi(0), &[])));
    let started = tcg2_log(LOG_SIZE as usize, &[0x0B], 1);
    out.push(("launch", "dlme-mode-started-log".into(), l(1, &slrt(&tpm2), &mbi(0), trim(&started))));
    for n in [0, 1, 3] {
        let m = mbi(n);
        let s = slrt(&spec(Some(2), Some(n), m.len() as u64));
        out.push(("launch", format!("mb2-mode-{n}-modules"), l(0, &s, &m, &[])));
        out.push(("launch", format!("mb2-mode-{n}-modules-two-banks"), l(4, &s, &m, &[])));
    }
    let m = mbi(1);
    let s = slrt(&spec(Some(1), Some(1), m.len() as u64));
    out.push(("launch", "mb2-mode-1-module-tpm12".into(), l(2, &s, &m, &[])));
    let s = slrt(&spec(Some(2), Some(1), m.len() as u64));
    out.push(("launch", "mb2-mode-1-module-started-log".into(), l(0, &s, &m, trim(&started))));
    let s = slrt(&spec(Some(1), Some(1), m.len() as u64));
    let started12 = tpm12_log(LOG_SIZE as usize, 1);
    out.push(("launch", "mb2-mode-1-module-tpm12-started-log".into(), l(2, &s, &m, trim(&started12))));
    out
}

/// SLB images of each layout the tools read: the 8-byte header, the AMD SL
/// header one-stage, two-stage (with the stage-2 digest record) and the PSP
/// layout (`skl_bootinfo::sl_header`; the words as `linker/*.ld` write them).
pub fn sl_images() -> Vec<(&'static str, Vec<u8>)> {
    use skl_bootinfo::sl_header::{AMD_SL_GUID, PSP_SIGNATURE_AREA, SKL_UUID, SOC_FLAGS, STAGE2_DIGEST_MAGIC};
    let qubes = {
        let mut f = vec![0x90u8; 0x100];
        for (o, v) in [(0, 0x40u16), (2, 0x100), (4, 8), (6, 0x100)] {
            f[o..o + 2].copy_from_slice(&v.to_le_bytes());
        }
        f[8..24].copy_from_slice(&SKL_UUID);
        f[24..28].copy_from_slice(&0u32.to_le_bytes());
        f
    };
    let amdsl = |measured: usize, file: usize, bl: usize| {
        let mut f = vec![0x90u8; file];
        f[0..2].copy_from_slice(&0x60u16.to_le_bytes());
        f[2..4].copy_from_slice(&(measured as u16).to_le_bytes());
        f[4..0x14].copy_from_slice(&AMD_SL_GUID);
        f[0x14..0x18].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        f[0x18..0x1C].copy_from_slice(&(file as u32).to_le_bytes());
        f[0x1C..0x1E].copy_from_slice(&0x1Eu16.to_le_bytes());
        f[0x1E..0x22].copy_from_slice(&(SOC_FLAGS.len() as u32).to_le_bytes());
        for (i, v) in SOC_FLAGS.iter().enumerate() {
            f[0x22 + 4 * i..0x26 + 4 * i].copy_from_slice(&v.to_le_bytes());
        }
        f[0x42..0x44].copy_from_slice(&0x46u16.to_le_bytes());
        f[0x44..0x46].copy_from_slice(&(bl as u16).to_le_bytes());
        f[0x46..0x56].copy_from_slice(&SKL_UUID);
        f[0x56..0x5A].copy_from_slice(&0u32.to_le_bytes());
        f
    };
    let mut two = amdsl(0x100, 0x180, 0x180);
    two[0xC0..0xC8].copy_from_slice(&STAGE2_DIGEST_MAGIC);
    let d = crate::hash(skl_bootinfo::tpm_alg::SHA256, &two[0x100..]);
    two[0xC8..0xE8].copy_from_slice(&d);
    let psp = amdsl(0x100, 0x100 + PSP_SIGNATURE_AREA, 0x100 + PSP_SIGNATURE_AREA);
    vec![
        ("qubes-4.2.3", qubes),
        ("amdsl-one-stage", amdsl(0x100, 0x100, 0x100)),
        ("amdsl-two-stage", two),
        ("amdsl-psp", psp),
    ]
}
