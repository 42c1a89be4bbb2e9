//! A simulated fabric for host tests: N AMD nodes (DEV or data-fabric
//! protection), M IOMMUs anywhere in configuration space with their MMIO
//! registers, and a trace of what happened in which order.
//!
//! The IOMMU model does what the launch relies on: it runs commands from
//! head to tail when the tail is written while IommuEn and CmdBufEn are set,
//! but only once it can read the SLB (every node lifted), as SKINIT's
//! protection also stops the IOMMU's own reads (secure-kernel-loader
//! `main.c`, `iommu_setup`).

use std::collections::{BTreeMap, BTreeSet};

use skl_bootinfo::PhysAddr;

use super::iommu::{self, CommandArea, DeviceTable, TableAddrs, DEV_TABLE_ENTRIES};
use super::northbridge::MEMPROT_CR;
use super::{Bdf, CpuInfo, Fabric, IommuTables};

/// What the fabric saw, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    /// IOMMU `i` enabled with SKL's device table and no exclusion range.
    IommuBlocking(usize),
    NodeLifted(u8),
    InvalidateAll(usize),
    InvalidateDte(usize, u16),
    Completion(usize),
}

pub struct FakeIommu {
    pub bdf: Bdf,
    pub base: u64,
    pub bar_enabled: bool,
    pub efr_sup: bool,
    pub ia_sup: bool,
    pub regs: BTreeMap<u32, u64>,
    /// Registers read all ones and ignore writes.
    pub dead: bool,
    /// Commands are never run.
    pub stalls: bool,
    /// Writes to the table and buffer bases are ignored (as with SNP on,
    /// IOMMU spec §2.12.2.1).
    pub locked_bases: bool,
    /// Status.CmdBufRun stays set this many reads after CmdBufEn clears.
    pub run_lag: u32,
    lag_left: u32,
}

pub struct FakeFabric {
    pub cpu: CpuInfo,
    pub nodes: u8,
    /// Per node: DEV_CR (families 0Fh-16h) or MEMPROT_CR (17h+).
    pub protection: Vec<u32>,
    pub dev_cap: bool,
    pub ecam: bool,
    /// Node whose protection bit cannot be cleared.
    pub stuck_node: Option<u8>,
    pub iommus: Vec<FakeIommu>,
    pub cfg: BTreeMap<(Bdf, u16), u32>,
    pub present: BTreeSet<Bdf>,
    pub dev_table: Box<DeviceTable>,
    pub commands: Box<CommandArea>,
    pub addrs: TableAddrs,
    pub trace: Vec<Ev>,
    /// A device rewrites this DTE as soon as the SLB is readable (an
    /// attacker using a stale IOMMU cache entry).
    pub tamper_dte: Option<u16>,
    dev_op: BTreeMap<u8, u32>,
}

pub const SLB: u64 = 0x0200_0000;
const DEV_CAP_AT: u16 = 0xF0;
const IOMMU_CAP_AT: u16 = 0x40;

impl FakeFabric {
    /// `nodes` nodes of `family`, the IOMMUs at the given functions with
    /// MMIO bases 0xFEB00000 + 0x80000·i.
    pub fn new(family: u32, nodes: u8, iommus: &[Bdf]) -> Self {
        let mut f = FakeFabric {
            cpu: CpuInfo { family, hypervisor: false },
            nodes,
            // DEV_CR with DEV and SL_DEV enabled, or MEMPROT enabled.
            protection: vec![Self::protection_bit(family) | 1; nodes as usize],
            dev_cap: true,
            ecam: true,
            stuck_node: None,
            iommus: Vec::new(),
            cfg: BTreeMap::new(),
            present: BTreeSet::new(),
            dev_table: Box::new(DeviceTable([[0xFFFF_FFFF; 4]; DEV_TABLE_ENTRIES])),
            commands: Box::new(CommandArea { slots: [[0; 2]; iommu::CMD_SLOTS], semaphore: 0 }),
            addrs: TableAddrs {
                dev_table: PhysAddr(SLB + 0x9000),
                commands: PhysAddr(SLB + 0x8300),
                semaphore: PhysAddr(SLB + 0x8380),
            },
            trace: Vec::new(),
            tamper_dte: None,
            dev_op: BTreeMap::new(),
        };
        for n in 0..nodes {
            for func in 0..8 {
                let at = Bdf::new(0, 0x18 + n, func);
                f.present.insert(at);
                f.cfg.insert((at, 0), 0x1022 | (0x1400 + func as u32) << 16);
                f.cfg.insert((at, 0x0C), 0x0080_0000);
            }
            let f3 = Bdf::new(0, 0x18 + n, 3);
            f.cfg.insert((f3, 0x04), 1 << 20);
            f.cfg.insert((f3, 0x34), DEV_CAP_AT as u32);
            f.cfg.insert((f3, DEV_CAP_AT), 0x0000_000F);
        }
        for (i, &at) in iommus.iter().enumerate() {
            f.add_iommu(at, 0xFEB0_0000 + 0x8_0000 * i as u64);
        }
        f
    }

