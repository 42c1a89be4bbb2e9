//! skl.bin: entered by SKINIT through `entry.S`, which calls `skl_main`.
#![cfg_attr(skl_baremetal, no_std)]
#![cfg_attr(skl_baremetal, no_main)]

#[cfg(skl_baremetal)]
mod payload {
    use skl::hw::{cpu, mmio::TpmMmio, phys::IdentityMap};
    use skl::launch;
    use skl::tpm::{probe, Locality};
    use skl::LaunchError;
    use skl_bootinfo::PhysAddr;

    /// Called by `entry.S` in long mode on our own stack, RW data relocated.
    #[no_mangle]
    extern "C" fn skl_main(slb_base: u64) -> ! {
        #[cfg(feature = "debug-log")]
        skl::hw::serial_log::init();
        skl::dlog!("entered, SLB base {:#x}", slb_base);
        let slb = PhysAddr::new(slb_base);
        let mut mem = IdentityMap::take();
        let result = probe::open(TpmMmio::take(), Locality::TWO)
            .map_err(LaunchError::from)
            .and_then(|mut tpm| launch::run(&mut mem, &mut tpm, slb));
        match result {
            Ok(h) => {
                skl::dlog!("hand-off to {:#x}, context {:#x}", h.entry, h.context);
                cpu::handoff(h.entry, h.slb_base, h.context)
            }
            Err(e) => {
                skl::dlog!("error {:#06x}: {:?}", e.code(), e);
                launch::write_failure_record(&mut mem, slb, &e);
                cpu::stop(e.code())
            }
        }
    }

    #[panic_handler]
    fn panic(_info: &core::panic::PanicInfo) -> ! {
        skl::dlog!("panic: {}", _info);
        cpu::stop(0xFFFF)
    }
}

#[cfg(not(skl_baremetal))]
fn main() {
    eprintln!("skl is a bare-metal payload: build it with `make` (target x86_64-unknown-none)");
}
