//! TXT configuration registers: offsets, bits and pure decoders.
//!
//! Offsets and bits: Intel TXT Software Development Guide 315168 rev 013
//! App. B (`txt-mle.md` §2), with the registers newer than SDG 013 (THREADS,
//! SPAD) from coreboot `src/security/intel/txt/register.h` and tboot
//! `tboot/include/txt/config_regs.h` (mateusz-mowka/tboot-lcptools-v2-with-lms).
//! Nothing here touches hardware: the MMIO layer reads a `u64` at
//! [`TxtReg::addr`] and hands it to the decoders below.
//!
//! Public (0xFED30000) and private (0xFED20000) space have the same offsets
//! and differ in permissions; private space is decoded only between a
//! successful SENTER and CMD.CLOSE-PRIVATE. The `CMD.*` registers are
//! write-only in private space; after writing one, read a status register
//! (STS / ESTS / E2STS) as a fence (SDG B.1).
//!
//! CMD.OPEN-PRIVATE is deliberately absent: SDG 013 gives no offset, the MLE
//! never issues it (SENTER does), and coreboot's 0x48 is CLOSE-PRIVATE's
//! (`txt-mle.md` Open Question 3).

use static_assertions::const_assert_eq;
use zerocopy::little_endian::U32;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::addr::{PhysAddr, PhysRange};

/// Base of the public configuration space.
pub const TXT_PUB_CONFIG_REGS_BASE: u64 = 0xFED3_0000;
/// Base of the private configuration space.
pub const TXT_PRIV_CONFIG_REGS_BASE: u64 = 0xFED2_0000;
/// Size of each space (64 KiB). Linux and Xen reserve the private range
/// `0xFED20000..0xFED30000` after launch (`txt-mle.md` §2, step 4).
pub const TXT_CONFIG_REGS_SIZE: u64 = 0x1_0000;

/// Which copy of the registers an access goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    Public,
    Private,
}

impl Space {
    pub const fn base(self) -> u64 {
        match self {
            Space::Public => TXT_PUB_CONFIG_REGS_BASE,
            Space::Private => TXT_PRIV_CONFIG_REGS_BASE,
        }
    }
    /// The whole 64 KiB space.
    pub fn range(self) -> PhysRange {
        PhysRange::new(PhysAddr(self.base()), TXT_CONFIG_REGS_SIZE).expect("both bases lie below 4 GiB")
    }
}

/// Offset of a 64-bit TXT configuration register inside either space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxtReg(u16);

