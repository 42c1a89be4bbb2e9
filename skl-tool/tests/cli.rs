//! skl-tool run as the user runs it, on inputs built byte by byte here;
//! expected values computed here with the sha crates, not with the tool's
//! library.

mod common;

use common::{scratch_file, tool, Run};

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use skl_bootinfo::event_log::{AlgSize, Tcg2Log, Tpm12Log, EV_NO_ACTION, EV_SLAUNCH};

const SKL_UUID: [u8; 16] =
    [0x78, 0xf1, 0x26, 0x8e, 0x04, 0x92, 0x11, 0xe9, 0x83, 0x2a, 0xc8, 0x5b, 0x76, 0xc4, 0xcc, 0x02];
const MLE_UUID: [u8; 16] =
    [0x5a, 0xac, 0x82, 0x90, 0x6f, 0x47, 0xa7, 0x74, 0x0f, 0x5c, 0x55, 0xa2, 0xcb, 0x51, 0xb6, 0x42];

// ---------------------------------------------------------------- helpers

fn tmp(name: &str, bytes: &[u8]) -> String {
    scratch_file("cli", name, bytes)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[derive(Clone, Copy)]
enum H {
    S1,
    S256,
    S384,
    S512,
}

fn h(alg: H, b: &[u8]) -> Vec<u8> {
    match alg {
        H::S1 => Sha1::digest(b).to_vec(),
        H::S256 => Sha256::digest(b).to_vec(),
        H::S384 => Sha384::digest(b).to_vec(),
        H::S512 => Sha512::digest(b).to_vec(),
    }
}

/// E(old, data) = H(old || H(data)).
fn ext(alg: H, old: &[u8], data: &[u8]) -> Vec<u8> {
    let mut b = old.to_vec();
    b.extend_from_slice(&h(alg, data));
    h(alg, &b)
}

fn zero(alg: H) -> Vec<u8> {
    vec![0; h(alg, b"").len()]
}

/// PCR 17 by hand: SKINIT, entry offset, DLME, modules.
fn pcr17(alg: H, skl_measured: &[u8], entry: u32, dlme: &[u8], modules: &[&[u8]]) -> Vec<u8> {
    let mut v = ext(alg, &zero(alg), skl_measured);
    v = ext(alg, &v, &entry.to_le_bytes());
    v = ext(alg, &v, dlme);
    for m in modules {
        v = ext(alg, &v, m);
    }
    v
}

// ------------------------------------------------------ synthetic inputs

/// A 0x80-byte SLB image: entry 0x40, measured 0x80, skl_info at 8
/// (version 3), bootloader data at 0x80.
fn skl_bin() -> Vec<u8> {
    let mut f: Vec<u8> = (0..0x80u8).map(|i| i ^ 0x5a).collect();
    f[0..8].copy_from_slice(&[0x40, 0, 0x80, 0, 8, 0, 0x80, 0]);
    f[8..24].copy_from_slice(&SKL_UUID);
    f[24..28].copy_from_slice(&3u32.to_le_bytes());
    f
}

/// An ELF32 with one PT_LOAD at 16 MiB: 0x100 bytes from the file, memsz
/// 0x200 (zero tail); MLE header at 0x10 (entry_point 0x60, mle_start 0,
/// mle_end 0x180).
fn kernel_elf32() -> Vec<u8> {
    let mut e = vec![0u8; 0x54 + 0x100];
    e[..4].copy_from_slice(b"\x7fELF");
    e[4] = 1; // ELFCLASS32
    e[5] = 1; // little-endian
    e[6] = 1;
    e[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    e[18..20].copy_from_slice(&3u16.to_le_bytes()); // EM_386
    e[24..28].copy_from_slice(&0x0100_0060u32.to_le_bytes()); // e_entry
    e[28..32].copy_from_slice(&0x34u32.to_le_bytes()); // e_phoff
    e[42..44].copy_from_slice(&32u16.to_le_bytes()); // e_phentsize
    e[44..46].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
    let ph = 0x34;
    e[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    e[ph + 4..ph + 8].copy_from_slice(&0x54u32.to_le_bytes()); // p_offset
    e[ph + 8..ph + 12].copy_from_slice(&0x0100_0000u32.to_le_bytes()); // p_vaddr
    e[ph + 12..ph + 16].copy_from_slice(&0x0100_0000u32.to_le_bytes()); // p_paddr
    e[ph + 16..ph + 20].copy_from_slice(&0x100u32.to_le_bytes()); // p_filesz
    e[ph + 20..ph + 24].copy_from_slice(&0x200u32.to_le_bytes()); // p_memsz
    let img = 0x54;
    for i in 0..0x100 {
        e[img + i] = i as u8;
    }
    let m = img + 0x10;
    e[m..m + 16].copy_from_slice(&MLE_UUID);
    e[m + 16..m + 20].copy_from_slice(&0x34u32.to_le_bytes()); // header_len
    e[m + 20..m + 24].copy_from_slice(&0x0002_0002u32.to_le_bytes()); // version
    e[m + 24..m + 28].copy_from_slice(&0x60u32.to_le_bytes()); // entry_point
    e[m + 32..m + 36].copy_from_slice(&0u32.to_le_bytes()); // mle_start
    e[m + 36..m + 40].copy_from_slice(&0x180u32.to_le_bytes()); // mle_end
    e
}

/// What GRUB measures of `kernel_elf32`: the first 0x180 bytes of the
/// loaded image (0x100 file bytes, then zeros).
fn elf32_dlme() -> Vec<u8> {
    let mut img = vec![0u8; 0x200];
    img[..0x100].copy_from_slice(&kernel_elf32()[0x54..0x154]);
    img[..0x180].to_vec()
}

/// An ELF64: a PT_NOTE (ignored), PT_LOAD A at 2 MiB (0x40 file bytes,
/// memsz 0x60), PT_LOAD B at 2 MiB + 0x100 (0x20 bytes). MLE header in A at
/// 0x10: entry_point 0x30, mle_end 0x120.
fn kernel_elf64() -> Vec<u8> {
    let mut e = vec![0u8; 0x300];
    e[..4].copy_from_slice(b"\x7fELF");
    e[4] = 2; // ELFCLASS64
    e[5] = 1;
    e[6] = 1;
    e[16..18].copy_from_slice(&2u16.to_le_bytes());
    e[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    e[24..32].copy_from_slice(&0xffff_8000_0020_0030u64.to_le_bytes()); // e_entry (virtual)
    e[32..40].copy_from_slice(&0x40u64.to_le_bytes()); // e_phoff
    e[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    e[56..58].copy_from_slice(&3u16.to_le_bytes()); // e_phnum
    let ph = |e: &mut Vec<u8>, i: usize, ty: u32, off: u64, vaddr: u64, paddr: u64, filesz: u64, memsz: u64| {
        let p = 0x40 + 56 * i;
        e[p..p + 4].copy_from_slice(&ty.to_le_bytes());
        e[p + 8..p + 16].copy_from_slice(&off.to_le_bytes());
        e[p + 16..p + 24].copy_from_slice(&vaddr.to_le_bytes());
        e[p + 24..p + 32].copy_from_slice(&paddr.to_le_bytes());
        e[p + 32..p + 40].copy_from_slice(&filesz.to_le_bytes());
        e[p + 40..p + 48].copy_from_slice(&memsz.to_le_bytes());
    };
    ph(&mut e, 0, 4, 0x2c0, 0, 0x10_0000, 0x10, 0x10); // PT_NOTE far below: must not move the base
    ph(&mut e, 1, 1, 0x200, 0xffff_8000_0020_0000, 0x20_0000, 0x40, 0x60);
    ph(&mut e, 2, 1, 0x280, 0xffff_8000_0020_0100, 0x20_0100, 0x20, 0x20);
    for (i, b) in e.iter_mut().enumerate().take(0x2d0).skip(0x200) {
        *b = (i as u8).wrapping_mul(7) | 0x80;
    }
    let m = 0x210;
    e[m..m + 16].copy_from_slice(&MLE_UUID);
    e[m + 24..m + 28].copy_from_slice(&0x30u32.to_le_bytes());
    e[m + 32..m + 36].copy_from_slice(&0u32.to_le_bytes());
    e[m + 36..m + 40].copy_from_slice(&0x120u32.to_le_bytes());
    e
}

fn elf64_dlme() -> Vec<u8> {
    let e = kernel_elf64();
    let mut img = vec![0u8; 0x120];
    img[..0x40].copy_from_slice(&e[0x200..0x240]);
    img[0x100..0x120].copy_from_slice(&e[0x280..0x2a0]);
    img
}

/// A TPM 2.0 log (sha1 + sha256) with what SKL logs for `skl_bin` and
/// `kernel_elf32`, then a Xen-like module event and an EV_NO_ACTION.
fn tpm2_log(dlme: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let algs = [AlgSize { alg: 0x0004, size: 20 }, AlgSize { alg: 0x000B, size: 32 }];
    let mut log = Tcg2Log::init(&mut buf, 0x90_0000, &algs).unwrap();
    let skl = skl_bin();
    let entry = 0x60u32.to_le_bytes();
    for (pcr, ty, data, text) in [
        (17, EV_SLAUNCH, &skl[..], &b"SKINIT"[..]),
        (17, EV_SLAUNCH, &entry[..], b"DLME entry offset"),
        (17, EV_SLAUNCH, dlme, b"DLME"),
        (17, EV_NO_ACTION, &b"ignored"[..], b"marker"),
        (17, EV_SLAUNCH, &b"module one"[..], b"Measured MB2 module"),
    ] {
        let (d1, d2) = (h(H::S1, data), h(H::S256, data));
        log.append(pcr, ty, &[(0x0004, &d1), (0x000B, &d2)], text).unwrap();
    }
    buf
}

fn tpm12_log() -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut log = Tpm12Log::init(&mut buf).unwrap();
    let skl = skl_bin();
    for (data, text) in
        [(&skl[..], &b"SKINIT"[..]), (&0x60u32.to_le_bytes()[..], b"DLME entry offset"), (&elf32_dlme()[..], b"DLME")]
    {
        let d: [u8; 20] = h(H::S1, data).try_into().unwrap();
        log.append(17, EV_SLAUNCH, &d, text).unwrap();
    }
    buf
}

/// The one line of JSON a `--json` run printed.
fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.out).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.out))
}

