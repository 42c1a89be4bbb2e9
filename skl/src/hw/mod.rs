//! Hardware access for the bare-metal payload: the only `unsafe` code.
//! Each module is small and each `unsafe` block states why it is sound.

pub mod cpu;
pub mod fabric;
pub mod mmio;
pub mod phys;
pub mod port;
#[cfg(feature = "debug-log")]
pub mod serial_log;

core::arch::global_asm!(include_str!("entry.S"), options(att_syntax));
