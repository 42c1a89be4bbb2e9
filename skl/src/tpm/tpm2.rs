//! TPM 2.0 commands SKL sends: TPM2_GetCapability(TPM_CAP_PCRS) to learn the
//! allocated banks, TPM2_PCR_Extend with every allocated bank in one command.
//!
//! Encodings follow TCG TPM 2.0 Library Part 3 (§22.2 PCR_Extend, §30.2
//! GetCapability) and Part 2 (structures); all fields big-endian.

use super::{Pcr, TpmError, TpmTransport, MAX_MESSAGE};
use crate::hash::{BankSet, DigestList, HashAlg, TPM_ALG_SM3_256};

pub const TPM_ST_NO_SESSIONS: u16 = 0x8001;
pub const TPM_ST_SESSIONS: u16 = 0x8002;
pub const TPM_CC_PCR_EXTEND: u32 = 0x0000_0182;
pub const TPM_CC_GET_CAPABILITY: u32 = 0x0000_017A;
pub const TPM_CAP_PCRS: u32 = 0x0000_0005;
pub const TPM_CC_PCR_READ: u32 = 0x0000_017E;
/// Password authorisation session handle (empty password: PCR 17/18 have
/// no auth value; locality is what the TPM checks).
pub const TPM_RS_PW: u32 = 0x4000_0009;

/// A command written in place into the caller's buffer.
struct Command<'b> {
    buf: &'b mut [u8; MAX_MESSAGE],
    len: usize,
}

impl<'b> Command<'b> {
    fn new(buf: &'b mut [u8; MAX_MESSAGE], tag: u16, cc: u32) -> Self {
        let mut c = Command { buf, len: 0 };
        c.u16(tag).u32(0).u32(cc);
        c
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.buf[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
        self
    }
    fn u8(&mut self, v: u8) -> &mut Self {
        self.bytes(&[v])
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }
    /// Patch the size field; the command's length.
    fn finish(&mut self) -> usize {
        let len = (self.len as u32).to_be_bytes();
        self.buf[2..6].copy_from_slice(&len);
        self.len
    }
}

/// TPM2_PCR_Extend(pcr, digests) with an empty password session.
pub fn encode_pcr_extend(pcr: Pcr, digests: &DigestList, out: &mut [u8; MAX_MESSAGE]) -> usize {
    let mut c = Command::new(out, TPM_ST_SESSIONS, TPM_CC_PCR_EXTEND);
    c.u32(pcr.0 as u32);
    // Authorization area: size, then TPMS_AUTH_COMMAND {handle, nonce (empty),
    // attributes 0, hmac (empty)}.
    c.u32(9).u32(TPM_RS_PW).u16(0).u8(0).u16(0);
    c.u32(digests.len() as u32);
    for d in digests.iter() {
        c.u16(d.alg().id()).bytes(d.as_bytes());
    }
    c.finish()
}

/// TPM2_GetCapability(TPM_CAP_PCRS, 0, 1).
pub fn encode_get_capability_pcrs(out: &mut [u8; MAX_MESSAGE]) -> usize {
    Command::new(out, TPM_ST_NO_SESSIONS, TPM_CC_GET_CAPABILITY).u32(TPM_CAP_PCRS).u32(0).u32(1).finish()
}

/// TPM2_PCR_Read of PCR 17 and 18 in bank `alg` (selection bytes 0, 0,
/// bits 1 and 2: PCRs 17 and 18).
#[cfg(any(test, feature = "psp"))]
pub fn encode_pcr_read_drtm(alg: HashAlg, out: &mut [u8; MAX_MESSAGE]) -> usize {
    Command::new(out, TPM_ST_NO_SESSIONS, TPM_CC_PCR_READ).u32(1).u16(alg.id()).u8(3).u8(0).u8(0).u8(0x06).finish()
}

/// PCR 17 and 18 of bank `alg` from a TPM2_PCR_Read response: exactly the
/// selection asked for, two digests of the bank's size, in PCR order.
#[cfg(any(test, feature = "psp"))]
pub fn parse_pcr_read_drtm(rsp: &[u8], alg: HashAlg) -> Result<[crate::hash::Digest; 2], TpmError> {
    let mut r = response(rsp)?;
    let _update_counter = r.u32()?;
    let bad = |r: &Reader| TpmError::MalformedResponse(r.off as u32);
    if r.u32()? != 1 || r.u16()? != alg.id() {
        return Err(bad(&r));
    }
    let size = r.u8()? as usize;
    let select = r.take(size)?;
    if select.get(2).is_none_or(|b| b & 0x06 != 0x06) || r.u32()? != 2 {
        return Err(bad(&r));
    }
    let mut one = || -> Result<crate::hash::Digest, TpmError> {
        if r.u16()? as usize != alg.digest_size() {
            return Err(bad(&r));
        }
        Ok(crate::hash::Digest::new(alg, r.take(alg.digest_size())?))
    };
    Ok([one()?, one()?])
}

/// Bounds-checked big-endian reader over a response.
struct Reader<'a> {
    b: &'a [u8],
    off: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TpmError> {
        let s = self.b.get(self.off..self.off + n).ok_or(TpmError::MalformedResponse(self.off as u32))?;
        self.off += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, TpmError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, TpmError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, TpmError> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
}

/// Check the response header (tag, size = length, response code 0) and
/// return a reader positioned after it.
fn response(rsp: &[u8]) -> Result<Reader<'_>, TpmError> {
    let mut r = Reader { b: rsp, off: 0 };
    let _tag = r.u16()?;
    let size = r.u32()?;
    if size as usize != rsp.len() {
        return Err(TpmError::BadResponseSize(size));
    }
    let rc = r.u32()?;
    if rc != 0 {
        return Err(TpmError::ResponseCode(rc));
    }
    Ok(r)
}

