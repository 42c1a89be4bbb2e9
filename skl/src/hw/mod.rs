//! Hardware access for the bare-metal payload: the only `unsafe` code.
//! Each module is small and each `unsafe` block states why it is sound.
//!
//! The entry code is not here: each payload binary assembles its own head
//! (`entry_skinit.S` or `entry_txt.S`) followed by `entry_common.S`.

pub mod cpu;
pub mod fabric;
pub mod mmio;
pub mod phys;
pub mod port;
#[cfg(feature = "debug-log")]
pub mod serial_log;
pub mod txt;
