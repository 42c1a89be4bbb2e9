//! The real [`PspHw`]: configuration mechanism #1 for the PSP function and
//! the host bridge's SMN pair, 32-bit MMIO for the DRTM mailbox only, and
//! the 8254 PIT's channel 2 as the time base of every bound. Also the
//! [`SplitMemory`] the PSP path reads the service's log through while it
//! writes the DRTM log. Built with the `psp` feature only (not yet wired
//! into a payload: `docs/psp-drtm.md` §5).

use skl_bootinfo::PhysRange;

use super::phys::IdentityMap;
use super::port::{inb, inl, outb, outl};
use crate::dma::Bdf;
use crate::memory::PhysMemory;
use crate::psp::flow::SplitMemory;
use crate::psp::{Layout, PspHw, HOST_BRIDGE, SMN_DATA, SMN_INDEX, SMN_PSP_BASE};

const CONFIG_ADDRESS: u16 = 0xCF8;
const CONFIG_DATA: u16 = 0xCFC;
/// PCI command register: memory space and bus master enable only.
const REG_COMMAND: u16 = 0x04;
const COMMAND_BITS: u32 = 0x6;

const PIT_CH2: u16 = 0x42;
const PIT_MODE: u16 = 0x43;
/// Port B (NMI status and control): bit 0 gates PIT channel 2, bit 1 the
/// speaker, bit 5 reads channel 2's output.
const PORT_B: u16 = 0x61;
const PIT_HZ: u64 = 1_193_182;
/// Channel 2, low then high byte, mode 0 (output rises at terminal count).
const PIT_CH2_ONESHOT: u8 = 0xB0;

/// Physical memory and the PSP: the one handle the PSP path runs on.
pub struct HwPsp {
    mem: IdentityMap,
    /// The SMN index SKL last wrote to the host bridge.
    smn_index: u32,
    /// The mailbox base the SMN register gave; MMIO is allowed only there.
    base: Option<u32>,
}

impl HwPsp {
    /// Takes over physical memory for the PSP path.
    pub fn new(mem: IdentityMap) -> Self {
        HwPsp { mem, smn_index: 0, base: None }
    }
    pub fn into_memory(self) -> IdentityMap {
        self.mem
    }

    fn cf8(at: Bdf, off: u16) -> u32 {
        0x8000_0000 | (at.0 as u32) << 8 | (off as u32 & 0xFC)
    }

    /// A DRTM mailbox register of the PSP whose base SMN gave, in either
    /// layout; anything else is a bug in the caller.
    fn mailbox_reg(&self, addr: u32) -> *mut u32 {
        let base = self.base.expect("mailbox access before the SMN base read");
        let off = addr.wrapping_sub(base);
        let ok = [Layout::A, Layout::B].iter().any(|l| off == l.cmd || l.args.contains(&off));
        assert!(ok, "not a DRTM mailbox register");
        addr as usize as *mut u32
    }

    /// One PIT one-shot of at most 50 ms.
    fn pit_wait(us: u32) {
        let count = ((us as u64 * PIT_HZ).div_ceil(1_000_000)).clamp(1, 0xFFFF) as u16;
        let b = inb(PORT_B) & 0x0C;
        // SAFETY: port B bits 0-1 gate PIT channel 2 and the speaker; bits
        // 2-3 (NMI masks) are written back as read. Nothing maps memory.
        unsafe { outb(PORT_B, b) };
        // SAFETY: the PIT mode register, channel 2 (not the timer
        // interrupt's channel 0, and interrupts are off).
        unsafe { outb(PIT_MODE, PIT_CH2_ONESHOT) };
        // SAFETY: channel 2's count, low byte.
        unsafe { outb(PIT_CH2, count as u8) };
        // SAFETY: channel 2's count, high byte.
        unsafe { outb(PIT_CH2, (count >> 8) as u8) };
        // SAFETY: as above: gate on, speaker off, NMI bits as read.
        unsafe { outb(PORT_B, b | 1) };
        // Output rises at terminal count. A platform without an 8254 reads
        // 0xFF here: the wait ends at once and a slow PSP command times out
        // early — a stopped launch, never a hang. Bounded regardless.
        for _ in 0..(us.saturating_mul(16)).max(16) {
            if inb(PORT_B) & 0x20 != 0 {
                break;
            }
        }
    }
}

impl PspHw for HwPsp {
    fn cfg_read(&mut self, at: Bdf, off: u16) -> u32 {
        // SAFETY: CONFIG_ADDRESS only selects the register CONFIG_DATA reads.
        unsafe { outl(CONFIG_ADDRESS, Self::cf8(at, off)) };
        let v = inl(CONFIG_DATA);
        if at == HOST_BRIDGE && off == SMN_DATA && self.smn_index == SMN_PSP_BASE {
            self.base = Some(v & 0xFFF0_0000).filter(|&b| b != 0 && b != 0xFFF0_0000);
        }
        v
    }

    fn cfg_write(&mut self, at: Bdf, off: u16, v: u32) {
        // Only the writes the PSP driver makes: the SMN index, and memory
        // and bus-master enable on the PSP function.
        let smn = at == HOST_BRIDGE && off == SMN_INDEX;
        assert!(smn || (off == REG_COMMAND && v >> 16 == 0 && v & COMMAND_BITS == COMMAND_BITS));
        if smn {
            self.smn_index = v;
        }
        // SAFETY: as in cfg_read.
        unsafe { outl(CONFIG_ADDRESS, Self::cf8(at, off)) };
        // SAFETY: the SMN index register only selects what SMN_DATA reads;
        // the PSP function's command register keeps firmware's bits and gets
        // memory decoding and bus mastering, which map nothing over RAM (its
        // BAR is firmware's); the status half is written as zero, which
        // clears nothing.
        unsafe { outl(CONFIG_DATA, v) };
    }

    fn reg_read(&mut self, addr: u32) -> u32 {
        let p = self.mailbox_reg(addr);
        // SAFETY: a DRTM mailbox register (checked above) in the PSP's MMIO
        // window below 4 GiB, identity-mapped and uncached by the firmware's
        // MTRRs; an aligned dword.
        unsafe { p.read_volatile() }
    }

    fn reg_write(&mut self, addr: u32, v: u32) {
        let p = self.mailbox_reg(addr);
        // SAFETY: as for reg_read. The PSP may read memory the command names
        // (EXTEND_OSSL_DIGEST: the DLME) but writes only its own log.
        unsafe { p.write_volatile(v) }
    }

    fn cpu_signature(&self) -> u32 {
        super::cpu::cpuid(1).0
    }

    fn delay_us(&mut self, us: u32) {
        let mut left = us;
        while left > 0 {
            let chunk = left.min(50_000);
            Self::pit_wait(chunk);
            left -= chunk;
        }
    }
}

impl PhysMemory for HwPsp {
    fn read(&self, r: PhysRange) -> Option<&[u8]> {
        self.mem.read(r)
    }
    fn write(&mut self, r: PhysRange) -> Option<&mut [u8]> {
        self.mem.write(r)
    }
}

impl SplitMemory for HwPsp {
    fn split(&mut self, read: PhysRange, write: PhysRange) -> Option<(&[u8], &mut [u8])> {
        self.mem.split(read, write)
    }
}