/// From a TPM2_GetCapability(TPM_CAP_PCRS) response, the banks that have
/// `pcr` allocated. A bank SKL cannot hash with `pcr` allocated is an error.
pub fn parse_pcr_banks(rsp: &[u8], pcr: Pcr) -> Result<BankSet, TpmError> {
    let mut r = response(rsp)?;
    let _more = r.u8()?;
    let cap = r.u32()?;
    if cap != TPM_CAP_PCRS {
        return Err(TpmError::MalformedResponse(11));
    }
    let count = r.u32()?;
    let mut banks = BankSet::empty();
    for _ in 0..count.min(16) {
        let alg = r.u16()?;
        let size = r.u8()? as usize;
        let select = r.take(size)?;
        let byte = pcr.0 as usize / 8;
        let allocated = select.get(byte).is_some_and(|b| b & (1 << (pcr.0 % 8)) != 0);
        if !allocated {
            continue;
        }
        match HashAlg::from_tpm(alg) {
            Some(a) => banks.insert(a),
            None => return Err(TpmError::UnsupportedBank(alg)),
        }
    }
    if count > 16 {
        return Err(TpmError::MalformedResponse(15));
    }
    if banks.is_empty() {
        return Err(TpmError::NoPcrBanks);
    }
    let _ = TPM_ALG_SM3_256; // the case UnsupportedBank exists for
    Ok(banks)
}

/// TPM 2.0 command layer over a transport.
pub struct Tpm2<'t, T: TpmTransport> {
    t: &'t mut T,
}

impl<'t, T: TpmTransport> Tpm2<'t, T> {
    pub fn new(t: &'t mut T) -> Self {
        Tpm2 { t }
    }

    /// Banks with `pcr` allocated.
    pub fn pcr_banks(&mut self, pcr: Pcr) -> Result<BankSet, TpmError> {
        let mut cmd = [0u8; MAX_MESSAGE];
        let n = encode_get_capability_pcrs(&mut cmd);
        let mut rsp = [0u8; MAX_MESSAGE];
        let r = self.t.transmit(&cmd[..n], &mut rsp)?;
        parse_pcr_banks(r, pcr)
    }

    /// PCR 17 and 18 of one bank.
    #[cfg(any(test, feature = "psp"))]
    pub fn pcr_read_drtm(&mut self, alg: HashAlg) -> Result<[crate::hash::Digest; 2], TpmError> {
        let mut cmd = [0u8; MAX_MESSAGE];
        let n = encode_pcr_read_drtm(alg, &mut cmd);
        let mut rsp = [0u8; MAX_MESSAGE];
        let r = self.t.transmit(&cmd[..n], &mut rsp)?;
        parse_pcr_read_drtm(r, alg)
    }

    /// Extend `pcr` in every bank of `digests` with one command.
    pub fn pcr_extend(&mut self, pcr: Pcr, digests: &DigestList) -> Result<(), TpmError> {
        let mut cmd = [0u8; MAX_MESSAGE];
        let n = encode_pcr_extend(pcr, digests, &mut cmd);
        let mut rsp = [0u8; MAX_MESSAGE];
        let r = self.t.transmit(&cmd[..n], &mut rsp)?;
        response(r).map(|_| ())
    }
}

#[cfg(test)]
mod tests;
