//! skl-tool: predict the DRTM PCRs an Anti Evil Maid seal depends on,
//! replay and verify DRTM event logs, inspect skl.bin.
//!
//! Exit codes: 0 success; 1 verification mismatch; 2 bad input or usage.
//!
//! The command line is [`cli`]; each subcommand is a module of
//! [`commands`]; [`input`] turns the files it names into checked inputs
//! (or a one-line failure naming the file); [`json`] is the shape of the
//! `--json` outputs. The logic itself is the `skl_tool` library.

use std::process::ExitCode;

use clap::Parser;

/// `println!` that ends the program quietly when stdout is closed early
/// (`skl-tool eventlog show big.log | head`), instead of panicking.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($t)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("skl-tool: stdout: {e}");
            std::process::exit(2);
        }
    }};
}

mod cli;
mod commands;
mod input;
mod json;

use cli::{Cli, Cmd};
use input::Failure;

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(Failure(msg)) => {
            eprintln!("skl-tool: {}", msg.replace('\n', " "));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.cmd {
        Cmd::Info { skl, json } => commands::info::run(&skl, json),
        Cmd::Predict { skl, kernel, banks, tpm, events, json } => {
            commands::predict::run(&skl, &kernel, banks, tpm, events, json)
        }
        Cmd::Eventlog { cmd } => commands::eventlog::run(cmd),
        Cmd::Psp { cmd } => commands::psp::run(cmd),
    }
}
