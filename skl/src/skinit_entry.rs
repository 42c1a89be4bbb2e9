// The SKINIT entry code of every SKINIT payload root (`skinit_payload.rs`
// for skl.bin and skl-amdsl.bin, `main_psp.rs` for skl-amdsl-psp.bin):
// `include!`d where the root's `GENERATION` (its SL header) is in scope.
// `hw/entry_skinit.S` + `hw/entry_common.S` end in a call to `skl_main`.

#[cfg(skl_baremetal)]
core::arch::global_asm!(
    concat!(
        ".set SL_HEADER_SIZE, {hdr}\n",
        include_str!("hw/entry_head.S"),
        include_str!("hw/entry_skinit.S"),
        include_str!("hw/entry_common.S")
    ),
    hdr = const GENERATION.header_size(),
    options(att_syntax)
);
