//! `skl-tool psp sign|verify` as the user runs them, against keys made here
//! by openssl and checked by openssl: the signature over the measured part
//! and the `$AS1` header is RSA-PSS, SHA-384, salt 48, stored
//! little-endian; the key token holds the key's modulus little-endian.

mod common;

use common::{scratch_dir, scratch_file, tool, Run};
use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    scratch_dir("psp")
}

fn file(name: &str, bytes: &[u8]) -> String {
    scratch_file("psp", name, bytes)
}

fn openssl(args: &[&str]) -> String {
    let o = Command::new("openssl").args(args).output().expect("openssl (make setup installs it)");
    assert!(o.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A fresh RSA key of `bits` in PKCS#8 PEM; never committed.
fn key(name: &str, bits: u32) -> String {
    let p = dir().join(name).to_string_lossy().into_owned();
    if !Path::new(&p).exists() {
        openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", &format!("rsa_keygen_bits:{bits}"), "-out", &p]);
    }
    p
}

fn pubkey(private: &str) -> String {
    let p = format!("{private}.pub");
    openssl(&["pkey", "-in", private, "-pubout", "-out", &p]);
    p
}

const MEASURED: usize = 0x1000;

/// An SLB image with the 8-byte header (skl.bin's) of `measured` bytes.
fn image(measured: usize) -> Vec<u8> {
    let mut b: Vec<u8> = (0..measured).map(|i| (i * 31 + 7) as u8).collect();
    b[0..2].copy_from_slice(&0x40u16.to_le_bytes());
    b[2..4].copy_from_slice(&(measured as u16).to_le_bytes());
    b
}

/// The same with the 68-byte AMD SL header, total length `total`.
fn amd_image(total: u32) -> Vec<u8> {
    let mut b = image(MEASURED);
    b[4..20].copy_from_slice(&[
        0xda, 0x75, 0xc4, 0x0e, 0xd0, 0xd3, 0x5d, 0x48, 0xb6, 0xae, 0x3c, 0xb2, 0x0f, 0xb7, 0xad, 0x3a,
    ]);
    b[0x14..0x18].copy_from_slice(&u32::MAX.to_le_bytes());
    b[0x18..0x1C].copy_from_slice(&total.to_le_bytes());
    b
}

fn le32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}

fn sign(img: &str, k: &str, out: &str) -> Run {
    tool(&["psp", "sign", "--key", k, img, "-o", out])
}

#[test]
fn signed_image_has_the_documented_layout_and_openssl_verifies_it() {
    let k = key("a.pem", 4096);
    let img = file("plain.bin", &image(MEASURED));
    let out = dir().join("plain.signed").to_string_lossy().into_owned();
    let r = sign(&img, &k, &out);
    assert_eq!(r.code, 0, "{}", r.err);
    let s = std::fs::read(&out).unwrap();
    assert_eq!(s.len(), MEASURED + 0x740);
    assert_eq!(&s[..MEASURED], &image(MEASURED)[..], "measured bytes unchanged");
    let h = &s[MEASURED..MEASURED + 0x100];
    assert_eq!(&h[0x10..0x14], b"$AS1");
    assert_eq!(le32(h, 0x14) as usize, MEASURED + 0x100, "signed size");
    assert_eq!(le32(h, 0x30), 1, "signed");
    assert_eq!(le32(h, 0x4C), 1, "security patch level");
    assert_eq!(le32(h, 0x60), 0x0200_0200, "image version");
    assert_eq!(le32(h, 0x6C) as usize, MEASURED + 0x300, "size with signature");
    let t = &s[MEASURED + 0x300..];
    assert_eq!((le32(t, 0), le32(t, 0x38), le32(t, 0x3C), le32(t, 0x40)), (2, 4096, 4096, 0x10001));
    assert_eq!(&t[4..0x14], &h[0x38..0x48], "key IDs agree");
    assert_eq!(&t[0x14..0x24], &h[0x38..0x48], "self-certified");
    // The modulus, little-endian, is openssl's.
    let modulus = openssl(&["pkey", "-in", &k, "-noout", "-text"]);
    let m_hex: String = modulus
        .split("modulus:")
        .nth(1)
        .unwrap()
        .split("publicExponent")
        .next()
        .unwrap()
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect();
    let m_be: Vec<u8> =
        (0..m_hex.len() / 2).map(|i| u8::from_str_radix(&m_hex[2 * i..2 * i + 2], 16).unwrap()).collect();
    let m_be = &m_be[m_be.len() - 0x200..]; // openssl prints a leading 00
    assert_eq!(t[0x240..0x440].iter().rev().copied().collect::<Vec<_>>(), m_be);

    // openssl verifies the signature, byte-reversed, over measured + $AS1.
    let data = file("signed-range.bin", &s[..MEASURED + 0x100]);
    let sig: Vec<u8> = s[MEASURED + 0x100..MEASURED + 0x300].iter().rev().copied().collect();
    let sig = file("sig.bin", &sig);
    let v = openssl(&[
        "dgst",
        "-sha384",
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:48",
        "-verify",
        &pubkey(&k),
        "-signature",
        &sig,
        &data,
    ]);
    assert!(v.contains("Verified OK"), "{v}");

    let r = tool(&["psp", "verify", &out]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("signature good"), "{}", r.out);
    let r = tool(&["psp", "verify", "--key", &pubkey(&k), &out]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    // Signing a signed image again replaces the area (PSS is randomised:
    // a new signature, the same header and token).
    let again = dir().join("again.signed").to_string_lossy().into_owned();
    assert_eq!(sign(&out, &k, &again).code, 0);
    let a = std::fs::read(&again).unwrap();
    assert_eq!(a.len(), s.len());
    assert_eq!(a[..MEASURED + 0x100], s[..MEASURED + 0x100]);
    assert_eq!(a[MEASURED + 0x300..], s[MEASURED + 0x300..]);
}

#[test]
fn a_signature_openssl_made_verifies_and_tampering_is_exit_1() {
    let k = key("b.pem", 4096);
    let img = file("b.bin", &image(MEASURED));
    let out = dir().join("b.signed").to_string_lossy().into_owned();
    assert_eq!(sign(&img, &k, &out).code, 0);
    let mut s = std::fs::read(&out).unwrap();
    // Replace our signature with openssl's over the same bytes.
    let data = file("b-range.bin", &s[..MEASURED + 0x100]);
    let sig = dir().join("b-sig.bin").to_string_lossy().into_owned();
    openssl(&[
        "dgst",
        "-sha384",
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:48",
        "-sign",
        &k,
        "-out",
        &sig,
        &data,
    ]);
    let theirs = std::fs::read(&sig).unwrap();
    s[MEASURED + 0x100..MEASURED + 0x300].copy_from_slice(&theirs.iter().rev().copied().collect::<Vec<_>>());
    let p = file("b-openssl.signed", &s);
    assert_eq!(tool(&["psp", "verify", &p]).code, 0);

    for (name, at) in [("code", 0x800), ("header", MEASURED + 0x60), ("signature", MEASURED + 0x180)] {
        let mut t = s.clone();
        t[at] ^= 0x01;
        let r = tool(&["psp", "verify", &file(&format!("b-{name}.bin"), &t)]);
        assert_eq!(r.code, 1, "{name}: {}{}", r.out, r.err);
    }
    // Another key's token with this signature, or another expected key.
    let other = key("c.pem", 4096);
    let r = tool(&["psp", "verify", "--key", &pubkey(&other), &p]);
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(r.out.contains("not the given key"), "{}", r.out);
}

#[test]
fn images_the_psp_would_refuse_are_not_signed() {
    let k = key("d.pem", 4096);
    let out = dir().join("d.signed").to_string_lossy().into_owned();
    // Measured length not a multiple of 16 (trenchboot-issues#79).
    let r = sign(&file("d-unaligned.bin", &image(0x1004)), &k, &out);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("multiple of 16"), "{}", r.err);
    // Bytes after the measured part that are not a signature area.
    let mut long = image(MEASURED);
    long.extend_from_slice(&[0; 0x20]);
    assert_eq!(sign(&file("d-long.bin", &long), &k, &out).code, 2);
    // A key that is not RSA-4096.
    let small = key("small.pem", 2048);
    let r = sign(&file("d.bin", &image(MEASURED)), &small, &out);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("4096"), "{}", r.err);
    // Not a key.
    assert_eq!(sign(&file("d2.bin", &image(MEASURED)), &file("nokey.pem", b"hello"), &out).code, 2);
    // Unsigned input to verify: bad input, not a mismatch.
    assert_eq!(tool(&["psp", "verify", &file("d3.bin", &image(MEASURED))]).code, 2);
}

#[test]
fn amd_sl_header_total_length_must_cover_the_signature_area() {
    let k = key("e.pem", 4096);
    let out = dir().join("e.signed").to_string_lossy().into_owned();
    let r = sign(&file("e-bad.bin", &amd_image(0xAAAA_5555)), &k, &out);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("total length"), "{}", r.err);
    let r = tool(&[
        "psp",
        "sign",
        "--key",
        &k,
        "--key-id",
        "93E543343B4146FF968AA24DF512029A",
        &file("e.bin", &amd_image((MEASURED + 0x740) as u32)),
        "-o",
        &out,
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    let r = tool(&["psp", "verify", &out]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("AMD SL header") && r.out.contains("93e543343b4146ff968aa24df512029a"), "{}", r.out);
}
