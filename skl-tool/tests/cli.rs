//! skl-tool against inputs built by hand in the test, expected values
//! computed here with the sha crates.

use std::process::Command;

use sha2::{Digest, Sha256};
use skl_bootinfo::event_log::{AlgSize, Tcg2Log, Tpm12Log, EV_SLAUNCH};

const SKL_UUID: [u8; 16] =
    [0x78, 0xf1, 0x26, 0x8e, 0x04, 0x92, 0x11, 0xe9, 0x83, 0x2a, 0xc8, 0x5b, 0x76, 0xc4, 0xcc, 0x02];
const MLE_UUID: [u8; 16] =
    [0x5a, 0xac, 0x82, 0x90, 0x6f, 0x47, 0xa7, 0x74, 0x0f, 0x5c, 0x55, 0xa2, 0xcb, 0x51, 0xb6, 0x42];

fn tool(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_skl-tool")).args(args).output().unwrap();
    (o.status.code().unwrap(), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
}

fn tmp(name: &str, bytes: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("skl-tool-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_string_lossy().into_owned()
}

/// A 256-byte SLB image: header, skl_info at 8, measured 0x80.
fn skl_bin() -> Vec<u8> {
    let mut f = vec![0x90u8; 0x100];
    f[0..8].copy_from_slice(&[0x40, 0, 0x80, 0, 8, 0, 0x80, 0]);
    f[8..24].copy_from_slice(&SKL_UUID);
    f[24..28].copy_from_slice(&[0; 4]);
    f.truncate(0x80);
    f
}

/// An ELF32 with one PT_LOAD at 16 MiB: 0x200 bytes, MLE header at 0x10
/// (entry_point 0x60, mle_end 0x180), memsz 0x200 (zero tail).
fn kernel_elf() -> Vec<u8> {
    let mut e = vec![0u8; 0x54 + 0x100];
    e[..4].copy_from_slice(b"\x7fELF");
    e[4] = 1; // ELFCLASS32
    e[5] = 1; // little-endian
    e[6] = 1;
    e[18] = 3; // EM_386
    e[24..28].copy_from_slice(&0x0100_0060u32.to_le_bytes()); // e_entry
    e[28..32].copy_from_slice(&0x34u32.to_le_bytes()); // e_phoff
    e[42..44].copy_from_slice(&32u16.to_le_bytes()); // e_phentsize
    e[44..46].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
    let ph = 0x34;
    e[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    e[ph + 4..ph + 8].copy_from_slice(&0x54u32.to_le_bytes()); // p_offset
    e[ph + 12..ph + 16].copy_from_slice(&0x0100_0000u32.to_le_bytes()); // p_paddr
    e[ph + 16..ph + 20].copy_from_slice(&0x100u32.to_le_bytes()); // p_filesz
    e[ph + 20..ph + 24].copy_from_slice(&0x200u32.to_le_bytes()); // p_memsz
    let img = 0x54;
    for i in 0..0x100 {
        e[img + i] = i as u8;
    }
    e[img + 0x10..img + 0x20].copy_from_slice(&MLE_UUID);
    e[img + 0x10 + 24..img + 0x10 + 28].copy_from_slice(&0x60u32.to_le_bytes()); // entry_point
    e[img + 0x10 + 32..img + 0x10 + 36].copy_from_slice(&0u32.to_le_bytes()); // mle_start
    e[img + 0x10 + 36..img + 0x10 + 40].copy_from_slice(&0x180u32.to_le_bytes()); // mle_end
    e
}

fn sha256(b: &[u8]) -> Vec<u8> {
    Sha256::digest(b).to_vec()
}
fn ext(old: &[u8], data: &[u8]) -> Vec<u8> {
    let mut b = old.to_vec();
    b.extend_from_slice(&sha256(data));
    sha256(&b)
}
fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn expected_dlme() -> Vec<u8> {
    let e = kernel_elf();
    let mut img = vec![0u8; 0x200];
    img[..0x100].copy_from_slice(&e[0x54..0x154]);
    img[..0x180].to_vec()
}

#[test]
fn info_prints_the_skinit_measurement() {
    let f = tmp("skl.bin", &skl_bin());
    let (code, out, _) = tool(&["info", &f]);
    assert_eq!(code, 0);
    let pcr17 = ext(&[0; 32], &skl_bin()[..0x80]);
    assert!(out.contains(&hex(&pcr17)), "{out}");
    assert!(out.contains("measured size     128 bytes"), "{out}");
}

#[test]
fn predict_matches_a_hand_computation() {
    let s = tmp("p-skl.bin", &skl_bin());
    let k = tmp("p-kernel.elf", &kernel_elf());
    let (code, out, err) = tool(&["predict", "--skl", &s, "--kernel", &k, "--banks", "sha256", "--json"]);
    assert_eq!(code, 0, "{err}");
    let want = ext(&ext(&ext(&[0; 32], &skl_bin()[..0x80]), &0x60u32.to_le_bytes()), &expected_dlme());
    assert!(out.contains(&format!("\"bank\": \"sha256\", \"pcr\": 17, \"value\": \"{}\"", hex(&want))), "{out}");
    assert!(out.contains("\"mode\": \"dlme\""), "{out}");
}

fn tpm2_log() -> (Vec<u8>, Vec<u8>) {
    let mut buf = vec![0u8; 1024];
    let mut log = Tcg2Log::init(&mut buf, 0x90_0000, &[AlgSize { alg: 0x000B, size: 32 }]).unwrap();
    let mut pcr = vec![0u8; 32];
    for data in [&b"one"[..], b"two"] {
        let d = sha256(data);
        log.append(17, EV_SLAUNCH, &[(0x000B, &d)], data).unwrap();
        pcr = ext(&pcr, data);
    }
    (buf, pcr)
}

#[test]
fn eventlog_show_replay_verify() {
    let (log, pcr) = tpm2_log();
    let f = tmp("tpm2.log", &log);
    let (code, out, _) = tool(&["eventlog", "show", &f]);
    assert_eq!(code, 0);
    assert!(out.contains("\"one\"") && out.contains("\"two\""), "{out}");
    let (code, out, _) = tool(&["eventlog", "replay", &f]);
    assert_eq!(code, 0);
    assert!(out.contains(&format!("sha256 PCR 17: {}", hex(&pcr))), "{out}");
    let good = format!("sha256:17={}", hex(&pcr));
    assert_eq!(tool(&["eventlog", "verify", &f, "--pcr", &good]).0, 0);
    let bad = format!("sha256:17={}", hex(&[0u8; 32]));
    let (code, out, _) = tool(&["eventlog", "verify", &f, "--pcr", &bad]);
    assert_eq!(code, 1, "a mismatch exits 1: {out}");
    assert!(out.contains("MISMATCH") && out.contains("#0 \"one\""), "{out}");
    // tpm2_pcrread output as input.
    let p = tmp("pcrs.txt", format!("  sha256:\n    17: 0x{}\n", hex(&pcr).to_uppercase()).as_bytes());
    assert_eq!(tool(&["eventlog", "verify", &f, "--pcrs", &p]).0, 0);
    // A RAM dump with the log at an offset.
    let mut dump = vec![0xEEu8; 0x1000];
    dump.extend_from_slice(&log);
    let d = tmp("dump.bin", &dump);
    assert_eq!(tool(&["eventlog", "verify", &d, "--offset", "0x1000", "--pcr", &good]).0, 0);
}

#[test]
fn tpm12_log_replays() {
    let mut buf = vec![0u8; 512];
    let mut log = Tpm12Log::init(&mut buf).unwrap();
    log.append(17, EV_SLAUNCH, &[7; 20], b"DLME").unwrap();
    let f = tmp("tpm12.log", &buf);
    let (code, out, _) = tool(&["eventlog", "replay", &f]);
    assert_eq!(code, 0);
    let want = {
        use sha1::Sha1;
        let mut b = vec![0u8; 20];
        b.extend_from_slice(&[7; 20]);
        Sha1::digest(&b).to_vec()
    };
    assert!(out.contains(&format!("sha1   PCR 17: {}", hex(&want))), "{out}");
}

#[test]
fn errors_are_one_line_with_the_file_and_exit_2() {
    let f = tmp("junk.log", b"not a log at all");
    let (code, _, err) = tool(&["eventlog", "show", &f]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("junk.log"), "{err}");
    let (code, _, err) = tool(&["info", "/nonexistent/skl.bin"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/skl.bin"), "{err}");
}

/// Malformed logs (every truncation, every single-bit flip of the header
/// and first event) give errors or partial replays, never a panic.
#[test]
fn malformed_logs_never_panic() {
    let (log, _) = tpm2_log();
    let used = 200;
    for n in 0..used {
        let b = &log[..n];
        if let Ok(f) = skl_tool::log::detect(b) {
            let _ = skl_tool::log::read(b, f).map(|e| skl_tool::log::replay(&e));
        }
    }
    for bit in 0..used * 8 {
        let mut b = log.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        for f in [skl_tool::log::Format::Tpm20, skl_tool::log::Format::Tpm12] {
            let _ = skl_tool::log::read(&b, f).map(|e| skl_tool::log::replay(&e));
        }
    }
}
