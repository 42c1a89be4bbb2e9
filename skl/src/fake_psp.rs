//! Test support: a simulated machine with a PSP DRTM service — PCI
//! configuration space (the PSP function, the host bridge's SMN
//! index/data pair), the mailbox registers, RAM, a virtual clock, and a TPM
//! whose DRTM localities the service locks. It enforces the protocol: no
//! answer before the zero-write kick, one command at a time (a write while
//! busy panics), registers at the layout of its CPU only (any other access
//! panics), LAUNCH refused while a TPM locality is held, EXTEND_OSSL and
//! TPM_LOCALITY_ACCESS refused before a launch, the hashed range inside
//! the TMR. It keeps its own SHA-256 log of its extends, as GET_TCG_LOGS
//! returns it. Failures are injected per command (status, latency, hang).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use sha2::{Digest as _, Sha256};
use skl_bootinfo::addr::{PhysAddr, PhysRange};
use skl_bootinfo::event_log::{AlgSize, Tcg2Log};

use crate::dma::pci::Bdf;
use crate::fake_tpm::FakeTpm;
use crate::memory::{FakeRam, PhysMemory};
use crate::psp::flow::{SplitMemory, EV_PSP_SL_IMAGE};
use crate::psp::{Layout, PspHw, HOST_BRIDGE, MBOX_READY, SMN_DATA, SMN_INDEX, SMN_PSP_BASE};
use crate::tpm::{Locality, TpmError, TpmFamily, TpmTransport};

pub const SHA256: u16 = 0x000B;
/// Where the PSP function sits in the fake.
pub const PSP_BDF: Bdf = Bdf::new(0x02, 0x00, 0x02);
/// The fake's PSP MMIO base.
pub const PSP_BASE: u32 = 0xFE80_0000;
/// DRTM event types the fake's PSP logs (its own numbering; only 0x8001
/// has a documented meaning).
pub const EV_PSP_LAUNCH: u32 = 0x8002;
pub const EV_PSP_OSSL: u32 = 0x8003;

pub fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// An edit of the PSP's log bytes before GET_TCG_LOGS returns them.
pub type LogEdit = Box<dyn FnMut(&mut Vec<u8>)>;

/// The PSP's side.
pub struct FakePsp {
    pub device: u16,
    /// A multi-function device 0 on the PSP's bus with the PSP at function 2.
    pub command_reg: u32,
    /// The SMN PSP base register's value (low bits are flags).
    pub smn_base: u32,
    pub layout: Layout,
    pub cpu_signature: u32,
    /// GET_CAPABILITY's C2PMSG_93/94/95.
    pub capability: [u32; 3],
    /// Status to answer per command ID (absent: 0, or the rule's).
    pub status: BTreeMap<u8, u16>,
    /// Virtual milliseconds per command ID (absent: 2 ms).
    pub latency_ms: BTreeMap<u8, u64>,
    /// Never sets ready, not even after the kick.
    pub dead: bool,
    /// Memory it lets EXTEND_OSSL hash (TMR 0, as GRUB sets it up).
    pub tmr: PhysRange,
    /// Where GET_TCG_LOGS says the log is.
    pub log_at: u64,
    /// Applied to the log bytes before GET_TCG_LOGS returns them.
    pub corrupt_log: Option<LogEdit>,
    /// Keep localities 1-2 locked even after a good LAUNCH.
    pub keep_locked: bool,
    /// Not the service: a register window (RAM the bootloader pointed the
    /// SMN base at) that answers every command with success, extends
    /// nothing, logs nothing and holds no locality.
    pub impostor: bool,
    /// Every command ID written, in order.
    pub commands: Vec<u8>,
    /// Every (address, size) EXTEND_OSSL hashed.
    pub ossl: Vec<(u64, u32)>,
    pub launched: bool,
    pub kicked: bool,
    /// The PSP's log of its extends: (PCR, type, SHA-256 digest, data).
    pub records: Vec<(u32, u32, [u8; 32], Vec<u8>)>,
    c2p72: u32,
    args: [u32; 3],
    due_us: Option<u64>,
    result: (u32, [u32; 3]),
}

