//! The AMD PSP (ASP) DRTM service: discovery, the mailbox protocol, the
//! commands SKL sends. Hardware-free: configuration space, the mailbox
//! registers, the CPU signature and time come in through [`PspHw`], so
//! every path (each status code, timeouts, a PSP that never answers) runs
//! on the host against `fake_psp.rs`. Facts and sources: `docs/psp-drtm.md`.
//!
//! Discovery (§1 of that document): a PCI function of vendor 0x1022 whose
//! device ID is in [`PSP_DEVICES`] with a DRTM mailbox; its MMIO base is
//! the SMN register 0x13B102E0 read through the host bridge's index/data
//! pair (00:00.0, config 0xB8/0xBC), masked to 1 MiB; the mailbox register
//! offsets from that base depend on the CPU ([`Layout::for_signature`]).
//!
//! Protocol: the PSP answers only after a zero is written to C2PMSG_72 (the
//! "kick"). A command: ready (bit 31) must be set; write the arguments to
//! C2PMSG_93..95; write `cmd << 16` (`| tmr << 24` for TMR commands) to
//! C2PMSG_72, which clears ready; poll (bounded, per command) until ready;
//! the status is bits 15:0, results in C2PMSG_93..95.

pub mod flow;

#[cfg(test)]
mod tests;

use crate::dma::pci::{Bdf, VENDOR_AMD};

/// What the PSP driver needs from the platform.
pub trait PspHw {
    /// A dword of standard configuration space; all ones when absent.
    fn cfg_read(&mut self, at: Bdf, off: u16) -> u32;
    fn cfg_write(&mut self, at: Bdf, off: u16, v: u32);
    /// A 32-bit MMIO register at a physical address below 4 GiB.
    fn reg_read(&mut self, addr: u32) -> u32;
    fn reg_write(&mut self, addr: u32, v: u32);
    /// CPUID(1).EAX.
    fn cpu_signature(&self) -> u32;
    /// Wait at least `us` microseconds (the time base of every bound).
    fn delay_us(&mut self, us: u32);
}

/// TrenchBoot's "PSP version" of a device: 0 = no DRTM mailbox.
pub type PspVersion = u16;

/// PCI device IDs (vendor 0x1022) of PSP/ASP functions and the DRTM
/// mailbox generation each has. Version 0: a security processor without
/// the DRTM mailbox. Version 1 (0x1456): no mailbox layout is known for it
/// in any source (the C SKL refuses it too), so it counts as none.
pub const PSP_DEVICES: [(u16, PspVersion); 9] = [
    (0x1537, 0),
    (0x1456, 0),
    (0x1468, 0),
    (0x1486, 2),
    (0x15DF, 3),
    (0x1649, 2),
    (0x14CA, 3),
    (0x15C7, 3),
    (0x156E, 4),
];

/// The host bridge whose index/data pair reaches SMN.
pub const HOST_BRIDGE: Bdf = Bdf::new(0, 0, 0);
pub const SMN_INDEX: u16 = 0xB8;
pub const SMN_DATA: u16 = 0xBC;
/// SMN address of the PSP MMIO base (IOHC0NBCFG 0x13B00000 + 0x102E0).
pub const SMN_PSP_BASE: u32 = 0x13B1_02E0;
const BASE_MASK: u32 = 0xFFF0_0000;

/// C2PMSG_72 fields.
pub const MBOX_READY: u32 = 1 << 31;
const CMD_SHIFT: u32 = 16;
const TMR_SHIFT: u32 = 24;
const STATUS_MASK: u32 = 0xFFFF;

/// Offsets of C2PMSG_72 and C2PMSG_93..95 from the PSP MMIO base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub cmd: u32,
    pub args: [u32; 3],
}

impl Layout {
    /// Layout A (ITL SKL `psp.c`, TrenchBoot GRUB `psp.c`).
    pub const A: Layout = Layout { cmd: 0x10A20, args: [0x10A74, 0x10A78, 0x10A7C] };
    /// Layout B (`accek-itl/grub` `psp.c`): family 17h models 60h-6Fh and
    /// family 19h models 40h-4Fh.
    pub const B: Layout = Layout { cmd: 0x10A20, args: [0x10AA0, 0x10AA4, 0x10AA8] };

    /// CPUID(1).EAX with the low model nibble and the stepping cleared
    /// (the form of the SOC-flag list) picks the layout.
    pub fn for_signature(sig: u32) -> Layout {
        match sig & 0x0FFF_0F00 {
            0x0086_0F00 | 0x00A4_0F00 => Layout::B,
            _ => Layout::A,
        }
    }
}