/// `v` is an object with exactly these keys (in any order: JSON objects
/// have none).
#[track_caller]
fn assert_keys(v: &serde_json::Value, want: &[&str]) {
    let mut have: Vec<&str> =
        v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().map(|k| k.as_str()).collect();
    let mut want = want.to_vec();
    have.sort_unstable();
    want.sort_unstable();
    assert_eq!(have, want, "{v}");
}

fn line_with<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no line {prefix:?} in:\n{out}"))
}

// ------------------------------------------------------------------ info

#[test]
fn info_known_answers_for_every_bank() {
    let f = tmp("info-skl.bin", &skl_bin());
    let r = tool(&["info", &f]);
    assert_eq!(r.code, 0, "{}", r.err);
    let measured = &skl_bin()[..0x80];
    for (alg, name) in [(H::S1, "sha1"), (H::S256, "sha256"), (H::S384, "sha384"), (H::S512, "sha512")] {
        let l = line_with(&r.out, &format!("  {name:<6} PCR 17"));
        assert!(l.contains(&hex(&ext(alg, &zero(alg), measured))), "{l}");
        let l = line_with(&r.out, &format!("  {name:<6} measured"));
        assert!(l.contains(&hex(&h(alg, measured))), "{l}");
    }
    assert!(r.out.contains("  entry             0x0040\n"), "{}", r.out);
    assert!(r.out.contains("  measured size     128 bytes\n"), "{}", r.out);
    assert!(r.out.contains("UUID 78f1268e-0492-11e9-832a-c85b76c4cc02, version 3"), "{}", r.out);
    assert!(r.out.contains("  bootloader data   0x0080"), "{}", r.out);

    let r = tool(&["info", "--json", &f]);
    assert_eq!(r.code, 0);
    let j = json(&r);
    assert_eq!(j["measured_size"], 128, "{j}");
    assert_eq!(j["banks"]["sha256"]["pcr17_after_skinit"], hex(&ext(H::S256, &zero(H::S256), measured)), "{j}");
}