impl FakePsp {
    pub fn new() -> Self {
        FakePsp {
            device: 0x14CA,
            command_reg: 0,
            smn_base: PSP_BASE | 0x1,
            layout: Layout::A,
            cpu_signature: 0x00A1_0F11,
            capability: [0x1, 0x0001_0000, (8 << 24) | 0x1_0000],
            status: BTreeMap::new(),
            latency_ms: BTreeMap::new(),
            dead: false,
            tmr: PhysRange::new(PhysAddr(0), 0x1_0000_0000).unwrap(),
            log_at: 0x60_0000,
            corrupt_log: None,
            keep_locked: false,
            impostor: false,
            commands: vec![],
            ossl: vec![],
            launched: false,
            kicked: false,
            records: vec![],
            c2p72: 0,
            args: [0; 3],
            due_us: None,
            result: (0, [0; 3]),
        }
    }
}

impl Default for FakePsp {
    fn default() -> Self {
        Self::new()
    }
}

/// The machine: RAM, the PSP, the TPM (shared with [`LockedTpm`]).
pub struct FakeMachine {
    pub ram: FakeRam,
    pub psp: FakePsp,
    pub tpm: Rc<RefCell<FakeTpm>>,
    /// Localities 1 and 2 locked (by the PSP service, until LAUNCH).
    pub locked: Rc<Cell<bool>>,
    /// No PSP function at all.
    pub no_psp: bool,
    smn_index: u32,
    pub now_us: u64,
}

impl FakeMachine {
    pub fn new(ram: FakeRam, banks: &[u16]) -> Self {
        FakeMachine {
            ram,
            psp: FakePsp::new(),
            tpm: Rc::new(RefCell::new(FakeTpm::new(banks))),
            locked: Rc::new(Cell::new(true)),
            no_psp: false,
            smn_index: 0,
            now_us: 0,
        }
    }

    /// The TPM interface the launch uses, sharing this machine's TPM.
    pub fn tpm_port(&self) -> LockedTpm {
        LockedTpm {
            tpm: self.tpm.clone(),
            locked: self.locked.clone(),
            tpm12: self.tpm.borrow().tpm12,
            no_release: false,
        }
    }

    fn reg(&self, addr: u32) -> Option<usize> {
        let l = self.psp.layout;
        [l.cmd, l.args[0], l.args[1], l.args[2]].iter().position(|&o| PSP_BASE + o == addr)
    }

    fn tick(&mut self) {
        if let Some(due) = self.psp.due_us {
            if self.now_us >= due {
                self.psp.due_us = None;
                let (st, res) = self.psp.result;
                self.psp.c2p72 = MBOX_READY | (self.psp.c2p72 & 0x00FF_0000) | st;
                self.psp.args = res;
            }
        }
    }

    fn extend256(&mut self, pcr: u8, digest: [u8; 32]) {
        let mut t = self.tpm.borrow_mut();
        if let Some(v) = t.pcrs.get_mut(&(SHA256, pcr)) {
            let mut b = v.clone();
            b.extend_from_slice(&digest);
            *v = sha256(&b).to_vec();
        }
    }

    fn record(&mut self, pcr: u8, ty: u32, digest: [u8; 32], data: &[u8]) {
        self.extend256(pcr, digest);
        self.psp.records.push((pcr as u32, ty, digest, data.to_vec()));
    }

    /// The PSP's log in TCG2 format (SHA-256 only), written at `log_at`.
    pub fn psp_log_bytes(&self) -> Vec<u8> {
        let mut buf = vec![0u8; 0x1000];
        let mut log = Tcg2Log::init(&mut buf, self.psp.log_at, &[AlgSize { alg: SHA256, size: 32 }]).unwrap();
        for (pcr, ty, d, data) in &self.psp.records {
            log.append(*pcr, *ty, &[(SHA256, &d[..])], data).unwrap();
        }
        let n = log.len();
        buf.truncate(n);
        buf
    }

