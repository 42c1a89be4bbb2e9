//! Find out which interface the TPM has and open it.
//!
//! INTERFACE_ID (offset 0x30 of locality 0; PTP §6.4.2 / §6.5.3.10),
//! bits 3:0: 0 = FIFO (TIS for TPM 2.0), 1 = CRB, 0xF = TIS 1.3 (TPM 1.2).
//! A TPM 1.2 TIS has no such register and reads all ones there.

use super::crb::{Crb, INTF_ID};
use super::tis::Tis;
use super::{Locality, Mmio, TpmError, TpmFamily, TpmTransport};

/// Either interface, behind one transport.
pub enum AnyTpm<M: Mmio> {
    Tis(Tis<M>),
    Crb(Crb<M>),
}

/// Probe the interface and take locality `l`.
pub fn open<M: Mmio>(mmio: M, l: Locality) -> Result<AnyTpm<M>, TpmError> {
    let id = mmio.read32(INTF_ID);
    match id & 0xF {
        1 if id != u32::MAX => Crb::open(mmio, id, l).map(AnyTpm::Crb),
        0 | 0xF => Tis::open(mmio, l).map(AnyTpm::Tis),
        _ => Err(TpmError::UnsupportedInterface(id)),
    }
}

impl<M: Mmio> AnyTpm<M> {
    pub fn into_inner(self) -> M {
        match self {
            AnyTpm::Tis(t) => t.into_inner(),
            AnyTpm::Crb(c) => c.into_inner(),
        }
    }
}

impl<M: Mmio> TpmTransport for AnyTpm<M> {
    fn family(&self) -> TpmFamily {
        match self {
            AnyTpm::Tis(t) => t.family(),
            AnyTpm::Crb(c) => c.family(),
        }
    }
    fn request_locality(&mut self, l: Locality) -> Result<(), TpmError> {
        match self {
            AnyTpm::Tis(t) => t.request_locality(l),
            AnyTpm::Crb(c) => c.request_locality(l),
        }
    }
    fn relinquish_locality(&mut self) {
        match self {
            AnyTpm::Tis(t) => t.relinquish_locality(),
            AnyTpm::Crb(c) => c.relinquish_locality(),
        }
    }
    fn transmit<'r>(&mut self, cmd: &[u8], rsp: &'r mut [u8]) -> Result<&'r [u8], TpmError> {
        match self {
            AnyTpm::Tis(t) => t.transmit(cmd, rsp),
            AnyTpm::Crb(c) => c.transmit(cmd, rsp),
        }
    }
}
