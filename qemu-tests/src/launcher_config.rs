//! The launcher's configuration (`opt/skl/config`, key=value lines:
//! `docs/test-contract.md`) for a [`Launch`], and the files QEMU's loader
//! device writes into guest RAM for it (staged kernel, modules, SLRT, and
//! the test's own placements).

use std::fs;
use std::path::{Path, PathBuf};

use crate::{Firmware, Launch, ModuleSource, TpmFamily};

/// Writes `d/config.txt` for `l` (module bytes go to files in `d`) and
/// returns the files to place with QEMU's loader device and where, checked
/// against each other and the launcher's own memory.
pub(crate) fn write(l: &Launch, d: &Path) -> Vec<(PathBuf, u64)> {
    let mut cfg = settings(l);
    // Large files go into RAM through QEMU's loader device at staging
    // addresses (fw_cfg port I/O is a byte per exit under TCG); the
    // launcher then loads or copies them where GRUB would.
    let mut stage = Staging::new(l.memory_mib);
    let mut loaders: Vec<(PathBuf, u64)> = l.placements.clone();
    for (f, at) in &l.placements {
        let len = fs::metadata(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())).len();
        cfg.push_str(&format!("reserve={at:#x},{len}\n"));
    }
    if let Some(k) = &l.kernel {
        let (at, size) = stage.add(k, &mut loaders);
        cfg.push_str(&format!("kernel_at={at:#x}\nkernel_size={size}\n"));
    }
    for (i, (m, c)) in l.modules.iter().enumerate() {
        let path = match m {
            ModuleSource::Bytes(b) => {
                let p = d.join(format!("module{i}.bin"));
                fs::write(&p, b).unwrap();
                p
            }
            ModuleSource::File(p) => p.clone(),
        };
        let (at, size) = stage.add(&path, &mut loaders);
        cfg.push_str(&format!("module{i}_cmdline={c}\nmodule{i}_at={at:#x}\nmodule{i}_size={size}\n"));
    }
    if let Some(slrt) = &l.replay_slrt {
        let (at, size) = stage.add(slrt, &mut loaders);
        cfg.push_str(&format!("replay=1\nslrt_at={at:#x}\nslrt_size={size}\n"));
    }
    for (k, v) in &l.extra_config {
        cfg.push_str(&format!("{k}={v}\n"));
    }
    fs::write(d.join("config.txt"), cfg).unwrap();
    check_placements(&loaders, l.memory_mib);
    loaders
}

/// The lines that do not depend on where files are staged: scenario, SLB
/// placement, log format, command line, firmware.
fn settings(l: &Launch) -> String {
    let mut cfg = format!("scenario={}\n", l.scenario);
    cfg.push_str(&match l.slb_base {
        Some(b) => format!("slb_base={b:#x}\n"),
        None => "slb_base=low\n".into(),
    });
    if l.family == TpmFamily::Tpm12 {
        cfg.push_str("log_format=1\n");
    }
    if let Some(c) = &l.cmdline {
        cfg.push_str(&format!("cmdline={c}\n"));
    }
    cfg.push_str(match l.firmware {
        Firmware::Bios => "firmware=bios\n",
        Firmware::Uefi => "firmware=uefi\n",
        Firmware::UefiBootServices => "firmware=uefi\nefi_bs=1\n",
    });
    cfg
}

/// Staging area for files the host puts into guest RAM with QEMU's loader
/// device: from the middle of RAM upwards, 2 MiB aligned, away from where
/// GRUB-like allocations go (low chunks from the bottom, high ones from the top).
struct Staging {
    next: u64,
    limit: u64,
}

impl Staging {
    const ALIGN: u64 = 0x20_0000;
    fn new(memory_mib: u32) -> Staging {
        let ram = memory_mib as u64 * 0x10_0000;
        Staging { next: (ram / 2).next_multiple_of(Self::ALIGN), limit: ram - 0x100_0000 }
    }
    /// Stages `f` (an empty file is not placed) and returns its address and size.
    fn add(&mut self, f: &Path, loaders: &mut Vec<(PathBuf, u64)>) -> (u64, u64) {
        let size = fs::metadata(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())).len();
        if size == 0 {
            return (0, 0);
        }
        let at = self.next;
        assert!(at + size <= self.limit, "{} does not fit in the staging area: raise memory_mib", f.display());
        loaders.push((f.to_path_buf(), at));
        self.next = (at + size).next_multiple_of(Self::ALIGN);
        (at, size)
    }
}

/// Files placed by QEMU's loader must not overlap each other, the launcher
/// (1-4 MiB, loaded after them by -kernel), the mailbox and TXT tables
/// (5-7 MiB), or lie outside RAM.
fn check_placements(loaders: &[(PathBuf, u64)], memory_mib: u32) {
    let ram = memory_mib as u64 * 0x10_0000;
    let mut ranges: Vec<(u64, u64, String)> = vec![
        (0x10_0000, 0x40_0000, "the launcher (1-4 MiB)".into()),
        (0x50_0000, 0x70_0000, "the mailbox and TXT tables (5-7 MiB)".into()),
    ];
    for (f, at) in loaders {
        let len = fs::metadata(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())).len();
        let (s, e) = (*at, at + len);
        assert!(e <= ram, "{} at {at:#x} ends beyond guest RAM ({memory_mib} MiB)", f.display());
        for (rs, re, what) in &ranges {
            assert!(e <= *rs || s >= *re, "{} at {at:#x} overlaps {what}", f.display());
        }
        ranges.push((s, e, f.display().to_string()));
    }
}
