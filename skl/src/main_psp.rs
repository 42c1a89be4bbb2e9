//! skl-psp (prototype, built only with `--features psp`): a PSP-only SLB,
//! on the 8-byte header and `linker/skl.ld`. It launches through the PSP
//! DRTM service or not at all: where `choose()` says the SKINIT path, it
//! stops (0x802A) and the bootloader should have taken the plain image, as
//! TrenchBoot GRUB's `slaunch_psp` chooses between two binaries. Not
//! shipped and not a make target: it shows the wiring `skl-amdsl.bin`
//! needs and proves by linking that the PSP path fits the SLB alone
//! (together with the SKINIT path it does not: `docs/psp-drtm.md` §5).
#![cfg_attr(skl_baremetal, no_std)]
#![cfg_attr(skl_baremetal, no_main)]

#[cfg(skl_baremetal)]
core::arch::global_asm!(
    concat!(include_str!("hw/entry_head.S"), include_str!("hw/entry_skinit.S"), include_str!("hw/entry_common.S")),
    options(att_syntax)
);

#[cfg(skl_baremetal)]
mod payload {
    use skl::hw::{cpu, fabric::HwFabric, mmio::TpmMmio, phys::IdentityMap, psp::HwPsp};
    use skl::launch::{self, Dce, Handoff, Mode};
    use skl::memory::PhysMemory;
    use skl::psp::flow::{choose, run_psp_path, Service};
    use skl::psp::PspError;
    use skl::tpm::tis::Tis;
    use skl::{dma, LaunchError};
    use skl_bootinfo::sl_header::Generation;
    use skl_bootinfo::slrt::Slrt;
    use skl_bootinfo::PhysAddr;

    #[no_mangle]
    extern "C" fn skl_main(slb_base: u64) -> ! {
        let slb = PhysAddr::new(slb_base);
        let (Some(mem), Some(mut fabric), Some(tpm_window)) = (IdentityMap::take(), HwFabric::take(), TpmMmio::take())
        else {
            cpu::stop(0xFFFF)
        };
        let mut x = HwPsp::new(mem);
        let result = match choose(&mut x) {
            Err(e) => Err(LaunchError::Psp(e)),
            Ok(Some(s)) => psp_path(&mut x, &mut fabric, tpm_window, slb, &s),
            Ok(None) => Err(PspError::NoService.into()),
        };
        match result {
            Ok(h) => {
                let gif = if h.mode == Mode::Multiboot2 { cpu::Gif::Set } else { cpu::Gif::Unchanged };
                cpu::handoff(&h, gif)
            }
            Err(e) => {
                launch::write_failure_record(&mut x, slb, Generation::Qubes423, &e);
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
        let hdr = launch::own_header(x, slb, Generation::Qubes423).ok_or(unreadable)?;
        let dce = Dce::skinit(slb, &hdr).ok_or(unreadable)?;
        let image = dce.dce_image.ok_or(unreadable)?;
        let table = x.read(dce.slrt).ok_or(unreadable)?;
        let slrt = Slrt::parse(table, dce.arch)?;
        let plan = launch::validate(x, &slrt, &dce)?;
        if !x.read(plan.dlme).is_some_and(launch::has_mle_header) {
            return Err(PspError::NotDlmeMode.into());
        }
        let mut tpm = Tis::unopened_tpm20(tpm);
        run_psp_path(x, &mut tpm, &s.mailbox, &plan, image, || dma::protect_under_psp(fabric, slb).map(|_| ()))?;
        if !cpu::stack_intact(slb.as_u64()) {
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
    eprintln!("skl-psp is a bare-metal prototype: cargo build -p skl --target x86_64-unknown-none --release --features psp --bin skl-psp");
}