/// DRTM service commands (C2PMSG_72 bits 23:16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Command {
    GetCapability = 0x01,
    TmrSetup = 0x02,
    TmrRelease = 0x03,
    Launch = 0x04,
    GetTcgLogs = 0x07,
    TpmLocalityAccess = 0x08,
    ExtendOsslDigest = 0x0B,
}

/// Milliseconds between polls of C2PMSG_72.
pub const POLL_MS: u32 = 1;
/// Bound for the PSP to answer the kick, and to be ready before a command.
pub const READY_MS: u32 = 5_000;

impl Command {
    /// How long the PSP may take. The C SKL waits 5 s for every command,
    /// which a 7.6 MB Xen hashed by EXTEND_OSSL_DIGEST exceeded on an EPYC
    /// 9015 (zarhus SKL patch 0013 raised it to 120 s). LAUNCH re-hashes
    /// the SLB and checks an RSA-4096 signature: 10 s.
    pub fn bound_ms(self, size: u32) -> u32 {
        match self {
            Command::Launch => 10_000,
            // 120 s, plus 8 s per MiB: > 10x the rate seen on hardware.
            Command::ExtendOsslDigest => 120_000u32.saturating_add((size >> 20).saturating_mul(8_000)),
            _ => 5_000,
        }
    }
}

/// Why the PSP path stopped. The first fifteen are the service's own status
/// codes (each with the command that got it); the rest are SKL's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PspError {
    /// 0x1 DRTM_NOT_SUPPORTED.
    NotSupported { cmd: u8 },
    /// 0x2 DRTM_LAUNCH_ERROR: the PSP refused the SLB or the state.
    LaunchRefused { cmd: u8 },
    /// 0x3 DRTM_TMR_SETUP_FAILED_ERROR.
    TmrSetupFailed { cmd: u8 },
    /// 0x4 DRTM_TMR_DESTROY_FAILED_ERROR.
    TmrDestroyFailed { cmd: u8 },
    /// 0x7 DRTM_GET_TCG_LOGS_FAILED_ERROR.
    TcgLogsFailed { cmd: u8 },
    /// 0x8 DRTM_OUT_OF_RESOURCES_ERROR.
    OutOfResources { cmd: u8 },
    /// 0x9 DRTM_GENERIC_ERROR.
    Generic { cmd: u8 },
    /// 0xA DRTM_INVALID_SERVICE_ID_ERROR.
    InvalidServiceId { cmd: u8 },
    /// 0xB DRTM_MEMORY_UNALIGNED_ERROR.
    MemoryUnaligned { cmd: u8 },
    /// 0xC DRTM_MINIMUM_SIZE_ERROR.
    MinimumSize { cmd: u8 },
    /// 0xD DRTM_GET_TMR_DESCRIPTOR_FAILED.
    TmrDescriptorFailed { cmd: u8 },
    /// 0xE DRTM_EXTEND_OSSL_DIGEST_FAILED.
    ExtendOsslFailed { cmd: u8 },
    /// 0xF DRTM_SETUP_NOT_ALLOWED.
    SetupNotAllowed { cmd: u8 },
    /// 0x10 DRTM_GET_IVRS_TABLE_FAILED.
    IvrsTableFailed { cmd: u8 },
    /// A status no source documents (5, 6, > 0x10).
    UnknownStatus { cmd: u8, status: u16 },
    /// A DRTM-capable PSP whose SMN base reads 0 or all ones.
    NoMailbox { base: u32 },
    /// The PSP did not set ready after the kick.
    NeverReady { value: u32 },
    /// The PSP was not ready to take a command.
    Busy { cmd: u8 },
    /// The PSP did not finish a command within its bound.
    Timeout { cmd: u8 },
    /// The DLME does not fit EXTEND_OSSL_DIGEST's 32-bit size.
    DlmeTooLarge { size: u64 },
    /// The PSP's TCG log does not parse (byte offset), or has a record SKL
    /// will not merge (a PCR other than 17/18).
    BadTcgLog { offset: u32 },
    /// The PSP's TCG log lies above 4 GiB, is empty, or overlaps the SLB,
    /// the DLME or the DRTM log.
    TcgLogRange { addr: u64 },
    /// The PSP path needs a TPM 2.0 with a SHA-256 bank (the PSP's log).
    NeedsSha256Bank,
    /// The PSP's log, replayed from SKINIT's value, does not give the
    /// TPM's PCR 17/18 in this bank: a log altered in memory, or extends
    /// the service made without logging them.
    PcrMismatch { alg: u16, pcr: u8 },
    /// The PSP path takes only a Secure Launch kernel (a TXT MLE header in
    /// the DLME): SKL's Multiboot2 mode is not on it yet.
    NotDlmeMode,
    /// The PSP-path image (`skl-amdsl-psp.bin`) on a platform whose DRTM
    /// service is absent or off: the bootloader should have chosen
    /// `skl-amdsl.bin`.
    NoService,
}

