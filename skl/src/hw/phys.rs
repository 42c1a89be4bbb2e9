//! Physical memory below 4 GiB, identity-mapped by the entry code.

use skl_bootinfo::PhysRange;

use super::Once;
use crate::memory::PhysMemory;

/// All of the identity map. Ranges must lie below 4 GiB.
pub struct IdentityMap(());

static TAKEN: Once = Once::new();

impl IdentityMap {
    /// The one handle on physical memory (`None` after the first call).
    /// The launch is single-threaded (APs are held in INIT, or asleep after
    /// SENTER) and runs with interrupts off.
    pub fn take() -> Option<Self> {
        TAKEN.claim().then_some(IdentityMap(()))
    }
    /// Whether [`take`](Self::take) handed the map out: until then no safe
    /// code holds a reference into physical memory.
    pub fn taken() -> bool {
        TAKEN.claimed()
    }
}

impl PhysMemory for IdentityMap {
    fn read(&self, r: PhysRange) -> Option<&[u8]> {
        if !r.below_4g() || r.is_empty() || r.start().as_u64() == 0 {
            return None;
        }
        // SAFETY: the entry code maps 0-4 GiB 1:1 and r lies below 4 GiB and
        // does not start at the null address. Nothing else writes the range
        // while the slice lives: this is the only CPU running, the only
        // handle (`take`), and devices are kept off it — on AMD every IOMMU
        // blocks every device before `skl_main` reads anything but its own
        // SLB (which SKINIT protects until then); on TXT the launch reads
        // the heap (DMA-protected by the chipset) and then only ranges its
        // `DmaGuard` found inside a PMR. An IOMMU that ignores SKL's table
        // (DeviceIDs past it, firmware bugs) would break this, which is why
        // `dma::protect` verifies each IOMMU uses SKL's tables.
        Some(unsafe { core::slice::from_raw_parts(r.start().as_u64() as *const u8, r.len() as usize) })
    }
    fn write(&mut self, r: PhysRange) -> Option<&mut [u8]> {
        if !r.below_4g() || r.is_empty() || r.start().as_u64() == 0 {
            return None;
        }
        // SAFETY: as for `read`; `&mut self` makes this the only borrow.
        Some(unsafe { core::slice::from_raw_parts_mut(r.start().as_u64() as *mut u8, r.len() as usize) })
    }
}

#[cfg(feature = "psp")]
impl IdentityMap {
    /// Two disjoint ranges at once, one to read and one to write (the PSP
    /// path reads the service's log while it writes the DRTM log).
    pub fn split(&mut self, read: PhysRange, write: PhysRange) -> Option<(&[u8], &mut [u8])> {
        let ok = |r: &PhysRange| r.below_4g() && !r.is_empty() && r.start().as_u64() != 0;
        if !ok(&read) || !ok(&write) || read.overlaps(&write) {
            return None;
        }
        // SAFETY: as for `read`; the two ranges do not overlap (checked), so
        // the shared and the mutable slice never alias, and `&mut self`
        // makes them the only borrows.
        let r = unsafe { core::slice::from_raw_parts(read.start().as_u64() as *const u8, read.len() as usize) };
        // SAFETY: as for `write`, and disjoint from `r` (above).
        let w = unsafe { core::slice::from_raw_parts_mut(write.start().as_u64() as *mut u8, write.len() as usize) };
        Some((r, w))
    }
}
