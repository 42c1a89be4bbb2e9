//! `txt_mle`: the MLE's post-SENTER sequence (`skl::txt::mle::prepare`)
//! with the input as the whole TXT heap (at 0x60_0000, where the MLE page
//! table, the SLRT and the event log may also be placed by the input) and
//! an MLE of one measured page at 0x200_0000. Registers report a good
//! SENTER. Properties: the CPU is changed (MTRR restore) only after every
//! check passed, and exactly once, after SMCTRL; an accepted launch has an
//! MLE page table that maps the measured page onto the MLE (walked here
//! independently) and an SLRT and event log that lie in memory.

use skl::memory::PhysMemory;
use skl::txt::mle::{prepare, Mle, TxtCpu};
use skl::txt::TxtRegs;
use skl_bootinfo::slrt::IntelInfo;
use skl_bootinfo::txt::TxtReg;
use skl_bootinfo::PhysAddr;

use crate::ram::SparseRam;

const HEAP: u64 = 0x60_0000;
const MLE_BASE: u64 = 0x200_0000;

struct Regs {
    heap_size: u64,
}

impl TxtRegs for Regs {
    fn read(&mut self, reg: TxtReg) -> u64 {
        match reg {
            TxtReg::STS => 1,
            TxtReg::DIDVID => 0x8086,
            TxtReg::ERRORCODE => 0xC000_0001,
            TxtReg::HEAP_BASE => HEAP,
            TxtReg::HEAP_SIZE => self.heap_size,
            TxtReg::SINIT_BASE => 0x68_0000,
            TxtReg::SINIT_SIZE => 0x1_0000,
            _ => 0,
        }
    }
    fn write(&mut self, _reg: TxtReg, _v: u64) {}
}

#[derive(Default)]
struct Cpu {
    smctrl: u32,
    restored: u32,
}

impl TxtCpu for Cpu {
    fn mtrr_cap_vcnt(&mut self) -> u32 {
        10
    }
    fn maxphyaddr(&mut self) -> u32 {
        39
    }
    fn smctrl(&mut self) -> bool {
        self.smctrl += 1;
        true
    }
    fn misc_enable(&mut self) -> u64 {
        0
    }
    fn restore(&mut self, _info: &IntelInfo) {
        assert_eq!(self.smctrl, 1, "MTRRs restored before SMCTRL");
        self.restored += 1;
    }
}

fn rd64(ram: &SparseRam, at: u64) -> Option<u64> {
    ram.get(at, 8).map(|b| u64::from_le_bytes(b.try_into().unwrap()))
}

pub fn run(data: &[u8]) {
    let mut ram = SparseRam { regions: vec![(HEAP, data.to_vec()), (MLE_BASE, vec![0; 0x1_0000])] };
    let mle = Mle { base: PhysAddr(MLE_BASE), measured: 0x1000, header: 0x20, footprint: 0x1_0000 };
    let mut regs = Regs { heap_size: data.len() as u64 };
    let mut cpu = Cpu::default();
    let result = prepare(&ram, &mut regs, &mut cpu, &mle);
    match result {
        Err(_) => assert_eq!(cpu.restored, 0, "CPU state changed by a refused launch"),
        Ok(dce) => {
            assert_eq!(cpu.restored, 1);
            // Linear 0 through the heap's MLE page table lands on the MLE.
            let os_sinit_at = {
                let bios = rd64(&ram, HEAP).unwrap();
                let os_mle = rd64(&ram, HEAP + bios).unwrap();
                HEAP + bios + os_mle + 8
            };
            let pdpt = rd64(&ram, os_sinit_at + 8).unwrap();
            let pd = rd64(&ram, pdpt).unwrap() & 0x000F_FFFF_FFFF_F000;
            let pt = rd64(&ram, pd).unwrap() & 0x000F_FFFF_FFFF_F000;
            assert_eq!(rd64(&ram, pt).unwrap() & 0x000F_FFFF_FFFF_F000, MLE_BASE, "page 0 not the MLE's");
            assert!(ram.get(dce.slrt.start().as_u64(), dce.slrt.len()).is_some(), "SLRT not in memory");
            assert!(!dce.slrt.overlaps(&dce.own));
            let log = dce.log.expect("TXT always names its log");
            assert!(log.range.end() <= 1 << 32);
            // The launch may write the log; it must be addressable or refused later.
            let _ = ram.write(log.range);
        }
    }
}
