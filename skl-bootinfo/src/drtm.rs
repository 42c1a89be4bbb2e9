//! What SKL measures after SKINIT, in order: one definition shared by the
//! payload (`skl::launch`) and the host tool (`skl-tool predict`), so that
//! prediction and launch cannot drift apart.
//!
//! Order and event texts follow the TrenchBoot SKL that speaks SLRT-B
//! (`main.c`, `skl_main`): PCR 17 ← entry offset (4 bytes, little-endian),
//! then PCR 17 ← DLME. The "SKINIT" event only logs what the CPU measured.

/// PCR SKINIT and SKL extend.
pub const PCR_CODE: u32 = 17;
/// PCR for data (MBI, SLRT) in Multiboot2 mode.
pub const PCR_DATA: u32 = 18;

/// Event data of the log entry for SKINIT's own measurement (logged only).
pub const EVENT_SKINIT: &[u8] = b"SKINIT";
/// Event data of the entry-offset measurement.
pub const EVENT_DLME_ENTRY: &[u8] = b"DLME entry offset";
/// Event data of the DLME measurement.
pub const EVENT_DLME: &[u8] = b"DLME";

/// The bytes measured for the DLME entry offset.
pub fn entry_offset_bytes(offset: u32) -> [u8; 4] {
    offset.to_le_bytes()
}