    pub fn add_iommu(&mut self, at: Bdf, base: u64) {
        self.present.insert(at);
        let f0 = Bdf::new(at.bus(), at.dev(), 0);
        if at.func() != 0 {
            self.present.insert(f0);
            self.cfg.insert((f0, 0), 0x1022 | 0x1480 << 16);
            self.cfg.insert((f0, 0x0C), 0x0080_0000);
        }
        self.cfg.insert((at, 0), 0x1022 | 0x1481 << 16);
        self.cfg.insert((at, 0x04), 1 << 20);
        self.cfg.insert((at, 0x34), IOMMU_CAP_AT as u32);
        self.iommus.push(FakeIommu {
            bdf: at,
            base,
            bar_enabled: true,
            efr_sup: true,
            ia_sup: true,
            regs: BTreeMap::new(),
            dead: false,
            stalls: false,
            locked_bases: false,
            run_lag: 3,
            lag_left: 0,
        });
    }

    /// The bit SKINIT sets and SKL must clear: SL_DEV_EN or MEMPROT_EN.
    fn protection_bit(family: u32) -> u32 {
        if family >= 0x17 {
            1
        } else {
            1 << 5
        }
    }

    fn all_lifted(&self) -> bool {
        let bit = Self::protection_bit(self.cpu.family);
        self.protection.iter().all(|p| p & bit == 0)
    }

    fn iommu_cap(&self, at: Bdf, off: u16) -> Option<u32> {
        let m = self.iommus.iter().find(|m| m.bdf == at)?;
        Some(match off.checked_sub(IOMMU_CAP_AT)? {
            0 => 0x0F | 3 << 16 | if m.efr_sup { 1 << 27 } else { 0 },
            4 => (m.base as u32 & 0xFFFF_C000) | m.bar_enabled as u32,
            8 => (m.base >> 32) as u32,
            _ => return None,
        })
    }

    fn find_mmio(&self, base: PhysAddr) -> Option<usize> {
        self.iommus.iter().position(|m| m.base == base.as_u64())
    }

    fn run_commands(&mut self, i: usize) {
        let m = &self.iommus[i];
        let ctrl = m.regs.get(&iommu::REG_CONTROL).copied().unwrap_or(0);
        let on = iommu::CTRL_IOMMU_EN | iommu::CTRL_CMD_BUF_EN;
        if m.stalls || ctrl & on != on || !self.all_lifted() {
            return;
        }
        let cmd_base = m.regs.get(&iommu::REG_CMD_BASE).copied().unwrap_or(0) & 0x000F_FFFF_FFFF_F000;
        assert_eq!(cmd_base, self.addrs.commands.as_u64() & !0xFFF, "command buffer not SKL's");
        let first = self.addrs.commands.as_u64() & 0xFFF;
        let mut head = m.regs.get(&iommu::REG_CMD_HEAD).copied().unwrap_or(0);
        let tail = m.regs.get(&iommu::REG_CMD_TAIL).copied().unwrap_or(0);
        while head != tail {
            let slot = (head.wrapping_sub(first) / 16) as usize;
            assert!(head >= first && slot < iommu::CMD_SLOTS, "IOMMU would read outside SKL's command slots");
            let [q0, q1] = self.commands.slots[slot];
            match q0 >> 60 {
                1 => {
                    assert_eq!(q0 & 0x000F_FFFF_FFFF_FFF8, self.addrs.semaphore.as_u64());
                    self.commands.semaphore = q1;
                    self.trace.push(Ev::Completion(i));
                }
                2 => self.trace.push(Ev::InvalidateDte(i, q0 as u16)),
                8 => self.trace.push(Ev::InvalidateAll(i)),
                op => panic!("unexpected command {op}"),
            }
            head = (head + 16) % 4096;
        }
        self.iommus[i].regs.insert(iommu::REG_CMD_HEAD, head);
    }

    pub fn reg(&self, i: usize, reg: u32) -> u64 {
        self.iommus[i].regs.get(&reg).copied().unwrap_or(0)
    }
}

impl Fabric for FakeFabric {
    fn cfg_read(&mut self, at: Bdf, off: u16) -> u32 {
        assert!(off < 0x100 && off.is_multiple_of(4), "bad config offset {off:#x}");
        if !self.present.contains(&at) {
            return u32::MAX;
        }
        if let Some(v) = self.iommu_cap(at, off) {
            return v;
        }
        let node = at.dev().wrapping_sub(0x18);
        if at.func() == 3 && node < self.nodes {
            if !self.dev_cap && off >= 0x34 {
                return 0;
            }
            if off == DEV_CAP_AT + 8 && self.dev_op.get(&node) == Some(&(4 << 8)) {
                return self.protection[node as usize];
            }
        }
        self.cfg.get(&(at, off)).copied().unwrap_or(0)
    }

    fn cfg_write(&mut self, at: Bdf, off: u16, v: u32) {
        assert!(off < 0x100 && off.is_multiple_of(4));
        if let Some(i) = self.iommus.iter().position(|m| m.bdf == at) {
            if off == IOMMU_CAP_AT + 4 {
                self.iommus[i].bar_enabled |= v & 1 != 0;
            }
            return;
        }
        let node = at.dev().wrapping_sub(0x18);
        if at.func() == 3 && node < self.nodes && self.dev_cap {
            if off == DEV_CAP_AT + 4 {
                self.dev_op.insert(node, v);
            } else if off == DEV_CAP_AT + 8 && self.dev_op.get(&node) == Some(&(4 << 8)) {
                self.lift_to(node, v, Self::protection_bit(self.cpu.family));
            }
        }
    }

