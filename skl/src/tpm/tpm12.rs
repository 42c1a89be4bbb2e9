//! TPM 1.2 commands SKL sends: TPM_Extend (SHA-1, the only bank), and
//! TPM_PCRRead for tests. TPM Main Part 3 v1.2 rev 116, §16.1 / §16.2; all
//! fields big-endian.

use super::{Pcr, TpmError, TpmTransport, MAX_MESSAGE};

pub const TPM_TAG_RQU_COMMAND: u16 = 0x00C1;
pub const TPM_TAG_RSP_COMMAND: u16 = 0x00C4;
pub const TPM_ORD_EXTEND: u32 = 0x0000_0014;
pub const TPM_ORD_PCR_READ: u32 = 0x0000_0015;

/// TPM_Extend(pcr, digest): 34 bytes.
pub fn encode_extend(pcr: Pcr, digest: &[u8; 20]) -> [u8; 34] {
    let mut c = [0u8; 34];
    c[0..2].copy_from_slice(&TPM_TAG_RQU_COMMAND.to_be_bytes());
    c[2..6].copy_from_slice(&34u32.to_be_bytes());
    c[6..10].copy_from_slice(&TPM_ORD_EXTEND.to_be_bytes());
    c[10..14].copy_from_slice(&(pcr.0 as u32).to_be_bytes());
    c[14..34].copy_from_slice(digest);
    c
}

/// TPM_PCRRead(pcr): 14 bytes.
pub fn encode_pcr_read(pcr: Pcr) -> [u8; 14] {
    let mut c = [0u8; 14];
    c[0..2].copy_from_slice(&TPM_TAG_RQU_COMMAND.to_be_bytes());
    c[2..6].copy_from_slice(&14u32.to_be_bytes());
    c[6..10].copy_from_slice(&TPM_ORD_PCR_READ.to_be_bytes());
    c[10..14].copy_from_slice(&(pcr.0 as u32).to_be_bytes());
    c
}

/// Check a response (tag, size, return code) that carries a 20-byte digest.
pub fn parse_digest_response(r: &[u8]) -> Result<[u8; 20], TpmError> {
    if r.len() < 10 {
        return Err(TpmError::MalformedResponse(r.len() as u32));
    }
    let size = u32::from_be_bytes([r[2], r[3], r[4], r[5]]);
    if size as usize != r.len() {
        return Err(TpmError::BadResponseSize(size));
    }
    let rc = u32::from_be_bytes([r[6], r[7], r[8], r[9]]);
    if rc != 0 {
        return Err(TpmError::ResponseCode(rc));
    }
    if u16::from_be_bytes([r[0], r[1]]) != TPM_TAG_RSP_COMMAND || r.len() != 30 {
        return Err(TpmError::MalformedResponse(0));
    }
    let mut d = [0u8; 20];
    d.copy_from_slice(&r[10..30]);
    Ok(d)
}

/// TPM_Extend; returns the new PCR value.
pub fn extend<T: TpmTransport>(t: &mut T, pcr: Pcr, digest: &[u8; 20]) -> Result<[u8; 20], TpmError> {
    let mut rsp = [0u8; MAX_MESSAGE];
    let r = t.transmit(&encode_extend(pcr, digest), &mut rsp)?;
    parse_digest_response(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_bytes_from_the_spec() {
        let c = encode_extend(Pcr(17), &[0xAB; 20]);
        let mut want = vec![0x00, 0xC1, 0, 0, 0, 34, 0, 0, 0, 0x14, 0, 0, 0, 17];
        want.extend_from_slice(&[0xAB; 20]);
        assert_eq!(&c[..], &want[..]);
        assert_eq!(encode_pcr_read(Pcr(18)), [0x00, 0xC1, 0, 0, 0, 14, 0, 0, 0, 0x15, 0, 0, 0, 18]);
    }

    #[test]
    fn responses() {
        let mut ok = vec![0x00, 0xC4, 0, 0, 0, 30, 0, 0, 0, 0];
        ok.extend_from_slice(&[7; 20]);
        assert_eq!(parse_digest_response(&ok), Ok([7; 20]));
        // TPM_BAD_LOCALITY (0x3D)
        let bad = [0x00, 0xC4, 0, 0, 0, 10, 0, 0, 0, 0x3D];
        assert_eq!(parse_digest_response(&bad), Err(TpmError::ResponseCode(0x3D)));
    }
}