#[test]
fn info_json_has_every_key_with_its_value() {
    let f = tmp("info-json.bin", &skl_bin());
    let r = tool(&["info", "--json", &f]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out.lines().count(), 1, "one line: {}", r.out);
    let j = json(&r);
    let measured = &skl_bin()[..0x80];
    assert_keys(
        &j,
        &[
            "file",
            "generation",
            "file_size",
            "total_size",
            "entry",
            "measured_size",
            "skl_info",
            "bootloader_data",
            "uuid",
            "version",
            "banks",
        ],
    );
    assert_eq!(j["file"], f.as_str());
    assert_eq!(j["generation"], "qubes-4.2.3");
    assert_eq!(j["file_size"], 0x80);
    assert_eq!(j["total_size"], 0x80);
    assert_eq!(j["entry"], 0x40);
    assert_eq!(j["measured_size"], 0x80);
    assert_eq!(j["skl_info"], 8);
    assert_eq!(j["bootloader_data"], 0x80);
    assert_eq!(j["uuid"], "78f1268e-0492-11e9-832a-c85b76c4cc02");
    assert_eq!(j["version"], 3);
    assert_keys(&j["banks"], &["sha1", "sha256", "sha384", "sha512"]);
    for (alg, name) in [(H::S1, "sha1"), (H::S256, "sha256"), (H::S384, "sha384"), (H::S512, "sha512")] {
        let b = &j["banks"][name];
        assert_keys(b, &["measured_digest", "pcr17_after_skinit"]);
        assert_eq!(b["measured_digest"], hex(&h(alg, measured)), "{name}");
        assert_eq!(b["pcr17_after_skinit"], hex(&ext(alg, &zero(alg), measured)), "{name}");
    }
}

/// A two-stage AMD SL image: stage 1 = 0x100 measured bytes carrying the
/// stage-2 record ("SKLstg2\0" + SHA-256) at 0x80, stage 2 = 0x40 bytes.
fn two_stage_bin() -> Vec<u8> {
    use skl_bootinfo::sl_header::{AMD_SL_GUID, SOC_FLAGS};
    let mut f: Vec<u8> = (0..0x140u32).map(|i| (i as u8) ^ 0xa5).collect();
    f[0..2].copy_from_slice(&0x60u16.to_le_bytes());
    f[2..4].copy_from_slice(&0x100u16.to_le_bytes());
    f[4..0x14].copy_from_slice(&AMD_SL_GUID);
    f[0x14..0x18].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
    f[0x18..0x1C].copy_from_slice(&0x140u32.to_le_bytes());
    f[0x1C..0x1E].copy_from_slice(&0x1Eu16.to_le_bytes());
    f[0x1E..0x22].copy_from_slice(&8u32.to_le_bytes());
    for (i, v) in SOC_FLAGS.iter().enumerate() {
        f[0x22 + 4 * i..0x26 + 4 * i].copy_from_slice(&v.to_le_bytes());
    }
    f[0x42..0x44].copy_from_slice(&0x46u16.to_le_bytes());
    f[0x44..0x46].copy_from_slice(&0x140u16.to_le_bytes());
    f[0x46..0x56].copy_from_slice(&SKL_UUID);
    f[0x56..0x5A].copy_from_slice(&0u32.to_le_bytes());
    f[0x80..0x88].copy_from_slice(b"SKLstg2\0");
    let d = h(H::S256, &f[0x100..]);
    f[0x88..0xA8].copy_from_slice(&d);
    f
}

