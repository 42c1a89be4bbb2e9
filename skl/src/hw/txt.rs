//! Intel TXT hardware for `skl-txt.bin`: the private configuration space
//! and the CPU operations of the post-SENTER sequence (`crate::txt::mle`).

use core::arch::asm;

use skl_bootinfo::slrt::IntelInfo;
use skl_bootinfo::txt::regs::Space;
use skl_bootinfo::txt::TxtReg;
use x86_64::registers::control::{Cr0, Cr0Flags};

use super::cpu::{cpuid, rdmsr, wrmsr};
use crate::txt::mle::TxtCpu;
use crate::txt::TxtRegs;

/// The TXT private configuration space at 0xFED20000 (open after a
/// successful SENTER until CMD.CLOSE-PRIVATE; identity-mapped, uncached by
/// the MTRRs, which the MLE checks keep UC).
pub struct TxtPrivate(());

static PRIVATE_TAKEN: super::Once = super::Once::new();
static CPU_TAKEN: super::Once = super::Once::new();

impl TxtPrivate {
    /// The one handle on the register space (`None` after the first call).
    pub fn take() -> Option<Self> {
        PRIVATE_TAKEN.claim().then_some(TxtPrivate(()))
    }

    /// A second handle, for the panic handler's TXT reset.
    ///
    /// # Safety
    /// Only where the first handle is never used again (a panic does not
    /// return to it: `panic = "abort"`).
    pub unsafe fn steal() -> Self {
        TxtPrivate(())
    }
}

impl TxtRegs for TxtPrivate {
    fn read(&mut self, reg: TxtReg) -> u64 {
        let p = reg.addr(Space::Private).as_u64() as *const u64;
        // SAFETY: a register of the 64 KiB TXT private space (offsets are
        // the TxtReg constants, all inside it, 8-byte aligned); volatile
        // because reads are register reads.
        unsafe { p.read_volatile() }
    }
    fn write(&mut self, reg: TxtReg, v: u64) {
        let p = reg.addr(Space::Private).as_u64() as *mut u64;
        // SAFETY: as for read; writes are the commands the SDG defines.
        unsafe { p.write_volatile(v) }
    }
}

const IA32_MTRRCAP: u32 = 0xFE;
const IA32_MISC_ENABLE: u32 = 0x1A0;
const IA32_MTRR_PHYSBASE0: u32 = 0x200;
const IA32_MTRR_DEF_TYPE: u32 = 0x2FF;
/// CPUID.1:ECX bits.
const CPUID_SMX: u32 = 1 << 6;
const CPUID_HYPERVISOR: u32 = 1 << 31;

/// The CPU we run on, after SENTER.
pub struct HwTxtCpu(());

impl HwTxtCpu {
    /// The CPU's MTRRs, MISC_ENABLE and GETSEC (`None` after the first
    /// call). The MLE runs on the BSP alone (RLPs are in SENTER sleep).
    pub fn take() -> Option<Self> {
        CPU_TAKEN.claim().then_some(HwTxtCpu(()))
    }
}

impl TxtCpu for HwTxtCpu {
    fn mtrr_cap_vcnt(&mut self) -> u32 {
        (rdmsr(IA32_MTRRCAP) & 0xFF) as u32
    }

    fn misc_enable(&mut self) -> u64 {
        rdmsr(IA32_MISC_ENABLE)
    }

    fn maxphyaddr(&mut self) -> u32 {
        if cpuid(0x8000_0000).0 >= 0x8000_0008 {
            cpuid(0x8000_0008).0 & 0xFF
        } else {
            36
        }
    }

    fn smctrl(&mut self) -> bool {
        let ecx = cpuid(1).2;
        if ecx & CPUID_SMX == 0 {
            // Only a virtual machine emulating the post-SENTER state (the
            // QEMU test) has no SMX and still got past the TXT register
            // checks; real hardware without SMX never gets here.
            return ecx & CPUID_HYPERVISOR != 0;
        }
        // SAFETY: GETSEC[SMCTRL] (EAX = 7, EBX = 0) re-enables SMIs; SMX is
        // present and CR4.SMXE is still set from SENTER. No memory access.
        // RBX is reserved by LLVM: save it around the instruction.
        unsafe {
            asm!("xchg {0}, rbx", ".byte 0x0f, 0x37", "xchg {0}, rbx",
                 inout(reg) 0u64 => _, inout("eax") 7u32 => _, options(nomem, nostack))
        }
        true
    }

    fn restore(&mut self, info: &IntelInfo) {
        let cap = self.mtrr_cap_vcnt() as usize;
        let saved = (info.mtrr_vcnt.get() as usize).min(cap).min(info.mtrr_pairs.len());
        // SDM vol. 3 §12.11.7.2: caches off (CD=1, NW=0), WBINVD, TLB flush,
        // MTRRs off, write, WBINVD, TLB flush, MTRRs on, caches on. No
        // `nomem`: the compiler must not move memory accesses across a
        // change of how memory is cached.
        let cr0 = Cr0::read_raw();
        let caching = (Cr0Flags::CACHE_DISABLE | Cr0Flags::NOT_WRITE_THROUGH).bits();
        // SAFETY: caches off with a write-back of everything cached, then a
        // TLB flush: memory stays coherent; interrupts are off and this is
        // the only CPU running.
        unsafe {
            asm!("mov cr0, {0}", "wbinvd", "mov {1}, cr3", "mov cr3, {1}",
                 in(reg) (cr0 | Cr0Flags::CACHE_DISABLE.bits()) & !Cr0Flags::NOT_WRITE_THROUGH.bits(), out(reg) _, options(nostack))
        };
        // SAFETY: MTRRs off (E = 0) while caching is off, as the SDM sequence says.
        unsafe { wrmsr(IA32_MTRR_DEF_TYPE, rdmsr(IA32_MTRR_DEF_TYPE) & !(1 << 11)) };
        for i in 0..cap {
            let (base, mask) = match info.mtrr_pairs.get(i).filter(|_| i < saved) {
                Some(p) => (p.base.get(), p.mask.get()),
                None => (0, 0),
            };
            // SAFETY: pair i < IA32_MTRRCAP.VCNT exists; the values passed
            // `mle::check_saved_mtrrs` (types, contiguous masks within
            // MAXPHYADDR, TXT space and the MLE defined), and take effect
            // only when MTRRs are re-enabled below.
            unsafe { wrmsr(IA32_MTRR_PHYSBASE0 + 2 * i as u32, base) };
            // SAFETY: as for the base.
            unsafe { wrmsr(IA32_MTRR_PHYSBASE0 + 2 * i as u32 + 1, mask) };
        }
        // SAFETY: write back and invalidate again, flush the TLB.
        unsafe { asm!("wbinvd", "mov {0}, cr3", "mov cr3, {0}", out(reg) _, options(nostack)) };
        // SAFETY: MTRRs on with the checked pairs and the saved default type.
        unsafe { wrmsr(IA32_MTRR_DEF_TYPE, info.default_mem_type.get()) };
        // SAFETY: caches back on (CD and NW clear, as entry_common.S left them).
        unsafe { asm!("mov cr0, {0}", in(reg) cr0 & !caching, options(nostack)) };
        // SAFETY: `mle::prepare` checked the saved value differs from the
        // live one only in the bits SENTER changes, and does not disable NX.
        unsafe { wrmsr(IA32_MISC_ENABLE, info.saved_misc_enable_msr.get()) };
    }
}
