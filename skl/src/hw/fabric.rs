//! The real [`Fabric`]: PCI configuration mechanism #1 (ports 0xCF8/0xCFC),
//! ECAM for extended registers, IOMMU MMIO, and SKL's IOMMU tables in the
//! SLB's `.bss`.

use core::ptr::{addr_of, addr_of_mut, NonNull};
use core::sync::atomic::{fence, Ordering};

use skl_bootinfo::PhysAddr;
use volatile::VolatilePtr;

use super::port::{inl, outl};
use crate::dma::iommu::{CommandArea, DeviceTable, TableAddrs, CMD_SLOTS, DEV_TABLE_ENTRIES, MMIO_SIZE};
use crate::dma::{Bdf, CpuInfo, Fabric, IommuTables};

const CONFIG_ADDRESS: u16 = 0xCF8;
const CONFIG_DATA: u16 = 0xCFC;
/// MMIO Configuration Base Address (AMD BKDG/PPR MSRC001_0058): bit 0
/// enable, bits 5:2 log2 of the bus count, bits 47:20 base.
const MSR_MMIO_CFG_BASE: u32 = 0xC001_0058;

// The linker script puts the device table after the page tables, both
// 4 KiB aligned, and the command area in ordinary .bss; all inside the SLB,
// which SKINIT protects and Xen keeps reserved.
#[link_section = ".skl.tables.iommu"]
static mut DEVICE_TABLE: DeviceTable = DeviceTable([[0; 4]; DEV_TABLE_ENTRIES]);
static mut COMMANDS: CommandArea = CommandArea { slots: [[0; 2]; CMD_SLOTS], semaphore: 0 };

pub struct HwFabric {
    /// ECAM base and bus count.
    ecam: Option<(u64, u64)>,
    ecam_read: bool,
}

static TAKEN: super::Once = super::Once::new();

impl HwFabric {
    /// The one handle on configuration space, the IOMMUs and SKL's IOMMU
    /// tables (`None` after the first call).
    pub fn take() -> Option<Self> {
        TAKEN.claim().then_some(HwFabric { ecam: None, ecam_read: false })
    }

    fn cf8(at: Bdf, off: u16) -> u32 {
        0x8000_0000 | (at.0 as u32) << 8 | (off as u32 & 0xFC)
    }

    /// ECAM address of a register, if ECAM is on and below 4 GiB (the
    /// identity map). Read from the MSR that programs the decoder itself,
    /// so it cannot point anywhere config space is not (unlike ACPI MCFG).
    /// Only family 17h+ needs it; earlier families never reach the MSR.
    fn ecam_addr(&mut self, at: Bdf, off: u16) -> Option<*mut u32> {
        if !self.ecam_read {
            self.ecam_read = true;
            let msr = super::cpu::rdmsr(MSR_MMIO_CFG_BASE);
            let base = msr & 0x0000_FFFF_FFF0_0000;
            let buses = 1u64 << ((msr >> 2) & 0xF);
            let end = base + (buses << 20);
            self.ecam = (msr & 1 != 0 && base != 0 && end <= 1 << 32).then_some((base, buses));
        }
        let (base, buses) = self.ecam?;
        if at.bus() as u64 >= buses {
            return None;
        }
        let a = base + ((at.0 as u64) << 12) + (off as u64 & 0xFFC);
        // A raw pointer, not a `VolatilePtr`: measured +16 B on skl.bin and
        // skl-debug.bin (docs/design.md, "Dependencies and size").
        Some(a as *mut u32)
    }

    fn mmio(base: PhysAddr, off: u32) -> VolatilePtr<'static, u64> {
        // discover() bounded base + MMIO_SIZE below 4 GiB.
        assert!((off as u64) < MMIO_SIZE && off.is_multiple_of(8) && base.as_u64() + MMIO_SIZE <= 1 << 32);
        // SAFETY: discover() accepts no base 0, and base + off stays below
        // 4 GiB (asserted): not null.
        let p = unsafe { NonNull::new_unchecked((base.as_u64() + off as u64) as *mut u64) };
        // SAFETY: an aligned register inside the IOMMU's 16 KiB window,
        // which discover() placed below 4 GiB (identity-mapped) and clear of
        // the SLB; reads of these registers have no side effects.
        unsafe { VolatilePtr::new(p) }
    }
}

