//! Debug logging, compiled out of release builds.
//!
//! With the `debug-log` feature the macros forward to the `log` crate (the
//! bare-metal logger writes to port 0xE9 and COM1). Without it they expand
//! to nothing, so neither `core::fmt` nor the strings reach the measured
//! image.

#[cfg(feature = "debug-log")]
#[macro_export]
macro_rules! dlog {
    ($($t:tt)*) => { ::log::info!($($t)*) };
}

#[cfg(not(feature = "debug-log"))]
#[macro_export]
macro_rules! dlog {
    ($($t:tt)*) => {{}};
}
