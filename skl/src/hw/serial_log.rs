//! Debug-build log sink: port 0xE9 (QEMU debugcon, Bochs) and COM1.

use super::port::{debug_byte, inb, DebugPort};

pub fn write(b: &[u8]) {
    for &c in b {
        debug_byte(DebugPort::Debugcon, c);
        // Bounded wait for the UART's transmit-holding register (LSR.THRE).
        for _ in 0..10_000 {
            if inb(DebugPort::Com1 as u16 + 5) & 0x20 != 0 {
                break;
            }
        }
        debug_byte(DebugPort::Com1, c);
    }
}
