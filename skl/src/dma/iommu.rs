//! AMD IOMMUs: discovery in PCI configuration space and the block-all
//! set-up.
//!
//! Register offsets, command formats and table entry bits follow the AMD
//! I/O Virtualization Technology (IOMMU) Specification (48882), §3.3
//! (Device Table Entry), §2.4 (commands), §3.4 (MMIO registers), as also
//! used by Linux `drivers/iommu/amd/amd_iommu_types.h` and QEMU
//! `hw/i386/amd_iommu.h`.

use skl_bootinfo::{PhysAddr, PhysRange};

use super::pci::{find_capability, for_each_function, Bdf};
use super::{DmaError, Fabric};

/// More IOMMUs than any shipping system has (2-socket EPYC: 8).
pub const MAX_IOMMUS: usize = 16;
/// Device table entries SKL provides: DeviceIDs 0x0000-0x00FF (bus 0).
/// See `docs/design.md` ("DMA protection") for why this size.
pub const DEV_TABLE_ENTRIES: usize = 256;
/// Command slots SKL owns inside the (declared 4 KiB) command buffer: the
/// IOMMU reads only between head and tail, which SKL starts at the slots'
/// offset in their page and never moves past them, so the rest of that
/// page may hold other data (as in secure-kernel-loader `iommu.c`).
pub const CMD_SLOTS: usize = 8;
/// The MMIO registers SKL touches lie in the first 16 KiB (§3.4).
pub const MMIO_SIZE: u64 = 0x4000;

// Capability (§3.2.1): header, base address low/high.
const CAP_ID: u32 = 0x0F;
const CAP_TYPE_IOMMU: u32 = 3;
const CAP_EFR_SUP: u32 = 1 << 27;
const CAP_BAR_LOW: u16 = 4;
const CAP_BAR_HIGH: u16 = 8;
const BAR_ENABLE: u32 = 1;
const BAR_MASK: u32 = 0xFFFF_C000;

// MMIO registers (§3.4).
pub const REG_DEV_TABLE: u32 = 0x00;
pub const REG_CMD_BASE: u32 = 0x08;
pub const REG_EVT_BASE: u32 = 0x10;
pub const REG_CONTROL: u32 = 0x18;
pub const REG_EXCL_BASE: u32 = 0x20;
pub const REG_EXCL_LIMIT: u32 = 0x28;
pub const REG_EFR: u32 = 0x30;
pub const REG_CMD_HEAD: u32 = 0x2000;
pub const REG_CMD_TAIL: u32 = 0x2008;
pub const REG_EVT_HEAD: u32 = 0x2010;
pub const REG_EVT_TAIL: u32 = 0x2018;
pub const REG_STATUS: u32 = 0x2020;

