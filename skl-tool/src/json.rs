//! What `info --json` and `predict --json` print: one JSON object on one
//! line, serialised by serde_json from these types. The keys are an
//! interface (tests, scripts): a rename here is a breaking change.

use serde::{Serialize, Serializer};

use crate::input::Failure;

/// A JSON object whose keys keep the order given (banks in the order the
/// user asked for them), without a map type that sorts.
pub(crate) struct Ordered<V>(pub(crate) Vec<(&'static str, V)>);

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// `skl-tool info --json`: the SLB header's fields, and per bank the
/// digest of the measured bytes and PCR 17 right after SKINIT.
#[derive(Serialize)]
pub(crate) struct Info {
    pub(crate) file: String,
    /// `qubes-4.2.3` (8-byte header) or `amdsl` (AMD SL header).
    pub(crate) generation: &'static str,
    pub(crate) file_size: usize,
    pub(crate) total_size: u32,
    pub(crate) entry: u16,
    pub(crate) measured_size: u16,
    pub(crate) skl_info: u16,
    pub(crate) bootloader_data: u16,
    pub(crate) uuid: String,
    pub(crate) version: u32,
    /// The two-stage image's stage 2; absent for one-stage images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stage2: Option<InfoStage2>,
    /// Every bank, keyed by its tpm2-tools name.
    pub(crate) banks: Ordered<InfoBank>,
}

#[derive(Serialize)]
pub(crate) struct InfoStage2 {
    pub(crate) offset: usize,
    pub(crate) size: usize,
    pub(crate) sha256: String,
    /// Stage 1 carries this digest (else SKL stops with 0x2010).
    pub(crate) checked_by_stage1: bool,
}

#[derive(Serialize)]
pub(crate) struct InfoBank {
    pub(crate) measured_digest: String,
    pub(crate) pcr17_after_skinit: String,
}

/// `skl-tool predict --json`.
#[derive(Serialize)]
pub(crate) struct Predict {
    /// `dlme` (the kernel has an MLE header) or `multiboot2`.
    pub(crate) mode: &'static str,
    pub(crate) skl_measured_size: usize,
    pub(crate) kernel: Kernel,
    pub(crate) entry_offset: u32,
    pub(crate) dlme_size: usize,
    /// Each measurement, in order.
    pub(crate) events: Vec<Event>,
    pub(crate) pcrs: Vec<Pcr>,
    pub(crate) notes: Vec<String>,
}

#[derive(Serialize)]
pub(crate) struct Kernel {
    /// `ELF32`, `ELF64`, `raw image` or `DLME file`.
    pub(crate) source: &'static str,
    pub(crate) load_base: u64,
    /// `null` without an MLE header.
    pub(crate) mle_header_offset: Option<usize>,
}

#[derive(Serialize)]
pub(crate) struct Event {
    pub(crate) pcr: u32,
    pub(crate) event: String,
    /// `skinit`, `skl` or `kernel`.
    pub(crate) by: &'static str,
    /// Hex digest per bank.
    pub(crate) digests: Ordered<String>,
}

/// A predicted PCR value: `value` is hex, or `null` with `runtime` saying
/// what it depends on (no `runtime` key when the value is known).
#[derive(Serialize)]
pub(crate) struct Pcr {
    pub(crate) bank: &'static str,
    pub(crate) pcr: u32,
    pub(crate) value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) runtime: Option<&'static str>,
}

/// Prints `v` as one line of JSON.
pub(crate) fn print<T: Serialize>(v: &T) -> Result<(), Failure> {
    let line = serde_json::to_string(v).map_err(|e| Failure(format!("JSON output: {e}")))?;
    out!("{line}");
    Ok(())
}