impl TxtReg {
    /// TXT.STS: launch status (bits in [`sts`]).
    pub const STS: TxtReg = TxtReg(0x000);
    /// TXT.ESTS: error status; write all ones to clear after launch (tboot, L16).
    pub const ESTS: TxtReg = TxtReg(0x008);
    /// TXT.THREADS.EXISTS (coreboot; not in SDG 013).
    pub const THREADS_EXISTS: TxtReg = TxtReg(0x010);
    /// TXT.THREADS.JOIN (coreboot; not in SDG 013).
    pub const THREADS_JOIN: TxtReg = TxtReg(0x020);
    /// TXT.ERRORCODE: RO public, RW private. Decode with [`ErrorCode`].
    pub const ERRORCODE: TxtReg = TxtReg(0x030);
    /// TXT.CMD.SYS_RESET: write 1 for a TXT reset (after ERRORCODE).
    pub const CMD_SYS_RESET: TxtReg = TxtReg(0x038);
    /// TXT.CMD.CLOSE-PRIVATE: closes private space and locality 2.
    pub const CMD_CLOSE_PRIVATE: TxtReg = TxtReg(0x048);
    /// TXT.SPAD, BIOS ACM status (SDG 016+ per coreboot).
    pub const SPAD: TxtReg = TxtReg(0x0A0);
    /// TXT.VER.FSBIF: bit 31 production fused; may read 0 / all ones on
    /// newer chipsets, then use [`TxtReg::VER_QPIIF`].
    pub const VER_FSBIF: TxtReg = TxtReg(0x100);
    /// TXT.DIDVID. Decode with [`DidVid`].
    pub const DIDVID: TxtReg = TxtReg(0x110);
    /// TXT.VER.QPIIF (a.k.a. VER.EMIF): bit 31 production fused.
    pub const VER_QPIIF: TxtReg = TxtReg(0x200);
    /// TXT.CMD.UNLOCK-MEM-CONFIG (reset / teardown paths).
    pub const CMD_UNLOCK_MEM_CONFIG: TxtReg = TxtReg(0x218);
    /// TXT.SINIT.BASE: PA of the SINIT region.
    pub const SINIT_BASE: TxtReg = TxtReg(0x270);
    /// TXT.SINIT.SIZE.
    pub const SINIT_SIZE: TxtReg = TxtReg(0x278);
    /// TXT.MLE.JOIN: PA (< 4 GiB) of the RLP [`MleJoin`] structure.
    pub const MLE_JOIN: TxtReg = TxtReg(0x290);
    /// TXT.HEAP.BASE: PA of the TXT heap (32-bit value).
    pub const HEAP_BASE: TxtReg = TxtReg(0x300);
    /// TXT.HEAP.SIZE.
    pub const HEAP_SIZE: TxtReg = TxtReg(0x308);
    /// TXT.MSEG.BASE (STM; tboot).
    pub const MSEG_BASE: TxtReg = TxtReg(0x310);
    /// TXT.MSEG.SIZE (STM; tboot).
    pub const MSEG_SIZE: TxtReg = TxtReg(0x318);
    /// TXT.DPR: DMA protected range covering heap and SINIT. Decode with [`Dpr`].
    pub const DPR: TxtReg = TxtReg(0x330);
    /// TXT.SCRATCHPAD.
    pub const SCRATCHPAD: TxtReg = TxtReg(0x378);
    /// TXT.CMD.OPEN-LOCALITY1 (not opened by SENTER).
    pub const CMD_OPEN_LOCALITY1: TxtReg = TxtReg(0x380);
    /// TXT.CMD.CLOSE-LOCALITY1.
    pub const CMD_CLOSE_LOCALITY1: TxtReg = TxtReg(0x388);
    /// TXT.CMD.OPEN-LOCALITY2 (SENTER opens it).
    pub const CMD_OPEN_LOCALITY2: TxtReg = TxtReg(0x390);
    /// TXT.CMD.CLOSE-LOCALITY2 (also closed by CLOSE-PRIVATE and SEXIT).
    pub const CMD_CLOSE_LOCALITY2: TxtReg = TxtReg(0x398);
    /// TXT.PUBLIC.KEY: hash of the ACM signing key (256 bits, four registers).
    pub const PUBLIC_KEY: TxtReg = TxtReg(0x400);
    /// TXT.CMD.SECRETS: secrets are in memory (scrub on unclean reset).
    pub const CMD_SECRETS: TxtReg = TxtReg(0x8E0);
    /// TXT.CMD.NO-SECRETS (teardown and error path).
    pub const CMD_NO_SECRETS: TxtReg = TxtReg(0x8E8);
    /// TXT.E2STS (bits in [`e2sts`]).
    pub const E2STS: TxtReg = TxtReg(0x8F0);

    /// Every register above, in offset order.
    pub const ALL: [TxtReg; 29] = [
        Self::STS,
        Self::ESTS,
        Self::THREADS_EXISTS,
        Self::THREADS_JOIN,
        Self::ERRORCODE,
        Self::CMD_SYS_RESET,
        Self::CMD_CLOSE_PRIVATE,
        Self::SPAD,
        Self::VER_FSBIF,
        Self::DIDVID,
        Self::VER_QPIIF,
        Self::CMD_UNLOCK_MEM_CONFIG,
        Self::SINIT_BASE,
        Self::SINIT_SIZE,
        Self::MLE_JOIN,
        Self::HEAP_BASE,
        Self::HEAP_SIZE,
        Self::MSEG_BASE,
        Self::MSEG_SIZE,
        Self::DPR,
        Self::SCRATCHPAD,
        Self::CMD_OPEN_LOCALITY1,
        Self::CMD_CLOSE_LOCALITY1,
        Self::CMD_OPEN_LOCALITY2,
        Self::CMD_CLOSE_LOCALITY2,
        Self::PUBLIC_KEY,
        Self::CMD_SECRETS,
        Self::CMD_NO_SECRETS,
        Self::E2STS,
    ];

