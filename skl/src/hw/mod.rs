//! Hardware access for the bare-metal payload: the only `unsafe` code.
//! Each module is small and each `unsafe` block states why it is sound.
//!
//! The entry code is not here: each payload binary assembles
//! `entry_head.S`, its own entry (`entry_skinit.S` or `entry_txt.S`) and
//! `entry_common.S`. [`skinit::main`] is what the two SKINIT binaries run
//! after it (`skl-amdsl.bin` after [`stage1::check_stage2`]).

use core::sync::atomic::{AtomicBool, Ordering};

/// Each hardware handle exists once: its `take()` hands it out to the first
/// caller only, so safe code can never hold two `&mut` to the same device
/// or memory.
pub(crate) struct Once(AtomicBool);

impl Once {
    pub(crate) const fn new() -> Self {
        Once(AtomicBool::new(false))
    }
    /// True for the first caller, false ever after.
    pub(crate) fn claim(&self) -> bool {
        !self.0.swap(true, Ordering::AcqRel)
    }
    /// Whether someone has claimed it.
    pub(crate) fn claimed(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

pub mod cpu;
pub mod fabric;
pub mod mmio;
pub mod phys;
pub mod port;
#[cfg(feature = "psp")]
pub mod psp;
#[cfg(feature = "debug-log")]
pub mod serial_log;
pub mod skinit;
pub mod stage1;
pub mod txt;