    fn execute(&mut self, cmd: u8, tmr: u8) -> (u16, [u32; 3]) {
        if let Some(&s) = self.psp.status.get(&cmd) {
            if cmd == 0x04 && s != 0 {
                self.cap_after_failed_launch();
            }
            return (s, self.psp.args);
        }
        let a = self.psp.args;
        if self.psp.impostor {
            self.locked.set(false);
            return match cmd {
                0x01 => (0, self.psp.capability),
                0x07 => self.execute_get_logs(),
                _ => (0, a),
            };
        }
        match cmd {
            0x01 => (0, self.psp.capability),
            0x04 => {
                if self.psp.launched || self.tpm.borrow().active.is_some() {
                    self.cap_after_failed_launch();
                    return (0x2, a);
                }
                self.psp.launched = true;
                // The SKINIT record (which SKL logs itself), then what the
                // emulator documents: PCR 17 ← SPLT version, TSME and
                // anti-rollback state; PCR 18 ← key token, SecPatchLevel.
                self.psp.records.push((17, EV_PSP_SL_IMAGE, sha256(b"SLB"), b"SL image".to_vec()));
                self.record(17, EV_PSP_LAUNCH, sha256(b"SPLT/TSME/AR"), b"launch state");
                self.record(18, EV_PSP_LAUNCH, sha256(b"key token/SPL"), b"key token");
                if !self.psp.keep_locked {
                    self.locked.set(false);
                }
                (0, a)
            }
            0x0B => {
                let (size, addr) = (a[0], (a[1] as u64) | ((a[2] as u64) << 32));
                let r = PhysRange::new(PhysAddr(addr), size as u64);
                let ok = self.psp.launched && r.is_some_and(|r| self.psp.tmr.contains_range(&r) && !r.is_empty());
                if !ok {
                    return (0xE, a);
                }
                let d = sha256(self.ram.read(r.unwrap()).expect("EXTEND_OSSL over RAM the fake has"));
                self.psp.ossl.push((addr, size));
                self.record(17, EV_PSP_OSSL, d, b"OS loader");
                self.record(18, EV_PSP_OSSL, d, b"OS loader");
                self.record(17, EV_PSP_OSSL, sha256(b"AMDSL"), b"AMDSL marker");
                (0, a)
            }
            0x07 => self.execute_get_logs(),
            0x03 => (if tmr < 8 { 0 } else { 0x4 }, a),
            0x08 if !self.psp.launched => (0x2, a),
            0x08 => {
                self.locked.set(true);
                (0, a)
            }
            _ => (0x1, a),
        }
    }

    fn execute_get_logs(&mut self) -> (u16, [u32; 3]) {
        let mut log = self.psp_log_bytes();
        if let Some(f) = self.psp.corrupt_log.as_mut() {
            f(&mut log);
        }
        let at = self.psp.log_at;
        let r = PhysRange::new(PhysAddr(at), log.len() as u64).unwrap();
        if let Some(b) = self.ram.write(r) {
            b.copy_from_slice(&log);
        }
        (0, [log.len() as u32, at as u32, (at >> 32) as u32])
    }

    /// What the emulator does when LAUNCH fails: PCR 18 capped.
    fn cap_after_failed_launch(&mut self) {
        self.extend256(18, [0xFF; 32]);
    }
}

impl PspHw for FakeMachine {
    fn cfg_read(&mut self, at: Bdf, off: u16) -> u32 {
        if at == HOST_BRIDGE {
            return match off {
                0x00 => 0x1480_1022,
                0x0C => 0,
                SMN_INDEX => self.smn_index,
                SMN_DATA if self.smn_index == SMN_PSP_BASE => self.psp.smn_base,
                SMN_DATA => 0,
                _ => 0,
            };
        }
        if self.no_psp {
            return u32::MAX;
        }
        let dev0 = Bdf::new(PSP_BDF.bus(), PSP_BDF.dev(), 0);
        match (at, off) {
            (a, 0x00) if a == dev0 => 0x1000_1022,
            (a, 0x0C) if a == dev0 => 0x0080_0000,
            (a, 0x00) if a == PSP_BDF => ((self.psp.device as u32) << 16) | 0x1022,
            (a, 0x04) if a == PSP_BDF => self.psp.command_reg,
            (a, _) if a == PSP_BDF || a == dev0 => 0,
            _ => u32::MAX,
        }
    }
    fn cfg_write(&mut self, at: Bdf, off: u16, v: u32) {
        match (at, off) {
            (HOST_BRIDGE, SMN_INDEX) => self.smn_index = v,
            (a, 0x04) if a == PSP_BDF => self.psp.command_reg = v & 0xFFFF,
            _ => panic!("config write {at:?}+{off:#x} = {v:#x}"),
        }
    }
    fn reg_read(&mut self, addr: u32) -> u32 {
        assert!(self.psp.command_reg & 2 != 0, "MMIO read before memory decoding is on");
        match self.reg(addr) {
            Some(0) => self.psp.c2p72,
            Some(i) => self.psp.args[i - 1],
            None => panic!("read of {addr:#x}: not a mailbox register of this CPU's layout"),
        }
    }
    fn reg_write(&mut self, addr: u32, v: u32) {
        let ready = self.psp.c2p72 & MBOX_READY != 0;
        match self.reg(addr) {
            None => panic!("write of {addr:#x}: not a mailbox register of this CPU's layout"),
            Some(0) if !self.psp.kicked => {
                assert_eq!(v, 0, "first write must be the zero kick");
                self.psp.kicked = true;
                if !self.psp.dead {
                    self.psp.c2p72 = MBOX_READY;
                }
            }
            Some(0) => {
                assert!(ready, "command {v:#x} written while the PSP is busy");
                let (cmd, tmr) = ((v >> 16) as u8, ((v >> 24) & 0xF) as u8);
                self.psp.commands.push(cmd);
                let (st, res) = self.execute(cmd, tmr);
                self.psp.result = (st as u32, res);
                self.psp.c2p72 = v & 0x0FFF_0000;
                let ms = self.psp.latency_ms.get(&cmd).copied().unwrap_or(2);
                self.psp.due_us = Some(self.now_us + ms * 1000);
            }
            Some(i) => {
                assert!(ready && self.psp.kicked, "argument written while the PSP is busy");
                self.psp.args[i - 1] = v;
            }
        }
    }
    fn cpu_signature(&self) -> u32 {
        self.psp.cpu_signature
    }
    fn delay_us(&mut self, us: u32) {
        self.now_us += us as u64;
        self.tick();
    }
}