    pub const fn offset(self) -> u16 {
        self.0
    }

    /// Physical address of the register in `space`.
    pub const fn addr(self, space: Space) -> PhysAddr {
        PhysAddr(space.base() + self.0 as u64)
    }

    /// True for the write-only `CMD.*` registers (write 1, then fence).
    pub const fn is_command(self) -> bool {
        matches!(
            self,
            Self::CMD_SYS_RESET
                | Self::CMD_CLOSE_PRIVATE
                | Self::CMD_UNLOCK_MEM_CONFIG
                | Self::CMD_OPEN_LOCALITY1
                | Self::CMD_CLOSE_LOCALITY1
                | Self::CMD_OPEN_LOCALITY2
                | Self::CMD_CLOSE_LOCALITY2
                | Self::CMD_SECRETS
                | Self::CMD_NO_SECRETS
        )
    }
}

/// TXT.VER.FSBIF / VER.QPIIF: production-fused chipset.
pub const VER_PRODUCTION_FUSED: u64 = 1 << 31;

/// Value to write to a `CMD.*` register.
pub const CMD_WRITE: u64 = 1;

/// Intel's PCI vendor ID, as DIDVID reads through an open private space.
pub const INTEL_VID: u16 = 0x8086;

/// A TXT.STS value (SDG B.1.1). Bits outside the named ones are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sts(pub u64);

bitflags::bitflags! {
    impl Sts: u64 {
        const SENTER_DONE = 1 << 0;
        const SEXIT_DONE = 1 << 1;
        const MEM_CONFIG_LOCK = 1 << 6;
        const PRIVATE_OPEN = 1 << 7;
        const LOCALITY1_OPEN = 1 << 15;
        const LOCALITY2_OPEN = 1 << 16;
    }
}

impl Sts {
    /// SENTER.DONE set and SEXIT.DONE clear: what an MLE must see after
    /// launch (`txt-mle.md` §2 step 1; Llate `slaunch_setup_txt`).
    pub const fn launched(self) -> bool {
        self.intersection(Self::SENTER_DONE.union(Self::SEXIT_DONE)).bits() == Self::SENTER_DONE.bits()
    }
}

/// A TXT.ESTS value (SDG B.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ests(pub u64);

bitflags::bitflags! {
    impl Ests: u64 {
        /// Sticky until power cycle; blocks SENTER.
        const TXT_RESET = 1 << 0;
    }
}

impl Ests {
    /// What tboot and L16 write to clear ESTS after launch.
    pub const CLEAR_ALL: Ests = Ests(0xFFFF_FFFF);
}

/// A TXT.E2STS value (SDG B.1; bits 0 and 2 from coreboot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct E2sts(pub u64);

bitflags::bitflags! {
    impl E2sts: u64 {
        const SLP_ENTRY_ERROR = 1 << 0;
        const SECRETS = 1 << 1;
        const BLOCK_MEM = 1 << 2;
    }
}

/// Who wrote an ERRORCODE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorSource {
    /// Bit 30 clear: processor / hardware.
    Processor,
    /// Bit 30 set, bit 15 clear: an authenticated code module (SINIT).
    Acm,
    /// Bit 30 set, bit 15 set: the MLE (TrenchBoot codes 0xC0008xxx).
    Mle,
}

/// The low 32 bits of TXT.ERRORCODE (SDG B.1.3; `txt-mle.md` §2, §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorCode(pub u32);

bitflags::bitflags! {
    impl ErrorCode: u32 {
        const VALID = 1 << 31;
        const SOFTWARE = 1 << 30;
        const MLE_SOURCE = 1 << 15;
    }
}