bitflags::bitflags! {
    /// The Control register (§3.4.3). Multi-bit fields are named as one
    /// flag with all their bits; configuration bits outside the enables
    /// (Coherent, Isoc, PassPW…) are the firmware's and are kept as read.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Control: u64 {
        const IOMMU_EN = 1 << 0;
        const HT_TUN_EN = 1 << 1;
        const EVENT_LOG_EN = 1 << 2;
        const EVENT_INT_EN = 1 << 3;
        const COM_WAIT_INT_EN = 1 << 4;
        const CMD_BUF_EN = 1 << 12;
        const PPR_LOG_EN = 1 << 13;
        const PPR_INT_EN = 1 << 14;
        const PPR_EN = 1 << 15;
        const GT_EN = 1 << 16;
        const GA_EN = 1 << 17;
        const SMIF_EN = 1 << 22;
        const SMIF_LOG_EN = 1 << 24;
        const GA_LOG_EN = 1 << 28;
        const GA_INT_EN = 1 << 29;
        const DUAL_PPR_LOG_EN = 0b11 << 30;
        const DUAL_EVENT_LOG_EN = 0b11 << 32;
        const DEV_TBL_SEG_EN = 0b111 << 34;
        const PRIV_ABRT_EN = 0b11 << 37;
        const PPR_AUTO_RSP_EN = 1 << 39;
        const MARC_EN = 1 << 40;
        const BLK_STOP_MRK_EN = 1 << 41;
        const PPR_AUTO_RSP_AON = 1 << 42;
        /// The enable bits SKL clears before reprogramming: all of the
        /// above (the mask before the bitflags conversion, `0xFF << 34`,
        /// left out PprAutoRspAon, bit 42, although its comment named it).
        const ENABLES = Self::IOMMU_EN.bits() | Self::HT_TUN_EN.bits() | Self::EVENT_LOG_EN.bits()
            | Self::EVENT_INT_EN.bits() | Self::COM_WAIT_INT_EN.bits() | Self::CMD_BUF_EN.bits()
            | Self::PPR_LOG_EN.bits() | Self::PPR_INT_EN.bits() | Self::PPR_EN.bits() | Self::GT_EN.bits()
            | Self::GA_EN.bits() | Self::SMIF_EN.bits() | Self::SMIF_LOG_EN.bits() | Self::GA_LOG_EN.bits()
            | Self::GA_INT_EN.bits() | Self::DUAL_PPR_LOG_EN.bits() | Self::DUAL_EVENT_LOG_EN.bits()
            | Self::DEV_TBL_SEG_EN.bits() | Self::PRIV_ABRT_EN.bits() | Self::PPR_AUTO_RSP_EN.bits()
            | Self::MARC_EN.bits() | Self::BLK_STOP_MRK_EN.bits() | Self::PPR_AUTO_RSP_AON.bits();
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// The Status register (§3.4.12).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Status: u64 {
        const EVENT_OVERFLOW = 1 << 0;
        const EVENT_LOG_INT = 1 << 1;
        const COM_WAIT_INT = 1 << 2;
        /// The IOMMU is fetching commands. The command buffer's base, head
        /// and tail may be changed only while it is clear.
        const CMD_BUF_RUN = 1 << 4;
        /// The write-1-to-clear bits.
        const W1C = Self::EVENT_OVERFLOW.bits() | Self::EVENT_LOG_INT.bits() | Self::COM_WAIT_INT.bits();
        const _ = !0;
    }
}

// Raw values of the bits above, for the host tests and the fake fabric.
pub const CTRL_IOMMU_EN: u64 = Control::IOMMU_EN.bits();
pub const CTRL_CMD_BUF_EN: u64 = Control::CMD_BUF_EN.bits();
pub const CTRL_ENABLES: u64 = Control::ENABLES.bits();
pub const STATUS_CMD_BUF_RUN: u64 = Status::CMD_BUF_RUN.bits();
const _: () = assert!(CTRL_ENABLES == 0x1F | (0x3F << 12) | (1 << 22) | (1 << 24) | (0x3F << 28) | (0x1FF << 34));
/// Extended feature register: INVALIDATE_IOMMU_ALL supported.
const EFR_IA_SUP: u64 = 1 << 6;
/// Log2 of 256 entries of 16 bytes = 4 KiB: the smallest command buffer
/// (§3.4.2 ComLen).
const LEN_4K: u64 = 8 << 56;

/// Device table entry that blocks the device (§3.3.2): V = 1, TV = 1,
/// Mode = 0, IR = IW = 0 — every DMA read and write is target-aborted.
/// Interrupts (IV = 0) pass unremapped, as before the launch.
pub const DTE_BLOCK: [u64; 4] = [0b11, 0, 0, 0];

// Commands (§2.4): opcode in bits 63:60 of the first quadword.
const OP_COMPLETION_WAIT: u64 = 1;
const OP_INVALIDATE_DEVTAB_ENTRY: u64 = 2;
const OP_INVALIDATE_IOMMU_ALL: u64 = 8;
/// COMPLETION_WAIT S bit: store the data at the address when done.
const CW_STORE: u64 = 1;

pub fn cmd_completion_wait(addr: PhysAddr, data: u64) -> [u64; 2] {
    [(addr.as_u64() & 0x000F_FFFF_FFFF_FFF8) | CW_STORE | (OP_COMPLETION_WAIT << 60), data]
}
pub fn cmd_invalidate_all() -> [u64; 2] {
    [OP_INVALIDATE_IOMMU_ALL << 60, 0]
}
pub fn cmd_invalidate_dte(device_id: u16) -> [u64; 2] {
    [device_id as u64 | (OP_INVALIDATE_DEVTAB_ENTRY << 60), 0]
}

