//! Access to physical memory, behind a trait so the launch logic runs on the
//! host against a byte buffer.

use skl_bootinfo::{PhysAddr, PhysRange};

/// Physical memory as the launch sees it (identity-mapped below 4 GiB in
/// the payload).
pub trait PhysMemory {
    /// Borrow a range read-only; `None` if it is not addressable.
    fn read(&self, range: PhysRange) -> Option<&[u8]>;
    /// Borrow a range for writing; `None` if it is not addressable.
    fn write(&mut self, range: PhysRange) -> Option<&mut [u8]>;

    /// The little-endian u32 at `at`, if addressable.
    fn read_u32(&self, at: PhysAddr) -> Option<u32> {
        let b = self.read(PhysRange::new(at, 4)?)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    }
    /// The little-endian u64 at `at`, if addressable.
    fn read_u64(&self, at: PhysAddr) -> Option<u64> {
        let b = self.read(PhysRange::new(at, 8)?)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }
}

/// A byte buffer standing for RAM at `[base, base + len)`: for tests.
#[cfg(test)]
pub struct FakeRam {
    pub base: u64,
    pub bytes: Vec<u8>,
}

#[cfg(test)]
impl FakeRam {
    pub fn new(base: u64, len: usize) -> Self {
        FakeRam { base, bytes: vec![0; len] }
    }
    fn span(&self, r: PhysRange) -> Option<core::ops::Range<usize>> {
        let start = r.start().as_u64().checked_sub(self.base)? as usize;
        let end = start.checked_add(r.len() as usize)?;
        (end <= self.bytes.len()).then_some(start..end)
    }
}

#[cfg(test)]
impl PhysMemory for FakeRam {
    fn read(&self, r: PhysRange) -> Option<&[u8]> {
        self.span(r).map(|s| &self.bytes[s])
    }
    fn write(&mut self, r: PhysRange) -> Option<&mut [u8]> {
        self.span(r).map(|s| &mut self.bytes[s])
    }
}
