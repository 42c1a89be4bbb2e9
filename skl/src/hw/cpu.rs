//! CPU mode changes and the defined stop.

use super::port::{outb, post_code};
use x86_64::registers::model_specific::Msr;

extern "C" {
    /// `entry_common.S`: back to 32-bit protected mode, paging off, registers as
    /// the DLME expects; never returns.
    fn skl_handoff(entry: u32, slb_base: u32, esi: u32, ebx: u32, stgi: u32) -> !;
    /// `linker/slb.ld`: the lowest byte of our stack, where the canary is.
    static __stack_bottom: [u32; 8];
}

/// GIF at the hand-off (AMD only; Intel has no GIF).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gif {
    /// Left as SKINIT set it (0), or no GIF at all (TXT): a Secure Launch
    /// kernel recognises the launch and executes STGI itself.
    Unchanged,
    /// STGI as the last instruction before the jump: a kernel that knows
    /// nothing of SKINIT never would, and NMIs would stay held forever.
    Set,
}

/// Enter the kernel: see `entry_common.S` for the register state.
pub fn handoff(h: &crate::launch::Handoff, gif: Gif) -> ! {
    // SAFETY: the launch validated entry (inside the measured DLME, below
    // 4 GiB) and measured the DLME; skl_handoff leaves long mode from
    // identity-mapped code and jumps there. Nothing of ours runs after it.
    // STGI is executed only for `Gif::Set`, which only the SKINIT payload
    // passes: after SKINIT, CPUID reports SKINIT, so STGI cannot fault.
    unsafe { skl_handoff(h.entry, h.slb_base, h.esi, h.ebx, (gif == Gif::Set) as u32) }
}

/// VM_CR (AMD APM vol. 2 §15.30.1): SKINIT sets R_INIT (bit 1), which turns
/// INIT into #SX. Xen and Linux read it to recognise a SKINIT launch and
/// clear it themselves; a kernel that knows nothing of SKINIT must get the
/// INIT it expects.
const MSR_VM_CR: u32 = 0xC001_0114;
const VM_CR_R_INIT: u64 = 1 << 1;

/// Clear VM_CR.R_INIT (AMD, after SKINIT only).
pub fn clear_vm_cr_r_init() {
    let v = rdmsr(MSR_VM_CR);
    // SAFETY: VM_CR exists on every CPU with SKINIT; clearing R_INIT only
    // makes INIT an INIT again (APM vol. 2 §15.30.1).
    unsafe { wrmsr(MSR_VM_CR, v & !VM_CR_R_INIT) }
}

/// Defined stop after a launch error: show the code on the POST port, reset
/// the platform through the reset control register (0xCF9: full reset), and
/// if that does nothing, halt with interrupts off forever.
pub fn stop(code: u16) -> ! {
    post_code(code as u8);
    // SAFETY: the reset control register; nothing of ours runs after a
    // reset, and nothing is handed off before one.
    unsafe { outb(0xCF9, 0x02) };
    // SAFETY: as above (0x0E: full reset, CPU reset).
    unsafe { outb(0xCF9, 0x0E) };
    loop {
        // SAFETY: cli/hlt touch no memory. After SKINIT GIF = 0 also holds
        // NMI and SMI; on TXT (no GIF) an NMI stays blocked until the next
        // IRET, which never comes, and SMIs go to the firmware's handler,
        // which returns here.
        unsafe { core::arch::asm!("cli", "hlt", options(nomem, nostack)) }
    }
}

/// Read a model-specific register. Callers name only MSRs the running
/// family has (a missing one faults, and with IDT limit 0 that resets).
pub fn rdmsr(msr: u32) -> u64 {
    // SAFETY: rdmsr reads a register into EDX:EAX and touches no memory.
    unsafe { Msr::new(msr).read() }
}

/// Write a model-specific register.
///
/// # Safety
/// `msr` must exist on this CPU (a fault resets, see [`rdmsr`]) and `v`
/// must not change how memory Rust uses is mapped, cached in a way that
/// loses writes, or protected (EFER, PAT, MTRRs only as the SDM's update
/// sequences allow).
pub(crate) unsafe fn wrmsr(msr: u32, v: u64) {
    // SAFETY: the caller vouches for the MSR and the value (above).
    unsafe { Msr::new(msr).write(v) }
}

/// CPUID leaf `leaf` (subleaf 0): (EAX, EBX, ECX, EDX).
pub fn cpuid(leaf: u32) -> (u32, u32, u32, u32) {
    let r = core::arch::x86_64::__cpuid_count(leaf, 0);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// The canary `entry_common.S` wrote below the stack is intact: the stack never
/// grew into what lies below it (the bootloader data, with the SLRT).
pub fn stack_intact() -> bool {
    let p = core::ptr::addr_of!(__stack_bottom);
    // SAFETY: 32 bytes inside the SLB (identity-mapped), written once by
    // entry_common.S and never by Rust code; volatile because only an overflowing
    // stack would change them.
    let words = unsafe { p.read_volatile() };
    words.iter().all(|&w| w == 0x4B4C_5353)
}
