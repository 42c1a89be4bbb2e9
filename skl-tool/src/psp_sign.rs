//! The signature area the AMD PSP DRTM service checks before LAUNCH
//! (`docs/psp-drtm.md`, "The signed image"): after the measured part of the
//! SLB, whose length must be a multiple of 16, come
//!
//! | At | Size | What |
//! |---|---|---|
//! | measured | 0x100 | `$AS1` header: nonce, magic, signed size (= measured + 0x100), signature option 1, key ID, SPL 1, image version 0x02000200, size with signature (+ 0x200) |
//! | measured + 0x100 | 0x200 | RSA-4096 PSS signature, SHA-384, salt 48, over `[0, measured + 0x100)`, little-endian |
//! | measured + 0x300 | 0x440 | key token: 0x40-byte header (version 2, key ID twice, exponent and modulus sizes 4096), exponent in 0x200 bytes, modulus in 0x200 bytes, both little-endian |
//!
//! 0x740 bytes in all: the 68-byte AMD SL header's total length at 0x18 is
//! measured + 0x740. Host-only: none of this is in the payload.

use rsa::pss::{Signature, SigningKey, VerifyingKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, PrivateKey, PublicKey};
use sha2::{Digest, Sha256, Sha384};

pub const AS1_MAGIC: [u8; 4] = *b"$AS1";
pub const AS1_HEADER_LEN: usize = 0x100;
pub const SIGNATURE_LEN: usize = 0x200;
pub const KEY_TOKEN_LEN: usize = 0x440;
/// Everything appended after the measured part; skl-bootinfo owns the
/// value because it also tells the PSP image from a two-stage one.
pub const SIGNATURE_AREA: usize = skl_bootinfo::sl_header::PSP_SIGNATURE_AREA;
const _: () = assert!(SIGNATURE_AREA == AS1_HEADER_LEN + SIGNATURE_LEN + KEY_TOKEN_LEN);
pub const SALT_LEN: usize = 48;
pub const KEY_BITS: usize = 4096;
pub const IMAGE_VERSION: u32 = 0x0200_0200;
pub const SECURITY_PATCH_LEVEL: u32 = 1;
pub const KEY_TOKEN_VERSION: u32 = 2;
/// The AMD SL header's GUID at offset 4 (68-byte header only).
pub use skl_bootinfo::sl_header::AMD_SL_GUID;
/// Offset of the AMD SL header's total length.
pub const TOTAL_LEN_AT: usize = 0x18;

/// What a signed image says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    pub measured: usize,
    pub key_id: [u8; 16],
    /// SHA-256 of the key token's modulus as stored (little-endian).
    pub modulus_sha256: [u8; 32],
    /// The image has the 68-byte AMD SL header.
    pub amd_sl_header: bool,
}

fn le32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}

/// The measured length of an SLB image (header word 1) and whether it has
/// the 68-byte AMD SL header; checks what the PSP needs of both.
pub fn measured_part(image: &[u8]) -> Result<(usize, bool), String> {
    if image.len() < 4 {
        return Err("shorter than an SL header".into());
    }
    let measured = u16::from_le_bytes([image[2], image[3]]) as usize;
    if measured < 4 || measured > image.len() {
        return Err(format!("measured length {measured:#x} outside the file ({:#x} bytes)", image.len()));
    }
    if !measured.is_multiple_of(16) {
        return Err(format!(
            "measured length {measured:#x} is not a multiple of 16: the PSP rounds it up, SKINIT does not, and LAUNCH fails"
        ));
    }
    let amd = image.len() >= 0x46 && image[4..20] == AMD_SL_GUID;
    if amd {
        let total = le32(image, TOTAL_LEN_AT) as usize;
        if total != measured + SIGNATURE_AREA {
            return Err(format!(
                "AMD SL header total length {total:#x}, expected measured + 0x740 = {:#x}",
                measured + SIGNATURE_AREA
            ));
        }
    }
    Ok((measured, amd))
}

