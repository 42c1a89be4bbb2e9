//! skl-txt.bin: the Intel TXT MLE. SINIT enters `entry_txt.S` after
//! GETSEC[SENTER]; it calls `skl_main` in long mode on our own stack.
#![cfg_attr(skl_baremetal, no_std)]
#![cfg_attr(skl_baremetal, no_main)]

#[cfg(skl_baremetal)]
core::arch::global_asm!(
    concat!(include_str!("hw/entry_head.S"), include_str!("hw/entry_txt.S"), include_str!("hw/entry_common.S")),
    options(att_syntax)
);

#[cfg(skl_baremetal)]
mod payload {
    use skl::hw::txt::{HwTxtCpu, TxtPrivate};
    use skl::hw::{cpu, mmio::TpmMmio, phys::IdentityMap};
    use skl::launch;
    use skl::tpm::{probe, Locality};
    use skl::txt::mle::{self, Mle};
    use skl::LaunchError;
    use skl_bootinfo::sl_header::SLB_SIZE;
    use skl_bootinfo::PhysAddr;

    extern "C" {
        static mle_header: u8;
    }

    /// Called by `entry_common.S` in long mode on our own stack.
    #[no_mangle]
    extern "C" fn skl_main(base: u64) -> ! {
        skl::dlog!("SKL-TXT: entered, MLE base ", base);
        let mut mem = IdentityMap::take();
        let mut regs = TxtPrivate::take();
        // What SINIT must have measured: our own header words (measured).
        let unreadable = LaunchError::SlbUnreadable { base };
        let header = core::ptr::addr_of!(mle_header) as u64 - base;
        let result = launch::own_header(&mem, PhysAddr::new(base))
            .ok_or(unreadable)
            .map(|h| Mle {
                base: PhysAddr::new(base),
                measured: h.measured_size.get() as u64,
                header,
                footprint: SLB_SIZE as u64,
            })
            .and_then(|m| mle::prepare(&mem, &mut regs, &mut HwTxtCpu::take(), &m))
            .and_then(|dce| {
                let mut tpm = probe::open(TpmMmio::take(), Locality::TWO)?;
                launch::run_after_entry(&mut mem, &mut tpm, &dce)
            })
            .and_then(|h| if cpu::stack_intact(base) { Ok(h) } else { Err(LaunchError::StackOverflow) });
        match result {
            Ok(h) => {
                mle::finish(&mut regs);
                skl::dlog!("SKL-TXT: hand-off to ", h.entry, " ebx ", h.ebx, " esi ", h.esi);
                cpu::handoff(&h, cpu::Gif::Unchanged)
            }
            Err(e) => {
                skl::dlog!("SKL-TXT: error ", e.code(), " ", e.name(), " detail ", e.detail());
                skl::txt::reset(&mut regs, e.code());
                cpu::stop(e.code())
            }
        }
    }

    #[panic_handler]
    fn panic(_info: &core::panic::PanicInfo) -> ! {
        skl::dlog!("SKL-TXT: panic");
        skl::txt::reset(&mut TxtPrivate::take(), 0xFFFF);
        cpu::stop(0xFFFF)
    }
}

#[cfg(not(skl_baremetal))]
fn main() {
    eprintln!("skl-txt is a bare-metal payload: build it with `make` (target x86_64-unknown-none)");
}
