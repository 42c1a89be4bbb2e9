//! skl.bin (Qubes 4.2.3 generation, 8-byte SL header): entered by SKINIT
//! through `hw/entry_skinit.S` + `hw/entry_common.S`, which call `skl_main`.
#![cfg_attr(skl_baremetal, no_std)]
#![cfg_attr(skl_baremetal, no_main)]

#[cfg_attr(not(skl_baremetal), allow(dead_code))]
const GENERATION: skl_bootinfo::sl_header::Generation = skl_bootinfo::sl_header::Generation::Qubes423;
#[cfg_attr(skl_baremetal, allow(dead_code))]
const NAME: &str = "skl";

/// One stage: SKINIT measured the whole image.
#[cfg(skl_baremetal)]
macro_rules! enter {
    ($base:expr) => {
        skl::hw::skinit::main($base, crate::GENERATION)
    };
}

include!("skinit_payload.rs");