/// The key ID written when none is given: the first 16 bytes of SHA-256 of
/// the modulus as the key token stores it.
pub fn default_key_id(key: &PublicKey) -> [u8; 16] {
    let m = modulus_le(key);
    Sha256::digest(m).as_slice()[..16].try_into().unwrap()
}

fn modulus_le(key: &PublicKey) -> [u8; SIGNATURE_LEN] {
    let be = key.n_bytes();
    let mut m = [0u8; SIGNATURE_LEN];
    for (i, b) in be.iter().rev().enumerate().take(SIGNATURE_LEN) {
        m[i] = *b;
    }
    m
}

/// The `$AS1` header for a measured part of `measured` bytes.
pub fn as1_header(measured: usize, key_id: &[u8; 16]) -> [u8; AS1_HEADER_LEN] {
    let signed = (measured + AS1_HEADER_LEN) as u32;
    let mut h = [0u8; AS1_HEADER_LEN];
    // 0x00: nonce, zero (a signed image is reproducible from its inputs).
    h[0x10..0x14].copy_from_slice(&AS1_MAGIC);
    h[0x14..0x18].copy_from_slice(&signed.to_le_bytes());
    // 0x18..0x30: no encryption.
    // SigOption 1: signed. 0x34, SigAlgID: 0, as the reference image has it.
    h[0x30..0x34].copy_from_slice(&1u32.to_le_bytes());
    h[0x38..0x48].copy_from_slice(key_id);
    // 0x48: no compression.
    h[0x4C..0x50].copy_from_slice(&SECURITY_PATCH_LEVEL.to_le_bytes());
    h[0x60..0x64].copy_from_slice(&IMAGE_VERSION.to_le_bytes());
    h[0x6C..0x70].copy_from_slice(&(signed + SIGNATURE_LEN as u32).to_le_bytes());
    h
}

/// The public-key token of `key`.
pub fn key_token(key: &PublicKey, key_id: &[u8; 16]) -> Result<[u8; KEY_TOKEN_LEN], String> {
    let e_be = key.e_bytes();
    if e_be.len() > 4 {
        return Err("public exponent wider than 32 bits".into());
    }
    let mut e = [0u8; 4];
    e[4 - e_be.len()..].copy_from_slice(&e_be);
    let mut t = [0u8; KEY_TOKEN_LEN];
    t[0x00..0x04].copy_from_slice(&KEY_TOKEN_VERSION.to_le_bytes());
    t[0x04..0x14].copy_from_slice(key_id);
    t[0x14..0x24].copy_from_slice(key_id); // certifying key: self
    t[0x38..0x3C].copy_from_slice(&(KEY_BITS as u32).to_le_bytes());
    t[0x3C..0x40].copy_from_slice(&(KEY_BITS as u32).to_le_bytes());
    t[0x40..0x44].copy_from_slice(&u32::from_be_bytes(e).to_le_bytes());
    t[0x240..0x440].copy_from_slice(&modulus_le(key));
    Ok(t)
}

/// `image` (its measured part, or a signed image to sign again) signed
/// with `key`: measured part ‖ `$AS1` ‖ signature ‖ key token.
pub fn sign(image: &[u8], key: &PrivateKey, key_id: Option<[u8; 16]>) -> Result<Vec<u8>, String> {
    let (measured, _) = measured_part(image)?;
    if image.len() != measured && image.len() != measured + SIGNATURE_AREA {
        return Err(format!(
            "{:#x} bytes: expected the measured part ({measured:#x}) alone or with the 0x740-byte signature area",
            image.len()
        ));
    }
    let public = key.to_public_key();
    if public.size() * 8 != KEY_BITS {
        return Err(format!("an RSA-{KEY_BITS} key is needed, this one has {} bits", public.size() * 8));
    }
    let key_id = key_id.unwrap_or_else(|| default_key_id(&public));
    let mut out = image[..measured].to_vec();
    out.extend_from_slice(&as1_header(measured, &key_id));
    let signer = SigningKey::<Sha384>::new_with_salt_len(key.clone(), SALT_LEN);
    let sig: Signature = signer.try_sign(&out).map_err(|e| format!("signing: {e}"))?;
    let be = sig.to_bytes();
    if be.len() != SIGNATURE_LEN {
        return Err(format!("signature of {} bytes", be.len()));
    }
    out.extend(be.iter().rev());
    out.extend_from_slice(&key_token(&public, &key_id)?);
    Ok(out)
}

