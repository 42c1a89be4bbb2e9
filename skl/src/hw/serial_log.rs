//! Debug-build logger: port 0xE9 (QEMU debugcon, Bochs) and COM1.

use core::fmt::Write;

use super::port::{inb, outb};

const COM1: u16 = 0x3F8;

struct Ports;

impl Write for Ports {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            outb(0xE9, b);
            // Bounded wait for the UART's transmit-holding register.
            for _ in 0..10_000 {
                if inb(COM1 + 5) & 0x20 != 0 {
                    break;
                }
            }
            outb(COM1, b);
        }
        Ok(())
    }
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        let _ = writeln!(Ports, "SKL: {}", r.args());
    }
    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

pub fn init() {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Trace);
}
