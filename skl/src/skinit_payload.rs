// The body shared by the two SKINIT payload roots, `main.rs` (skl.bin) and
// `main_amdsl.rs` (skl-amdsl.bin): `include!`d after each defines
// `GENERATION` (its SL header, linked by its own linker script), `NAME` and
// the macro `enter!`, what `skl_main` runs.
// Entered by SKINIT through the entry code of `skinit_entry.rs` (shared with
// `main_psp.rs`), which calls `skl_main`.

include!("skinit_entry.rs");

#[cfg(skl_baremetal)]
mod payload {
    /// Called by `entry_common.S` in long mode on our own stack, RW data relocated.
    #[no_mangle]
    extern "C" fn skl_main(slb_base: u64) -> ! {
        enter!(slb_base)
    }

    #[panic_handler]
    fn panic(_info: &core::panic::PanicInfo) -> ! {
        skl::dlog!("SKL: panic");
        skl::hw::cpu::stop(0xFFFF)
    }
}

#[cfg(not(skl_baremetal))]
fn main() {
    eprintln!("{NAME} is a bare-metal payload: build it with `make` (target x86_64-unknown-none)");
}
