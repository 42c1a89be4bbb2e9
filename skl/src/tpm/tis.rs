//! TPM Interface Specification (TIS) / PC Client FIFO interface.
//!
//! Register offsets and bits: TCG PC Client Platform TPM Profile (PTP)
//! specification, FIFO interface (§6.3 / §6.5.2). Every wait is bounded: a
//! dead TPM is a launch error, never a hang.

use super::{Locality, Mmio, TpmError, TpmFamily, TpmTransport};

const ACCESS: usize = 0x00;
const INTF_CAPABILITY: usize = 0x14;
const STS: usize = 0x18;
const BURST_COUNT: usize = 0x19;
const DATA_FIFO: usize = 0x24;

bitflags::bitflags! {
    /// TPM_ACCESS_x (PTP §6.5.2.3).
    #[derive(Clone, Copy, PartialEq, Eq)]
    struct Access: u8 {
        const VALID = 0x80;
        const ACTIVE_LOCALITY = 0x20;
        const REQUEST_USE = 0x02;
        /// VALID and ACTIVE_LOCALITY: this locality is ours.
        const HELD = Self::VALID.bits() | Self::ACTIVE_LOCALITY.bits();
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// TPM_STS_x, low byte (PTP §6.5.2.5).
    #[derive(Clone, Copy, PartialEq, Eq)]
    struct Sts: u8 {
        const VALID = 0x80;
        const COMMAND_READY = 0x40;
        const GO = 0x20;
        const DATA_AVAIL = 0x10;
        const EXPECT = 0x08;
        const _ = !0;
    }
}

/// Polls before a wait counts as a timeout. Each poll is one MMIO read: about
/// 1-2 µs on an LPC or SPI TPM, but as little as ~0.1 µs on a memory-mapped
/// firmware TPM. The counts are chosen so that even at 0.1 µs a poll loop
/// lasts the PTP timeouts B (2 s: locality, commandReady, after a DRTM some
/// TPMs are slow; TrenchBoot SKL f16a0d0) and D (command completion); on a
/// dead LPC TPM the launch then fails after ~20-60 s rather than never.
const POLLS_SHORT: u32 = 20_000_000;
const POLLS_LONG: u32 = 30_000_000;

/// A TIS/FIFO TPM over an [`Mmio`] window covering all five localities.
pub struct Tis<M: Mmio> {
    mmio: M,
    family: TpmFamily,
    active: Option<Locality>,
}

/// ACCESS reads valid and active, and is not all ones (what a locality
/// nobody decodes, or a locked one, reads).
fn held(a: u8) -> bool {
    a != 0xFF && Access::from_bits_retain(a).contains(Access::HELD)
}

fn loc_base(l: Locality) -> usize {
    l.get() as usize * 0x1000
}

impl<M: Mmio> Tis<M> {
    /// Take `l` and identify the TPM family from INTF_CAPABILITY's
    /// InterfaceVersion (bits 30:28), without a command: 0b011 is the PTP
    /// FIFO interface of TPM 2.0 devices, 0b000/0b010 (TIS 1.2/1.3) a TPM 1.2.
    /// The C SKL decides the same way (TrenchBoot secure-kernel-loader
    /// `tpmlib/tpm.c` `find_interface_and_family` @40bd931b). A TPM 2.0
    /// that reported TIS 1.2/1.3 would answer the first TPM 1.2 command with
    /// TPM_RC_BAD_TAG and the launch would stop before any extend (fail
    /// closed); Linux's `tpm2_probe` command is one more TPM command per
    /// launch for every TPM 1.2 (issue 20, goal 4).
    pub fn open(mmio: M, l: Locality) -> Result<Self, TpmError> {
        let mut tis = Tis { mmio, family: TpmFamily::Tpm20, active: None };
        tis.request_locality(l)?;
        let cap = tis.mmio.read32(loc_base(l) + INTF_CAPABILITY);
        let family = match (cap >> 28) & 7 {
            0b011 => Ok(TpmFamily::Tpm20),
            0b000 | 0b010 => Ok(TpmFamily::Tpm12),
            _ => Err(TpmError::UnsupportedInterface(cap)),
        };
        match family {
            Ok(f) => {
                tis.family = f;
                Ok(tis)
            }
            Err(e) => {
                tis.relinquish_locality();
                Err(e)
            }
        }
    }

    /// A TPM 2.0 interface holding no locality, for the PSP path: nothing
    /// may be held before LAUNCH, and locality 2 is requested after it. A
    /// TPM 1.2 there fails the first TPM 2.0 command (the PCR bank query),
    /// and the launch stops.
    #[cfg(any(test, feature = "psp"))]
    pub fn unopened_tpm20(mmio: M) -> Self {
        Tis { mmio, family: TpmFamily::Tpm20, active: None }
    }

    /// The register window, for tests that inspect the simulated device.
    pub fn into_inner(self) -> M {
        self.mmio
    }

    fn reg(&self) -> Result<usize, TpmError> {
        self.active.map(loc_base).ok_or(TpmError::LocalityTimeout(0xFF))
    }

    fn sts(&self, base: usize) -> Sts {
        Sts::from_bits_retain(self.mmio.read8(base + STS))
    }

    fn write_sts(&mut self, base: usize, v: Sts) {
        self.mmio.write8(base + STS, v.bits())
    }

    fn access(&self, base: usize) -> u8 {
        self.mmio.read8(base + ACCESS)
    }

    fn wait_sts(&self, base: usize, want: Sts, polls: u32) -> Result<Sts, u8> {
        let mut sts = Sts::empty();
        for _ in 0..polls {
            sts = self.sts(base);
            if sts.contains(want) {
                return Ok(sts);
            }
        }
        Err(sts.bits())
    }

    fn burst_count(&self, base: usize) -> u16 {
        u16::from_le_bytes([self.mmio.read8(base + BURST_COUNT), self.mmio.read8(base + BURST_COUNT + 1)])
    }

    /// Wait for a non-zero burst count.
    fn wait_burst(&self, base: usize, done: usize) -> Result<usize, TpmError> {
        for _ in 0..POLLS_SHORT {
            let b = self.burst_count(base);
            if b != 0 {
                return Ok(b as usize);
            }
        }
        Err(TpmError::FifoTimeout { done: done as u32 })
    }

    fn send(&mut self, base: usize, cmd: &[u8]) -> Result<(), TpmError> {
        // Write commandReady once and poll: some TPMs never report ready if
        // it is written repeatedly right after a DRTM (TrenchBoot SKL f16a0d0).
        self.write_sts(base, Sts::COMMAND_READY);
        self.wait_sts(base, Sts::COMMAND_READY, POLLS_SHORT).map_err(|sts| TpmError::ReadyTimeout { sts })?;
        let mut done = 0;
        while done < cmd.len() {
            let burst = self.wait_burst(base, done)?;
            let n = burst.min(cmd.len() - done);
            for &b in &cmd[done..done + n] {
                self.mmio.write8(base + DATA_FIFO, b);
            }
            done += n;
        }
        let sts = self.wait_sts(base, Sts::VALID, POLLS_SHORT).map_err(|sts| TpmError::ReadyTimeout { sts })?;
        if sts.contains(Sts::EXPECT) {
            return Err(TpmError::FifoProtocol { sts: sts.bits() });
        }
        self.write_sts(base, Sts::GO);
        Ok(())
    }

    fn recv<'r>(&mut self, base: usize, rsp: &'r mut [u8]) -> Result<&'r [u8], TpmError> {
        self.wait_sts(base, Sts::VALID | Sts::DATA_AVAIL, POLLS_LONG)
            .map_err(|sts| TpmError::ResponseTimeout { sts })?;
        let mut total = 10; // header first: it holds the size
        let mut done = 0;
        while done < total {
            let burst = self.wait_burst(base, done)?;
            let n = burst.min(total - done);
            for slot in &mut rsp[done..done + n] {
                *slot = self.mmio.read8(base + DATA_FIFO);
            }
            done += n;
            if done == 10 && total == 10 {
                let size = u32::from_be_bytes([rsp[2], rsp[3], rsp[4], rsp[5]]);
                if size < 10 || size as usize > rsp.len() {
                    return Err(TpmError::BadResponseSize(size));
                }
                total = size as usize;
            }
        }
        let sts = self.wait_sts(base, Sts::VALID, POLLS_SHORT).map_err(|sts| TpmError::ResponseTimeout { sts })?;
        if sts.contains(Sts::DATA_AVAIL) {
            return Err(TpmError::FifoProtocol { sts: sts.bits() });
        }
        self.write_sts(base, Sts::COMMAND_READY);
        Ok(&rsp[..total])
    }
}

