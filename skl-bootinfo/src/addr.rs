//! Physical addresses and ranges with overflow-checked arithmetic.

use core::fmt;

/// A physical address as the bootloader gave it: 64 bits, not yet trusted.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PhysAddr(pub u64);

impl PhysAddr {
    pub const fn new(a: u64) -> Self {
        PhysAddr(a)
    }
    pub const fn as_u64(self) -> u64 {
        self.0
    }
    /// `self + off`, or `None` on overflow.
    pub fn checked_add(self, off: u64) -> Option<PhysAddr> {
        self.0.checked_add(off).map(PhysAddr)
    }
    pub const fn is_aligned(self, align: u64) -> bool {
        self.0.is_multiple_of(align)
    }
}

impl fmt::Debug for PhysAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl fmt::Display for PhysAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// A half-open physical range `[start, start + len)` whose end is known not
/// to overflow 64 bits (checked on construction).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PhysRange {
    start: PhysAddr,
    len: u64,
}

/// 4 GiB: the limit for anything the 32-bit hand-off or SKINIT must reach.
pub const FOUR_GIB: u64 = 1 << 32;

impl PhysRange {
    /// No bytes at address 0: overlaps nothing.
    pub const EMPTY: PhysRange = PhysRange { start: PhysAddr(0), len: 0 };

    /// `None` if `start + len` overflows.
    pub fn new(start: PhysAddr, len: u64) -> Option<Self> {
        start.0.checked_add(len)?;
        Some(PhysRange { start, len })
    }
    pub const fn start(&self) -> PhysAddr {
        self.start
    }
    pub const fn len(&self) -> u64 {
        self.len
    }
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// One past the last byte.
    pub const fn end(&self) -> u64 {
        self.start.0 + self.len
    }
    /// True if every byte lies below 4 GiB (an empty range at 4 GiB counts).
    pub const fn below_4g(&self) -> bool {
        self.end() <= FOUR_GIB
    }
    /// True if the two ranges share at least one byte (never for an empty
    /// one).
    pub const fn overlaps(&self, other: &PhysRange) -> bool {
        self.len != 0 && other.len != 0 && self.start.0 < other.end() && other.start.0 < self.end()
    }
    /// True if `other` lies entirely inside `self`.
    pub const fn contains_range(&self, other: &PhysRange) -> bool {
        other.start.0 >= self.start.0 && other.end() <= self.end()
    }
    pub const fn contains(&self, a: PhysAddr) -> bool {
        a.0 >= self.start.0 && a.0 < self.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_is_refused() {
        assert!(PhysRange::new(PhysAddr(u64::MAX), 1).is_none());
        assert!(PhysRange::new(PhysAddr(u64::MAX - 1), 1).is_some());
    }

    #[test]
    fn overlap_and_containment() {
        let a = PhysRange::new(PhysAddr(0x1000), 0x1000).unwrap();
        let b = PhysRange::new(PhysAddr(0x1fff), 1).unwrap();
        let c = PhysRange::new(PhysAddr(0x2000), 0x10).unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c) && !c.overlaps(&a));
        assert!(a.contains_range(&b));
        assert!(!a.contains_range(&c));
        assert!(PhysRange::new(PhysAddr(0xffff_f000), 0x1000).unwrap().below_4g());
        assert!(!PhysRange::new(PhysAddr(0xffff_f000), 0x1001).unwrap().below_4g());
    }
}
