//! skl-replay: launch an SLB in QEMU + swtpm with captured boot data placed
//! at given physical addresses, and print one JSON object with what SKL
//! decided. Contract: docs/test-contract.md, "skl-replay".
//!
//! ```text
//! skl-replay --slb skl.bin [--base ADDR] --slrt slrt.bin [--mbi FILE@ADDR]
//!            [--place FILE@ADDR]... [--kernel-elf FILE] [--tpm 2|1.2]
//!            [--banks sha1,sha256] [--iommu on|off] [--timeout S]
//!            [--memory-mib N] [--interface tis|crb]
//! ```
//! Exit status 0 whenever the run completed (whatever SKL decided), 2 on
//! bad arguments.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::exit;

use qemu_tests::{Launch, TpmFamily, TpmInterface};
use serde::Serialize;

const USAGE: &str = "usage: skl-replay --slb FILE [--base ADDR] --slrt FILE [--mbi FILE@ADDR] \
[--place FILE@ADDR]... [--kernel-elf FILE] [--tpm 2|1.2] [--banks LIST] [--iommu on|off] \
[--timeout S] [--memory-mib N] [--interface tis|crb]";

fn bad(msg: &str) -> ! {
    eprintln!("skl-replay: {msg}\n{USAGE}");
    exit(2)
}

fn num(s: &str) -> u64 {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.unwrap_or_else(|_| bad(&format!("not a number: {s}")))
}

fn file_at(s: &str) -> (PathBuf, u64) {
    let (f, a) = s.rsplit_once('@').unwrap_or_else(|| bad(&format!("expected FILE@ADDR: {s}")));
    let p = PathBuf::from(f);
    if !p.is_file() {
        bad(&format!("no such file: {f}"));
    }
    (p, num(a))
}

fn bank(s: &str) -> &'static str {
    match s {
        "sha1" => "sha1",
        "sha256" => "sha256",
        "sha384" => "sha384",
        "sha512" => "sha512",
        _ => bad(&format!("unknown bank {s}")),
    }
}

/// DL_INFO's dce_base in an SLRT-B image (the SLB base GRUB used).
fn dce_base(slrt: &[u8]) -> Option<u64> {
    let u32_at = |o: usize| slrt.get(o..o + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    let size = u32_at(8)? as usize;
    let mut o = 16;
    while o + 8 <= size.min(slrt.len()) {
        let (tag, len) = (u32_at(o)?, u32_at(o + 4)? as usize);
        if tag == 1 {
            return slrt.get(o + 16..o + 24).map(|b| u64::from_le_bytes(b.try_into().unwrap()));
        }
        if tag == 0xFFFF || len < 8 {
            break;
        }
        o += len;
    }
    None
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut slb = None;
    let mut base = None;
    let mut slrt = None;
    let mut places = vec![];
    let mut kernel = None;
    let mut family = TpmFamily::Tpm20;
    let mut interface = TpmInterface::Tis;
    let mut banks: Option<Vec<&'static str>> = None;
    let mut iommu = true;
    let mut timeout = 60;
    let mut memory = 1024;
    while let Some(a) = args.next() {
        let mut v = || args.next().unwrap_or_else(|| bad(&format!("{a} needs a value")));
        match a.as_str() {
            "--slb" => slb = Some(PathBuf::from(v())),
            "--base" => base = Some(num(&v())),
            "--slrt" => slrt = Some(PathBuf::from(v())),
            "--mbi" | "--place" => places.push(file_at(&v())),
            "--kernel-elf" => kernel = Some(PathBuf::from(v())),
            "--tpm" => {
                family = match v().as_str() {
                    "2" | "2.0" => TpmFamily::Tpm20,
                    "1.2" => TpmFamily::Tpm12,
                    o => bad(&format!("--tpm {o}")),
                }
            }
            "--interface" => {
                interface = match v().as_str() {
                    "tis" => TpmInterface::Tis,
                    "crb" => TpmInterface::Crb,
                    o => bad(&format!("--interface {o}")),
                }
            }
            "--banks" => banks = Some(v().split(',').map(bank).collect()),
            "--iommu" => {
                iommu = match v().as_str() {
                    "on" => true,
                    "off" => false,
                    o => bad(&format!("--iommu {o}")),
                }
            }
            "--timeout" => timeout = num(&v()),
            "--memory-mib" => memory = num(&v()) as u32,
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            o => bad(&format!("unknown argument {o}")),
        }
    }
    let slb = slb.unwrap_or_else(|| bad("--slb is required"));
    let slrt = slrt.unwrap_or_else(|| bad("--slrt is required"));
    let slrt_bytes = std::fs::read(&slrt).unwrap_or_else(|e| bad(&format!("{}: {e}", slrt.display())));
    if slrt_bytes.len() > 4096 {
        bad("--slrt: at most 4096 bytes");
    }
    let base = base.or_else(|| dce_base(&slrt_bytes)).unwrap_or_else(|| bad("--base not given and no DL_INFO"));
    if family == TpmFamily::Tpm12 {
        banks = None;
    }

    let mut l = Launch::new().slb(slb).base(base as u32).replay(slrt).memory_mib(memory).timeout(timeout);
    l.kernel = kernel;
    l = l.tpm(family, interface, banks.clone());
    if !iommu {
        l = l.without_iommu();
    }
    for (f, a) in places {
        l = l.place(f, a);
    }
    let r = l.run();

    let bank_names: Vec<&str> = match (family, &banks) {
        (TpmFamily::Tpm12, _) => vec!["sha1"],
        (_, Some(b)) => b.clone(),
        (_, None) => vec!["sha1", "sha256", "sha384", "sha512"],
    };
    let mut pcrs = BTreeMap::new();
    for b in bank_names {
        let mut m = BTreeMap::new();
        for n in [17u32, 18] {
            if let Some(v) = r.host_pcrs.get(&(b.to_string(), n)).or_else(|| r.report.pcrs.get(&(b.to_string(), n))) {
                m.insert(n.to_string(), v.iter().map(|x| format!("{x:02x}")).collect());
            }
        }
        pcrs.insert(b.to_string(), m);
    }
    let out = Outcome {
        handoff: r.handed_off_any_kernel(),
        failure_code: r.failure.map(|f| format!("{:#06x}", f.0)),
        failure_detail: r.failure.map(|f| format!("{:#x}", f.1)),
        pcrs,
        stdout: r.serial,
        wall_s: (r.wall.as_secs_f64() * 1000.0).round() / 1000.0,
        qemu_status: r.status,
        debugcon: r.debugcon,
    };
    println!("{}", serde_json::to_string(&out).expect("the outcome serialises"));
}

/// What skl-replay prints (docs/test-contract.md, "skl-replay").
#[derive(Serialize)]
struct Outcome {
    handoff: bool,
    /// SKL's failure record: code (`"0x1002"`) and detail, or null.
    failure_code: Option<String>,
    failure_detail: Option<String>,
    /// Bank -> PCR number ("17", "18") -> hex value.
    pcrs: BTreeMap<String, BTreeMap<String, String>>,
    /// COM1.
    stdout: String,
    wall_s: f64,
    qemu_status: Option<i32>,
    /// Port 0xE9.
    debugcon: String,
}
