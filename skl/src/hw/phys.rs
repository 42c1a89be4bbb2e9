//! Physical memory below 4 GiB, identity-mapped by the entry code.

use skl_bootinfo::PhysRange;

use crate::memory::PhysMemory;

/// All of the identity map. Ranges must lie below 4 GiB.
pub struct IdentityMap(());

impl IdentityMap {
    /// Called once by `skl_main`; the launch is single-threaded (APs are
    /// held in INIT by the bootloader) and runs with interrupts off.
    pub fn take() -> Self {
        IdentityMap(())
    }
}

impl PhysMemory for IdentityMap {
    fn read(&self, r: PhysRange) -> Option<&[u8]> {
        if !r.below_4g() || r.is_empty() || r.start().as_u64() == 0 {
            return None;
        }
        // SAFETY: the entry code maps 0-4 GiB 1:1 and r lies below 4 GiB and
        // does not start at the null address. Nothing writes the range while
        // the slice lives: the CPU runs only this code, and DMA into it is
        // either blocked (SLB, by SKINIT) or outside the guarantees the
        // measurement gives (documented in docs/design.md).
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