impl PspError {
    /// The error for a non-zero status of `cmd`.
    pub fn from_status(cmd: Command, status: u16) -> PspError {
        let cmd = cmd as u8;
        match status {
            0x1 => PspError::NotSupported { cmd },
            0x2 => PspError::LaunchRefused { cmd },
            0x3 => PspError::TmrSetupFailed { cmd },
            0x4 => PspError::TmrDestroyFailed { cmd },
            0x7 => PspError::TcgLogsFailed { cmd },
            0x8 => PspError::OutOfResources { cmd },
            0x9 => PspError::Generic { cmd },
            0xA => PspError::InvalidServiceId { cmd },
            0xB => PspError::MemoryUnaligned { cmd },
            0xC => PspError::MinimumSize { cmd },
            0xD => PspError::TmrDescriptorFailed { cmd },
            0xE => PspError::ExtendOsslFailed { cmd },
            0xF => PspError::SetupNotAllowed { cmd },
            0x10 => PspError::IvrsTableFailed { cmd },
            _ => PspError::UnknownStatus { cmd, status },
        }
    }

    /// Low byte of the launch error code 0x80xx: a PSP status keeps its
    /// number, SKL's own failures start at 0x20.
    pub fn code(&self) -> u16 {
        match self {
            PspError::NotSupported { .. } => 0x01,
            PspError::LaunchRefused { .. } => 0x02,
            PspError::TmrSetupFailed { .. } => 0x03,
            PspError::TmrDestroyFailed { .. } => 0x04,
            PspError::TcgLogsFailed { .. } => 0x07,
            PspError::OutOfResources { .. } => 0x08,
            PspError::Generic { .. } => 0x09,
            PspError::InvalidServiceId { .. } => 0x0A,
            PspError::MemoryUnaligned { .. } => 0x0B,
            PspError::MinimumSize { .. } => 0x0C,
            PspError::TmrDescriptorFailed { .. } => 0x0D,
            PspError::ExtendOsslFailed { .. } => 0x0E,
            PspError::SetupNotAllowed { .. } => 0x0F,
            PspError::IvrsTableFailed { .. } => 0x10,
            PspError::UnknownStatus { .. } => 0x1F,
            PspError::NoMailbox { .. } => 0x20,
            PspError::NeverReady { .. } => 0x21,
            PspError::Busy { .. } => 0x22,
            PspError::Timeout { .. } => 0x23,
            PspError::DlmeTooLarge { .. } => 0x24,
            PspError::BadTcgLog { .. } => 0x25,
            PspError::TcgLogRange { .. } => 0x26,
            PspError::NeedsSha256Bank => 0x27,
            PspError::PcrMismatch { .. } => 0x28,
            PspError::NotDlmeMode => 0x29,
            PspError::NoService => 0x2A,
        }
    }

    /// The offending value for the failure record.
    pub fn detail(&self) -> u32 {
        match *self {
            PspError::NotSupported { cmd }
            | PspError::LaunchRefused { cmd }
            | PspError::TmrSetupFailed { cmd }
            | PspError::TmrDestroyFailed { cmd }
            | PspError::TcgLogsFailed { cmd }
            | PspError::OutOfResources { cmd }
            | PspError::Generic { cmd }
            | PspError::InvalidServiceId { cmd }
            | PspError::MemoryUnaligned { cmd }
            | PspError::MinimumSize { cmd }
            | PspError::TmrDescriptorFailed { cmd }
            | PspError::ExtendOsslFailed { cmd }
            | PspError::SetupNotAllowed { cmd }
            | PspError::IvrsTableFailed { cmd }
            | PspError::Busy { cmd }
            | PspError::Timeout { cmd } => cmd as u32,
            PspError::UnknownStatus { cmd, status } => ((cmd as u32) << 16) | status as u32,
            PspError::NoMailbox { base } => base,
            PspError::NeverReady { value } => value,
            PspError::DlmeTooLarge { size } => (size >> 32) as u32,
            PspError::BadTcgLog { offset } => offset,
            PspError::TcgLogRange { addr } => addr as u32,
            PspError::NeedsSha256Bank | PspError::NotDlmeMode | PspError::NoService => 0,
            PspError::PcrMismatch { alg, pcr } => ((alg as u32) << 8) | pcr as u32,
        }
    }
}

