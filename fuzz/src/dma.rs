//! `skl::dma::protect` over an arbitrary configuration space: whatever the
//! capability lists, BARs and node registers say, the walk ends, nothing
//! panics, and a success means every IOMMU that answered was left blocking.
//!
//! Input: byte 0 picks the CPU family, byte 1 holds flags (hypervisor,
//! ECAM on, IOMMUs run commands), then 7-byte records (bdf u16, offset u8,
//! value u32) make up the sparse configuration space.

use std::collections::BTreeMap;

use skl::dma::iommu::{self, CommandArea, DeviceTable, TableAddrs, CMD_SLOTS, DEV_TABLE_ENTRIES, DTE_BLOCK};
use skl::dma::{Bdf, CpuInfo, Fabric, IommuTables};
use skl_bootinfo::PhysAddr;

const SLB: u64 = 0x0200_0000;

struct FuzzFabric {
    cpu: CpuInfo,
    ecam: bool,
    runs_commands: bool,
    cfg: BTreeMap<(u16, u16), u32>,
    ext: BTreeMap<(u16, u16), u32>,
    regs: BTreeMap<(u64, u32), u64>,
    dev_table: Box<DeviceTable>,
    commands: Box<CommandArea>,
}

impl Fabric for FuzzFabric {
    fn cfg_read(&mut self, at: Bdf, off: u16) -> u32 {
        assert!(off < 0x100 && off % 4 == 0, "config offset {off:#x}");
        match self.cfg.get(&(at.0, off)) {
            Some(v) => *v,
            None if self.cfg.contains_key(&(at.0, 0)) => 0,
            None => u32::MAX,
        }
    }
    fn cfg_write(&mut self, at: Bdf, off: u16, v: u32) {
        assert!(off < 0x100 && off % 4 == 0, "config offset {off:#x}");
        self.cfg.insert((at.0, off), v);
    }
    fn ext_read(&mut self, at: Bdf, off: u16) -> Option<u32> {
        assert!(off < 0x1000 && off % 4 == 0);
        self.ecam.then(|| self.ext.get(&(at.0, off)).copied().unwrap_or(1))
    }
    fn ext_write(&mut self, at: Bdf, off: u16, v: u32) -> Option<()> {
        self.ecam.then(|| {
            self.ext.insert((at.0, off), v);
        })
    }
    fn mmio_read(&mut self, base: PhysAddr, off: u32) -> u64 {
        assert!(base.as_u64() % 0x4000 == 0 && base.as_u64() + 0x4000 <= 1 << 32, "MMIO base {base:?}");
        assert!(off < 0x4000 && off % 8 == 0);
        self.regs.get(&(base.as_u64(), off)).copied().unwrap_or(0)
    }
    fn mmio_write(&mut self, base: PhysAddr, off: u32, v: u64) {
        assert!(base.as_u64() + 0x4000 <= SLB || base.as_u64() >= SLB + 0x10000, "MMIO write into the SLB");
        self.regs.insert((base.as_u64(), off), v);
        if off == iommu::REG_CMD_TAIL && self.runs_commands {
            let first = self.table_addrs().commands.as_u64() & 0xFFF;
            let n = (v.wrapping_sub(first) / 16) as usize;
            assert!(v >= first && n <= CMD_SLOTS, "tail {v:#x} past SKL's slots");
            if let Some(cw) = n.checked_sub(1).map(|i| self.commands.slots[i]) {
                if cw[0] >> 60 == 1 {
                    self.commands.semaphore = cw[1];
                }
            }
            self.regs.insert((base.as_u64(), iommu::REG_CMD_HEAD), v);
        }
    }
    fn tables(&mut self) -> IommuTables<'_> {
        IommuTables { dev_table: &mut self.dev_table, commands: &mut self.commands }
    }
    fn table_addrs(&self) -> TableAddrs {
        TableAddrs {
            dev_table: PhysAddr(SLB + 0xB000),
            commands: PhysAddr(SLB + 0x7F00),
            semaphore: PhysAddr(SLB + 0x7F80),
        }
    }
    fn semaphore(&mut self) -> u64 {
        self.commands.semaphore
    }
    fn cpu(&self) -> CpuInfo {
        self.cpu
    }
}

pub fn run(data: &[u8]) {
    let (Some(&fam), Some(&flags)) = (data.first(), data.get(1)) else { return };
    let mut f = FuzzFabric {
        cpu: CpuInfo { family: 0x0E + (fam % 14) as u32, hypervisor: flags & 1 != 0 },
        ecam: flags & 2 != 0,
        runs_commands: flags & 4 != 0,
        cfg: BTreeMap::new(),
        ext: BTreeMap::new(),
        regs: BTreeMap::new(),
        dev_table: Box::new(DeviceTable([[0xA5A5; 4]; DEV_TABLE_ENTRIES])),
        commands: Box::new(CommandArea { slots: [[0; 2]; CMD_SLOTS], semaphore: 0 }),
    };
    for r in data[2..].chunks_exact(7) {
        let bdf = u16::from_le_bytes([r[0], r[1]]);
        // Keep the space small enough for the scan to find things.
        let bdf = bdf & 0x0FFF;
        f.cfg.insert((bdf, (r[2] & 0xFC) as u16), u32::from_le_bytes([r[3], r[4], r[5], r[6]]));
    }
    let result = skl::dma::protect(&mut f, PhysAddr(SLB));
    if std::env::var_os("SKL_FUZZ_SHOW").is_some() {
        eprintln!("dma: {result:?}");
    }
    match result {
        Ok(p) => {
            let rep = p.report;
            assert!(rep.iommus >= 1 && p.iommus.len() == rep.iommus as usize);
            assert!(rep.nodes >= 1 || f.cpu.hypervisor);
            assert!(f.dev_table.0.iter().all(|e| *e == DTE_BLOCK));
            // Every IOMMU base SKL wrote to is blocking with SKL's table.
            let bases: Vec<u64> = f.regs.keys().map(|k| k.0).collect();
            for b in bases {
                let r = |o| f.regs.get(&(b, o)).copied().unwrap_or(0);
                assert_eq!(r(iommu::REG_DEV_TABLE), SLB + 0xB000 | 1);
                assert_eq!(r(iommu::REG_EXCL_BASE), 0);
                assert_eq!(r(iommu::REG_CONTROL) & iommu::CTRL_IOMMU_EN, 1);
            }
        }
        Err(e) => {
            let _ = (e.code(), e.detail());
        }
    }
}
