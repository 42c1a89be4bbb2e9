//! When each line of the guest's output appeared, by the host's wall clock:
//! the run loop polls the debugcon and serial files while QEMU runs, so a
//! test can time a span (e.g. SKL entry → dom0's `/init`) without the guest
//! keeping time. Resolution: the poll period (50 ms) plus file buffering.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which output a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Debugcon,
    Serial,
}

/// Lines with the time (since QEMU was started) at which they were first seen.
#[derive(Debug, Default, Clone)]
pub struct Timeline {
    pub lines: Vec<(Duration, Source, String)>,
}

impl Timeline {
    /// The kernel has written to COM1 (lines of a debug SKL, "SKL…", do not count).
    pub fn kernel_wrote(&self) -> bool {
        self.lines.iter().any(|(_, s, l)| *s == Source::Serial && !l.trim().is_empty() && !l.starts_with("SKL"))
    }
    /// When the first line of `source` containing `needle` was seen.
    pub fn first(&self, source: Source, needle: &str) -> Option<Duration> {
        self.lines.iter().find(|(_, s, l)| *s == source && l.contains(needle)).map(|x| x.0)
    }
}

/// Follows the two output files of one run.
pub(crate) struct Follower {
    files: [(Source, PathBuf, usize, Vec<u8>); 2],
    last_poll: Option<Duration>,
    pub(crate) timeline: Timeline,
}

impl Follower {
    const PERIOD: Duration = Duration::from_millis(50);

    pub(crate) fn new(debugcon: &Path, serial: &Path) -> Follower {
        Follower {
            files: [
                (Source::Debugcon, debugcon.to_path_buf(), 0, vec![]),
                (Source::Serial, serial.to_path_buf(), 0, vec![]),
            ],
            last_poll: None,
            timeline: Timeline::default(),
        }
    }

    /// Reads what was appended since the last poll (at most every 50 ms
    /// unless `force`) and stamps each completed line with `now`.
    pub(crate) fn poll(&mut self, now: Duration, force: bool) {
        if !force && self.last_poll.is_some_and(|t| now < t + Self::PERIOD) {
            return;
        }
        self.last_poll = Some(now);
        for (src, path, seen, partial) in &mut self.files {
            let Ok(len) = fs::metadata(&*path).map(|m| m.len() as usize) else { continue };
            if len <= *seen {
                continue;
            }
            let Ok(all) = fs::read(&*path) else { continue };
            partial.extend_from_slice(&all[*seen..all.len().min(len)]);
            *seen = all.len().min(len);
            while let Some(nl) = partial.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = partial.drain(..=nl).collect();
                let text = String::from_utf8_lossy(&line).trim_end().to_string();
                self.timeline.lines.push((now, *src, text));
            }
        }
    }
}
