//! Command Response Buffer (CRB) interface, TPM 2.0 only.
//!
//! Registers: TCG PC Client Platform TPM Profile (PTP) specification,
//! §6.5.3 (CRB interface). SKL needs locality 2, so a CRB that does not
//! implement localities (INTF_ID.CapLocality = 0, e.g. QEMU's tpm-crb and
//! most firmware TPMs) is refused with a clear error rather than driven at
//! locality 0, where PCR 17 cannot be extended anyway. The command and
//! response buffers must lie inside the TPM's register window: an address
//! elsewhere would make SKL write wherever a register tells it to.

use super::{Locality, Mmio, TpmError, TpmFamily, TpmTransport, TPM_MMIO_BASE, TPM_MMIO_SIZE};

const LOC_STATE: usize = 0x00;
const LOC_CTRL: usize = 0x08;
pub const INTF_ID: usize = 0x30;
const CTRL_REQ: usize = 0x40;
const CTRL_STS: usize = 0x44;
const CTRL_START: usize = 0x4C;
const CTRL_CMD_SIZE: usize = 0x58;
const CTRL_CMD_LADDR: usize = 0x5C;
const CTRL_CMD_HADDR: usize = 0x60;
const CTRL_RSP_SIZE: usize = 0x64;
const CTRL_RSP_ADDR: usize = 0x68;

bitflags::bitflags! {
    /// TPM_LOC_STATE_x (PTP §6.5.3.3).
    #[derive(Clone, Copy, PartialEq, Eq)]
    struct LocState: u32 {
        const VALID = 1 << 7;
        /// activeLocality (bits 4:2): which locality is assigned.
        const ACTIVE_LOCALITY = 7 << 2;
        const ASSIGNED = 1 << 1;
    }
}

bitflags::bitflags! {
    /// TPM_LOC_CTRL_x (PTP §6.5.3.4).
    #[derive(Clone, Copy, PartialEq, Eq)]
    struct LocCtrl: u8 {
        const REQUEST = 1 << 0;
        const RELINQUISH = 1 << 1;
    }
}

bitflags::bitflags! {
    /// TPM_CRB_CTRL_REQ_x (PTP §6.5.3.5).
    #[derive(Clone, Copy, PartialEq, Eq)]
    struct CtrlReq: u8 {
        const CMD_READY = 1 << 0;
        const GO_IDLE = 1 << 1;
    }
}

bitflags::bitflags! {
    /// TPM_CRB_CTRL_STS_x (PTP §6.5.3.6).
    #[derive(Clone, Copy, PartialEq, Eq)]
    struct CtrlSts: u32 {
        const ERROR = 1 << 0;
        const IDLE = 1 << 1;
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// TPM_CRB_INTF_ID_x (PTP §6.5.3.2), the bits SKL reads.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub struct IntfId: u32 {
        /// CapLocality: localities other than 0 are implemented.
        const CAP_LOCALITY = 1 << 8;
        const _ = !0;
    }
}

/// As for TIS (`tis.rs`): long enough at ~0.1 µs per MMIO read.
const POLLS_SHORT: u32 = 20_000_000;
const POLLS_LONG: u32 = 30_000_000;

pub struct Crb<M: Mmio> {
    mmio: M,
    active: Option<Locality>,
}

fn loc_base(l: Locality) -> usize {
    l.get() as usize * 0x1000
}

impl<M: Mmio> Crb<M> {
    /// Take locality `l` of a CRB TPM whose INTF_ID (read from locality 0)
    /// is `intf_id`.
    pub fn open(mmio: M, intf_id: u32, l: Locality) -> Result<Self, TpmError> {
        if l != Locality::ZERO && !IntfId::from_bits_retain(intf_id).contains(IntfId::CAP_LOCALITY) {
            return Err(TpmError::LocalityNotSupported(l.get()));
        }
        let mut crb = Crb { mmio, active: None };
        crb.request_locality(l)?;
        Ok(crb)
    }

    pub fn into_inner(self) -> M {
        self.mmio
    }

    fn write32(&mut self, off: usize, v: u32) {
        for (i, b) in v.to_le_bytes().into_iter().enumerate() {
            self.mmio.write8(off + i, b);
        }
    }

    fn wait32(&self, off: usize, mask: u32, want: u32, polls: u32) -> Result<(), u32> {
        let mut v = 0;
        for _ in 0..polls {
            v = self.mmio.read32(off);
            if v & mask == want {
                return Ok(());
            }
        }
        Err(v)
    }

