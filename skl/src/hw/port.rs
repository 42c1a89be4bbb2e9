//! x86 port I/O. Writes are `unsafe`: a port write can program a DMA
//! engine, a chipset or a reset, so only the caller can say a given port
//! and value are harmless. The safe functions name their port.

use x86_64::instructions::port::{PortReadOnly, PortWriteOnly};

/// Write a byte to an I/O port.
///
/// # Safety
/// `port` and `v` must not change memory Rust code can see or the CPU's
/// execution (no DMA engine, no chipset register that remaps memory).
pub(crate) unsafe fn outb(port: u16, v: u8) {
    // SAFETY: the caller vouches for port and value (above); `out dx, al`
    // touches no memory and no stack.
    unsafe { PortWriteOnly::<u8>::new(port).write(v) }
}

/// Write a dword to an I/O port.
///
/// # Safety
/// As for [`outb`].
pub(crate) unsafe fn outl(port: u16, v: u32) {
    // SAFETY: as for `outb`.
    unsafe { PortWriteOnly::<u32>::new(port).write(v) }
}

/// Read a byte from an I/O port.
pub fn inb(port: u16) -> u8 {
    // SAFETY: a port read writes only AL; device side effects of reads
    // (the UART status, PCI CONFIG_DATA) change no memory.
    unsafe { PortReadOnly::<u8>::new(port).read() }
}

/// Read a dword from an I/O port.
pub fn inl(port: u16) -> u32 {
    // SAFETY: as for `inb`.
    unsafe { PortReadOnly::<u32>::new(port).read() }
}

/// POST-code port: the low byte of a launch error code shows on debug cards.
const POST_CODE: u16 = 0x80;

/// Show `code` on the POST-code port.
pub fn post_code(code: u8) {
    // SAFETY: port 0x80 is the POST-code latch: it only displays the value.
    unsafe { outb(POST_CODE, code) }
}

/// A debug byte to QEMU/Bochs debugcon (port 0xE9) and COM1's transmit
/// register (0x3F8).
#[cfg(feature = "debug-log")]
pub fn debug_byte(port: DebugPort, c: u8) {
    // SAFETY: both ports only emit the byte (debugcon, UART THR).
    unsafe { outb(port as u16, c) }
}

/// Where [`debug_byte`] writes.
#[cfg(feature = "debug-log")]
#[derive(Clone, Copy)]
#[repr(u16)]
pub enum DebugPort {
    Debugcon = 0xE9,
    Com1 = 0x3F8,
}