/// The device table, 4 KiB aligned (§3.3: base bits 51:12).
#[repr(C, align(4096))]
pub struct DeviceTable(pub [[u64; 4]; DEV_TABLE_ENTRIES]);

/// SKL's command slots and the COMPLETION_WAIT semaphore. The alignment
/// keeps the area inside one 4 KiB page (the ring never wraps).
#[repr(C, align(256))]
pub struct CommandArea {
    pub slots: [[u64; 2]; CMD_SLOTS],
    pub semaphore: u64,
}

/// Physical addresses of the tables as the IOMMU sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableAddrs {
    pub dev_table: PhysAddr,
    /// Slot 0 of the command area (any 16-byte aligned place in a page).
    pub commands: PhysAddr,
    pub semaphore: PhysAddr,
}

impl TableAddrs {
    /// The command buffer base register's page and the ring offset.
    fn cmd_page(&self) -> (u64, u64) {
        (self.commands.as_u64() & !0xFFF, self.commands.as_u64() & 0xFFF)
    }
}

/// One IOMMU found in configuration space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Iommu {
    pub bdf: Bdf,
    pub cap: u16,
    pub base: PhysAddr,
    pub efr_sup: bool,
}

/// The IOMMUs of the system, in bus order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IommuList {
    items: [Option<Iommu>; MAX_IOMMUS],
    len: usize,
}