/// A PSP function with a DRTM mailbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub at: Bdf,
    pub device: u16,
    pub version: PspVersion,
}

/// The mailbox generation of an AMD device ID; 0 when it has none.
pub fn drtm_version(device: u16) -> PspVersion {
    PSP_DEVICES.iter().find(|(d, _)| *d == device).map_or(0, |&(_, v)| v)
}

const REG_COMMAND: u16 = 0x04;
const REG_HEADER: u16 = 0x0C;
/// Command register: memory space and bus master enable.
const CMD_MEM_MASTER: u32 = 0x6;

/// The first function in bus/device/function order that is a PSP with a
/// DRTM mailbox (PCI 3.0 §6.2.1: functions 1-7 only behind a multi-function
/// function 0). `None`: this platform has no DRTM service to ask.
pub fn find<H: PspHw>(h: &mut H) -> Option<Found> {
    for bus in 0..=255u8 {
        for dev in 0..32u8 {
            let f0 = Bdf::new(bus, dev, 0);
            let id0 = h.cfg_read(f0, 0);
            if id0 as u16 == 0xFFFF || id0 as u16 == 0 {
                continue;
            }
            let multi = h.cfg_read(f0, REG_HEADER) & (0x80 << 16) != 0;
            for func in 0..if multi { 8 } else { 1 } {
                let at = Bdf::new(bus, dev, func);
                let id = if func == 0 { id0 } else { h.cfg_read(at, 0) };
                let device = (id >> 16) as u16;
                if id as u16 == VENDOR_AMD && drtm_version(device) != 0 {
                    return Some(Found { at, device, version: drtm_version(device) });
                }
            }
        }
    }
    None
}

/// The DRTM mailbox of one PSP: absolute register addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mailbox {
    pub cmd: u32,
    pub args: [u32; 3],
}

/// What GET_CAPABILITY reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability {
    /// C2PMSG_93 bit 0: the DRTM service is enabled.
    pub drtm: bool,
    /// Bit 1: transparent SME is on.
    pub tsme: bool,
    /// Bit 2: anti-rollback is on.
    pub anti_rollback: bool,
    /// C2PMSG_94.
    pub version: u32,
    /// C2PMSG_95 bits 23:0 and 31:24.
    pub tmr_alignment: u32,
    pub tmr_count: u8,
}

/// Where the PSP keeps its TCG log (GET_TCG_LOGS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcgLog {
    pub addr: u64,
    pub size: u32,
}

impl Mailbox {
    /// Make the function decode its registers, read the MMIO base through
    /// SMN, pick the layout and kick the mailbox: after this the PSP is
    /// ready for a command.
    pub fn open<H: PspHw>(h: &mut H, found: &Found) -> Result<Mailbox, PspError> {
        let c = h.cfg_read(found.at, REG_COMMAND);
        if c & CMD_MEM_MASTER != CMD_MEM_MASTER {
            // The upper half is the status register: write-one-to-clear bits
            // stay untouched by writing them as zero.
            h.cfg_write(found.at, REG_COMMAND, (c & 0xFFFF) | CMD_MEM_MASTER);
        }
        let saved = h.cfg_read(HOST_BRIDGE, SMN_INDEX);
        h.cfg_write(HOST_BRIDGE, SMN_INDEX, SMN_PSP_BASE);
        let base = h.cfg_read(HOST_BRIDGE, SMN_DATA) & BASE_MASK;
        h.cfg_write(HOST_BRIDGE, SMN_INDEX, saved);
        if base == 0 || base == BASE_MASK {
            return Err(PspError::NoMailbox { base });
        }
        let l = Layout::for_signature(h.cpu_signature());
        let m = Mailbox { cmd: base + l.cmd, args: l.args.map(|a| base + a) };
        h.reg_write(m.cmd, 0);
        m.wait_ready(h, READY_MS).map_err(|value| PspError::NeverReady { value })?;
        Ok(m)
    }

