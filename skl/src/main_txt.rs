//! skl-txt.bin: the Intel TXT MLE. SINIT enters `entry_txt.S` after
//! GETSEC[SENTER]; it calls `skl_main` in long mode on our own stack.
#![cfg_attr(skl_baremetal, no_std)]
#![cfg_attr(skl_baremetal, no_main)]

#[cfg(skl_baremetal)]
core::arch::global_asm!(
    concat!(
        ".set SL_HEADER_SIZE, {hdr}\n",
        include_str!("hw/entry_head.S"),
        include_str!("hw/entry_txt.S"),
        include_str!("hw/entry_common.S")
    ),
    hdr = const skl_bootinfo::sl_header::Generation::Qubes423.header_size(),
    options(att_syntax)
);

#[cfg(skl_baremetal)]
mod payload {
    use skl::hw::txt::{HwTxtCpu, TxtPrivate};
    use skl::hw::{cpu, mmio::TpmMmio, phys::IdentityMap};
    use skl::launch;
    use skl::tpm::{probe, Locality};
    use skl::txt::mle::{self, Mle};
    use skl::txt_grub::{self as grub, Failure};
    use skl::LaunchError;
    use skl_bootinfo::sl_header::{Generation, SLB_SIZE};
    use skl_bootinfo::PhysAddr;

    extern "C" {
        static mle_header: u8;
    }

    /// Called by `entry_common.S` in long mode on our own stack.
    #[no_mangle]
    extern "C" fn skl_main(base: u64) -> ! {
        skl::dlog!("SKL-TXT: entered, MLE base ", base);
        // Each handle exists once (a second take is a bug: the panic code).
        let (Some(mut mem), Some(mut regs), Some(mut txt_cpu), Some(tpm_window)) =
            (IdentityMap::take(), TxtPrivate::take(), HwTxtCpu::take(), TpmMmio::take())
        else {
            cpu::stop(0xFFFF)
        };
        // What SINIT must have measured: our own header words (measured).
        let unreadable = LaunchError::SlbUnreadable { base };
        let header = core::ptr::addr_of!(mle_header) as u64 - base;
        let prepared = launch::own_header(&mem, PhysAddr::new(base), Generation::Qubes423)
            .ok_or(unreadable)
            .map(|h| Mle {
                base: PhysAddr::new(base),
                measured: h.measured_size as u64,
                header,
                footprint: SLB_SIZE as u64,
            })
            .and_then(|m| Ok((mle::prepare(&mem, &mut regs, &mut txt_cpu, &m)?, m)));
        // GRUB chain (DL_INFO names us): the kernel comes out of the MBI.
        let result: Result<_, Failure> = prepared.map_err(Failure::from).and_then(|(mut dce, m)| {
            grub::adopt(&mut mem, &mut dce, &m)?;
            let launched = probe::open(tpm_window, Locality::TWO)
                .map_err(LaunchError::from)
                .and_then(|mut tpm| launch::run_after_entry(&mut mem, &mut tpm, &dce))
                .and_then(|h| if cpu::stack_intact() { Ok(h) } else { Err(LaunchError::StackOverflow) });
            Ok(launched?)
        });
        match result {
            Ok(h) => {
                mle::finish(&mut regs);
                skl::dlog!("SKL-TXT: hand-off to ", h.entry, " ebx ", h.ebx, " esi ", h.esi);
                cpu::handoff(&h, cpu::Gif::Unchanged)
            }
            Err(e) => {
                skl::dlog!("SKL-TXT: error ", e.code(), " detail ", e.detail());
                skl::txt::reset(&mut regs, e.code());
                cpu::stop(e.code())
            }
        }
    }

    #[panic_handler]
    fn panic(_info: &core::panic::PanicInfo) -> ! {
        skl::dlog!("SKL-TXT: panic");
        // SAFETY: a panic never returns to the frame holding the first
        // handle (panic = "abort"), so the two are never used together.
        skl::txt::reset(&mut unsafe { TxtPrivate::steal() }, 0xFFFF);
        cpu::stop(0xFFFF)
    }
}

#[cfg(not(skl_baremetal))]
fn main() {
    eprintln!("skl-txt is a bare-metal payload: build it with `make` (target x86_64-unknown-none)");
}