/// The two-stage image: `info` names stage 2 and says stage 1 carries its
/// digest, PCR 17 after SKINIT covers stage 1 only; with one byte of
/// stage 2 changed it says the launch stops (0x2010) and `predict` refuses.
#[test]
fn two_stage_image_stage2_is_shown_and_checked() {
    let good = two_stage_bin();
    let f = tmp("two-stage.bin", &good);
    let r = tool(&["info", &f]);
    assert_eq!(r.code, 0, "{}", r.err);
    let l = line_with(&r.out, "  stage 2 ");
    assert!(
        l.contains(&format!("64 bytes at 0x0100, SHA-256 {} (carried by stage 1)", hex(&h(H::S256, &good[0x100..])))),
        "{l}"
    );
    let l = line_with(&r.out, "  sha256 PCR 17");
    assert!(l.contains(&hex(&ext(H::S256, &zero(H::S256), &good[..0x100]))), "{l}");
    let j = json(&tool(&["info", "--json", &f]));
    assert_eq!(j["stage2"]["offset"], 0x100, "{j}");
    assert_eq!(j["stage2"]["size"], 0x40, "{j}");
    assert_eq!(j["stage2"]["checked_by_stage1"], true, "{j}");

    let mut bad = good.clone();
    bad[0x13f] ^= 1;
    let f = tmp("two-stage-changed.bin", &bad);
    let r = tool(&["info", &f]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(line_with(&r.out, "  stage 2 ").contains("NOT carried by stage 1: SKL stops with 0x2010"), "{}", r.out);
    assert_eq!(json(&tool(&["info", "--json", &f]))["stage2"]["checked_by_stage1"], false);
    let k = tmp("two-stage-kernel.elf", &kernel_elf32());
    let r = tool(&["predict", "--skl", &f, "--kernel", &k]);
    assert_eq!(r.code, 2, "{}\n{}", r.out, r.err);
    assert!(r.err.contains("stops with 0x2010"), "{}", r.err);
}

#[test]
fn info_rejects_a_bad_header_naming_file_and_field() {
    let mut bad = skl_bin();
    bad[2] = 0x90; // measured_size beyond the file
    let f = tmp("bad-measured.bin", &bad);
    let r = tool(&["info", &f]);
    assert_eq!(r.code, 2);
    assert_eq!(r.err.lines().count(), 1, "{}", r.err);
    assert!(r.err.contains("bad-measured.bin") && r.err.contains("measured_size"), "{}", r.err);

    let mut bad = skl_bin();
    bad[12] ^= 0xff;
    let f = tmp("bad-uuid.bin", &bad);
    let r = tool(&["info", &f]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("bad-uuid.bin") && r.err.contains("skl_info.uuid"), "{}", r.err);

    let r = tool(&["info", "/nonexistent/skl.bin"]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("/nonexistent/skl.bin"), "{}", r.err);
}

// --------------------------------------------------------------- predict

#[test]
fn predict_elf32_matches_a_hand_computation() {
    let s = tmp("p-skl.bin", &skl_bin());
    let k = tmp("p-kernel32.elf", &kernel_elf32());
    let r = tool(&["predict", "--skl", &s, "--kernel", &k]);
    assert_eq!(r.code, 0, "{}", r.err);
    for (alg, name) in [(H::S1, "sha1"), (H::S256, "sha256")] {
        let want = pcr17(alg, &skl_bin()[..0x80], 0x60, &elf32_dlme(), &[]);
        assert!(r.out.contains(&format!("{name:<6} PCR 17: {}\n", hex(&want))), "{}", r.out);
        assert!(r.out.contains(&format!("{name:<6} PCR 18: runtime (depends on the MBI)\n")), "{}", r.out);
    }
    assert!(r.out.contains("DLME      384 bytes, entry offset 0x60"), "{}", r.out);
    assert!(r.out.contains("mode      dlme"), "{}", r.out);
    assert!(!r.out.contains("sha384"), "default banks are sha1,sha256: {}", r.out);

    let r = tool(&["predict", "--skl", &s, "--kernel", &k, "--banks", "sha256", "--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out.lines().count(), 1);
    let j = json(&r);
    let want = pcr17(H::S256, &skl_bin()[..0x80], 0x60, &elf32_dlme(), &[]);
    assert_eq!(j["pcrs"][0], serde_json::json!({"bank": "sha256", "pcr": 17, "value": hex(&want)}), "{j}");
    assert_eq!(
        j["pcrs"][1],
        serde_json::json!({"bank": "sha256", "pcr": 18, "value": null, "runtime": "depends on the MBI"}),
        "{j}"
    );
    assert_eq!((&j["mode"], &j["entry_offset"]), (&"dlme".into(), &96.into()), "{j}");
}

#[test]
fn predict_json_has_every_key_with_its_value() {
    let s = tmp("pj-skl.bin", &skl_bin());
    let k = tmp("pj-kernel32.elf", &kernel_elf32());
    let m = tmp("pj-module.gz", b"\x1f\x8b gzip");
    let r = tool(&["predict", "--skl", &s, "--kernel", &k, "--module", &m, "--banks", "sha256,sha1", "--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let j = json(&r);
    assert_keys(&j, &["mode", "skl_measured_size", "kernel", "entry_offset", "dlme_size", "events", "pcrs", "notes"]);
    assert_eq!(j["mode"], "dlme");
    assert_eq!(j["skl_measured_size"], 0x80);
    assert_eq!(j["kernel"], serde_json::json!({"source": "ELF32", "load_base": 0x100_0000, "mle_header_offset": 0x10}));
    assert_keys(&j["kernel"], &["source", "load_base", "mle_header_offset"]);
    assert_eq!(j["entry_offset"], 0x60);
    assert_eq!(j["dlme_size"], elf32_dlme().len());
    // SKINIT's measurement, SKL's two, then the kernel's of the module.
    let measured = &skl_bin()[..0x80];
    let entry = 0x60u32.to_le_bytes();
    let data: [&[u8]; 4] = [measured, &entry, &elf32_dlme(), b"\x1f\x8b gzip"];
    let events = j["events"].as_array().unwrap();
    assert_eq!(events.len(), data.len(), "{j}");
    for (e, (d, by)) in events.iter().zip(data.iter().zip(["skinit", "skl", "skl", "kernel"])) {
        assert_keys(e, &["pcr", "event", "by", "digests"]);
        assert_eq!((&e["pcr"], &e["by"]), (&17.into(), &by.into()), "{e}");
        assert!(e["event"].as_str().is_some_and(|t| !t.is_empty()), "{e}");
        assert_keys(&e["digests"], &["sha256", "sha1"]);
        assert_eq!(e["digests"]["sha256"], hex(&h(H::S256, d)), "{e}");
        assert_eq!(e["digests"]["sha1"], hex(&h(H::S1, d)), "{e}");
    }
    let mods: [&[u8]; 1] = [b"\x1f\x8b gzip"];
    let pcrs = j["pcrs"].as_array().unwrap();
    let want = |alg| hex(&pcr17(alg, measured, 0x60, &elf32_dlme(), &mods));
    assert_eq!(pcrs[0], serde_json::json!({"bank": "sha256", "pcr": 17, "value": want(H::S256)}));
    assert_eq!(pcrs[2], serde_json::json!({"bank": "sha1", "pcr": 17, "value": want(H::S1)}));
    for p in [&pcrs[1], &pcrs[3]] {
        assert_keys(p, &["bank", "pcr", "value", "runtime"]);
        assert_eq!(
            (&p["pcr"], &p["value"], &p["runtime"]),
            (&18.into(), &serde_json::Value::Null, &"depends on the MBI".into())
        );
    }
    let notes = j["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{j}");
    assert!(notes[0].as_str().unwrap().contains("gzip-compressed"), "{j}");
}

#[test]
fn predict_elf64_with_two_segments_and_every_bank() {
    let s = tmp("p64-skl.bin", &skl_bin());
    let k = tmp("p-kernel64.elf", &kernel_elf64());
    let r = tool(&["predict", "--skl", &s, "--kernel", &k, "--banks", "sha1,sha256,sha384,sha512"]);
    assert_eq!(r.code, 0, "{}", r.err);
    for (alg, name) in [(H::S1, "sha1"), (H::S256, "sha256"), (H::S384, "sha384"), (H::S512, "sha512")] {
        let want = pcr17(alg, &skl_bin()[..0x80], 0x30, &elf64_dlme(), &[]);
        assert!(r.out.contains(&format!("{name:<6} PCR 17: {}\n", hex(&want))), "{name}: {}", r.out);
    }
    assert!(r.out.contains("ELF64, load base 0x200000, MLE header at 0x10"), "{}", r.out);
}

#[test]
fn dlme_given_directly_or_as_a_raw_image_gives_the_same_values() {
    let s = tmp("d-skl.bin", &skl_bin());
    let k = tmp("d-kernel.elf", &kernel_elf32());
    let d = tmp("d-dlme.bin", &elf32_dlme());
    let mut loaded = vec![0u8; 0x200];
    loaded[..0x100].copy_from_slice(&kernel_elf32()[0x54..0x154]);
    let raw = tmp("d-loaded.img", &loaded);
    let pcr_lines = |out: &str| out.lines().filter(|l| l.contains(" PCR ")).map(String::from).collect::<Vec<_>>();
    let a = tool(&["predict", "--skl", &s, "--kernel", &k]);
    let b = tool(&["predict", "--skl", &s, "--dlme", &d, "--entry-offset", "0x60"]);
    let c = tool(&["predict", "--skl", &s, "--kernel", &raw, "--dlme-raw"]);
    assert_eq!((a.code, b.code, c.code), (0, 0, 0), "{}{}{}", a.err, b.err, c.err);
    assert_eq!(pcr_lines(&a.out), pcr_lines(&b.out));
    assert_eq!(pcr_lines(&a.out), pcr_lines(&c.out));
    // The raw image is not an ELF: without --dlme-raw it is refused.
    let r = tool(&["predict", "--skl", &s, "--kernel", &raw]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("d-loaded.img") && r.err.contains("--dlme-raw"), "{}", r.err);
    // --dlme without --entry-offset, or with one outside the DLME.
    assert_eq!(tool(&["predict", "--skl", &s, "--dlme", &d]).code, 2);
    let r = tool(&["predict", "--skl", &s, "--dlme", &d, "--entry-offset", "384"]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("--entry-offset 0x180"), "{}", r.err);
    // No kernel at all.
    assert_eq!(tool(&["predict", "--skl", &s]).code, 2);
}

#[test]
fn predict_modules_mbi_and_tpm12() {
    let s = tmp("m-skl.bin", &skl_bin());
    let k = tmp("m-kernel.elf", &kernel_elf32());
    let m1 = tmp("m-vmlinuz", b"dom0 kernel");
    let m2 = tmp("m-initrd", b"initramfs");
    let mbi = tmp("m-mbi.bin", b"\x10\0\0\0\0\0\0\0\0\0\0\0\x08\0\0\0");
    let r = tool(&["predict", "--skl", &s, "--kernel", &k, "--module", &m1, "--module", &m2, "--pcr18-mbi", &mbi]);
    assert_eq!(r.code, 0, "{}", r.err);
    let want17 = pcr17(H::S256, &skl_bin()[..0x80], 0x60, &elf32_dlme(), &[b"dom0 kernel", b"initramfs"]);
    let want18 = ext(H::S256, &zero(H::S256), b"\x10\0\0\0\0\0\0\0\0\0\0\0\x08\0\0\0");
    assert!(r.out.contains(&format!("sha256 PCR 17: {}\n", hex(&want17))), "{}", r.out);
    assert!(r.out.contains(&format!("sha256 PCR 18: {}\n", hex(&want18))), "{}", r.out);

    let r = tool(&["predict", "--skl", &s, "--kernel", &k, "--tpm", "1.2"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let want = pcr17(H::S1, &skl_bin()[..0x80], 0x60, &elf32_dlme(), &[]);
    assert!(r.out.contains(&format!("sha1   PCR 17: {}\n", hex(&want))), "{}", r.out);
    assert!(!r.out.contains("sha256"), "TPM 1.2 is SHA-1 only: {}", r.out);
    let r = tool(&["predict", "--skl", &s, "--kernel", &k, "--tpm", "1.2", "--banks", "sha256"]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("sha1 bank only"), "{}", r.err);
    let r = tool(&["predict", "--skl", &s, "--kernel", &k, "--banks", "md5"]);
    assert_eq!(r.code, 2);
}

#[test]
fn predict_refuses_compressed_and_broken_kernels() {
    let s = tmp("c-skl.bin", &skl_bin());
    let gz = tmp("xen.gz", &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    let r = tool(&["predict", "--skl", &s, "--kernel", &gz]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("xen.gz") && r.err.contains("zcat"), "{}", r.err);
    // The MLE header says mle_end beyond the loaded image.
    let mut e = kernel_elf32();
    e[0x54 + 0x10 + 36..0x54 + 0x10 + 40].copy_from_slice(&0x1000u32.to_le_bytes());
    let k = tmp("c-mle-end.elf", &e);
    let r = tool(&["predict", "--skl", &s, "--kernel", &k]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("c-mle-end.elf") && r.err.contains("mle_end"), "{}", r.err);
    assert_eq!(r.err.lines().count(), 1);
}

// -------------------------------------------------------------- eventlog

#[test]
fn tpm2_log_round_trip_show_replay() {
    let log = tpm2_log(&elf32_dlme());
    let f = tmp("rt-tpm2.log", &log);
    let r = tool(&["eventlog", "show", &f]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r
        .out
        .starts_with(&format!("{f}: TPM 2.0 (TCG crypto-agile) DRTM log at offset 0x0, banks sha1 sha256, 5 events")));
    assert!(r.out.contains("PCR 17 EV_SLAUNCH (0x502) \"SKINIT\""), "{}", r.out);
    assert!(r.out.contains("EV_NO_ACTION"), "{}", r.out);
    assert!(r.out.contains(&format!("sha256 {}", hex(&h(H::S256, &elf32_dlme())))), "{}", r.out);

    let r = tool(&["eventlog", "replay", &f]);
    assert_eq!(r.code, 0, "{}", r.err);
    for (alg, name) in [(H::S1, "sha1"), (H::S256, "sha256")] {
        // EV_NO_ACTION is not extended.
        let want = pcr17(alg, &skl_bin()[..0x80], 0x60, &elf32_dlme(), &[b"module one"]);
        assert!(r.out.contains(&format!("{name:<6} PCR 17: {}\n", hex(&want))), "{}", r.out);
    }
    // The replay equals the prediction with the same module.
    let s = tmp("rt-skl.bin", &skl_bin());
    let k = tmp("rt-kernel.elf", &kernel_elf32());
    let m = tmp("rt-module", b"module one");
    let p = tool(&["predict", "--skl", &s, "--kernel", &k, "--module", &m]);
    assert_eq!(line_with(&p.out, "sha256 PCR 17"), line_with(&r.out, "sha256 PCR 17"));
    assert_eq!(line_with(&p.out, "sha1   PCR 17"), line_with(&r.out, "sha1   PCR 17"));
}

#[test]
fn tpm12_log_round_trip() {
    let f = tmp("rt-tpm12.log", &tpm12_log());
    let r = tool(&["eventlog", "replay", &f]);
    assert_eq!(r.code, 0, "{}", r.err);
    let want = pcr17(H::S1, &skl_bin()[..0x80], 0x60, &elf32_dlme(), &[]);
    assert_eq!(r.out, format!("sha1   PCR 17: {}\n", hex(&want)));
    let r = tool(&["eventlog", "show", "--format", "tpm12", &f]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("TPM 1.2 (TXT event container)") && r.out.contains("\"DLME entry offset\""), "{}", r.out);
    let s = tmp("rt12-skl.bin", &skl_bin());
    let k = tmp("rt12-kernel.elf", &kernel_elf32());
    let r = tool(&["eventlog", "verify", &f, "--skl", &s, "--kernel", &k, "--pcr", &format!("sha1:17={}", hex(&want))]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    // The wrong format forced: a parse error, exit 2.
    assert_eq!(tool(&["eventlog", "show", "--format", "tpm20", &f]).code, 2);
}

#[test]
fn verify_exit_codes_and_explanations() {
    let log = tpm2_log(&elf32_dlme());
    let f = tmp("v-tpm2.log", &log);
    let full = pcr17(H::S256, &skl_bin()[..0x80], 0x60, &elf32_dlme(), &[b"module one"]);
    let good = format!("sha256:17={}", hex(&full));

    let r = tool(&["eventlog", "verify", &f, "--pcr", &good]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("sha256 PCR 17: ok") && r.out.ends_with("result: ok\n"), "{}", r.out);

    // A value missing the last extend: named as logged but not in the PCR.
    let partial = pcr17(H::S256, &skl_bin()[..0x80], 0x60, &elf32_dlme(), &[]);
    let r = tool(&["eventlog", "verify", &f, "--pcr", &format!("sha256:17={}", hex(&partial))]);
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(r.out.contains("sha256 PCR 17: MISMATCH"), "{}", r.out);
    assert!(
        r.out.contains(
            "events extending it: #0 \"SKINIT\", #1 \"DLME entry offset\", #2 \"DLME\", #4 \"Measured MB2 module\""
        ),
        "{}",
        r.out
    );
    assert!(r.out.contains("the replay through event #2 \"DLME\""), "{}", r.out);
    assert!(r.out.ends_with("result: MISMATCH\n"));

    // tpm2_pcrread output, with a PCR 13 line that is skipped.
    let text = format!("  sha256:\n    13: 0x{}\n    17: 0x{}\n", "AB".repeat(32), hex(&full).to_uppercase());
    let p = tmp("v-pcrs.txt", text.as_bytes());
    let r = tool(&["eventlog", "verify", &f, "--pcrs", &p]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("sha256 PCR 13: skipped"), "{}", r.out);

    // Against the prediction: the log of a different kernel.
    let s = tmp("v-skl.bin", &skl_bin());
    let k = tmp("v-kernel.elf", &kernel_elf32());
    let m = tmp("v-module", b"module one");
    let r = tool(&["eventlog", "verify", &f, "--skl", &s, "--kernel", &k, "--module", &m]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("prediction: the 4 predicted events match the log"), "{}", r.out);
    let mut other = elf32_dlme();
    other[0x100] ^= 1;
    let tampered = tmp("v-tampered.log", &tpm2_log(&other));
    let r = tool(&["eventlog", "verify", &tampered, "--skl", &s, "--kernel", &k, "--pcr", &good]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(r.out.contains("prediction: MISMATCH at event #2 \"DLME\" (PCR 17, predicted \"DLME\")"), "{}", r.out);
    assert!(r.out.contains(&format!("sha1 digest {} in the log", hex(&h(H::S1, &other)))), "{}", r.out);
    // Without --module: the module event is beyond the prediction, a note.
    let r = tool(&["eventlog", "verify", &f, "--skl", &s, "--kernel", &k]);
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(r.out.contains("note: PCR 17: event #4 is beyond the prediction"), "{}", r.out);

    // A RAM dump with the log at an offset; the offset appears in `show`.
    let mut dump = vec![0xEEu8; 0x1000];
    dump.extend_from_slice(&log);
    let d = tmp("v-dump.bin", &dump);
    assert_eq!(tool(&["eventlog", "verify", &d, "--offset", "0x1000", "--pcr", &good]).code, 0);
    assert!(tool(&["eventlog", "show", &d, "--offset", "4096"]).out.contains("#0   @0x1059 PCR 17"));

    // Usage errors: exit 2, one line on stderr.
    for args in [
        vec!["eventlog", "verify", &f],
        vec!["eventlog", "verify", &f, "--pcr", "sha256:17=00"],
        vec!["eventlog", "verify", &f, "--pcr", "sha256=00"],
        vec!["eventlog", "verify", &f, "--skl", &s],
        vec!["eventlog", "verify", &d, "--offset", "0x100000", "--pcr", &good],
        vec!["eventlog", "verify", &f, "--pcrs", "/nonexistent/pcrs.txt"],
    ] {
        let r = tool(&args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.out, r.err);
        assert_eq!(r.err.lines().count(), 1, "{args:?}: {}", r.err);
    }
}

#[test]
fn log_errors_name_the_file_and_offset() {
    let f = tmp("junk.log", b"not a log at all, not a log at all, not a log at all");
    let r = tool(&["eventlog", "show", &f]);
    assert_eq!(r.code, 2);
    assert_eq!(r.err.lines().count(), 1, "{}", r.err);
    assert!(r.err.contains("junk.log") && r.err.contains("offset 0x20"), "{}", r.err);

    // The DLME event's eventSize made too large: named by offset and field.
    let mut log = tpm2_log(&elf32_dlme());
    let next = u32::from_le_bytes(log[85..89].try_into().unwrap()) as usize;
    // Event #0 starts at 89; walk to #2 by hand: 12 + 2+20 + 2+32 + 4 + len each.
    let mut o = 89;
    for _ in 0..2 {
        let len = u32::from_le_bytes(log[o + 68..o + 72].try_into().unwrap()) as usize;
        o += 72 + len;
    }
    log[o + 68..o + 72].copy_from_slice(&(next as u32).to_le_bytes());
    let f = tmp("long-event.log", &log);
    let r = tool(&["eventlog", "replay", &f]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("long-event.log") && r.err.contains(&format!("event #2 at offset {o:#x}")), "{}", r.err);
    assert!(r.err.contains("eventSize"), "{}", r.err);
}

/// Malformed logs — every truncation, every bit flip of the header and first
/// events, random bytes — give an error (exit 2) or a replay, never a panic.
#[test]
fn malformed_logs_never_panic() {
    use skl_tool::log::{detect, read, replay, Format};
    let logs = [tpm2_log(&elf32_dlme()), tpm12_log()];
    for log in &logs {
        let used = 400.min(log.len());
        for n in 0..=used {
            let b = &log[..n];
            if let Ok(f) = detect(b) {
                let _ = read(b, f).map(|e| replay(&e));
            }
        }
        for bit in 0..used * 8 {
            let mut b = log.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            for f in [Format::Tpm20, Format::Tpm12] {
                let _ = read(&b, f).map(|e| replay(&e));
            }
        }
    }
    // Random bytes, with and without a valid header in front.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..2000 {
        let n = (rnd() % 600) as usize;
        let mut b: Vec<u8> = (0..n).map(|_| rnd() as u8).collect();
        if i % 2 == 0 {
            let log = &logs[i % 4 / 2];
            let keep = (rnd() as usize % log.len()).min(b.len());
            b[..keep].copy_from_slice(&log[..keep]);
        }
        for f in [Format::Tpm20, Format::Tpm12] {
            let _ = read(&b, f).map(|e| replay(&e));
        }
    }
    // The binary too, on a sample of truncations and flips: exit 0 or 2.
    let log = &logs[0];
    for (i, n) in (0..300).step_by(13).enumerate() {
        let mut b = log[..n.max(1)].to_vec();
        if i % 2 == 1 {
            let bit = (n * 29) % (b.len() * 8);
            b[bit / 8] ^= 1 << (bit % 8);
        }
        let f = tmp("fuzz.log", &b);
        for cmd in ["show", "replay"] {
            let r = tool(&["eventlog", cmd, &f]);
            assert!(r.code == 0 || r.code == 2, "{cmd} on {n} bytes: exit {} {}", r.code, r.err);
            if r.code == 2 {
                assert_eq!(r.err.lines().count(), 1, "{}", r.err);
            }
        }
    }
}

// ------------------------------------------------------------------ help

#[test]
fn help_has_examples_and_exit_codes() {
    let r = tool(&["--help"]);
    assert_eq!(r.code, 0);
    for want in
        ["skl-tool info", "skl-tool predict", "skl-tool eventlog show", "skl-tool eventlog verify", "Exit codes"]
    {
        assert!(r.out.contains(want), "{want}: {}", r.out);
    }
    for sub in
        [&["info", "--help"][..], &["predict", "--help"], &["eventlog", "--help"], &["eventlog", "show", "--help"]]
            .into_iter()
            .chain([&["eventlog", "replay", "--help"][..], &["eventlog", "verify", "--help"]])
    {
        let r = tool(sub);
        assert_eq!(r.code, 0);
        assert!(r.out.contains("Examples:"), "{sub:?}: {}", r.out);
    }
    assert!(tool(&["eventlog", "verify", "--help"]).out.contains("1  a value or an event differs"));
    assert_eq!(tool(&["bogus"]).code, 2);
}

/// A Multiboot2 information block with one command line and the given
/// memory map (base, length, type), built from the Multiboot2 spec §3.6.
fn mbi_with_map(map: &[(u64, u64, u32)]) -> Vec<u8> {
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
    let mut mm = 24u32.to_le_bytes().to_vec();
    mm.extend_from_slice(&0u32.to_le_bytes());
    for &(base, len, typ) in map {
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

/// GRUB-B's AMD SLRT: DL_INFO (SLB, MBI), LOG_INFO, policy MBI / SLRT /
/// one module, END (layout: the Secure Launch specification).
fn mb2_slrt(slb: u64, mbi_at: u64, mbi_len: u64, log: (u64, u32), module: (u64, u64)) -> Vec<u8> {
    let mut t = vec![];
    let p16 = |t: &mut Vec<u8>, v: u16| t.extend_from_slice(&v.to_le_bytes());
    let p32 = |t: &mut Vec<u8>, v: u32| t.extend_from_slice(&v.to_le_bytes());
    let p64 = |t: &mut Vec<u8>, v: u64| t.extend_from_slice(&v.to_le_bytes());
    p32(&mut t, 0x4452_544D);
    p16(&mut t, 1);
    p16(&mut t, 2);
    p32(&mut t, 0); // size, below
    p32(&mut t, 4096);
    p32(&mut t, 1);
    p32(&mut t, 72);
    for v in [0x80, slb, 0x180, 0x100_0000, 0x60] {
        p64(&mut t, v);
    }
    p16(&mut t, 1);
    t.extend_from_slice(&[0; 6]);
    p64(&mut t, mbi_at);
    p64(&mut t, 0);
    p32(&mut t, 2);
    p32(&mut t, 24);
    p16(&mut t, 2);
    p16(&mut t, 0);
    p32(&mut t, log.1);
    p64(&mut t, log.0);
    p32(&mut t, 3);
    p32(&mut t, 16 + 56 * 3);
    t.extend_from_slice(&[0; 4]);
    p16(&mut t, 1);
    p16(&mut t, 3);
    for (pcr, typ, flags, size, entity, text) in [
        (18u16, 7u16, 0u16, mbi_len, mbi_at, &b"Measured MB2 information"[..]),
        (18, 1, 2, 0, slb + 0x80, b"Measured SLR Table"),
        (17, 8, 0, module.1, module.0, b"Measured MB2 module"),
    ] {
        p16(&mut t, pcr);
        p16(&mut t, typ);
        p16(&mut t, flags);
        p16(&mut t, 0);
        p64(&mut t, size);
        p64(&mut t, entity);
        let mut e = [0u8; 32];
        e[..text.len()].copy_from_slice(text);
        t.extend_from_slice(&e);
    }
    p32(&mut t, 0xFFFF);
    p32(&mut t, 8);
    let n = t.len() as u32;
    t[8..12].copy_from_slice(&n.to_le_bytes());
    t
}

#[test]
fn predict_multiboot2_mode_pcr18_from_mbi_and_slrt() {
    let slb = 0x200_0000u64;
    let log = (0x90_0000u64, 0x8000u32);
    let mbi = mbi_with_map(&[(0, 0x9_F000, 1), (0x10_0000, 0x3FF0_0000, 1)]);
    let slrt = mb2_slrt(slb, 0x80_0000, mbi.len() as u64, log, (0xA0_0000, 11));
    // The map SKL hands the kernel, written out by hand.
    let mbi_kernel = mbi_with_map(&[
        (0, 0x9_F000, 1),
        (0x10_0000, 0x80_0000, 1),
        (0x90_0000, 0x8000, 2),
        (0x90_8000, slb - 0x90_8000, 1),
        (slb, 0x1_0000, 2),
        (slb + 0x1_0000, 0x4000_0000 - slb - 0x1_0000, 1),
    ]);
    let mut plain = kernel_elf32();
    let uuid = [0x5a, 0xac, 0x82, 0x90, 0x6f, 0x47, 0xa7, 0x74, 0x0f, 0x5c, 0x55, 0xa2, 0xcb, 0x51, 0xb6, 0x42];
    let mle = plain.windows(16).position(|w| w == uuid).expect("the test kernel has an MLE header");
    plain[mle..mle + 16].fill(0);
    let (s, k) = (tmp("mb2-skl.bin", &skl_bin()), tmp("mb2-kernel.elf", &plain));
    let (m, t, md) = (tmp("mb2-mbi.bin", &mbi), tmp("mb2-slrt.bin", &slrt), tmp("mb2-mod", b"dom0 kernel"));
    let r = tool(&["predict", "--skl", &s, "--kernel", &k, "--module", &md, "--pcr18-mbi", &m, "--slrt", &t]);
    assert_eq!(r.code, 0, "{}", r.err);
    let want18 = ext(H::S256, &ext(H::S256, &zero(H::S256), &mbi_kernel), &slrt);
    assert!(r.out.contains(&format!("sha256 PCR 18: {}\n", hex(&want18))), "{}", r.out);
    // Without the SLRT, PCR 18 stays a run-time value.
    let r = tool(&["predict", "--skl", &s, "--kernel", &k, "--module", &md, "--pcr18-mbi", &m]);
    assert!(r.out.contains("sha256 PCR 18: runtime (depends on the MBI and the SLRT)"), "{}", r.out);
}
