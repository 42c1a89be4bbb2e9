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

const ACCESS_VALID: u8 = 0x80;
const ACCESS_ACTIVE_LOCALITY: u8 = 0x20;
const ACCESS_REQUEST_USE: u8 = 0x02;

const STS_VALID: u8 = 0x80;
const STS_COMMAND_READY: u8 = 0x40;
const STS_GO: u8 = 0x20;
const STS_DATA_AVAIL: u8 = 0x10;
const STS_EXPECT: u8 = 0x08;

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

fn loc_base(l: Locality) -> usize {
    l.get() as usize * 0x1000
}

impl<M: Mmio> Tis<M> {
    /// Take `l` and identify the TPM family. INTF_CAPABILITY's
    /// InterfaceVersion (bits 30:28) 0b011 is the PTP FIFO interface, which
    /// only TPM 2.0 devices have. TIS 1.2/1.3 (0b000/0b010) is used by TPM 1.2
    /// and by some TPM 2.0 chips, so there the TPM is asked, as Linux's
    /// `tpm2_probe` does: a TPM 2.0 answers a TPM2_GetCapability with the
    /// TPM 2.0 tag, a TPM 1.2 with a TPM 1.2 error (TPM_BADTAG).
    pub fn open(mmio: M, l: Locality) -> Result<Self, TpmError> {
        let mut tis = Tis { mmio, family: TpmFamily::Tpm20, active: None };
        tis.request_locality(l)?;
        let cap = tis.mmio.read32(loc_base(l) + INTF_CAPABILITY);
        let family = match (cap >> 28) & 7 {
            0b011 => Ok(TpmFamily::Tpm20),
            0b000 | 0b010 => tis.probe_family(),
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

    fn probe_family(&mut self) -> Result<TpmFamily, TpmError> {
        let mut cmd = [0u8; super::MAX_MESSAGE];
        let n = super::tpm2::encode_get_capability_pcrs(&mut cmd);
        let mut rsp = [0u8; super::MAX_MESSAGE];
        let r = self.transmit(&cmd[..n], &mut rsp)?;
        Ok(if r[..2] == super::tpm2::TPM_ST_NO_SESSIONS.to_be_bytes() { TpmFamily::Tpm20 } else { TpmFamily::Tpm12 })
    }

    /// The register window, for tests that inspect the simulated device.
    pub fn into_inner(self) -> M {
        self.mmio
    }

    fn reg(&self) -> Result<usize, TpmError> {
        self.active.map(loc_base).ok_or(TpmError::LocalityTimeout(0xFF))
    }

    fn sts(&self, base: usize) -> u8 {
        self.mmio.read8(base + STS)
    }

    fn wait_sts(&self, base: usize, mask: u8, polls: u32) -> Result<u8, u8> {
        let mut sts = 0;
        for _ in 0..polls {
            sts = self.sts(base);
            if sts & mask == mask {
                return Ok(sts);
            }
        }
        Err(sts)
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
        self.mmio.write8(base + STS, STS_COMMAND_READY);
        self.wait_sts(base, STS_COMMAND_READY, POLLS_SHORT).map_err(|sts| TpmError::ReadyTimeout { sts })?;
        let mut done = 0;
        while done < cmd.len() {
            let burst = self.wait_burst(base, done)?;
            let n = burst.min(cmd.len() - done);
            for &b in &cmd[done..done + n] {
                self.mmio.write8(base + DATA_FIFO, b);
            }
            done += n;
        }
        let sts = self.wait_sts(base, STS_VALID, POLLS_SHORT).map_err(|sts| TpmError::ReadyTimeout { sts })?;
        if sts & STS_EXPECT != 0 {
            return Err(TpmError::FifoProtocol { sts });
        }
        self.mmio.write8(base + STS, STS_GO);
        Ok(())
    }

    fn recv<'r>(&mut self, base: usize, rsp: &'r mut [u8]) -> Result<&'r [u8], TpmError> {
        self.wait_sts(base, STS_VALID | STS_DATA_AVAIL, POLLS_LONG).map_err(|sts| TpmError::ResponseTimeout { sts })?;
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
        let sts = self.wait_sts(base, STS_VALID, POLLS_SHORT).map_err(|sts| TpmError::ResponseTimeout { sts })?;
        if sts & STS_DATA_AVAIL != 0 {
            return Err(TpmError::FifoProtocol { sts });
        }
        self.mmio.write8(base + STS, STS_COMMAND_READY);
        Ok(&rsp[..total])
    }
}

impl<M: Mmio> TpmTransport for Tis<M> {
    fn family(&self) -> TpmFamily {
        self.family
    }

    fn request_locality(&mut self, l: Locality) -> Result<(), TpmError> {
        let base = loc_base(l);
        let access = self.mmio.read8(base + ACCESS);
        // A locality nobody decodes reads all ones; it must not count as
        // granted (TrenchBoot SKL AMDSL patch 0009 met exactly that).
        if access == 0xFF {
            return Err(TpmError::NoDevice { access });
        }
        if access & (ACCESS_VALID | ACCESS_ACTIVE_LOCALITY) != (ACCESS_VALID | ACCESS_ACTIVE_LOCALITY) {
            self.mmio.write8(base + ACCESS, ACCESS_REQUEST_USE);
            let granted = (0..POLLS_SHORT).any(|_| {
                let a = self.mmio.read8(base + ACCESS);
                a != 0xFF && a & (ACCESS_VALID | ACCESS_ACTIVE_LOCALITY) == (ACCESS_VALID | ACCESS_ACTIVE_LOCALITY)
            });
            if !granted {
                return Err(TpmError::LocalityTimeout(l.get()));
            }
        }
        self.active = Some(l);
        Ok(())
    }

    fn relinquish_locality(&mut self) {
        if let Some(l) = self.active.take() {
            self.mmio.write8(loc_base(l) + ACCESS, ACCESS_ACTIVE_LOCALITY);
        }
    }

    /// Every locality whose ACCESS reads valid and active is given up (a
    /// register reading all ones, as a locked locality can, is not active).
    fn release_all_localities(&mut self) {
        self.active = None;
        for l in 0..=4 {
            let base = l * 0x1000;
            let a = self.mmio.read8(base + ACCESS);
            if a != 0xFF && a & (ACCESS_VALID | ACCESS_ACTIVE_LOCALITY) == (ACCESS_VALID | ACCESS_ACTIVE_LOCALITY) {
                self.mmio.write8(base + ACCESS, ACCESS_ACTIVE_LOCALITY);
            }
        }
    }

    fn transmit<'r>(&mut self, cmd: &[u8], rsp: &'r mut [u8]) -> Result<&'r [u8], TpmError> {
        let base = self.reg()?;
        self.send(base, cmd)?;
        self.recv(base, rsp)
    }
}