    /// Poll C2PMSG_72 until ready, at most `ms` milliseconds. `Err` carries
    /// the last value read.
    fn wait_ready<H: PspHw>(&self, h: &mut H, ms: u32) -> Result<u32, u32> {
        let mut v = h.reg_read(self.cmd);
        let mut waited = 0;
        while v & MBOX_READY == 0 {
            if waited >= ms {
                return Err(v);
            }
            h.delay_us(POLL_MS * 1000);
            waited += POLL_MS;
            v = h.reg_read(self.cmd);
        }
        Ok(v)
    }

    /// One command: `args` into C2PMSG_93..95 (those that are `Some`), the
    /// command (and TMR index), a bounded wait, the status. Returns
    /// C2PMSG_93..95 as the PSP left them.
    pub fn command<H: PspHw>(
        &self,
        h: &mut H,
        cmd: Command,
        tmr: u8,
        args: [Option<u32>; 3],
        bound_ms: u32,
    ) -> Result<[u32; 3], PspError> {
        let id = cmd as u8;
        self.wait_ready(h, READY_MS).map_err(|_| PspError::Busy { cmd: id })?;
        for (reg, a) in self.args.iter().zip(args) {
            if let Some(v) = a {
                h.reg_write(*reg, v);
            }
        }
        h.reg_write(self.cmd, ((id as u32) << CMD_SHIFT) | (((tmr & 0xF) as u32) << TMR_SHIFT));
        let v = self.wait_ready(h, bound_ms).map_err(|_| PspError::Timeout { cmd: id })?;
        let status = (v & STATUS_MASK) as u16;
        if status != 0 {
            return Err(PspError::from_status(cmd, status));
        }
        Ok(self.args.map(|r| h.reg_read(r)))
    }

    pub fn get_capability<H: PspHw>(&self, h: &mut H) -> Result<Capability, PspError> {
        let c = Command::GetCapability;
        let [a, b, t] = self.command(h, c, 0, [None; 3], c.bound_ms(0))?;
        Ok(Capability {
            drtm: a & 1 != 0,
            tsme: a & 2 != 0,
            anti_rollback: a & 4 != 0,
            version: b,
            tmr_alignment: t & 0xFF_FFFF,
            tmr_count: (t >> 24) as u8,
        })
    }

    /// LAUNCH: the PSP takes the SLB from SKINIT's state, checks it and
    /// takes the TPM (locality 3). SKL must hold no locality.
    pub fn launch<H: PspHw>(&self, h: &mut H) -> Result<(), PspError> {
        let c = Command::Launch;
        self.command(h, c, 0, [None; 3], c.bound_ms(0)).map(|_| ())
    }

    /// EXTEND_OSSL_DIGEST: the PSP hashes `[addr, addr + size)` in place
    /// and extends PCR 17/18 with it.
    pub fn extend_ossl_digest<H: PspHw>(&self, h: &mut H, addr: u64, size: u64) -> Result<(), PspError> {
        let c = Command::ExtendOsslDigest;
        let size = u32::try_from(size).map_err(|_| PspError::DlmeTooLarge { size })?;
        let args = [Some(size), Some(addr as u32), Some((addr >> 32) as u32)];
        self.command(h, c, 0, args, c.bound_ms(size)).map(|_| ())
    }

    /// GET_TCG_LOGS: where the PSP's log of its extends lies.
    pub fn get_tcg_logs<H: PspHw>(&self, h: &mut H) -> Result<TcgLog, PspError> {
        let c = Command::GetTcgLogs;
        let [size, lo, hi] = self.command(h, c, 0, [None; 3], c.bound_ms(0))?;
        Ok(TcgLog { addr: ((hi as u64) << 32) | lo as u64, size })
    }

    /// TMR_RELEASE of TMR `index` (the kernel's, once its IOMMU is up; here
    /// for the tests and tooling that model the kernel).
    pub fn tmr_release<H: PspHw>(&self, h: &mut H, index: u8) -> Result<(), PspError> {
        let c = Command::TmrRelease;
        self.command(h, c, index, [None; 3], c.bound_ms(0)).map(|_| ())
    }

    /// TPM_LOCALITY_ACCESS: lock the DRTM localities again (the kernel's,
    /// on reboot or kexec).
    pub fn tpm_locality_access<H: PspHw>(&self, h: &mut H) -> Result<(), PspError> {
        let c = Command::TpmLocalityAccess;
        self.command(h, c, 0, [None; 3], c.bound_ms(0)).map(|_| ())
    }
}
