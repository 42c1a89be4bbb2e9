//! Secure Kernel Loader: the code that runs first after AMD SKINIT.
//!
//! Three layers, one direction of dependency (see `docs/design.md`):
//! `skl-bootinfo` (ABI types and parsers) ← the logic here (what to check,
//! what to measure, in which order; host-tested through the traits in
//! [`memory`] and [`tpm`]) ← [`hw`] (port I/O, MMIO, CPU mode; the only
//! `unsafe` code, built only for the bare-metal target).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

#[macro_use]
pub mod debug_log;
pub mod dma;
pub mod error;
pub mod hash;
pub mod launch;
pub mod memory;
pub mod tpm;
pub mod txt;

#[cfg(test)]
pub mod fake_tpm;

#[cfg(skl_baremetal)]
#[allow(unsafe_code)]
pub mod hw;

pub use error::LaunchError;

// The GRUB chain of skl-txt.bin (`txt::grub` in the docs). Declared last in
// the crate: rustc orders code by item index, so new items after every
// existing one leave skl.bin and skl-amdsl.bin byte-identical.
#[path = "txt/grub.rs"]
pub mod txt_grub;
