//! What the `skl-tool` integration tests share: running the binary as a
//! user does, and files in a per-process scratch directory.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Run {
    pub code: i32,
    pub out: String,
    pub err: String,
}

pub fn tool(args: &[&str]) -> Run {
    let o = Command::new(env!("CARGO_BIN_EXE_skl-tool")).args(args).output().unwrap();
    Run {
        code: o.status.code().expect("exited, not killed"),
        out: String::from_utf8_lossy(&o.stdout).into(),
        err: String::from_utf8_lossy(&o.stderr).into(),
    }
}

/// `skl-tool-<tag>-<pid>` under cargo's scratch directory for tests.
pub fn scratch_dir(tag: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("skl-tool-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `bytes` written to `name` in [`scratch_dir`]; its path.
pub fn scratch_file(tag: &str, name: &str, bytes: &[u8]) -> String {
    let p = scratch_dir(tag).join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_string_lossy().into_owned()
}
