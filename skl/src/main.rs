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
    use skl::launch::Mode;
    use skl::tpm::{probe, Locality};
    use skl::LaunchError;
    use skl::{dma, launch};
    use skl_bootinfo::PhysAddr;

    /// Called by `entry_common.S` in long mode on our own stack, RW data relocated.
    #[no_mangle]
    extern "C" fn skl_main(slb_base: u64) -> ! {
        skl::dlog!("SKL: entered, SLB base ", slb_base);
        let slb = PhysAddr::new(slb_base);
        // Each handle exists once (a second take is a bug: the panic code).
        let (Some(mut mem), Some(mut fabric), Some(tpm_window)) =
            (IdentityMap::take(), HwFabric::take(), TpmMmio::take())
        else {
            cpu::stop(0xFFFF)
        };
        // DMA protection first: nothing is read for measurement before
        // devices are kept off everything outside the SLB.
        let result = dma::protect(&mut fabric, slb).map_err(LaunchError::from).and_then(|p| {
            let _r = p.report;
            skl::dlog!("SKL: IOMMUs blocking ", _r.iommus, ", nodes lifted ", _r.nodes);
            let mut tpm = probe::open(tpm_window, Locality::TWO)?;
            let h = launch::run(&mut mem, &mut tpm, slb)?;
            // A stack that grew into the tables below it voids every guarantee.
            if !cpu::stack_intact(slb_base) {
                return Err(LaunchError::StackOverflow);
            }
            // Multiboot2 mode: the machine state a kernel that knows nothing
            // of DRTM expects (docs/design.md, "Hand-off contract").
            if h.mode == Mode::Multiboot2 {
                dma::release_to_kernel(&mut fabric, &p.iommus)?;
                cpu::clear_vm_cr_r_init();
            }
            Ok(h)
        });
        match result {
            Ok(h) => {
                skl::dlog!("SKL: hand-off to ", h.entry, " ebx ", h.ebx, " esi ", h.esi);
                let gif = if h.mode == Mode::Multiboot2 { cpu::Gif::Set } else { cpu::Gif::Unchanged };
                cpu::handoff(&h, gif)
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
