//! Intel TXT: what an MLE launched by GETSEC[SENTER] reads from the chipset
//! and from the TXT heap.
//!
//! - [`regs`]: configuration register offsets, bits and pure decoders
//!   (no hardware access; `txt-mle.md` §2).
//! - [`heap`]: a bounds-checked parser of the four heap tables, their typed
//!   views, the SINIT memory descriptor records and the PMR / MDR coverage
//!   checks (`txt-mle.md` §3).
//! - [`ext`]: the extended data elements of BiosData, OsSinitData and
//!   SinitMleData, with the event-log pointer elements (`txt-mle.md` §3.6,
//!   §5.3).
//!
//! The SLRT INTEL_INFO entry the loader fills for the MLE (saved MTRRs and
//! IA32_MISC_ENABLE) is [`crate::slrt::IntelInfo`]; `OsMleData.txt_info`
//! points at it.
//!
//! Primary source: Intel TXT Software Development Guide 315168 rev 013
//! ("SDG"), App. B and C, as summarised in `txt-mle.md`; where the
//! implementations disagree with the SDG the choice and its source are noted
//! beside the item.

pub mod ext;
pub mod heap;
pub mod regs;

pub use heap::{HeapTable, TxtHeap, TxtHeapError};
pub use regs::{Space, TxtReg};

/// Capability bits shared by the MLE header, the ACM info table and
/// `OsSinitData.Capabilities` (SDG Table 2-2; bits 10 and 14 from TrenchBoot
/// GRUB `include/grub/i386/txt.h` and tboot `include/mle.h`;
/// `txt-mle.md` §1.3).
pub mod caps {
    /// RLP wakeup with GETSEC[WAKEUP].
    pub const RLP_WAKE_GETSEC: u32 = 1 << 0;
    /// RLP wakeup by writing `SinitMleData.RlpWakeupAddr` (MONITOR).
    pub const RLP_WAKE_MONITOR: u32 = 1 << 1;
    /// ECX holds the PA of the MLE page table at entry.
    pub const ECX_PGTBL: u32 = 1 << 2;
    pub const STM: u32 = 1 << 3;
    /// TPM 1.2: legacy PCR usage *not* supported (negative logic).
    pub const TPM12_NO_LEGACY_PCR_USAGE: u32 = 1 << 4;
    /// TPM 1.2: details/authorities PCR usage.
    pub const TPM12_AUTH_PCR_USAGE: u32 = 1 << 5;
    /// Bits 7:6: 00 legacy, 01 client, 10 server, 11 illegal.
    pub const PLATFORM_TYPE_MASK: u32 = 3 << 6;
    pub const PLATFORM_TYPE_SHIFT: u32 = 6;
    /// MTRR masks computed with the real MAXPHYADDR.
    pub const MAXPHYADDR: u32 = 1 << 8;
    /// TPM 2.0 event log in TCG format (element type 8), else the original
    /// TXT format (element type 7).
    pub const TCG2_EVENT_LOG: u32 = 1 << 9;
    /// CBnT supported (SDG 017.x).
    pub const CBNT: u32 = 1 << 10;
    /// DMA protection by TPRs rather than PMRs.
    pub const TPR: u32 = 1 << 14;
}

#[cfg(test)]
mod tests;

/// The GRUB chain (`docs/design.md`, "Intel TXT"): TrenchBoot GRUB
/// `aem-qubes-4.2.3-rebase` loads `skl-txt.bin` as the Multiboot2 kernel and
/// TXT MLE, the real kernel (Xen) and its modules as Multiboot2 modules.
/// `skl-txt.bin` is an ELF32 wrapper whose one `PT_LOAD` segment is the flat
/// MLE image with a memory size of [`AREA_SIZE`](chain::AREA_SIZE), so GRUB
/// reserves (and zeroes) the whole area; SKL loads the kernel into it at
/// [`KERNEL_OFFSET`](chain::KERNEL_OFFSET) when the kernel is relocatable.
pub mod chain {
    /// Bytes GRUB allocates for `skl-txt.bin` (the segment's `p_memsz`).
    pub const AREA_SIZE: u64 = 32 << 20;
    /// Where a relocatable kernel goes, from the MLE base (2 MiB: GRUB
    /// aligns the MLE to 2 MiB, so the kernel is 2 MiB-aligned too).
    pub const KERNEL_OFFSET: u64 = 2 << 20;
    /// File offset of the flat image inside the ELF wrapper.
    pub const IMAGE_OFFSET: usize = 0x1000;
    /// Link (and `p_paddr`) address of the segment; the relocatable tag's
    /// lower bound.
    pub const LINK_BASE: u32 = 0x0100_0000;
    /// Multiboot2 relocatable tag: alignment (GRUB forces at least 2 MiB for
    /// a TXT launch anyway) and preference 2 = high.
    pub const ALIGN: u32 = 0x0020_0000;
    pub const PREFERENCE_HIGH: u32 = 2;

    /// The flat MLE image inside an ELF-wrapped `skl-txt.bin` (its
    /// `PT_LOAD` file bytes), or the file itself when it is not an ELF.
    pub fn image(file: &[u8]) -> Option<&[u8]> {
        if !file.starts_with(b"\x7fELF") {
            return Some(file);
        }
        let rd = |o: usize| file.get(o..o + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
        let phoff = rd(0x1C)?;
        let (off, filesz) = (rd(phoff + 4)?, rd(phoff + 16)?);
        file.get(off..off.checked_add(filesz)?)
    }
}
