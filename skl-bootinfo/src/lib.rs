//! Every structure that crosses the bootloader / loader / kernel boundary of
//! the TrenchBoot Secure Launch protocol (AMD SKINIT and Intel TXT), as typed
//! `no_std` Rust with compile-time layout checks, and parsers that bound-check
//! every read.
//!
//! The crate knows nothing of hardware and contains no `unsafe` code: the
//! payload hands it byte slices it has already bounded, and the host tools
//! hand it file contents.
//!
//! Sources of the layouts (revision in brackets, details in each module):
//! TrenchBoot GRUB `aem-qubes-4.2.3-rebase` (b3fd5906), TrenchBoot Xen
//! `aem-staging-14-10-24-rebase` (6a50fd9e), the Secure Launch specification
//! v0.6.0-draft (TrenchBoot/documentation 50c82921).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod addr;
pub mod drtm;
pub mod event_log;
pub mod mle;
pub mod multiboot2;
pub mod sl_header;
pub mod slrt;
#[cfg(test)]
mod test_bytes;
pub mod tpm_alg;
pub mod txt;

pub use addr::{PhysAddr, PhysRange};
