//! skl-amdsl.bin (AMD SL generation, extended SL header): entered by SKINIT
//! through `hw/entry_skinit.S` + `hw/entry_common.S`, which call `skl_main`.
#![cfg_attr(skl_baremetal, no_std)]
#![cfg_attr(skl_baremetal, no_main)]

#[cfg_attr(not(skl_baremetal), allow(dead_code))]
const GENERATION: skl_bootinfo::sl_header::Generation = skl_bootinfo::sl_header::Generation::AmdSl;
#[cfg_attr(skl_baremetal, allow(dead_code))]
const NAME: &str = "skl-amdsl";

include!("skinit_payload.rs");
