//! Debug logging, compiled out of release builds.
//!
//! `dlog!("text", value, "text", …)` writes its parts and a newline: strings
//! as they are, integers in hex. Without the `debug-log` feature the macro
//! expands to nothing, so no string reaches the measured image. With it,
//! no `core::fmt` is involved either: through the `log` crate and
//! `core::fmt` skl-debug.bin grows by 2,736 B, and it has 224 B of room in
//! the 64 KiB SLB (docs/design.md, "Dependencies and size").

#[cfg(feature = "debug-log")]
#[macro_export]
macro_rules! dlog {
    ($($part:expr),* $(,)?) => {{
        $( $crate::debug_log::Part::emit(&$part); )*
        $crate::debug_log::write(b"\n");
    }};
}

#[cfg(not(feature = "debug-log"))]
#[macro_export]
macro_rules! dlog {
    ($($part:expr),* $(,)?) => {{}};
}

#[cfg(feature = "debug-log")]
pub fn write(b: &[u8]) {
    #[cfg(skl_baremetal)]
    crate::hw::serial_log::write(b);
    #[cfg(not(skl_baremetal))]
    let _ = b;
}

/// Something `dlog!` can print.
#[cfg(feature = "debug-log")]
pub trait Part {
    fn emit(&self);
}

#[cfg(feature = "debug-log")]
impl Part for &str {
    fn emit(&self) {
        write(self.as_bytes())
    }
}

#[cfg(feature = "debug-log")]
fn hex(v: u64) {
    let mut buf = [0u8; 18];
    buf[0] = b'0';
    buf[1] = b'x';
    let digits = (16 - v.leading_zeros() as usize / 4).max(1);
    for i in 0..digits {
        let nib = (v >> (4 * (digits - 1 - i))) & 0xF;
        buf[2 + i] = b"0123456789abcdef"[nib as usize];
    }
    write(&buf[..2 + digits]);
}

#[cfg(feature = "debug-log")]
macro_rules! hex_part {
    ($($t:ty),*) => { $( impl Part for $t { fn emit(&self) { hex(*self as u64) } } )* };
}
#[cfg(feature = "debug-log")]
hex_part!(u8, u16, u32, u64, usize);
