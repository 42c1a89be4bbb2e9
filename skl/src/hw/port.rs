//! x86 port I/O.

/// Write a byte to an I/O port.
pub fn outb(port: u16, v: u8) {
    // SAFETY: port writes have no memory effects visible to Rust; callers
    // pass only the fixed platform ports this crate names (0x80, 0xE9,
    // COM1, 0xCF9).
    unsafe { core::arch::asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags)) }
}

/// Read a byte from an I/O port.
pub fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: as for `outb`; reads of the UART status port have no side
    // effects on memory.
    unsafe { core::arch::asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags)) }
    v
}

/// POST-code port: the low byte of a launch error code shows on debug cards.
pub const POST_CODE: u16 = 0x80;

/// Write a dword to an I/O port.
pub fn outl(port: u16, v: u32) {
    // SAFETY: as for `outb`; used for the PCI configuration ports
    // 0xCF8/0xCFC only.
    unsafe { core::arch::asm!("out dx, eax", in("dx") port, in("eax") v, options(nomem, nostack, preserves_flags)) }
}

/// Read a dword from an I/O port.
pub fn inl(port: u16) -> u32 {
    let v: u32;
    // SAFETY: as for `outl`.
    unsafe { core::arch::asm!("in eax, dx", out("eax") v, in("dx") port, options(nomem, nostack, preserves_flags)) }
    v
}
