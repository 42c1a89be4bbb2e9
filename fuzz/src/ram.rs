//! Physical memory for the launch target: a few separate regions (SLB, MBI,
//! DLME, a data region for the log and the modules), each a byte vector. A
//! range is addressable only if it lies inside one region, so addresses the
//! fuzzer invents elsewhere read as "not RAM" — cheaply, without a 4 GiB
//! buffer.

use skl::memory::PhysMemory;
use skl_bootinfo::PhysRange;

pub struct SparseRam {
    pub regions: Vec<(u64, Vec<u8>)>,
}

impl SparseRam {
    fn span(&self, r: PhysRange) -> Option<(usize, core::ops::Range<usize>)> {
        self.regions.iter().enumerate().find_map(|(i, (base, bytes))| {
            let s = r.start().as_u64().checked_sub(*base)?;
            let e = s.checked_add(r.len())?;
            (e <= bytes.len() as u64).then_some((i, s as usize..e as usize))
        })
    }

    /// Copy of `[addr, addr + len)`, if addressable.
    pub fn get(&self, addr: u64, len: u64) -> Option<Vec<u8>> {
        self.read(PhysRange::new(skl_bootinfo::PhysAddr(addr), len)?).map(|b| b.to_vec())
    }

    /// Write `bytes` at `addr` (must be addressable).
    pub fn put(&mut self, addr: u64, bytes: &[u8]) {
        let r = PhysRange::new(skl_bootinfo::PhysAddr(addr), bytes.len() as u64).unwrap();
        self.write(r).expect("put into a region").copy_from_slice(bytes);
    }
}

impl PhysMemory for SparseRam {
    fn read(&self, r: PhysRange) -> Option<&[u8]> {
        self.span(r).map(|(i, s)| &self.regions[i].1[s])
    }
    fn write(&mut self, r: PhysRange) -> Option<&mut [u8]> {
        self.span(r).map(|(i, s)| &mut self.regions[i].1[s])
    }
}