impl<M: Mmio> TpmTransport for Tis<M> {
    fn family(&self) -> TpmFamily {
        self.family
    }

    fn request_locality(&mut self, l: Locality) -> Result<(), TpmError> {
        let base = loc_base(l);
        let access = self.access(base);
        // A locality nobody decodes reads all ones; it must not count as
        // granted (TrenchBoot SKL AMDSL patch 0009 met exactly that).
        if access == 0xFF {
            return Err(TpmError::NoDevice { access });
        }
        if !Access::from_bits_retain(access).contains(Access::HELD) {
            self.mmio.write8(base + ACCESS, Access::REQUEST_USE.bits());
            let granted = (0..POLLS_SHORT).any(|_| held(self.access(base)));
            if !granted {
                return Err(TpmError::LocalityTimeout(l.get()));
            }
        }
        self.active = Some(l);
        Ok(())
    }

    fn relinquish_locality(&mut self) {
        if let Some(l) = self.active.take() {
            self.mmio.write8(loc_base(l) + ACCESS, Access::ACTIVE_LOCALITY.bits());
        }
    }

    /// Every locality whose ACCESS reads valid and active is given up (a
    /// register reading all ones, as a locked locality can, is not active).
    fn release_all_localities(&mut self) {
        self.active = None;
        for l in 0..=4 {
            let base = l * 0x1000;
            if held(self.access(base)) {
                self.mmio.write8(base + ACCESS, Access::ACTIVE_LOCALITY.bits());
            }
        }
    }

    fn transmit<'r>(&mut self, cmd: &[u8], rsp: &'r mut [u8]) -> Result<&'r [u8], TpmError> {
        let base = self.reg()?;
        self.send(base, cmd)?;
        self.recv(base, rsp)
    }
}
