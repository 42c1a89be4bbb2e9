//! Byte vectors written by hand from TCG TPM 2.0 Library Part 3 (§22.2
//! TPM2_PCR_Extend, §30.2 TPM2_GetCapability), not produced by the encoder.

use super::*;
use crate::hash::{digest_all, BankSet, HashAlg};

#[test]
fn get_capability_pcrs_bytes() {
    let mut out = [0; MAX_MESSAGE];
    let n = encode_get_capability_pcrs(&mut out);
    #[rustfmt::skip]
    let want = [
        0x80, 0x01,             // TPM_ST_NO_SESSIONS
        0x00, 0x00, 0x00, 0x16, // size 22
        0x00, 0x00, 0x01, 0x7A, // TPM_CC_GetCapability
        0x00, 0x00, 0x00, 0x05, // TPM_CAP_PCRS
        0x00, 0x00, 0x00, 0x00, // property
        0x00, 0x00, 0x00, 0x01, // propertyCount
    ];
    assert_eq!(&out[..n], &want);
}

#[test]
fn pcr_extend_two_banks_bytes() {
    let banks: BankSet = [HashAlg::Sha1, HashAlg::Sha256].into_iter().collect();
    let d = digest_all(banks, b"abc");
    let mut out = [0; MAX_MESSAGE];
    let n = encode_pcr_extend(Pcr(17), &d, &mut out);
    let mut want = vec![
        0x80, 0x02, // TPM_ST_SESSIONS
        0x00, 0x00, 0x00, 0x57, // size 87 = 10 + 4 + 4 + 9 + 4 + 2 + 20 + 2 + 32
        0x00, 0x00, 0x01, 0x82, // TPM_CC_PCR_Extend
        0x00, 0x00, 0x00, 0x11, // pcrHandle 17
        0x00, 0x00, 0x00, 0x09, // authorizationSize
        0x40, 0x00, 0x00, 0x09, // TPM_RS_PW
        0x00, 0x00, // nonce size 0
        0x00, // session attributes
        0x00, 0x00, // hmac size 0
        0x00, 0x00, 0x00, 0x02, // TPML_DIGEST_VALUES.count
        0x00, 0x04, // TPM_ALG_SHA1
    ];
    want.extend_from_slice(&[
        0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e, 0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0,
        0xd8, 0x9d,
    ]);
    want.extend_from_slice(&[0x00, 0x0B]); // TPM_ALG_SHA256
    want.extend_from_slice(&[
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03,
        0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
    ]);
    assert_eq!(&out[..n], &want[..]);
}

/// A GetCapability(TPM_CAP_PCRS) response as swtpm gives it with SHA-1,
/// SHA-256 and SHA-384 allocated (all 24 PCRs) and SHA-512 not allocated.
fn caps_response(sm3_allocated: bool) -> Vec<u8> {
    let mut r = vec![0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0];
    r.push(0); // moreData
    r.extend_from_slice(&[0, 0, 0, 5]); // TPM_CAP_PCRS
    r.extend_from_slice(&[0, 0, 0, 5]); // count
    for (alg, sel) in [(0x0004u16, 0xFFu8), (0x000B, 0xFF), (0x000C, 0xFF), (0x000D, 0x00), (0x0012, 0xFF)] {
        r.extend_from_slice(&alg.to_be_bytes());
        let s = if alg == 0x0012 && !sm3_allocated { 0 } else { sel };
        r.extend_from_slice(&[3, s, s, s]);
    }
    let len = r.len() as u32;
    r[2..6].copy_from_slice(&len.to_be_bytes());
    r
}

#[test]
fn banks_with_pcr17_allocated() {
    let banks = parse_pcr_banks(&caps_response(false), Pcr(17)).unwrap();
    assert_eq!(banks.iter().collect::<Vec<_>>(), [HashAlg::Sha1, HashAlg::Sha256, HashAlg::Sha384]);
}

#[test]
fn an_allocated_bank_we_cannot_hash_refuses_the_launch() {
    assert_eq!(parse_pcr_banks(&caps_response(true), Pcr(17)), Err(TpmError::UnsupportedBank(0x0012)));
}

#[test]
fn error_responses_map_to_errors() {
    // TPM_RC_LOCALITY (0x907) as a 10-byte response.
    let r = [0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x09, 0x07];
    assert_eq!(parse_pcr_banks(&r, Pcr(17)), Err(TpmError::ResponseCode(0x907)));
    // Size field disagrees with the bytes received.
    let r = [0x80, 0x01, 0, 0, 0, 11, 0, 0, 0, 0];
    assert_eq!(parse_pcr_banks(&r, Pcr(17)), Err(TpmError::BadResponseSize(11)));
    // Truncated body.
    let mut r = caps_response(false);
    r.truncate(20);
    let len = r.len() as u32;
    r[2..6].copy_from_slice(&len.to_be_bytes());
    assert!(matches!(parse_pcr_banks(&r, Pcr(17)), Err(TpmError::MalformedResponse(_))));
}
