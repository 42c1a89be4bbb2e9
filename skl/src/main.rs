//! skl.bin: entered by SKINIT through `hw/entry_skinit.S` + `hw/entry_common.S`, which call `skl_main`.
#![cfg_attr(skl_baremetal, no_std)]
#![cfg_attr(skl_baremetal, no_main)]

#[cfg(skl_baremetal)]
core::arch::global_asm!(
    concat!(include_str!("hw/entry_head.S"), include_str!("hw/entry_skinit.S"), include_str!("hw/entry_common.S")),
    options(att_syntax)
);

#[cfg(skl_baremetal)]
mod payload {
    use skl::hw::{cpu, fabric::HwFabric, mmio::TpmMmio, phys::IdentityMap};
    use skl::tpm::{probe, Locality};
    use skl::LaunchError;
    use skl::{dma, launch};
    use skl_bootinfo::PhysAddr;

    /// Called by `entry_common.S` in long mode on our own stack, RW data relocated.
    #[no_mangle]
    extern "C" fn skl_main(slb_base: u64) -> ! {
        skl::dlog!("SKL: entered, SLB base ", slb_base);
        let slb = PhysAddr::new(slb_base);
        let mut mem = IdentityMap::take();
        // DMA protection first: nothing is read for measurement before
        // devices are kept off everything outside the SLB.
        let result = dma::protect(&mut HwFabric::take(), slb)
            .map_err(LaunchError::from)
            .and_then(|_r| {
                skl::dlog!("SKL: DMA blocked by ", _r.iommus, " IOMMU(s), protection lifted on ", _r.nodes, " node(s)");
                probe::open(TpmMmio::take(), Locality::TWO).map_err(LaunchError::from)
            })
            .and_then(|mut tpm| launch::run(&mut mem, &mut tpm, slb));
        // A stack that grew into the tables below it voids every guarantee.
        let result =
            result.and_then(|h| if cpu::stack_intact(slb_base) { Ok(h) } else { Err(LaunchError::StackOverflow) });
        match result {
            Ok(h) => {
                skl::dlog!("SKL: hand-off to ", h.entry, " ebx ", h.ebx, " esi ", h.esi);
                cpu::handoff(&h)
            }
            Err(e) => {
                skl::dlog!("SKL: error ", e.code(), " ", e.name(), " detail ", e.detail());
                launch::write_failure_record(&mut mem, slb, &e);
                cpu::stop(e.code())
            }
        }
    }

    #[panic_handler]
    fn panic(_info: &core::panic::PanicInfo) -> ! {
        skl::dlog!("SKL: panic");
        cpu::stop(0xFFFF)
    }
}

#[cfg(not(skl_baremetal))]
fn main() {
    eprintln!("skl is a bare-metal payload: build it with `make` (target x86_64-unknown-none)");
}
