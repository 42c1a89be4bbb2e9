//! PCI configuration space: addresses, the capability-list walk and the
//! bus scan, on top of [`Fabric`](super::Fabric) accessors.
//!
//! Register offsets are the PCI Local Bus Specification 3.0 §6.1 / §6.7
//! ones (vendor ID at 0x00, header type at 0x0E, capabilities pointer at
//! 0x34, each capability: ID at +0, next pointer at +1).

use super::Fabric;

/// Bus, device, function of a configuration-space function (segment 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bdf(pub u16);

impl Bdf {
    pub const fn new(bus: u8, dev: u8, func: u8) -> Self {
        Bdf(((bus as u16) << 8) | (((dev & 0x1F) as u16) << 3) | (func & 7) as u16)
    }
    pub const fn bus(self) -> u8 {
        (self.0 >> 8) as u8
    }
    pub const fn dev(self) -> u8 {
        ((self.0 >> 3) & 0x1F) as u8
    }
    pub const fn func(self) -> u8 {
        (self.0 & 7) as u8
    }
    /// The AMD IOMMU DeviceID of this function (IOMMU spec: DeviceID = BDF).
    pub const fn device_id(self) -> u16 {
        self.0
    }
}

pub const VENDOR_AMD: u16 = 0x1022;
const REG_ID: u16 = 0x00;
const REG_STATUS_COMMAND: u16 = 0x04;
const REG_HEADER: u16 = 0x0C;
const REG_CAP_PTR: u16 = 0x34;
/// Status register bit 4: the function has a capability list.
const STATUS_CAP_LIST: u32 = 1 << (16 + 4);
/// At most (256 - 64) / 4 capabilities fit; a longer walk is a loop.
const MAX_CAPS: usize = 48;

/// Vendor ID of a function; `None` when nothing answers (all ones).
pub fn vendor<F: Fabric + ?Sized>(f: &mut F, at: Bdf) -> Option<u16> {
    let id = f.cfg_read(at, REG_ID);
    let v = id as u16;
    (v != 0xFFFF && v != 0).then_some(v)
}

/// Bytes of a capability SKL reads: its header and two dwords.
pub const CAP_SPAN: u16 = 12;

/// Walk the capability list of `at` and return the offset of the first
/// capability whose header satisfies `want` (given the whole first dword),
/// if all [`CAP_SPAN`] bytes of it lie in standard configuration space.
/// Bounded: pointers below 0x40 or unaligned end the walk, as does a list
/// longer than can fit in 256 bytes.
pub fn find_capability<F: Fabric + ?Sized>(f: &mut F, at: Bdf, want: impl Fn(u32) -> bool) -> Option<u16> {
    if f.cfg_read(at, REG_STATUS_COMMAND) & STATUS_CAP_LIST == 0 {
        return None;
    }
    let mut ptr = (f.cfg_read(at, REG_CAP_PTR) & 0xFC) as u16;
    for _ in 0..MAX_CAPS {
        if ptr < 0x40 {
            return None;
        }
        let hdr = f.cfg_read(at, ptr);
        if want(hdr) {
            // The callers read the header and the two dwords after it (DEV_OP
            // and DEV_DATA; the IOMMU's BAR low and high). A capability that
            // would run past the 256 bytes of standard configuration space is
            // malformed: mechanism #1 would wrap those accesses onto the
            // function's own header (offset 0x100 becomes 0x00, 0x104 the
            // command register). Found by the dma fuzz target.
            return (ptr <= 0x100 - CAP_SPAN).then_some(ptr);
        }
        ptr = ((hdr >> 8) & 0xFC) as u16;
    }
    None
}

/// Every function present in segment 0, in bus/device/function order,
/// passed to `visit`. Functions 1-7 are probed only when function 0 is
/// present and has the multi-function bit (PCI 3.0 §6.2.1).
pub fn for_each_function<F: Fabric + ?Sized>(f: &mut F, mut visit: impl FnMut(&mut F, Bdf)) {
    for bus in 0..=255u8 {
        for dev in 0..32u8 {
            let f0 = Bdf::new(bus, dev, 0);
            if vendor(f, f0).is_none() {
                continue;
            }
            let multi = f.cfg_read(f0, REG_HEADER) & (0x80 << 16) != 0;
            for func in 0..if multi { 8 } else { 1 } {
                let at = Bdf::new(bus, dev, func);
                if func == 0 || vendor(f, at).is_some() {
                    visit(f, at);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bdf_fields_round_trip() {
        let b = Bdf::new(0x40, 0x1F, 7);
        assert_eq!((b.bus(), b.dev(), b.func()), (0x40, 0x1F, 7));
        assert_eq!(Bdf::new(0, 0x18, 3).0, 0x00C3);
        assert_eq!(Bdf::new(0, 0, 2).device_id(), 2);
    }
}