    /// Offset of a buffer inside the register window, checked.
    fn buffer(&self, addr: u64, size: u32) -> Result<usize, TpmError> {
        let start = addr.checked_sub(TPM_MMIO_BASE).ok_or(TpmError::UnsupportedInterface(addr as u32))?;
        let end = start.checked_add(size as u64).ok_or(TpmError::UnsupportedInterface(addr as u32))?;
        if end > TPM_MMIO_SIZE as u64 || size < 10 {
            return Err(TpmError::UnsupportedInterface(addr as u32));
        }
        Ok(start as usize)
    }
}

impl<M: Mmio> TpmTransport for Crb<M> {
    fn family(&self) -> TpmFamily {
        TpmFamily::Tpm20
    }

    fn request_locality(&mut self, l: Locality) -> Result<(), TpmError> {
        let base = loc_base(l);
        if self.mmio.read32(base + LOC_STATE) == u32::MAX {
            return Err(TpmError::NoDevice { access: 0xFF });
        }
        self.mmio.write8(base + LOC_CTRL, LocCtrl::REQUEST.bits());
        let want = (LocState::VALID | LocState::ASSIGNED).bits() | ((l.get() as u32) << 2);
        let mask = (LocState::VALID | LocState::ASSIGNED | LocState::ACTIVE_LOCALITY).bits();
        self.wait32(base + LOC_STATE, mask, want, POLLS_SHORT).map_err(|_| TpmError::LocalityTimeout(l.get()))?;
        self.active = Some(l);
        Ok(())
    }

    fn relinquish_locality(&mut self) {
        if let Some(l) = self.active.take() {
            let base = loc_base(l);
            self.mmio.write8(base + CTRL_REQ, CtrlReq::GO_IDLE.bits());
            self.mmio.write8(base + LOC_CTRL, LocCtrl::RELINQUISH.bits());
        }
    }

    fn transmit<'r>(&mut self, cmd: &[u8], rsp: &'r mut [u8]) -> Result<&'r [u8], TpmError> {
        let base = loc_base(self.active.ok_or(TpmError::LocalityTimeout(0xFF))?);
        self.mmio.write8(base + CTRL_REQ, CtrlReq::CMD_READY.bits());
        self.wait32(base + CTRL_REQ, CtrlReq::CMD_READY.bits() as u32, 0, POLLS_SHORT)
            .map_err(|v| TpmError::ReadyTimeout { sts: v as u8 })?;
        let sts = self.mmio.read32(base + CTRL_STS);
        if CtrlSts::from_bits_retain(sts).intersects(CtrlSts::ERROR | CtrlSts::IDLE) {
            return Err(TpmError::ReadyTimeout { sts: sts as u8 });
        }
        let cmd_addr =
            self.mmio.read32(base + CTRL_CMD_LADDR) as u64 | (self.mmio.read32(base + CTRL_CMD_HADDR) as u64) << 32;
        let cmd_size = self.mmio.read32(base + CTRL_CMD_SIZE);
        let rsp_addr =
            self.mmio.read32(base + CTRL_RSP_ADDR) as u64 | (self.mmio.read32(base + CTRL_RSP_ADDR + 4) as u64) << 32;
        let rsp_size = self.mmio.read32(base + CTRL_RSP_SIZE);
        let c = self.buffer(cmd_addr, cmd_size)?;
        let r = self.buffer(rsp_addr, rsp_size)?;
        if cmd.len() > cmd_size as usize {
            return Err(TpmError::BadResponseSize(cmd.len() as u32));
        }
        for (i, &b) in cmd.iter().enumerate() {
            self.mmio.write8(c + i, b);
        }
        self.write32(base + CTRL_START, 1);
        self.wait32(base + CTRL_START, 1, 0, POLLS_LONG).map_err(|v| TpmError::ResponseTimeout { sts: v as u8 })?;
        if CtrlSts::from_bits_retain(self.mmio.read32(base + CTRL_STS)).contains(CtrlSts::ERROR) {
            return Err(TpmError::FifoProtocol { sts: CtrlSts::ERROR.bits() as u8 });
        }
        for (i, slot) in rsp.iter_mut().take(10).enumerate() {
            *slot = self.mmio.read8(r + i);
        }
        let size = u32::from_be_bytes([rsp[2], rsp[3], rsp[4], rsp[5]]);
        if size < 10 || size > rsp_size || size as usize > rsp.len() {
            return Err(TpmError::BadResponseSize(size));
        }
        for (i, slot) in rsp.iter_mut().enumerate().take(size as usize).skip(10) {
            *slot = self.mmio.read8(r + i);
        }
        Ok(&rsp[..size as usize])
    }
}
