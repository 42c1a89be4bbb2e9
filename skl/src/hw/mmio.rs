//! The TPM's MMIO window as an [`Mmio`] implementation.

use core::ptr::NonNull;

use volatile::VolatilePtr;

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
    /// The register at `off`, as a volatile pointer: no reference to
    /// device memory is ever made.
    fn reg<T>(off: usize) -> VolatilePtr<'static, T> {
        assert!(off < TPM_MMIO_SIZE && off.is_multiple_of(align_of::<T>()));
        // SAFETY: 0xFED40000 + off (< 0x5000) is not null.
        let p = unsafe { NonNull::new_unchecked((TPM_MMIO_BASE as usize + off) as *mut T) };
        // SAFETY: an aligned register inside the TPM's 20 KiB register
        // window (checked above), identity-mapped by the entry code, and
        // only reached through the one `TpmMmio`.
        unsafe { VolatilePtr::new(p) }
    }
}

impl Mmio for TpmMmio {
    // Volatile because reads have device side effects.
    fn read8(&self, off: usize) -> u8 {
        Self::reg(off).read()
    }
    fn write8(&mut self, off: usize, v: u8) {
        Self::reg(off).write(v)
    }
    fn read32(&self, off: usize) -> u32 {
        Self::reg(off).read()
    }
}
