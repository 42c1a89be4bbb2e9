//! One module per subcommand: reads its inputs, runs the library, prints
//! text (or JSON).

pub(crate) mod eventlog;
pub(crate) mod info;
pub(crate) mod predict;
pub(crate) mod psp;
