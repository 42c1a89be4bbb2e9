//! skl-amdsl.bin (AMD SL generation, extended SL header): entered by SKINIT
//! through `hw/entry_skinit.S` + `hw/entry_common.S`, which call `skl_main`.
//! Two stages (docs/design.md, "The two-stage image"): `skl_main` is stage
//! 1 and enters stage 2 through [`skl_stage2`] only after
//! `skl::hw::stage1::check_stage2` returned.
#![cfg_attr(skl_baremetal, no_std)]
#![cfg_attr(skl_baremetal, no_main)]

#[cfg_attr(not(skl_baremetal), allow(dead_code))]
const GENERATION: skl_bootinfo::sl_header::Generation = skl_bootinfo::sl_header::Generation::AmdSl;
#[cfg_attr(skl_baremetal, allow(dead_code))]
const NAME: &str = "skl-amdsl";

/// Stage 1 (`skl_main`): check stage 2, then enter it.
#[cfg(skl_baremetal)]
macro_rules! enter {
    ($base:expr) => {{
        skl::hw::stage1::check_stage2();
        crate::skl_stage2($base)
    }};
}

/// Stage 2's entry, the one call out of stage 1 (`linker/skl-amdsl.ld`
/// leaves it in stage 2; `check-image.py --two-stage` finds it by name).
/// Here, not in the library, so that `skl.bin` is compiled without it.
#[cfg(skl_baremetal)]
#[no_mangle]
#[inline(never)]
extern "C" fn skl_stage2(slb_base: u64) -> ! {
    skl::hw::skinit::main(slb_base, GENERATION)
}

include!("skinit_payload.rs");