impl IommuList {
    pub fn iter(&self) -> impl Iterator<Item = &Iommu> {
        self.items[..self.len].iter().flatten()
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Find every IOMMU (capability 0x0F with CapType 3) on every bus, check
/// its MMIO base (16 KiB aligned by the register format; below 4 GiB, clear
/// of the SLB, distinct from the others) and enable the base if firmware
/// left it off.
#[inline(never)]
pub fn discover<F: Fabric + ?Sized>(f: &mut F, slb: PhysRange) -> Result<IommuList, DmaError> {
    let mut list = IommuList { items: [None; MAX_IOMMUS], len: 0 };
    let mut err = None;
    for_each_function(f, |f, at| {
        if err.is_some() {
            return;
        }
        let want = |h: u32| h & 0xFF == CAP_ID && (h >> 16) & 7 == CAP_TYPE_IOMMU;
        let Some(cap) = find_capability(f, at, want) else { return };
        match probe(f, at, cap, slb, &list) {
            Ok(iommu) if list.len < MAX_IOMMUS => {
                list.items[list.len] = Some(iommu);
                list.len += 1;
            }
            Ok(_) => err = Some(DmaError::TooManyIommus),
            Err(e) => err = Some(e),
        }
    });
    match err {
        Some(e) => Err(e),
        None if list.is_empty() => Err(DmaError::NoIommu),
        None => Ok(list),
    }
}

#[inline(never)]
fn probe<F: Fabric + ?Sized>(
    f: &mut F,
    at: Bdf,
    cap: u16,
    slb: PhysRange,
    known: &IommuList,
) -> Result<Iommu, DmaError> {
    let hdr = f.cfg_read(at, cap);
    let mut low = f.cfg_read(at, cap + CAP_BAR_LOW);
    let high = f.cfg_read(at, cap + CAP_BAR_HIGH);
    let base = ((high as u64) << 32) | (low & BAR_MASK) as u64;
    let bad = DmaError::IommuBase { device: at.0, base };
    let window = PhysRange::new(PhysAddr(base), MMIO_SIZE).ok_or(bad)?;
    if base == 0 || !window.below_4g() || window.overlaps(&slb) {
        return Err(bad);
    }
    if known.iter().any(|i| i.base == window.start()) {
        return Err(bad);
    }
    if low & BAR_ENABLE == 0 {
        // Firmware left the window off: switch it on. Whether an IOMMU
        // really answers there is proven later by its COMPLETION_WAIT store,
        // which plain memory cannot make.
        f.cfg_write(at, cap + CAP_BAR_LOW, low | BAR_ENABLE);
        low = f.cfg_read(at, cap + CAP_BAR_LOW);
        if low & BAR_MASK != base as u32 {
            return Err(bad);
        }
    }
    Ok(Iommu { bdf: at, cap, base: window.start(), efr_sup: hdr & CAP_EFR_SUP != 0 })
}

/// Step 1, while SKINIT's protection still covers the SLB: disable the
/// IOMMU, point it at SKL's tables, drop any exclusion range (it would let
/// devices bypass the tables) and the event log (see `docs/design.md`),
/// and enable it. The IOMMU
/// cannot read the tables yet (they are in the SLB), so until the nodes are
/// lifted every DMA it must look up is aborted.
#[inline(never)]
pub fn program<F: Fabric + ?Sized>(f: &mut F, iommu: &Iommu, t: &TableAddrs) -> Result<(), DmaError> {
    let b = iommu.base;
    let ctrl = Control::from_bits_retain(f.mmio_read(b, REG_CONTROL));
    f.mmio_write(b, REG_CONTROL, ctrl.difference(Control::ENABLES).bits());
    wait_cmd_buf_stopped(f, b)?;
    let devtab = t.dev_table.as_u64() | (DEV_TABLE_ENTRIES as u64 * 32 / 4096 - 1);
    f.mmio_write(b, REG_DEV_TABLE, devtab);
    f.mmio_write(b, REG_EXCL_BASE, 0);
    f.mmio_write(b, REG_EXCL_LIMIT, 0);
    let (page, off) = t.cmd_page();
    f.mmio_write(b, REG_CMD_BASE, page | LEN_4K);
    f.mmio_write(b, REG_CMD_HEAD, off);
    f.mmio_write(b, REG_CMD_TAIL, off);
    f.mmio_write(b, REG_EVT_BASE, 0);
    f.mmio_write(b, REG_EVT_HEAD, 0);
    f.mmio_write(b, REG_EVT_TAIL, 0);
    f.mmio_write(b, REG_STATUS, Status::W1C.bits());
    let on = ctrl.difference(Control::ENABLES).union(Control::CMD_BUF_EN);
    f.mmio_write(b, REG_CONTROL, on.bits());
    let on = on.union(Control::IOMMU_EN).bits();
    f.mmio_write(b, REG_CONTROL, on);
    for (reg, want) in [(REG_DEV_TABLE, devtab), (REG_EXCL_BASE, 0), (REG_CONTROL, on)] {
        let got = f.mmio_read(b, reg);
        if got != want {
            return Err(DmaError::IommuNoResponse { base: b.as_u64(), reg, value: got });
        }
    }
    Ok(())
}

/// Bound on the completion wait, in polls of the IOMMU status register
/// (an uncached MMIO read, ≥ 0.1 µs each: ≥ 0.2 s in all). An IOMMU
/// completes a handful of commands in microseconds.
pub const WAIT_POLLS: u32 = 2_000_000;

/// Step 2, after every node is lifted: make the IOMMU drop whatever it
/// cached before it used SKL's tables, and prove it did. With
/// INVALIDATE_IOMMU_ALL when the IOMMU has it, else one
/// INVALIDATE_DEVTAB_ENTRY per covered DeviceID; each batch ends in a
/// COMPLETION_WAIT whose store SKL waits for.
#[inline(never)]
pub fn flush<F: Fabric + ?Sized>(f: &mut F, iommu: &Iommu, t: &TableAddrs, token: u64) -> Result<(), DmaError> {
    let all = iommu.efr_sup && f.mmio_read(iommu.base, REG_EFR) & EFR_IA_SUP != 0;
    if all {
        return batch(f, iommu, t, &[cmd_invalidate_all()], token);
    }
    let mut cmds = [[0u64; 2]; CMD_SLOTS - 1];
    let mut first = 0usize;
    while first < DEV_TABLE_ENTRIES {
        let n = (DEV_TABLE_ENTRIES - first).min(cmds.len());
        for (k, c) in cmds[..n].iter_mut().enumerate() {
            *c = cmd_invalidate_dte((first + k) as u16);
        }
        batch(f, iommu, t, &cmds[..n], token.wrapping_add(first as u64))?;
        first += n;
    }
    Ok(())
}

/// Queue `cmds` and a COMPLETION_WAIT from slot 0, ring the doorbell,
/// wait for the store, then rewind the ring to slot 0 (head and tail may be
/// written only while the command buffer is disabled).
#[inline(never)]
fn batch<F: Fabric + ?Sized>(
    f: &mut F,
    iommu: &Iommu,
    t: &TableAddrs,
    cmds: &[[u64; 2]],
    token: u64,
) -> Result<(), DmaError> {
    let b = iommu.base;
    let n = cmds.len() + 1;
    debug_assert!(n <= CMD_SLOTS);
    {
        let area = f.tables().commands;
        area.semaphore = 0;
        area.slots[..cmds.len()].copy_from_slice(cmds);
        area.slots[cmds.len()] = cmd_completion_wait(t.semaphore, token);
    }
    let (_, off) = t.cmd_page();
    let end = off + (n * 16) as u64;
    f.mmio_write(b, REG_CMD_TAIL, end);
    let mut done = false;
    for _ in 0..WAIT_POLLS {
        let _ = f.mmio_read(b, REG_STATUS);
        if f.semaphore() == token {
            done = true;
            break;
        }
    }
    let head = f.mmio_read(b, REG_CMD_HEAD);
    if !done || head != end {
        return Err(DmaError::IommuTimeout { base: b.as_u64(), head });
    }
    let ctrl = f.mmio_read(b, REG_CONTROL);
    f.mmio_write(b, REG_CONTROL, Control::from_bits_retain(ctrl).difference(Control::CMD_BUF_EN).bits());
    wait_cmd_buf_stopped(f, b)?;
    f.mmio_write(b, REG_CMD_HEAD, off);
    f.mmio_write(b, REG_CMD_TAIL, off);
    f.mmio_write(b, REG_CONTROL, ctrl);
    Ok(())
}

/// Bounded wait for Status.CmdBufRun to clear after CmdBufEn was cleared.
fn wait_cmd_buf_stopped<F: Fabric + ?Sized>(f: &mut F, b: PhysAddr) -> Result<(), DmaError> {
    for _ in 0..WAIT_POLLS {
        if !Status::from_bits_retain(f.mmio_read(b, REG_STATUS)).contains(Status::CMD_BUF_RUN) {
            return Ok(());
        }
    }
    Err(DmaError::IommuNoResponse { base: b.as_u64(), reg: REG_STATUS, value: f.mmio_read(b, REG_STATUS) })
}

/// Clear every enable bit of the Control register and wait until the
/// command buffer has stopped: the IOMMU then translates nothing and its
/// base registers may be reprogrammed.
pub fn disable<F: Fabric + ?Sized>(f: &mut F, iommu: &Iommu) -> Result<(), DmaError> {
    let ctrl = Control::from_bits_retain(f.mmio_read(iommu.base, REG_CONTROL));
    f.mmio_write(iommu.base, REG_CONTROL, ctrl.difference(Control::ENABLES).bits());
    wait_cmd_buf_stopped(f, iommu.base)?;
    let after = f.mmio_read(iommu.base, REG_CONTROL);
    if Control::from_bits_retain(after).contains(Control::IOMMU_EN) {
        return Err(DmaError::IommuNoResponse { base: iommu.base.as_u64(), reg: REG_CONTROL, value: after });
    }
    Ok(())
}

/// After the flush: the device table still blocks every DeviceID (nothing
/// rewrote it while the SLB was open to the IOMMU) and the IOMMU is on.
#[inline(never)]
pub fn verify<F: Fabric + ?Sized>(f: &mut F, iommu: &Iommu) -> Result<(), DmaError> {
    // Word by word: `!=` on the arrays is a call to memcmp, the payload's
    // only one, which brings in ~600 bytes of compiler-builtins.
    let differs = |e: &[u64; 4]| e.iter().zip(DTE_BLOCK).fold(0, |acc, (a, b)| acc | (a ^ b)) != 0;
    if let Some(i) = f.tables().dev_table.0.iter().position(differs) {
        return Err(DmaError::DeviceTableChanged { index: i as u16 });
    }
    let ctrl = f.mmio_read(iommu.base, REG_CONTROL);
    if !Control::from_bits_retain(ctrl).contains(Control::IOMMU_EN) || f.mmio_read(iommu.base, REG_EXCL_BASE) & 1 != 0 {
        return Err(DmaError::IommuNoResponse { base: iommu.base.as_u64(), reg: REG_CONTROL, value: ctrl });
    }
    Ok(())
}