impl Fabric for HwFabric {
    fn cfg_read(&mut self, at: Bdf, off: u16) -> u32 {
        // SAFETY: CONFIG_ADDRESS only selects the register CONFIG_DATA reads.
        unsafe { outl(CONFIG_ADDRESS, Self::cf8(at, off)) };
        inl(CONFIG_DATA)
    }

    fn cfg_write(&mut self, at: Bdf, off: u16, v: u32) {
        // SAFETY: as in cfg_read.
        unsafe { outl(CONFIG_ADDRESS, Self::cf8(at, off)) };
        // SAFETY: the launch writes configuration registers of the IOMMUs
        // (capability BAR enable) and the northbridge (DEV / data-fabric
        // protection) only, through `dma`, whose order is host-tested
        // against the fake fabric: none of them remaps memory Rust uses.
        unsafe { outl(CONFIG_DATA, v) };
    }

    fn ext_read(&mut self, at: Bdf, off: u16) -> Option<u32> {
        let p = self.ecam_addr(at, off)?;
        // SAFETY: p is inside the ECAM window the MSR decodes (bus < bus
        // count, below 4 GiB: identity-mapped, uncached by the firmware's
        // MTRRs); an aligned dword register.
        Some(unsafe { p.read_volatile() })
    }

    fn ext_write(&mut self, at: Bdf, off: u16, v: u32) -> Option<()> {
        let p = self.ecam_addr(at, off)?;
        // SAFETY: as for ext_read.
        unsafe { p.write_volatile(v) };
        Some(())
    }

    fn mmio_read(&mut self, base: PhysAddr, off: u32) -> u64 {
        Self::mmio(base, off).read()
    }

    fn mmio_write(&mut self, base: PhysAddr, off: u32, v: u64) {
        // The IOMMU must see SKL's table and command writes before the
        // register write that makes it read them.
        fence(Ordering::SeqCst);
        Self::mmio(base, off).write(v)
    }

    fn tables(&mut self) -> IommuTables<'_> {
        let (dev_table, commands) = (addr_of_mut!(DEVICE_TABLE), addr_of_mut!(COMMANDS));
        // SAFETY: the statics are only reached through this method, whose
        // borrow is tied to the one HwFabric (`take`); the launch is
        // single-threaded. The IOMMU only reads the table.
        let dev_table = unsafe { &mut *dev_table };
        // SAFETY: as above; the IOMMU writes only the semaphore, which SKL
        // reads with a volatile load (`semaphore`).
        let commands = unsafe { &mut *commands };
        IommuTables { dev_table, commands }
    }

    fn table_addrs(&self) -> TableAddrs {
        // Identity map: the address of a static is its physical address.
        let commands = addr_of!(COMMANDS) as u64;
        TableAddrs {
            dev_table: PhysAddr(addr_of!(DEVICE_TABLE) as u64),
            commands: PhysAddr(commands),
            semaphore: PhysAddr(commands + core::mem::offset_of!(CommandArea, semaphore) as u64),
        }
    }

    fn semaphore(&mut self) -> u64 {
        let p = addr_of!(COMMANDS).wrapping_byte_add(core::mem::offset_of!(CommandArea, semaphore)).cast::<u64>();
        // SAFETY: an aligned u64 in .bss; the IOMMU's COMPLETION_WAIT
        // writes it, hence the volatile read.
        unsafe { p.read_volatile() }
    }

    fn cpu(&self) -> CpuInfo {
        let l1 = core::arch::x86_64::__cpuid(1);
        let base = (l1.eax >> 8) & 0xF;
        let family = if base == 0xF { base + ((l1.eax >> 20) & 0xFF) } else { base };
        CpuInfo { family, hypervisor: l1.ecx & (1 << 31) != 0 }
    }
}
