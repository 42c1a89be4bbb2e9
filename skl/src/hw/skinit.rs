//! The SKINIT payloads' main, shared by `skl.bin` (Qubes 4.2.3 generation)
//! and `skl-amdsl.bin` (AMD SL generation): each binary's `skl_main` calls
//! [`main`] with the generation its header was linked with.

use skl_bootinfo::sl_header::Generation;
use skl_bootinfo::PhysAddr;

use crate::hw::{cpu, fabric::HwFabric, mmio::TpmMmio, phys::IdentityMap};
use crate::launch::{self, Mode};
use crate::tpm::{probe, Locality};
use crate::{dma, LaunchError};

/// DMA protection, the launch, the hand-off; or the failure record and a
/// reset. Entered from `entry_common.S` in long mode on our own stack.
#[inline(always)]
pub fn main(slb_base: u64, generation: Generation) -> ! {
    dlog!("SKL: entered, SLB base ", slb_base);
    let slb = PhysAddr::new(slb_base);
    // Each handle exists once (a second take is a bug: the panic code).
    let (Some(mut mem), Some(mut fabric), Some(tpm_window)) = (IdentityMap::take(), HwFabric::take(), TpmMmio::take())
    else {
        cpu::stop(0xFFFF)
    };
    // DMA protection first: nothing is read for measurement before
    // devices are kept off everything outside the SLB.
    let result = dma::protect(&mut fabric, slb).map_err(LaunchError::from).and_then(|p| {
        let _r = p.report;
        dlog!("SKL: IOMMUs ", _r.iommus, " nodes ", _r.nodes);
        let mut tpm = probe::open(tpm_window, Locality::TWO)?;
        let h = launch::run(&mut mem, &mut tpm, slb, generation)?;
        // A stack that grew past its bottom voids every guarantee.
        if !cpu::stack_intact() {
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
            dlog!("SKL: hand-off to ", h.entry, " ebx ", h.ebx, " esi ", h.esi);
            let gif = if h.mode == Mode::Multiboot2 { cpu::Gif::Set } else { cpu::Gif::Unchanged };
            cpu::handoff(&h, gif)
        }
        Err(e) => {
            dlog!("SKL: error ", e.code(), " ", e.name(), " detail ", e.detail());
            launch::write_failure_record(&mut mem, slb, generation, &e);
            cpu::stop(e.code())
        }
    }
}
