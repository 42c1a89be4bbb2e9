//! skl-amdsl.bin (AMD SL generation, extended SL header): entered by SKINIT
//! through `hw/entry_skinit.S` + `hw/entry_common.S`, which call `skl_main`.
#![cfg_attr(skl_baremetal, no_std)]
#![cfg_attr(skl_baremetal, no_main)]

#[cfg(skl_baremetal)]
core::arch::global_asm!(
    concat!(
        ".set SL_HEADER_SIZE, {hdr}\n",
        include_str!("hw/entry_head.S"),
        include_str!("hw/entry_skinit.S"),
        include_str!("hw/entry_common.S")
    ),
    hdr = const skl_bootinfo::sl_header::Generation::AmdSl.header_size(),
    options(att_syntax)
);

#[cfg(skl_baremetal)]
mod payload {
    use skl_bootinfo::sl_header::Generation;

    /// Called by `entry_common.S` in long mode on our own stack, RW data relocated.
    #[no_mangle]
    extern "C" fn skl_main(slb_base: u64) -> ! {
        skl::hw::skinit::main(slb_base, Generation::AmdSl)
    }

    #[panic_handler]
    fn panic(_info: &core::panic::PanicInfo) -> ! {
        skl::dlog!("SKL: panic");
        skl::hw::cpu::stop(0xFFFF)
    }
}

#[cfg(not(skl_baremetal))]
fn main() {
    eprintln!("skl-amdsl is a bare-metal payload: build it with `make` (target x86_64-unknown-none)");
}