impl ErrorCode {
    /// What SINIT leaves after a successful launch.
    pub const SINIT_SUCCESS: ErrorCode = ErrorCode(0xC000_0001);
    /// Base of the MLE-defined error codes (L16 0xC0008001..0xC0008024).
    pub const MLE_BASE: u32 = 0xC000_8000;

    /// Decode the 64-bit register (the code lives in bits 31:0).
    pub const fn from_reg(v: u64) -> Self {
        ErrorCode(v as u32)
    }
    /// An MLE error code: 0xC0008000 | `code` (bits 14:0).
    pub const fn mle(code: u16) -> Self {
        ErrorCode(Self::MLE_BASE | (code as u32 & 0x7FFF))
    }
    /// Bit 31: the register holds a code at all (0 after the MLE cleared it).
    pub const fn is_valid(self) -> bool {
        self.contains(Self::VALID)
    }
    pub const fn is_sinit_success(self) -> bool {
        self.0 == Self::SINIT_SUCCESS.0
    }
    /// A valid code other than SINIT's success value.
    pub const fn is_failure(self) -> bool {
        self.is_valid() && !self.is_sinit_success()
    }
    /// Who wrote it; `None` if the code is not valid.
    pub const fn source(self) -> Option<ErrorSource> {
        if !self.is_valid() {
            None
        } else if !self.contains(Self::SOFTWARE) {
            Some(ErrorSource::Processor)
        } else if self.contains(Self::MLE_SOURCE) {
            Some(ErrorSource::Mle)
        } else {
            Some(ErrorSource::Acm)
        }
    }
}

/// TXT.DIDVID fields (SDG B.1.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DidVid {
    pub vid: u16,
    pub did: u16,
    pub rid: u16,
    pub id_ext: u16,
}

impl DidVid {
    pub const fn from_reg(v: u64) -> Self {
        DidVid { vid: v as u16, did: (v >> 16) as u16, rid: (v >> 32) as u16, id_ext: (v >> 48) as u16 }
    }
    /// Read through private space, VID 0x8086 proves private space is open
    /// (Llate `slaunch_setup_txt`).
    pub const fn is_intel(self) -> bool {
        self.vid == INTEL_VID
    }
}

/// TXT.DPR fields: bit 0 lock, bits 11:4 size in MiB, bits 31:20 top + 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dpr(pub u64);

impl Dpr {
    pub const fn locked(self) -> bool {
        self.0 & 1 != 0
    }
    pub const fn size_mib(self) -> u64 {
        (self.0 >> 4) & 0xFF
    }
    /// One past the last protected byte (= TSEG base).
    pub const fn top(self) -> u64 {
        self.0 & 0xFFF0_0000
    }
    /// `[top − size, top)`; `None` if the size exceeds `top`.
    pub fn range(self) -> Option<PhysRange> {
        let len = self.size_mib() << 20;
        PhysRange::new(PhysAddr(self.top().checked_sub(len)?), len)
    }
}