impl PhysMemory for FakeMachine {
    fn read(&self, r: PhysRange) -> Option<&[u8]> {
        self.ram.read(r)
    }
    fn write(&mut self, r: PhysRange) -> Option<&mut [u8]> {
        self.ram.write(r)
    }
}

impl SplitMemory for FakeMachine {
    fn split(&mut self, read: PhysRange, write: PhysRange) -> Option<(&[u8], &mut [u8])> {
        if read.overlaps(&write) {
            return None;
        }
        let base = self.ram.base;
        let span = |r: PhysRange| {
            let s = r.start().as_u64().checked_sub(base)? as usize;
            Some(s..s.checked_add(r.len() as usize)?)
        };
        let (rs, ws) = (span(read)?, span(write)?);
        let len = self.ram.bytes.len();
        if rs.end > len || ws.end > len {
            return None;
        }
        if rs.start < ws.start {
            let (a, b) = self.ram.bytes.split_at_mut(ws.start);
            Some((&a[rs], &mut b[..ws.end - ws.start]))
        } else {
            let (a, b) = self.ram.bytes.split_at_mut(rs.start);
            Some((&b[..rs.end - rs.start], &mut a[ws]))
        }
    }
}

/// A TPM interface in front of the machine's TPM where localities 1 and 2
/// cannot be had while the PSP service holds them locked.
pub struct LockedTpm {
    pub tpm: Rc<RefCell<FakeTpm>>,
    pub locked: Rc<Cell<bool>>,
    pub tpm12: bool,
    /// A broken interface that releases nothing (to show the PSP's rule).
    pub no_release: bool,
}

impl TpmTransport for LockedTpm {
    fn family(&self) -> TpmFamily {
        if self.tpm12 {
            TpmFamily::Tpm12
        } else {
            TpmFamily::Tpm20
        }
    }
    fn request_locality(&mut self, l: Locality) -> Result<(), TpmError> {
        let mut t = self.tpm.borrow_mut();
        if (self.locked.get() && matches!(l.get(), 1 | 2)) || t.active.is_some_and(|a| a != l.get()) {
            return Err(TpmError::LocalityTimeout(l.get()));
        }
        t.active = Some(l.get());
        Ok(())
    }
    fn relinquish_locality(&mut self) {
        if !self.no_release {
            self.tpm.borrow_mut().active = None;
        }
    }
    fn transmit<'r>(&mut self, cmd: &[u8], rsp: &'r mut [u8]) -> Result<&'r [u8], TpmError> {
        let loc = self.tpm.borrow().active.expect("TPM command without a locality");
        let r = self.tpm.borrow_mut().process(cmd, loc);
        rsp[..r.len()].copy_from_slice(&r);
        Ok(&rsp[..r.len()])
    }
}
