//! Debug-build log sink: port 0xE9 (QEMU debugcon, Bochs) and COM1.

use super::port::{inb, outb};

const COM1: u16 = 0x3F8;

pub fn write(b: &[u8]) {
    for &c in b {
        outb(0xE9, c);
        // Bounded wait for the UART's transmit-holding register.
        for _ in 0..10_000 {
            if inb(COM1 + 5) & 0x20 != 0 {
                break;
            }
        }
        outb(COM1, c);
    }
}
