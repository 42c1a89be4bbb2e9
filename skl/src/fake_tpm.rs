//! Test support: a simulated TIS register file in front of a TPM 2.0 that
//! parses commands and keeps PCR state. Real enough to catch protocol bugs:
//! it enforces locality, the commandReady → reception → go → completion
//! sequence, burst counts and the PCR 17/18 locality rule.

use std::collections::BTreeMap;

use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use crate::tpm::Mmio;

pub fn hash(alg: u16, data: &[u8]) -> Vec<u8> {
    use skl_bootinfo::tpm_alg::{SHA1, SHA256, SHA384, SHA512};
    match alg {
        SHA1 => Sha1::digest(data).to_vec(),
        SHA256 => Sha256::digest(data).to_vec(),
        SHA384 => Sha384::digest(data).to_vec(),
        SHA512 => Sha512::digest(data).to_vec(),
        _ => panic!("alg {alg:#x}"),
    }
}

fn digest_len(alg: u16) -> usize {
    hash(alg, b"").len()
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum State {
    Idle,
    Ready,
    Reception,
    Completion,
}

pub struct FakeTpm {
    /// Allocated banks, with PCR 17 and 18 values.
    pub pcrs: BTreeMap<(u16, u8), Vec<u8>>,
    pub banks: Vec<u16>,
    /// Every command ordinal received, in order, with its locality.
    pub commands: Vec<(u32, u8)>,
    pub active: Option<u8>,
    pub dead: bool,
    /// Behave as a TPM 1.2 (SHA-1 only, TPM_Extend).
    pub tpm12: bool,
    /// A TPM 2.0 behind a TIS 1.3 interface (InterfaceVersion 0b010).
    pub tis13: bool,
    state: State,
    cmd: Vec<u8>,
    rsp: Vec<u8>,
    rsp_pos: usize,
    burst: u16,
}

impl FakeTpm {
    /// A TPM just after SKINIT: PCR 17/18 reset to zero in each bank.
    pub fn new(banks: &[u16]) -> Self {
        let mut pcrs = BTreeMap::new();
        for &b in banks {
            pcrs.insert((b, 17), vec![0; digest_len(b)]);
            pcrs.insert((b, 18), vec![0; digest_len(b)]);
        }
        FakeTpm {
            pcrs,
            banks: banks.to_vec(),
            commands: vec![],
            active: None,
            dead: false,
            tpm12: false,
            tis13: false,
            state: State::Idle,
            cmd: vec![],
            rsp: vec![],
            rsp_pos: 0,
            burst: 7,
        }
    }

    pub fn pcr(&self, alg: u16, pcr: u8) -> &[u8] {
        &self.pcrs[&(alg, pcr)]
    }

    /// A TPM 1.2 with its one SHA-1 bank.
    pub fn new_tpm12() -> Self {
        FakeTpm { tpm12: true, ..FakeTpm::new(&[0x0004]) }
    }

    fn execute12(&mut self) {
        let c = self.cmd.clone();
        let be32 = |o: usize| u32::from_be_bytes(c[o..o + 4].try_into().unwrap());
        if u16::from_be_bytes([c[0], c[1]]) != 0x00C1 {
            // A TPM 2.0 command: TPM_BADTAG.
            self.commands.push((be32(6), self.active.unwrap()));
            self.rsp = vec![0x00, 0xC4, 0, 0, 0, 10, 0, 0, 0, 0x1E];
            self.rsp_pos = 0;
            self.state = State::Completion;
            return;
        }
        let ord = be32(6);
        let loc = self.active.unwrap();
        self.commands.push((ord, loc));
        let pcr = be32(10) as u8;
        let (rc, out) = match ord {
            0x14 if (pcr == 17 || pcr == 18) && loc < 2 => (0x3Du32, None),
            0x14 => {
                let v = self.pcrs.get_mut(&(0x0004, pcr)).unwrap();
                let mut b = v.clone();
                b.extend_from_slice(&c[14..34]);
                *v = hash(0x0004, &b);
                (0, Some(v.clone()))
            }
            _ => (0x0A, None), // TPM_BAD_ORDINAL
        };
        let mut r = vec![0x00, 0xC4, 0, 0, 0, 0];
        r.extend_from_slice(&rc.to_be_bytes());
        r.extend_from_slice(&out.unwrap_or_default());
        let len = r.len() as u32;
        r[2..6].copy_from_slice(&len.to_be_bytes());
        self.rsp = r;
        self.rsp_pos = 0;
        self.state = State::Completion;
    }

    fn execute(&mut self) {
        if self.tpm12 {
            return self.execute12();
        }
        let c = self.cmd.clone();
        let be32 = |o: usize| u32::from_be_bytes(c[o..o + 4].try_into().unwrap());
        let be16 = |o: usize| u16::from_be_bytes(c[o..o + 2].try_into().unwrap());
        if be16(0) == 0x00C1 {
            // A TPM 1.2 command: TPM_ST_RSP_COMMAND with TPM_RC_BAD_TAG, as a
            // TPM 2.0 answers one (TPM 2.0 Part 1, "TPM 1.2 compatibility").
            self.commands.push((be32(6), self.active.unwrap()));
            self.rsp = vec![0x00, 0xC4, 0, 0, 0, 10, 0, 0, 0, 0x1E];
            self.rsp_pos = 0;
            self.state = State::Completion;
            return;
        }
        let cc = be32(6);
        let loc = self.active.unwrap();
        self.commands.push((cc, loc));
        assert_eq!(be32(2) as usize, c.len(), "command size field");
        let mut body = vec![];
        let rc: u32 = match cc {
            0x17A => {
                assert_eq!((be32(10), be32(14), be32(18)), (5, 0, 1));
                body.push(0);
                body.extend_from_slice(&5u32.to_be_bytes());
                body.extend_from_slice(&(self.banks.len() as u32).to_be_bytes());
                for &b in &self.banks {
                    body.extend_from_slice(&b.to_be_bytes());
                    body.extend_from_slice(&[3, 0xFF, 0xFF, 0xFF]);
                }
                0
            }
            0x182 => {
                assert_eq!(be16(0), 0x8002);
                let pcr = be32(10) as u8;
                assert_eq!(be32(14), 9, "auth area size");
                assert_eq!(be32(18), 0x4000_0009, "password session");
                let n = be32(27) as usize;
                let mut o = 31;
                let mut digests = vec![];
                for _ in 0..n {
                    let alg = be16(o);
                    let len = digest_len(alg);
                    digests.push((alg, c[o + 2..o + 2 + len].to_vec()));
                    o += 2 + len;
                }
                assert_eq!(o, c.len(), "trailing bytes in PCR_Extend");
                if (pcr == 17 || pcr == 18) && loc < 2 {
                    0x907
                } else {
                    for (alg, d) in digests {
                        if let Some(v) = self.pcrs.get_mut(&(alg, pcr)) {
                            let mut buf = v.clone();
                            buf.extend_from_slice(&d);
                            *v = hash(alg, &buf);
                        }
                    }
                    0
                }
            }
            0x17E => {
                // TPM2_PCR_Read: one selection; PCR 17/18 as the PSP path asks.
                assert_eq!(be32(10), 1, "one selection");
                let alg = be16(14);
                assert_eq!(c[16], 3);
                let sel = [c[17], c[18], c[19]];
                body.extend_from_slice(&7u32.to_be_bytes()); // update counter
                let pcrs: Vec<u8> = (0..24u8)
                    .filter(|p| sel[(p / 8) as usize] & (1 << (p % 8)) != 0 && self.pcrs.contains_key(&(alg, *p)))
                    .collect();
                let mut out_sel = [0u8; 3];
                for p in &pcrs {
                    out_sel[(p / 8) as usize] |= 1 << (p % 8);
                }
                body.extend_from_slice(&1u32.to_be_bytes());
                body.extend_from_slice(&alg.to_be_bytes());
                body.push(3);
                body.extend_from_slice(&out_sel);
                body.extend_from_slice(&(pcrs.len() as u32).to_be_bytes());
                for p in pcrs {
                    let v = &self.pcrs[&(alg, p)];
                    body.extend_from_slice(&(v.len() as u16).to_be_bytes());
                    body.extend_from_slice(v);
                }
                0
            }
            _ => 0x143, // TPM_RC_COMMAND_CODE
        };
        let mut r = vec![0x80, 0x01];
        r.extend_from_slice(&((10 + body.len()) as u32).to_be_bytes());
        r.extend_from_slice(&rc.to_be_bytes());
        if rc == 0 {
            r.extend_from_slice(&body);
            let len = r.len() as u32;
            r[2..6].copy_from_slice(&len.to_be_bytes());
        } else {
            r[2..6].copy_from_slice(&10u32.to_be_bytes());
        }
        self.rsp = r;
        self.rsp_pos = 0;
        self.state = State::Completion;
    }

    fn sts(&self) -> u8 {
        match self.state {
            State::Idle => 0x80,
            State::Ready => 0xC0,
            State::Reception => {
                let expect = self.cmd.len() < 10
                    || self.cmd.len() < u32::from_be_bytes(self.cmd[2..6].try_into().unwrap()) as usize;
                0x80 | if expect { 0x08 } else { 0 }
            }
            State::Completion => 0x80 | if self.rsp_pos < self.rsp.len() { 0x10 } else { 0 },
        }
    }
}

impl Mmio for FakeTpm {
    fn read8(&self, off: usize) -> u8 {
        if self.dead {
            return 0xFF;
        }
        let loc = (off >> 12) as u8;
        let reg = off & 0xFFF;
        let active = self.active == Some(loc);
        match reg {
            0x00 => 0x80 | if active { 0x20 } else { 0 },
            _ if !active => 0xFF,
            0x18 => self.sts(),
            0x19 => match self.state {
                State::Ready | State::Reception => self.burst as u8,
                State::Completion => (self.rsp.len() - self.rsp_pos).min(self.burst as usize) as u8,
                State::Idle => 0,
            },
            0x1A => 0,
            0x24 => {
                // Reads have side effects; Mmio::read8 takes &self, so the
                // fake serves the FIFO through interior state below.
                panic!("FIFO reads go through FakeTis")
            }
            _ => 0,
        }
    }
    fn write8(&mut self, off: usize, v: u8) {
        if self.dead {
            return;
        }
        let loc = (off >> 12) as u8;
        let reg = off & 0xFFF;
        match reg {
            0x00 if v == 0x02 && self.active.is_none() => self.active = Some(loc),
            0x00 if v == 0x20 && self.active == Some(loc) => {
                self.active = None;
                self.state = State::Idle;
            }
            0x00 => {}
            _ if self.active != Some(loc) => {}
            0x18 if v == 0x40 => {
                self.state = State::Ready;
                self.cmd.clear();
            }
            0x18 if v == 0x20 => {
                assert_eq!(self.sts() & 0x08, 0, "tpmGo while the TPM expects more bytes");
                assert_eq!(self.state, State::Reception, "tpmGo without a command");
                self.execute();
            }
            0x24 => {
                assert!(matches!(self.state, State::Ready | State::Reception), "FIFO write outside reception");
                self.state = State::Reception;
                self.cmd.push(v);
            }
            _ => {}
        }
    }
    fn read32(&self, off: usize) -> u32 {
        if self.dead {
            return u32::MAX;
        }
        match off & 0xFFF {
            0x14 if self.tpm12 || self.tis13 => 0x2000_0697, // TIS 1.3: TPM 1.2, or TPM 2.0 on TIS 1.3
            0x14 => 0x3000_0697,                             // FIFO interface, TPM 2.0
            _ => 0,
        }
    }
}

/// [`FakeTpm`] behind a `RefCell` so FIFO reads (which advance the response)
/// work through `Mmio::read8(&self)`.
pub struct FakeTis(pub std::cell::RefCell<FakeTpm>);

impl Mmio for FakeTis {
    fn read8(&self, off: usize) -> u8 {
        if off & 0xFFF == 0x24 && !self.0.borrow().dead {
            let mut t = self.0.borrow_mut();
            if t.active != Some((off >> 12) as u8) {
                return 0xFF;
            }
            let b = t.rsp.get(t.rsp_pos).copied().expect("FIFO read past the response");
            t.rsp_pos += 1;
            return b;
        }
        self.0.borrow().read8(off)
    }
    fn write8(&mut self, off: usize, v: u8) {
        self.0.borrow_mut().write8(off, v)
    }
    fn read32(&self, off: usize) -> u32 {
        self.0.borrow().read32(off)
    }
}

impl FakeTpm {
    /// Run one command at locality `loc` (for interface fakes other than TIS).
    pub fn process(&mut self, cmd: &[u8], loc: u8) -> Vec<u8> {
        let saved = self.active;
        self.active = Some(loc);
        self.cmd = cmd.to_vec();
        self.execute();
        self.active = saved;
        self.state = State::Idle;
        std::mem::take(&mut self.rsp)
    }
}

/// A CRB register file (PTP §6.5.3) in front of [`FakeTpm`]: command and
/// response buffer at +0x80 of each locality page, 0xF80 bytes.
pub struct FakeCrb {
    pub tpm: FakeTpm,
    pub cap_locality: bool,
    pub active: Option<u8>,
    regs: [[u8; 0x1000]; 5],
    pub starts: u32,
}

impl FakeCrb {
    pub fn new(tpm: FakeTpm, cap_locality: bool) -> Self {
        let mut c = FakeCrb { tpm, cap_locality, active: None, regs: [[0; 0x1000]; 5], starts: 0 };
        for l in 0..5 {
            let base = 0xFED4_0000u64 + l as u64 * 0x1000 + 0x80;
            c.set32(l, 0x58, 0xF80);
            c.set32(l, 0x5C, base as u32);
            c.set32(l, 0x64, 0xF80);
            c.set32(l, 0x68, base as u32);
        }
        c
    }
    fn set32(&mut self, l: usize, off: usize, v: u32) {
        self.regs[l][off..off + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn get32(&self, l: usize, off: usize) -> u32 {
        u32::from_le_bytes(self.regs[l][off..off + 4].try_into().unwrap())
    }
}

impl Mmio for FakeCrb {
    fn read8(&self, off: usize) -> u8 {
        self.regs[off >> 12][off & 0xFFF]
    }
    fn write8(&mut self, off: usize, v: u8) {
        let l = off >> 12;
        let reg = off & 0xFFF;
        match reg {
            0x08 if v & 1 != 0 && (self.cap_locality || l == 0) && self.active.is_none() => self.active = Some(l as u8),
            0x08 if v & 2 != 0 && self.active == Some(l as u8) => self.active = None,
            0x40 => {} // cmdReady/goIdle complete at once
            0x4C..=0x4F if reg == 0x4C && v & 1 != 0 => {
                assert_eq!(self.active, Some(l as u8), "CRB start from an inactive locality");
                let size = u32::from_be_bytes(self.regs[l][0x82..0x86].try_into().unwrap()) as usize;
                let cmd = self.regs[l][0x80..0x80 + size].to_vec();
                let rsp = self.tpm.process(&cmd, l as u8);
                self.regs[l][0x80..0x80 + rsp.len()].copy_from_slice(&rsp);
                self.starts += 1;
            }
            _ => self.regs[l][reg] = v,
        }
    }
    fn read32(&self, off: usize) -> u32 {
        let l = off >> 12;
        match off & 0xFFF {
            0x00 => {
                let active = self.active == Some(l as u8);
                0x80 | if active { 0x02 | (l as u32) << 2 } else { 0 }
            }
            0x30 => 0x0000_4011 | if self.cap_locality { 1 << 8 } else { 0 }, // CRB, version 1
            0x4C => 0,
            r => self.get32(l, r),
        }
    }
}
