//! The per-node DMA protection SKINIT switches on: find every northbridge
//! (families 0Fh-16h) or data fabric (17h and later) and lift it.
//!
//! Facts followed:
//! - Node n answers at bus 0, device 0x18 + n (up to 8 nodes), function 0
//!   with the AMD vendor ID; nodes are numbered contiguously (BKDG for
//!   family 10h/15h, "Configuration Space": D18F0-D1FF0; TrenchBoot SKL
//!   `skl-v9` commit 18f5358 walks the same devices for multi-node DEV).
//! - Families 0Fh-16h: the Device Exclusion Vector capability (ID 0x0F) in
//!   function 3; DEV_OP at +4 selects function/index, DEV_DATA at +8;
//!   DEV_CR is function 4 index 0, bit 5 SL_DEV_EN is the SKINIT protection
//!   of the SLB (TrenchBoot secure-kernel-loader `dev.c`, `include/dev.h`).
//! - Family 17h and later: the data fabric's DMA protection control at
//!   function 0 offset 0x384, bit 0 (secure-kernel-loader `dev.c`,
//!   MEMPROT_CR / MEMPROT_EN). The offset is in extended configuration space.

use super::pci::{find_capability, vendor, Bdf, VENDOR_AMD};
use super::{DmaError, Fabric};

/// The most nodes a system has (devices 0x18-0x1F).
pub const MAX_NODES: u8 = 8;
const FIRST_NODE_DEV: u8 = 0x18;

/// Which SKINIT protection control the family has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// Families 0Fh-16h: SL_DEV_EN in DEV_CR of the function 3 DEV capability.
    Dev,
    /// Family 17h and later: bit 0 of data fabric function 0, offset 0x384.
    MemProt,
}

impl Protection {
    pub fn for_family(family: u32) -> Result<Self, DmaError> {
        match family {
            0x0F..=0x16 => Ok(Protection::Dev),
            0x17.. => Ok(Protection::MemProt),
            _ => Err(DmaError::UnknownFamily { family }),
        }
    }
}

const DEV_CAP_ID: u32 = 0x0F;
const DEV_OP: u16 = 4;
const DEV_DATA: u16 = 8;
/// DEV_OP value selecting DEV_CR: function 4, index 0.
const DEV_OP_CR: u32 = 4 << 8;
const SL_DEV_EN: u32 = 1 << 5;
pub const MEMPROT_CR: u16 = 0x384;
const MEMPROT_EN: u32 = 1 << 0;

/// Number of nodes present: function 0 of devices 0x18.. with the AMD
/// vendor ID, counted until the first that does not answer.
#[inline(never)]
pub fn count_nodes<F: Fabric + ?Sized>(f: &mut F) -> u8 {
    (0..MAX_NODES).take_while(|&n| vendor(f, Bdf::new(0, FIRST_NODE_DEV + n, 0)) == Some(VENDOR_AMD)).count() as u8
}

/// Lift the SKINIT DMA protection of node `node` and read it back.
#[inline(never)]
pub fn lift<F: Fabric + ?Sized>(f: &mut F, node: u8, kind: Protection) -> Result<(), DmaError> {
    let dev = FIRST_NODE_DEV + node;
    match kind {
        Protection::Dev => {
            let f3 = Bdf::new(0, dev, 3);
            // The IOMMU capability shares ID 0x0F but has CapType 3;
            // the DEV capability is the one in the northbridge's function 3.
            let cap = find_capability(f, f3, |h| h & 0xFF == DEV_CAP_ID && (h >> 16) & 7 != 3)
                .ok_or(DmaError::NoDevCapability { node })?;
            f.cfg_write(f3, cap + DEV_OP, DEV_OP_CR);
            let cr = f.cfg_read(f3, cap + DEV_DATA);
            f.cfg_write(f3, cap + DEV_OP, DEV_OP_CR);
            f.cfg_write(f3, cap + DEV_DATA, cr & !SL_DEV_EN);
            f.cfg_write(f3, cap + DEV_OP, DEV_OP_CR);
            let now = f.cfg_read(f3, cap + DEV_DATA);
            if now & SL_DEV_EN != 0 || now == u32::MAX {
                return Err(DmaError::NodeNotLifted { node, value: now });
            }
        }
        Protection::MemProt => {
            let f0 = Bdf::new(0, dev, 0);
            let v = f.ext_read(f0, MEMPROT_CR).ok_or(DmaError::NoExtendedConfig)?;
            f.ext_write(f0, MEMPROT_CR, v & !MEMPROT_EN).ok_or(DmaError::NoExtendedConfig)?;
            let now = f.ext_read(f0, MEMPROT_CR).ok_or(DmaError::NoExtendedConfig)?;
            if now & MEMPROT_EN != 0 || now == u32::MAX {
                return Err(DmaError::NodeNotLifted { node, value: now });
            }
        }
    }
    Ok(())
}
