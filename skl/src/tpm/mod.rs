//! TPM access: the interface (TIS/FIFO or CRB, probed) behind
//! [`TpmTransport`], and the command layer ([`tpm2`]) on top of it.

pub mod crb;
pub mod probe;
pub mod tis;
pub mod tpm12;
pub mod tpm2;

/// A TPM locality (0–4). SKL works at locality 2 (SKINIT used 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locality(u8);

impl Locality {
    pub const ZERO: Locality = Locality(0);
    /// The DRTM locality SKL and the DLME use.
    pub const TWO: Locality = Locality(2);
    pub const fn new(l: u8) -> Option<Locality> {
        if l <= 4 {
            Some(Locality(l))
        } else {
            None
        }
    }
    pub const fn get(self) -> u8 {
        self.0
    }
}

/// A PCR index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pcr(pub u8);

impl Pcr {
    /// DRTM PCR: SKINIT's measurement of the SLB, then the DLME.
    pub const DRTM_CODE: Pcr = Pcr(17);
    /// DRTM data PCR (boot parameters, SLRT).
    pub const DRTM_DATA: Pcr = Pcr(18);
}

/// TPM family behind the interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TpmFamily {
    Tpm12,
    Tpm20,
}

/// What went wrong talking to the TPM. Each variant carries the value that
/// explains it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TpmError {
    /// Nothing decodes the TPM registers (reads of all ones): no TPM.
    NoDevice { access: u8 },
    /// The interface is not one SKL drives (INTF_CAPABILITY / INTERFACE_ID).
    UnsupportedInterface(u32),
    /// The TPM family is not supported by this build.
    UnsupportedFamily(TpmFamily),
    /// Locality not granted in time.
    LocalityTimeout(u8),
    /// The interface does not implement this locality (CRB without
    /// CapLocality).
    LocalityNotSupported(u8),
    /// TPM did not become commandReady.
    ReadyTimeout { sts: u8 },
    /// TPM stopped accepting or delivering FIFO bytes.
    FifoTimeout { done: u32 },
    /// TPM did not finish the command in time.
    ResponseTimeout { sts: u8 },
    /// TPM expected more command bytes, or had more response bytes.
    FifoProtocol { sts: u8 },
    /// Response size field out of range.
    BadResponseSize(u32),
    /// Response too short or inconsistent at this byte offset.
    MalformedResponse(u32),
    /// TPM returned a non-zero response code.
    ResponseCode(u32),
    /// No PCR bank has PCR 17 allocated.
    NoPcrBanks,
    /// A bank SKL cannot compute (e.g. SM3) has PCR 17 allocated: refuse to
    /// launch rather than leave it unmeasured.
    UnsupportedBank(u16),
}

impl TpmError {
    pub fn code(&self) -> u16 {
        match self {
            TpmError::NoDevice { .. } => 0x01,
            TpmError::UnsupportedInterface(_) => 0x02,
            TpmError::UnsupportedFamily(_) => 0x03,
            TpmError::LocalityTimeout(_) => 0x04,
            TpmError::ReadyTimeout { .. } => 0x05,
            TpmError::FifoTimeout { .. } => 0x06,
            TpmError::ResponseTimeout { .. } => 0x07,
            TpmError::FifoProtocol { .. } => 0x08,
            TpmError::BadResponseSize(_) => 0x09,
            TpmError::MalformedResponse(_) => 0x0A,
            TpmError::ResponseCode(_) => 0x0B,
            TpmError::NoPcrBanks => 0x0C,
            TpmError::UnsupportedBank(_) => 0x0D,
            TpmError::LocalityNotSupported(_) => 0x0E,
        }
    }
    pub fn detail(&self) -> u32 {
        match *self {
            TpmError::NoDevice { access } => access as u32,
            TpmError::UnsupportedInterface(v) => v,
            TpmError::UnsupportedFamily(f) => f as u32,
            TpmError::LocalityTimeout(l) | TpmError::LocalityNotSupported(l) => l as u32,
            TpmError::ReadyTimeout { sts } | TpmError::ResponseTimeout { sts } | TpmError::FifoProtocol { sts } => {
                sts as u32
            }
            TpmError::FifoTimeout { done } => done,
            TpmError::BadResponseSize(v) | TpmError::MalformedResponse(v) | TpmError::ResponseCode(v) => v,
            TpmError::NoPcrBanks => 0,
            TpmError::UnsupportedBank(a) => a as u32,
        }
    }
}

/// Largest command or response SKL exchanges: PCR_Extend with four banks is
/// 33 + 4 × 2 + 20 + 32 + 48 + 64 = 205 bytes; the largest response, a
/// PCR_Read of PCR 17 and 18 in SHA-512 (PSP path), is 160; a
/// GetCapability(PCRS) answer is 19 + 6 bytes per bank. A longer response
/// is refused (fail closed). Each TPM call holds a command and a response
/// buffer on the launch's deepest path: 256 rather than 512 took the
/// deepest launches from 5,160 to 4,680 B (SKINIT) and 6,248 to 5,768 B
/// (PSP) of the 7 KiB stack.
pub const MAX_MESSAGE: usize = 256;

/// A TPM interface: locality control and one command/response exchange.
pub trait TpmTransport {
    fn family(&self) -> TpmFamily;
    /// Request `l` and wait (bounded) until it is active.
    fn request_locality(&mut self, l: Locality) -> Result<(), TpmError>;
    /// Give up the active locality, if any.
    fn relinquish_locality(&mut self);
    /// Give up every locality this interface has active, whoever took it
    /// (before the PSP's LAUNCH, which refuses a held locality).
    fn release_all_localities(&mut self) {
        self.relinquish_locality();
    }
    /// Send `cmd`, wait (bounded) for the response, return it as a prefix of
    /// `rsp`.
    fn transmit<'r>(&mut self, cmd: &[u8], rsp: &'r mut [u8]) -> Result<&'r [u8], TpmError>;
}

/// Byte-addressed register window (the TPM's MMIO page in the payload; a
/// simulated register file in tests).
pub trait Mmio {
    fn read8(&self, off: usize) -> u8;
    fn write8(&mut self, off: usize, v: u8);
    fn read32(&self, off: usize) -> u32;
}

/// Physical base of the TPM register space (PC Client platform TPM profile).
pub const TPM_MMIO_BASE: u64 = 0xFED4_0000;
/// Five localities, 4 KiB each.
pub const TPM_MMIO_SIZE: usize = 0x5000;
