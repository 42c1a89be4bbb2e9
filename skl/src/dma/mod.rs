//! DMA protection: before anything is measured, every AMD IOMMU blocks all
//! DMA, and only then is SKINIT's protection of the SLB lifted on every
//! node. Hardware-free: configuration space, IOMMU registers and SKL's
//! tables come in through [`Fabric`], so the order and every failure path
//! run on the host against a simulated fabric (`fake.rs`).
//!
//! Order (why: `docs/design.md`, "DMA protection"):
//! 1. fill SKL's device table (inside the SLB) with blocking entries;
//! 2. find every IOMMU and point it at that table, exclusion range and
//!    event log off, enabled — it cannot read the table yet, so lookups
//!    fail closed;
//! 3. lift SL_DEV (families 0Fh-16h) or the data fabric's protection
//!    (17h and later) on every node;
//! 4. in each IOMMU invalidate everything cached and wait for a
//!    COMPLETION_WAIT store (the proof a real IOMMU runs SKL's commands);
//! 5. check the table is unchanged and each IOMMU still enabled.
//!
//! The steps are `#[inline(never)]`: inlined into `skl_main` they cost
//! ~140 more measured bytes.

pub mod iommu;
pub mod northbridge;
pub mod pci;

#[cfg(test)]
pub mod fake;
#[cfg(test)]
mod tests;

use skl_bootinfo::PhysAddr;

pub use iommu::{CommandArea, DeviceTable, IommuList, TableAddrs};
pub use northbridge::Protection;
pub use pci::Bdf;

/// What the launch needs to know about the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuInfo {
    /// Family as CPUID leaf 1 reports it (base + extended).
    pub family: u32,
    /// CPUID.1:ECX[31]: a hypervisor runs us. Real CPUs report 0.
    pub hypervisor: bool,
}

/// SKL's tables, borrowed for writing.
pub struct IommuTables<'a> {
    pub dev_table: &'a mut DeviceTable,
    pub commands: &'a mut CommandArea,
}

/// Configuration space, IOMMU registers and SKL's IOMMU tables.
pub trait Fabric {
    /// Read a dword of standard configuration space (offset < 0x100,
    /// aligned); all ones when nothing answers.
    fn cfg_read(&mut self, at: Bdf, off: u16) -> u32;
    fn cfg_write(&mut self, at: Bdf, off: u16, v: u32);
    /// Extended configuration space (offsets up to 0xFFF, through ECAM);
    /// `None` when the platform has it switched off.
    fn ext_read(&mut self, at: Bdf, off: u16) -> Option<u32>;
    fn ext_write(&mut self, at: Bdf, off: u16, v: u32) -> Option<()>;
    /// A 64-bit IOMMU MMIO register at `base + off`.
    fn mmio_read(&mut self, base: PhysAddr, off: u32) -> u64;
    fn mmio_write(&mut self, base: PhysAddr, off: u32, v: u64);
    fn tables(&mut self) -> IommuTables<'_>;
    fn table_addrs(&self) -> TableAddrs;
    /// The COMPLETION_WAIT semaphore as memory holds it now.
    fn semaphore(&mut self) -> u64;
    fn cpu(&self) -> CpuInfo;
}

/// Why DMA protection could not be established. Each stops the launch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmaError {
    /// A CPU family without SKINIT DMA protection SKL knows.
    UnknownFamily { family: u32 },
    /// No northbridge / data fabric at 00:18.0 on bare metal.
    NoNorthbridge,
    /// A family 0Fh-16h node without the DEV capability in function 3.
    NoDevCapability { node: u8 },
    /// Family 17h+: extended configuration space (ECAM) is off or above 4 GiB.
    NoExtendedConfig,
    /// A node's protection bit is still set after clearing it.
    NodeNotLifted { node: u8, value: u32 },
    /// No IOMMU: nothing could keep devices off the measured kernel.
    NoIommu,
    /// More IOMMUs than SKL tracks.
    TooManyIommus,
    /// An IOMMU MMIO base that is zero, above 4 GiB, in the SLB or shared.
    IommuBase { device: u16, base: u64 },
    /// An IOMMU register did not keep what SKL wrote.
    IommuNoResponse { base: u64, reg: u32, value: u64 },
    /// An IOMMU did not complete SKL's commands in time.
    IommuTimeout { base: u64, head: u64 },
    /// The device table changed while the IOMMU could read it.
    DeviceTableChanged { index: u16 },
    /// SKL's own tables are not where the IOMMU needs them (link error).
    TablesMisplaced { addr: u64 },
}

impl DmaError {
    /// Low byte of the launch error code 0x60xx.
    pub fn code(&self) -> u16 {
        match self {
            DmaError::UnknownFamily { .. } => 0x01,
            DmaError::NoNorthbridge => 0x02,
            DmaError::NoDevCapability { .. } => 0x03,
            DmaError::NoExtendedConfig => 0x04,
            DmaError::NodeNotLifted { .. } => 0x05,
            DmaError::NoIommu => 0x10,
            DmaError::TooManyIommus => 0x11,
            DmaError::IommuBase { .. } => 0x12,
            DmaError::IommuNoResponse { .. } => 0x13,
            DmaError::IommuTimeout { .. } => 0x14,
            DmaError::DeviceTableChanged { .. } => 0x15,
            DmaError::TablesMisplaced { .. } => 0x16,
        }
    }