/// Check a signed image as the PSP does, as far as public sources say:
/// the 16-byte alignment, the `$AS1` sizes, the key token, the signature
/// against the token's key — and, with `expected`, that the token is that
/// key.
pub fn verify(image: &[u8], expected: Option<&PublicKey>) -> Result<Signed, String> {
    let (measured, amd) = measured_part(image)?;
    if image.len() != measured + SIGNATURE_AREA {
        return Err(format!(
            "{:#x} bytes: expected measured + 0x740 = {:#x} (unsigned, or not this format)",
            image.len(),
            measured + SIGNATURE_AREA
        ));
    }
    let h = &image[measured..measured + AS1_HEADER_LEN];
    let sig = &image[measured + AS1_HEADER_LEN..measured + AS1_HEADER_LEN + SIGNATURE_LEN];
    let t = &image[measured + AS1_HEADER_LEN + SIGNATURE_LEN..];
    if h[0x10..0x14] != AS1_MAGIC {
        return Err("no $AS1 header after the measured part".into());
    }
    let signed = measured + AS1_HEADER_LEN;
    let field = |o, want: usize, what: &str| {
        let v = le32(h, o) as usize;
        if v == want {
            Ok(())
        } else {
            Err(format!("$AS1 {what} {v:#x}, expected {want:#x}"))
        }
    };
    field(0x14, signed, "signed size")?;
    field(0x30, 1, "signature option")?;
    field(0x6C, signed + SIGNATURE_LEN, "size with signature")?;
    let key_id: [u8; 16] = h[0x38..0x48].try_into().unwrap();
    if le32(t, 0) != KEY_TOKEN_VERSION || le32(t, 0x38) != KEY_BITS as u32 || le32(t, 0x3C) != KEY_BITS as u32 {
        return Err("key token: not version 2 with a 4096-bit exponent and modulus".into());
    }
    if t[0x04..0x14] != key_id {
        return Err("key token's key ID differs from the $AS1 header's".into());
    }
    let e = BoxedUint::from_be_slice_vartime(&t[0x40..0x240].iter().rev().copied().collect::<Vec<_>>());
    let n = BoxedUint::from_be_slice_vartime(&t[0x240..0x440].iter().rev().copied().collect::<Vec<_>>());
    let key = PublicKey::new(n, e).map_err(|e| format!("key token: {e}"))?;
    if let Some(want) = expected {
        if modulus_le(want) != modulus_le(&key) || want.e() != key.e() {
            return Err("the key token is not the given key".into());
        }
    }
    let sig_be: Vec<u8> = sig.iter().rev().copied().collect();
    let sig = Signature::try_from(&sig_be[..]).map_err(|e| format!("signature: {e}"))?;
    VerifyingKey::<Sha384>::new_with_salt_len(key.clone(), SALT_LEN)
        .verify(&image[..signed], &sig)
        .map_err(|_| "signature does not verify (RSA-PSS, SHA-384, salt 48)".to_string())?;
    Ok(Signed { measured, key_id, modulus_sha256: Sha256::digest(modulus_le(&key)).into(), amd_sl_header: amd })
}

/// A private key from PEM (PKCS#8 or PKCS#1).
pub fn private_key_from_pem(pem: &str) -> Result<PrivateKey, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    PrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| PrivateKey::from_pkcs1_pem(pem))
        .map_err(|e| format!("not an RSA private key in PEM: {e}"))
}

/// A public key from PEM: SubjectPublicKeyInfo, PKCS#1, or the public half
/// of a private key.
pub fn public_key_from_pem(pem: &str) -> Result<PublicKey, String> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    PublicKey::from_public_key_pem(pem)
        .or_else(|_| PublicKey::from_pkcs1_pem(pem))
        .or_else(|_| private_key_from_pem(pem).map(|k| k.to_public_key()))
        .map_err(|_| "not an RSA key in PEM".to_string())
}
