//! The TPM's MMIO window as an [`Mmio`] implementation.

use crate::tpm::{Mmio, TPM_MMIO_BASE, TPM_MMIO_SIZE};

/// The TPM register window at 0xFED40000 (identity-mapped, uncached by the
/// platform's MTRR setup for this range).
pub struct TpmMmio(());

static TAKEN: super::Once = super::Once::new();

impl TpmMmio {
    /// The one handle on the TPM window (`None` after the first call).
    pub fn take() -> Option<Self> {
        TAKEN.claim().then_some(TpmMmio(()))
    }
    fn ptr(off: usize) -> *mut u8 {
        assert!(off < TPM_MMIO_SIZE);
        (TPM_MMIO_BASE as usize + off) as *mut u8
    }
}

impl Mmio for TpmMmio {
    fn read8(&self, off: usize) -> u8 {
        // SAFETY: the address is inside the TPM's 20 KiB register window
        // (checked above), identity-mapped by the entry code; volatile
        // because reads have device side effects.
        unsafe { Self::ptr(off).read_volatile() }
    }
    fn write8(&mut self, off: usize, v: u8) {
        // SAFETY: as for read8.
        unsafe { Self::ptr(off).write_volatile(v) }
    }
    fn read32(&self, off: usize) -> u32 {
        assert!(off.is_multiple_of(4));
        // SAFETY: as for read8; aligned 32-bit register.
        unsafe { (Self::ptr(off) as *mut u32).read_volatile() }
    }
}