    /// The offending value for the failure record.
    pub fn detail(&self) -> u32 {
        match *self {
            DmaError::UnknownFamily { family } => family,
            DmaError::NoNorthbridge | DmaError::NoExtendedConfig | DmaError::NoIommu | DmaError::TooManyIommus => 0,
            DmaError::NoDevCapability { node } => node as u32,
            DmaError::NodeNotLifted { node, value } => ((node as u32) << 24) | (value & 0xFF_FFFF),
            DmaError::IommuBase { base, .. } | DmaError::IommuNoResponse { base, .. } => base as u32,
            DmaError::IommuTimeout { head, .. } => head as u32,
            DmaError::DeviceTableChanged { index } => index as u32,
            DmaError::TablesMisplaced { addr } => addr as u32,
        }
    }
}

/// What was protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaReport {
    pub nodes: u8,
    pub iommus: u8,
}

/// DMA protection in place: what was done, and the IOMMUs that now block
/// every device (for [`release_to_kernel`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protected {
    pub report: DmaReport,
    pub iommus: IommuList,
}

/// Token the COMPLETION_WAIT stores ("SKLDMA" + IOMMU index).
const TOKEN: u64 = 0x534B_4C44_4D41_0000;

/// Establish DMA protection (steps in the module documentation).
#[inline(never)]
pub fn protect<F: Fabric>(f: &mut F, slb: PhysAddr) -> Result<Protected, DmaError> {
    block_all(f, slb, true)
}

/// The PSP path (`docs/psp-drtm.md` §3.5): every IOMMU blocks every device
/// as in [`protect`], but SKINIT's protection of the SLB is left to the PSP
/// DRTM service, which lifts it after a good LAUNCH (step 3 skipped). So it
/// runs after LAUNCH: before it, that protection also keeps the IOMMUs from
/// reading SKL's tables in the SLB, and the flush times out.
#[cfg(any(test, feature = "psp"))]
#[inline(never)]
pub fn protect_under_psp<F: Fabric>(f: &mut F, slb: PhysAddr) -> Result<Protected, DmaError> {
    block_all(f, slb, false)
}

/// Steps 1-5; step 3 (lifting each node's protection) only with
/// `lift_nodes`.
#[inline(always)]
fn block_all<F: Fabric>(f: &mut F, slb: PhysAddr, lift_nodes: bool) -> Result<Protected, DmaError> {
    let slb = crate::launch::slb_range(slb);
    let cpu = f.cpu();
    let kind = Protection::for_family(cpu.family)?;
    let nodes = northbridge::count_nodes(f);
    // A virtual machine has no northbridge at 00:18 unless its hypervisor
    // models one; then SLB protection is the hypervisor's, and so is the
    // rest of the machine. On bare metal a missing node is an error.
    if nodes == 0 && !cpu.hypervisor {
        return Err(DmaError::NoNorthbridge);
    }
    let t = f.table_addrs();
    // The device table: 4 KiB aligned (§3.3). The command slots: 16-byte
    // aligned and within one page, so the ring SKL drives never wraps.
    let dev_len = core::mem::size_of::<DeviceTable>() as u64;
    let cmd_len = core::mem::size_of::<CommandArea>() as u64;
    let cmd_in_page = (t.commands.as_u64() & 0xFFF) + cmd_len <= 4096;
    for (a, len, align, fits) in [(t.dev_table, dev_len, 4096, true), (t.commands, cmd_len, 16, cmd_in_page)] {
        let in_slb = skl_bootinfo::PhysRange::new(a, len).is_some_and(|r| slb.contains_range(&r));
        if a.as_u64() % align != 0 || !fits || !in_slb {
            return Err(DmaError::TablesMisplaced { addr: a.as_u64() });
        }
    }
    f.tables().dev_table.0.fill(iommu::DTE_BLOCK);

    let iommus = iommu::discover(f, slb)?;
    for i in iommus.iter() {
        iommu::program(f, i, &t)?;
    }
    if lift_nodes {
        for n in 0..nodes {
            northbridge::lift(f, n, kind)?;
        }
    }
    for (k, i) in iommus.iter().enumerate() {
        iommu::flush(f, i, &t, TOKEN | ((k as u64) << 8))?;
        iommu::verify(f, i)?;
    }
    Ok(Protected { report: DmaReport { nodes, iommus: iommus.len() as u8 }, iommus })
}

/// Multiboot2 mode, after every measurement: turn every IOMMU off, as
/// firmware leaves it. A kernel that knows nothing of DRTM cannot know the
/// blocking tables in the SLB: without an IOMMU driver its devices would
/// never work, and with one (Xen, Linux) it reprograms the base registers,
/// which the IOMMU specification (§3.4, Device Table Base Address) allows
/// only while the IOMMU is disabled. DLME mode keeps the IOMMUs blocking:
/// a Secure Launch kernel takes them over itself.
#[inline(never)]
pub fn release_to_kernel<F: Fabric>(f: &mut F, iommus: &IommuList) -> Result<(), DmaError> {
    for i in iommus.iter() {
        iommu::disable(f, i)?;
    }
    Ok(())
}