    fn ext_read(&mut self, at: Bdf, off: u16) -> Option<u32> {
        if !self.ecam {
            return None;
        }
        let node = at.dev().wrapping_sub(0x18);
        if at.bus() == 0 && at.func() == 0 && node < self.nodes && off == MEMPROT_CR {
            return Some(self.protection[node as usize]);
        }
        Some(if self.present.contains(&at) { 0 } else { u32::MAX })
    }

    fn ext_write(&mut self, at: Bdf, off: u16, v: u32) -> Option<()> {
        if !self.ecam {
            return None;
        }
        let node = at.dev().wrapping_sub(0x18);
        if at.bus() == 0 && at.func() == 0 && node < self.nodes && off == MEMPROT_CR {
            self.lift_to(node, v, Self::protection_bit(self.cpu.family));
        }
        Some(())
    }

    fn mmio_read(&mut self, base: PhysAddr, off: u32) -> u64 {
        let i = self.find_mmio(base).expect("MMIO read outside every IOMMU");
        let m = &self.iommus[i];
        if m.dead {
            return u64::MAX;
        }
        match off {
            iommu::REG_EFR => (m.ia_sup as u64) << 6,
            iommu::REG_STATUS => {
                let run = self.reg(i, iommu::REG_CONTROL) & iommu::CTRL_CMD_BUF_EN != 0 || self.iommus[i].lag_left > 0;
                self.iommus[i].lag_left = self.iommus[i].lag_left.saturating_sub(1);
                self.reg(i, off) | if run { iommu::STATUS_CMD_BUF_RUN } else { 0 }
            }
            _ => m.regs.get(&off).copied().unwrap_or(0),
        }
    }

    fn mmio_write(&mut self, base: PhysAddr, off: u32, v: u64) {
        let i = self.find_mmio(base).expect("MMIO write outside every IOMMU");
        if self.iommus[i].dead {
            return;
        }
        let ctrl = self.reg(i, iommu::REG_CONTROL);
        // Base and head change only while stopped; so does the tail, except
        // as the doorbell of a running buffer.
        let rewinds = matches!(off, iommu::REG_CMD_BASE | iommu::REG_CMD_HEAD)
            || (off == iommu::REG_CMD_TAIL && ctrl & iommu::CTRL_CMD_BUF_EN == 0);
        if rewinds {
            assert_eq!(ctrl & iommu::CTRL_CMD_BUF_EN, 0, "command buffer register written while it runs");
            assert_eq!(self.iommus[i].lag_left, 0, "command buffer register written before CmdBufRun cleared");
        }
        if self.iommus[i].locked_bases
            && matches!(off, iommu::REG_DEV_TABLE | iommu::REG_CMD_BASE | iommu::REG_EVT_BASE)
        {
            return;
        }
        if off == iommu::REG_CONTROL && ctrl & iommu::CTRL_CMD_BUF_EN != 0 && v & iommu::CTRL_CMD_BUF_EN == 0 {
            self.iommus[i].lag_left = self.iommus[i].run_lag;
        }
        let v = match off {
            iommu::REG_STATUS => self.reg(i, off) & !v,
            _ => v,
        };
        self.iommus[i].regs.insert(off, v);
        if off == iommu::REG_CONTROL && v & iommu::CTRL_IOMMU_EN != 0 && ctrl & iommu::CTRL_IOMMU_EN == 0 {
            let dt = self.reg(i, iommu::REG_DEV_TABLE);
            if dt & !0x1FF == self.addrs.dev_table.as_u64() && self.reg(i, iommu::REG_EXCL_BASE) & 1 == 0 {
                self.trace.push(Ev::IommuBlocking(i));
            }
        }
        if off == iommu::REG_CMD_TAIL {
            self.run_commands(i);
        }
    }

    fn tables(&mut self) -> IommuTables<'_> {
        IommuTables { dev_table: &mut self.dev_table, commands: &mut self.commands }
    }

    fn table_addrs(&self) -> TableAddrs {
        self.addrs
    }

    fn semaphore(&mut self) -> u64 {
        self.commands.semaphore
    }

    fn cpu(&self) -> CpuInfo {
        self.cpu
    }
}

impl FakeFabric {
    fn lift_to(&mut self, node: u8, v: u32, bit: u32) {
        let mut v = v;
        if self.stuck_node == Some(node) {
            v |= bit;
        }
        let was = self.protection[node as usize];
        self.protection[node as usize] = v;
        if was & bit != 0 && v & bit == 0 {
            self.trace.push(Ev::NodeLifted(node));
        }
        if self.all_lifted() {
            if let Some(d) = self.tamper_dte.take() {
                self.dev_table.0[d as usize] = [0b11 | 3 << 61, 0, 0, 0];
            }
        }
    }
}
