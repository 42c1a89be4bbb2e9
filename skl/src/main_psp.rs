//! skl-amdsl-psp.bin (built only with `--features psp`, by `make payload`):
//! the PSP-path SLB on the AMD SL header (`linker/skl-amdsl-psp.ld`: total
//! length = measured + the 0x740-byte `$AS1` area, SLRT after it). It
//! launches through the PSP DRTM service or not at all: where `choose()`
//! says the SKINIT path, it stops with `NoService` (0x802A) and the
//! bootloader should have taken `skl-amdsl.bin`, as TrenchBoot GRUB's
//! `slaunch_psp` chooses between two binaries. Never a fallback: the two
//! paths do not fit one SLB (`docs/psp-drtm.md` §5), and a fallback here
//! would be a second SKINIT-path image to keep equal to the first.
#![cfg_attr(skl_baremetal, no_std)]
#![cfg_attr(skl_baremetal, no_main)]

/// The image's header generation (`linker/skl-amdsl-psp.ld`).
#[cfg_attr(not(skl_baremetal), allow(dead_code))]
const GENERATION: skl_bootinfo::sl_header::Generation = skl_bootinfo::sl_header::Generation::AmdSl;

include!("skinit_entry.rs");

#[cfg(skl_baremetal)]
mod payload {
    use super::GENERATION;
    use skl::hw::{cpu, fabric::HwFabric, mmio::TpmMmio, phys::IdentityMap, psp::HwPsp};
    use skl::launch::{self, Dce, Handoff, Mode};
    use skl::memory::PhysMemory;
    use skl::psp::flow::{choose, run_psp_path, Service};
    use skl::psp::PspError;
    use skl::tpm::tis::Tis;
    use skl::{dma, LaunchError};
    use skl_bootinfo::slrt::Slrt;
    use skl_bootinfo::{PhysAddr, PhysRange};

    #[no_mangle]
    extern "C" fn skl_main(slb_base: u64) -> ! {
        let slb = PhysAddr::new(slb_base);
        let (Some(mem), Some(mut fabric), Some(tpm_window)) = (IdentityMap::take(), HwFabric::take(), TpmMmio::take())
        else {
            cpu::stop(0xFFFF)
        };
        skl::dlog!("SKL-PSP: entered, SLB base ", slb_base);
        let mut x = HwPsp::new(mem);
        let result = match choose(&mut x) {
            Err(e) => Err(LaunchError::Psp(e)),
            Ok(Some(s)) => psp_path(&mut x, &mut fabric, tpm_window, slb, &s),
            // The SKINIT path is skl-amdsl.bin's: stop, never fall back.
            Ok(None) => Err(PspError::NoService.into()),
        };
        match result {
            Ok(h) => {
                let gif = if h.mode == Mode::Multiboot2 { cpu::Gif::Set } else { cpu::Gif::Unchanged };
                cpu::handoff(&h, gif)
            }
            Err(e) => {
                skl::dlog!("SKL-PSP: error ", e.code(), " detail ", e.detail());
                launch::write_failure_record(&mut x, slb, GENERATION, &e);
                cpu::stop(e.code())
            }
        }
    }

    /// The PSP path: validate as always, then `run_psp_path` (LAUNCH, IOMMUs
    /// blocking, EXTEND_OSSL in place, the service's log checked and
    /// merged, SKL's own measurements). DLME mode only for now.
    fn psp_path(
        x: &mut HwPsp,
        fabric: &mut HwFabric,
        tpm: TpmMmio,
        slb: PhysAddr,
        s: &Service,
    ) -> Result<Handoff, LaunchError> {
        let unreadable = LaunchError::SlbUnreadable { base: slb.as_u64() };
        let hdr = launch::own_header(x, slb, GENERATION).ok_or(unreadable)?;
        let dce = Dce::skinit(slb, &hdr).ok_or(unreadable)?;
        let image = dce.dce_image.ok_or(unreadable)?;
        let table = x.read(dce.slrt).ok_or(unreadable)?;
        let slrt = Slrt::parse(table, dce.arch)?;
        let plan = launch::validate(x, &slrt, &dce)?;
        if !x.read(plan.dlme).is_some_and(launch::has_mle_header) {
            return Err(PspError::NotDlmeMode.into());
        }
        // AMD_INFO `psp_version`: the PSP that takes part, in the numbering
        // GRUB and the C SKL use (the mailbox generation of the device,
        // 2, 3 or 4; `docs/psp-drtm.md` §4), now known from discovery and a
        // GET_CAPABILITY that said the service is on. Written before
        // anything measures the SLRT (the kernel, after the hand-off);
        // GRUB tb-dev's 48-byte AMD_INFO has no such field.
        let at = slrt.psp_version_offset().map(|o| dce.slrt.start().as_u64() + o as u64);
        if let Some(b) = at.and_then(|a| PhysRange::new(PhysAddr::new(a), 2)).and_then(|r| x.write(r)) {
            b.copy_from_slice(&s.found.version.to_le_bytes());
        }
        let mut tpm = Tis::unopened_tpm20(tpm);
        run_psp_path(x, &mut tpm, &s.mailbox, &plan, image, || dma::protect_under_psp(fabric, slb).map(|_| ()))?;
        if !cpu::stack_intact() {
            return Err(LaunchError::StackOverflow);
        }
        let entry = (plan.dlme.start().as_u64() + plan.entry_offset as u64) as u32;
        Ok(Handoff { mode: Mode::Dlme, entry, slb_base: slb.as_u64() as u32, ebx: entry, esi: plan.context })
    }

    #[panic_handler]
    fn panic(_info: &core::panic::PanicInfo) -> ! {
        cpu::stop(0xFFFF)
    }
}

#[cfg(not(skl_baremetal))]
fn main() {
    eprintln!("skl-amdsl-psp is a bare-metal payload: build it with `make` (target x86_64-unknown-none, feature psp)");
}