/// The RLP JOIN structure whose PA goes into TXT.MLE.JOIN (SDG §2.4.10;
/// `txt-mle.md` §6.1): < 4 GiB, not straddling non-contiguous pages, GDT on
/// one page. DS/ES/SS get `seg_sel + 8`.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct MleJoin {
    pub gdt_limit: U32,
    pub gdt_base: U32,
    pub seg_sel: U32,
    pub entry_point: U32,
}
const_assert_eq!(core::mem::size_of::<MleJoin>(), 16);
const_assert_eq!(core::mem::offset_of!(MleJoin, entry_point), 12);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_distinct_aligned_and_inside_the_space() {
        let all = &TxtReg::ALL;
        for w in all.windows(2) {
            assert!(w[0] < w[1], "{:?} before {:?}", w[0], w[1]);
        }
        for r in all {
            assert_eq!(r.offset() % 8, 0);
            assert!((r.offset() as u64) < TXT_CONFIG_REGS_SIZE);
            assert!(Space::Private.range().contains(r.addr(Space::Private)));
            assert!(Space::Public.range().contains(r.addr(Space::Public)));
        }
        assert_eq!(TxtReg::HEAP_BASE.addr(Space::Public), PhysAddr(0xFED3_0300));
        assert_eq!(TxtReg::CMD_SECRETS.addr(Space::Private), PhysAddr(0xFED2_08E0));
        assert_eq!(all.iter().filter(|r| r.is_command()).count(), 9);
        assert!(!TxtReg::ERRORCODE.is_command() && TxtReg::CMD_NO_SECRETS.is_command());
        assert!(!Space::Private.range().overlaps(&Space::Public.range()));
    }

    #[test]
    fn errorcode_decoding() {
        let ok = ErrorCode::from_reg(0xFFFF_FFFF_C000_0001);
        assert!(ok.is_valid() && ok.is_sinit_success() && !ok.is_failure());
        assert_eq!(ok.source(), Some(ErrorSource::Acm));
        let cleared = ErrorCode(0);
        assert!(!cleared.is_valid() && !cleared.is_failure() && cleared.source().is_none());
        let mle = ErrorCode::mle(0x24);
        assert_eq!(mle.0, 0xC000_8024);
        assert!(mle.is_failure());
        assert_eq!(mle.source(), Some(ErrorSource::Mle));
        assert_eq!(ErrorCode::mle(0xFFFF).0, 0xC000_FFFF);
        let acm = ErrorCode(0xC000_0C21);
        assert!(acm.is_failure());
        assert_eq!(acm.source(), Some(ErrorSource::Acm));
        assert_eq!(ErrorCode(0x8000_0003).source(), Some(ErrorSource::Processor));
        // Bit 31 clear: no code, whatever the rest says.
        assert!(!ErrorCode(0x4000_8001).is_failure());
    }

    #[test]
    fn status_decoding() {
        assert!((Sts::SENTER_DONE | Sts::PRIVATE_OPEN).launched());
        assert!(!(Sts::SENTER_DONE | Sts::SEXIT_DONE).launched());
        assert!(!Sts(0).launched() && !Sts::SEXIT_DONE.launched());
        assert!(Sts(1 << 40 | 1).launched(), "unnamed bits are kept and ignored");
        let s = Sts::LOCALITY1_OPEN | Sts::LOCALITY2_OPEN | Sts::MEM_CONFIG_LOCK;
        assert_eq!(s, Sts(0x1_8040));
        assert!(s.contains(Sts::LOCALITY1_OPEN | Sts::LOCALITY2_OPEN | Sts::MEM_CONFIG_LOCK));
        assert!(!s.contains(Sts::PRIVATE_OPEN));
        assert!(Ests(1).contains(Ests::TXT_RESET) && !Ests(2).contains(Ests::TXT_RESET));
        assert_eq!(Ests::CLEAR_ALL.bits(), 0xFFFF_FFFF);
        assert!(E2sts(2).contains(E2sts::SECRETS) && !E2sts(5).contains(E2sts::SECRETS));
        assert_eq!(E2sts(5), E2sts::SLP_ENTRY_ERROR | E2sts::BLOCK_MEM);
    }

    #[test]
    fn didvid_and_dpr() {
        let d = DidVid::from_reg(0x0001_00A0_4A40_8086);
        assert_eq!(d, DidVid { vid: 0x8086, did: 0x4A40, rid: 0x00A0, id_ext: 0x0001 });
        assert!(d.is_intel() && !DidVid::from_reg(0xFFFF_FFFF).is_intel());
        // 3 MiB below 0x7B800000, locked.
        let dpr = Dpr(0x7B80_0031);
        assert!(dpr.locked());
        assert_eq!(dpr.size_mib(), 3);
        assert_eq!(dpr.range(), PhysRange::new(PhysAddr(0x7B50_0000), 0x30_0000));
        assert_eq!(Dpr(0x0000_0FF0).range(), None, "size above top");
        assert_eq!(Dpr(0).range(), PhysRange::new(PhysAddr(0), 0));
    }
}
