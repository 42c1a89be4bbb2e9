//! skl-tool: predict the DRTM PCRs an Anti Evil Maid seal depends on,
//! replay and verify DRTM event logs, inspect skl.bin.
//!
//! Exit codes: 0 success; 1 verification mismatch; 2 bad input or usage.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use skl_bootinfo::sl_header::{parse_slb_image, SLB_SIZE};
use skl_tool::kernel::dlme_from_elf;
use skl_tool::log::{self, Format};
use skl_tool::predict::{pcr_values, steps};
use skl_tool::{hex, unhex, Bank};

#[derive(Parser)]
#[command(
    name = "skl-tool",
    version,
    about = "Predict DRTM PCRs, replay DRTM event logs, inspect skl.bin",
    after_help = "Exit codes: 0 success, 1 verification mismatch, 2 bad input or usage."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Header fields, sizes and the DRTM measurement of an SLB image.
    ///
    /// Example: skl-tool info /boot/skl.bin
    Info {
        skl: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// PCR 17 (and 18) after a launch, per bank.
    ///
    /// Example: skl-tool predict --skl /boot/skl.bin --kernel /boot/xen-4.17.gz.elf --banks sha256
    Predict {
        #[arg(long)]
        skl: PathBuf,
        /// The Multiboot2 ELF kernel GRUB loads (Xen: the uncompressed xen-syms/xen ELF).
        #[arg(long)]
        kernel: PathBuf,
        /// Modules, in load order (measured by SKL only for kernels without Secure Launch support).
        #[arg(long = "module")]
        modules: Vec<PathBuf>,
        /// Banks, comma separated (default: sha1,sha256).
        #[arg(long, value_delimiter = ',', default_value = "sha1,sha256")]
        banks: Vec<String>,
        /// TPM family: a TPM 1.2 has only the SHA-1 bank.
        #[arg(long, value_enum, default_value = "2.0")]
        tpm: Tpm,
        #[arg(long)]
        json: bool,
    },
    /// DRTM event logs.
    Eventlog {
        #[command(subcommand)]
        cmd: LogCmd,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Tpm {
    #[value(name = "1.2")]
    V12,
    #[value(name = "2.0")]
    V20,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Auto,
    Tpm20,
    Tpm12,
}

#[derive(clap::Args)]
struct LogInput {
    /// Log file, or a raw memory dump with --offset.
    log: PathBuf,
    /// Where the log starts in the file (e.g. the LOG_INFO address in a RAM dump).
    #[arg(long, value_parser = parse_num, default_value = "0")]
    offset: u64,
    #[arg(long, value_enum, default_value = "auto")]
    format: LogFormat,
}

#[derive(Subcommand)]
enum LogCmd {
    /// Print every event.
    ///
    /// Example: skl-tool eventlog show drtm.log
    Show(LogInput),
    /// Replay the log to PCR values (from zero, as after SKINIT's reset).
    ///
    /// Example: skl-tool eventlog replay --offset 0x900000 guest.ram
    Replay(LogInput),
    /// Compare the replay with PCR values; point at the first event that explains a mismatch.
    ///
    /// Example: tpm2_pcrread sha256:17,18 > pcrs.txt; skl-tool eventlog verify drtm.log --pcrs pcrs.txt
    Verify {
        #[command(flatten)]
        input: LogInput,
        /// `tpm2_pcrread` output.
        #[arg(long)]
        pcrs: Option<PathBuf>,
        /// A value as BANK:PCR=HEX (repeatable).
        #[arg(long = "pcr")]
        pcr: Vec<String>,
        /// With --kernel: also check each SKL event's digests against the prediction.
        #[arg(long)]
        skl: Option<PathBuf>,
        #[arg(long)]
        kernel: Option<PathBuf>,
    },
}

fn parse_num(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|e| format!("{s}: {e}"))
}

/// `println!` that ends the program quietly when stdout is closed early
/// (`skl-tool eventlog show big.log | head`), instead of panicking.
macro_rules! out {
    ($($t:tt)*) => {{
        if let Err(e) = writeln!(std::io::stdout().lock(), $($t)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("skl-tool: stdout: {e}");
            std::process::exit(2);
        }
    }};
}

/// A one-line error naming the file.
struct Failure(String);

fn read(p: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(p).map_err(|e| Failure(format!("{}: {e}", p.display())))
}

fn banks_of(names: &[String], tpm: Tpm) -> Result<Vec<Bank>, Failure> {
    if let Tpm::V12 = tpm {
        return Ok(vec![Bank::Sha1]);
    }
    names.iter().map(|n| Bank::parse(n).ok_or_else(|| Failure(format!("--banks: unknown bank {n}")))).collect()
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(Failure(msg)) => {
            eprintln!("skl-tool: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.cmd {
        Cmd::Info { skl, json } => info(&skl, json),
        Cmd::Predict { skl, kernel, modules, banks, tpm, json } => {
            let skl_bytes = read(&skl)?;
            let k = read(&kernel)?;
            let dlme = dlme_from_elf(&k).map_err(|e| Failure(format!("{}: {e}", kernel.display())))?;
            let mods = modules.iter().map(|m| read(m)).collect::<Result<Vec<_>, _>>()?;
            let banks = banks_of(&banks, tpm)?;
            let st = steps(&skl_bytes, &dlme, &mods, &banks).map_err(|e| Failure(format!("{}: {e}", skl.display())))?;
            let vals = pcr_values(&st, &banks);
            let mode = if dlme.has_mle_header { "dlme" } else { "multiboot2" };
            if json {
                let items: Vec<String> = vals
                    .iter()
                    .map(|(b, p, v)| {
                        let runtime = *p == 18 && dlme.has_mle_header;
                        format!(
                            "{{\"bank\": \"{}\", \"pcr\": {p}, \"value\": \"{}\", \"final\": {}}}",
                            b.name(),
                            hex(v),
                            !runtime
                        )
                    })
                    .collect();
                out!(
                    "{{\"mode\": \"{mode}\", \"entry_offset\": {}, \"dlme_size\": {}, \"pcrs\": [{}]}}",
                    dlme.entry_offset,
                    dlme.bytes.len(),
                    items.join(", ")
                );
            } else {
                out!("mode: {mode} (DLME {} bytes, entry offset {:#x})", dlme.bytes.len(), dlme.entry_offset);
                for (b, p, v) in &vals {
                    let note = if *p == 18 && dlme.has_mle_header {
                        "  (before the kernel: Xen then measures the MBI and modules)"
                    } else {
                        ""
                    };
                    out!("{:<6} PCR {p}: {}{note}", b.name(), hex(v));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Eventlog { cmd } => eventlog(cmd),
    }
}

fn info(skl: &Path, json: bool) -> Result<ExitCode, Failure> {
    let b = read(skl)?;
    let l = parse_slb_image(&b).map_err(|e| Failure(format!("{}: header: {e:?}", skl.display())))?;
    let measured = &b[..l.measured_size as usize];
    if json {
        let d: Vec<String> = Bank::ALL
            .iter()
            .map(|k| {
                format!(
                    "\"{}\": {{\"image\": \"{}\", \"pcr17_after_skinit\": \"{}\"}}",
                    k.name(),
                    hex(&k.hash(measured)),
                    hex(&k.extend_digest(&k.zero(), &k.hash(measured)))
                )
            })
            .collect();
        out!(
            "{{\"file_size\": {}, \"entry\": {}, \"measured_size\": {}, \"skl_info\": {}, \"bootloader_data\": {}, \"version\": {}, \"banks\": {{{}}}}}",
            b.len(), l.entry, l.measured_size, l.skl_info, l.bootloader_data, l.version, d.join(", ")
        );
        return Ok(ExitCode::SUCCESS);
    }
    out!("{}", skl.display());
    out!("  file size         {} bytes (GRUB accepts up to {})", b.len(), SLB_SIZE - 0x1000);
    out!("  entry             {:#06x}", l.entry);
    out!("  measured size     {} bytes", l.measured_size);
    out!("  skl_info          {:#06x}  UUID 78f1268e-0492-11e9-832a-c85b76c4cc02, version {}", l.skl_info, l.version);
    out!("  bootloader data   {:#06x}  (the SLRT, 4 KiB)", l.bootloader_data);
    for k in Bank::ALL {
        let d = k.hash(measured);
        out!("  {:<6} image      {}", k.name(), hex(&d));
        out!("  {:<6} PCR 17     {}  (after SKINIT)", k.name(), hex(&k.extend_digest(&k.zero(), &d)));
    }
    Ok(ExitCode::SUCCESS)
}

fn load_log(i: &LogInput) -> Result<(Vec<log::Event>, Format), Failure> {
    let all = read(&i.log)?;
    let name = i.log.display();
    let b = all
        .get(i.offset as usize..)
        .ok_or_else(|| Failure(format!("{name}: --offset {:#x} past the end", i.offset)))?;
    let f = match i.format {
        LogFormat::Auto => log::detect(b).map_err(|e| Failure(format!("{name}: {e}")))?,
        LogFormat::Tpm20 => Format::Tpm20,
        LogFormat::Tpm12 => Format::Tpm12,
    };
    let evs = log::read(b, f).map_err(|e| Failure(format!("{name}: {e}")))?;
    Ok((evs, f))
}

/// `tpm2_pcrread` text: "  sha256:" then "    17: 0x…".
fn parse_pcrread(text: &str) -> Vec<(Bank, u32, Vec<u8>)> {
    let mut out = vec![];
    let mut bank = None;
    for line in text.lines() {
        let l = line.trim();
        if let Some(b) = l.strip_suffix(':').and_then(Bank::parse) {
            bank = Some(b);
        } else if let (Some(b), Some((n, v))) = (bank, l.split_once(':')) {
            if let (Ok(n), Some(v)) = (n.trim().parse(), unhex(v)) {
                out.push((b, n, v));
            }
        }
    }
    out
}

fn eventlog(cmd: LogCmd) -> Result<ExitCode, Failure> {
    match cmd {
        LogCmd::Show(i) => {
            let (evs, f) = load_log(&i)?;
            out!("{}: {:?} DRTM log, {} events", i.log.display(), f, evs.len());
            for e in &evs {
                out!("#{:<3} @{:#06x} PCR {:<2} {:<16} \"{}\"", e.index, e.offset, e.pcr, e.type_name(), e.text());
                for (b, d) in &e.digests {
                    out!("       {:<6} {}", b.name(), hex(d));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        LogCmd::Replay(i) => {
            let (evs, _) = load_log(&i)?;
            for (b, p, v) in log::replay(&evs) {
                out!("{:<6} PCR {p}: {}", b.name(), hex(&v));
            }
            Ok(ExitCode::SUCCESS)
        }
        LogCmd::Verify { input, pcrs, pcr, skl, kernel } => {
            let (evs, _) = load_log(&input)?;
            let mut want = vec![];
            if let Some(p) = &pcrs {
                want.extend(parse_pcrread(&String::from_utf8_lossy(&read(p)?)));
            }
            for s in &pcr {
                let bad = || Failure(format!("--pcr {s}: expected BANK:PCR=HEX"));
                let (lhs, v) = s.split_once('=').ok_or_else(bad)?;
                let (b, n) = lhs.split_once(':').ok_or_else(bad)?;
                want.push((Bank::parse(b).ok_or_else(bad)?, n.parse().map_err(|_| bad())?, unhex(v).ok_or_else(bad)?));
            }
            let mut mismatch = false;
            // Event by event against the prediction, when the inputs are given.
            if let (Some(s), Some(k)) = (&skl, &kernel) {
                let dlme = dlme_from_elf(&read(k)?).map_err(|e| Failure(format!("{}: {e}", k.display())))?;
                let banks: Vec<Bank> = Bank::ALL.to_vec();
                let st = steps(&read(s)?, &dlme, &[], &banks).map_err(|e| Failure(format!("{}: {e}", s.display())))?;
                for (e, p) in evs.iter().zip(&st) {
                    let bad = e.digests.iter().find(|(b, d)| p.digests.iter().any(|(pb, pd)| pb == b && pd != d));
                    if e.text() != p.event || bad.is_some() {
                        out!(
                            "event #{} (\"{}\") differs from the prediction (\"{}\"): first cause of a PCR {} mismatch",
                            e.index,
                            e.text(),
                            p.event,
                            e.pcr
                        );
                        mismatch = true;
                        break;
                    }
                }
            }
            let got = log::replay(&evs);
            for (b, n, v) in &want {
                match got.iter().find(|(gb, gn, _)| gb == b && gn == n) {
                    Some((_, _, g)) if g == v => out!("{:<6} PCR {n}: ok", b.name()),
                    other => {
                        mismatch = true;
                        out!(
                            "{:<6} PCR {n}: MISMATCH: replay {} vs given {}",
                            b.name(),
                            other.map(|o| hex(&o.2)).unwrap_or("(no events)".into()),
                            hex(v)
                        );
                        let contrib: Vec<String> = evs
                            .iter()
                            .filter(|e| e.pcr == *n)
                            .map(|e| format!("#{} \"{}\"", e.index, e.text()))
                            .collect();
                        out!("       events extending it: {}", contrib.join(", "));
                    }
                }
            }
            Ok(if mismatch { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
    }
}
