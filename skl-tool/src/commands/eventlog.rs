//! `skl-tool eventlog`: show a DRTM event log, replay it, verify it
//! against PCR values read from the TPM and against a prediction.

use std::path::Path;
use std::process::ExitCode;

use skl_tool::log::{self, Format, ValueCheck};
use skl_tool::predict;
use skl_tool::{hex, Bank};

use crate::cli::{KernelArgs, LogCmd, LogFormat, LogInput};
use crate::input::{fail, load_inputs, read, run_prediction, Failure};

/// A log read from its file, with its header (format, banks).
struct LoadedLog {
    events: Vec<log::Event>,
    header: log::Header,
}

/// Reads the log at `--offset` in the file, in the given or detected format.
fn load_log(i: &LogInput) -> Result<LoadedLog, Failure> {
    let all = read(&i.log)?;
    let Some(b) = usize::try_from(i.offset).ok().and_then(|o| all.get(o..)).filter(|b| !b.is_empty()) else {
        return fail(
            &i.log,
            format!("--offset {:#x}: at or past the end of the file ({:#x} bytes)", i.offset, all.len()),
        );
    };
    let base = i.offset as usize;
    let f = match i.format {
        LogFormat::Auto => log::detect_at(b, base).or_else(|e| fail(&i.log, e))?,
        LogFormat::Tpm20 => Format::Tpm20,
        LogFormat::Tpm12 => Format::Tpm12,
    };
    let header = log::header_at(b, f, base).or_else(|e| fail(&i.log, e))?;
    let events = log::read_at(b, f, base).or_else(|e| fail(&i.log, e))?;
    Ok(LoadedLog { events, header })
}

/// The first line of every subcommand: file, format, offset, banks, events.
fn describe(i: &LogInput, l: &LoadedLog) -> String {
    let banks: Vec<&str> = l.header.banks.iter().map(|b| b.name()).collect();
    let mut s = format!(
        "{}: {} DRTM log at offset {:#x}, banks {}, {} events",
        i.log.display(),
        l.header.format.name(),
        i.offset,
        banks.join(" "),
        l.events.len()
    );
    for a in &l.header.unknown_algs {
        s.push_str(&format!(" (algorithm {a:#06x} not replayed)"));
    }
    s
}

/// `#index "text"`, how messages name an event.
fn event_ref(e: &log::Event) -> String {
    format!("#{} \"{}\"", e.index, e.text())
}

/// `skl-tool eventlog show|replay|verify`.
pub(crate) fn run(cmd: LogCmd) -> Result<ExitCode, Failure> {
    match cmd {
        LogCmd::Show(i) => {
            let l = load_log(&i)?;
            out!("{}", describe(&i, &l));
            for e in &l.events {
                out!(
                    "#{:<3} @{:#06x} PCR {:<2} {:<18} \"{}\"",
                    e.index,
                    i.offset as usize + e.offset,
                    e.pcr,
                    e.type_name(),
                    e.text()
                );
                for (b, d) in &e.digests {
                    out!("       {:<6} {}", b.name(), hex(d));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        LogCmd::Replay(i) => {
            let l = load_log(&i)?;
            for (b, p, v) in log::replay(&l.events) {
                out!("{:<6} PCR {p}: {}", b.name(), hex(&v));
            }
            Ok(ExitCode::SUCCESS)
        }
        LogCmd::Verify { input, pcrs, pcr, skl, kernel } => {
            verify(&input, pcrs.as_deref(), &pcr, skl.as_deref(), &kernel)
        }
    }
}

/// `eventlog verify`: the log against the PCR values given and, with
/// `--skl`, against the prediction. Exit 1 on any difference.
fn verify(
    input: &LogInput,
    pcrs: Option<&Path>,
    pcr: &[String],
    skl: Option<&Path>,
    kernel: &KernelArgs,
) -> Result<ExitCode, Failure> {
    // Parse every input before reading the log, so usage errors come first.
    let want = wanted_values(pcrs, pcr)?;
    match (skl, kernel.given()) {
        (Some(_), false) => {
            return Err(Failure("--skl needs the kernel: --kernel FILE or --dlme FILE --entry-offset N".into()))
        }
        (None, true) => return Err(Failure("--kernel/--dlme need --skl to predict the events".into())),
        _ => {}
    }
    if want.is_empty() && skl.is_none() {
        return Err(Failure("nothing to verify: give --pcrs FILE, --pcr BANK:PCR=HEX, or --skl with --kernel".into()));
    }
    let l = load_log(input)?;
    out!("{}", describe(input, &l));
    let mut mismatch = false;
    if let Some(s) = skl {
        mismatch |= !prediction_matches(&l, s, kernel)?;
    }
    for (b, n, v) in &want {
        mismatch |= !value_matches(&l, *b, *n, v, skl.is_some());
    }
    out!("result: {}", if mismatch { "MISMATCH" } else { "ok" });
    Ok(if mismatch { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The PCR values of `--pcrs FILE` and each `--pcr BANK:PCR=HEX`.
fn wanted_values(pcrs: Option<&Path>, pcr: &[String]) -> Result<Vec<(Bank, u32, Vec<u8>)>, Failure> {
    let mut want = vec![];
    if let Some(p) = pcrs {
        let text = read(p)?;
        let v = log::parse_pcr_values(&String::from_utf8_lossy(&text)).or_else(|e| fail(p, e))?;
        if v.is_empty() {
            return fail(p, "no PCR values in it (expected tpm2_pcrread output or BANK:PCR=HEX lines)");
        }
        want.extend(v);
    }
    for s in pcr {
        want.push(log::parse_pcr_assignment(s).map_err(|e| Failure(format!("--pcr {s}: {e}")))?);
    }
    Ok(want)
}

/// Compares the log's events with the prediction for `skl` and the kernel
/// and prints the first that differs. `Ok(false)`: one differs.
fn prediction_matches(l: &LoadedLog, skl: &Path, kernel: &KernelArgs) -> Result<bool, Failure> {
    let i = load_inputs(kernel)?;
    let bytes = read(skl)?;
    let banks: Vec<Bank> = if l.header.banks.is_empty() { Bank::ALL.to_vec() } else { l.header.banks.clone() };
    let p = run_prediction(skl, &bytes, &i, &banks)?;
    // The PSP path: the service's records sit between SKL's events.
    let psp = predict::is_psp_image(&bytes);
    let (ours, skipped) = if psp { log::skl_events_of_psp_log(&l.events) } else { (vec![], vec![]) };
    let (div, mut notes) = log::compare_with_prediction(if psp { &ours } else { &l.events }, &p.steps);
    if psp {
        let refs: Vec<String> = skipped.iter().map(|n| format!("#{n}")).collect();
        notes.insert(
            0,
            format!(
                "PSP path: {} record(s) of the PSP DRTM service ({}) compared with nothing: their encodings are \
                 PSP firmware state; they replay with the rest (--pcrs)",
                skipped.len(),
                refs.join(", ")
            ),
        );
    }
    let matches = div.is_none();
    match div {
        None => out!("prediction: the {} predicted events match the log", p.steps.len()),
        Some(d) => match d.event.and_then(|n| l.events.iter().find(|e| e.index == n)) {
            Some(e) => {
                out!("prediction: MISMATCH at event {} (PCR {}, predicted \"{}\")", event_ref(e), d.pcr, d.predicted);
                for line in &d.detail {
                    out!("       {line}");
                }
                out!(
                    "       PCR {} departs from the prediction with this event; every later value of it differs",
                    d.pcr
                );
            }
            None => out!(
                "prediction: MISMATCH: predicted event \"{}\" on PCR {}: {}",
                d.predicted,
                d.pcr,
                d.detail.join("; ")
            ),
        },
    }
    for n in notes {
        out!("note: {n}");
    }
    Ok(matches)
}

/// Compares bank `b` PCR `n` of the replay with the value `v` given and
/// explains a difference. `false`: it differs. PCRs outside 17-22 are
/// skipped (true). `predicted`: the events were compared with a prediction.
fn value_matches(l: &LoadedLog, b: Bank, n: u32, v: &[u8], predicted: bool) -> bool {
    if !(17..=22).contains(&n) {
        out!("{:<6} PCR {n}: skipped (not a DRTM PCR; the DRTM log does not cover it)", b.name());
        return true;
    }
    let (replayed, contributors, prefix, hint) = match log::check_value(&l.events, b, n, v) {
        ValueCheck::Match => {
            out!("{:<6} PCR {n}: ok", b.name());
            return true;
        }
        ValueCheck::Mismatch { replayed, contributors, prefix, hint } => (replayed, contributors, prefix, hint),
    };
    out!("{:<6} PCR {n}: MISMATCH", b.name());
    out!("       replay {}", hex(&replayed));
    out!("       given  {}", hex(v));
    let refs: Vec<String> =
        contributors.iter().filter_map(|c| l.events.iter().find(|e| e.index == *c)).map(event_ref).collect();
    if refs.is_empty() {
        out!("       no event in the log extends {} PCR {n}", b.name());
    } else {
        out!("       events extending it: {}", refs.join(", "));
    }
    if let Some(k) = prefix {
        out!(
            "       the given value is the replay through event {}: the later events are logged but not in the PCR",
            refs[k - 1]
        );
    }
    if let Some(h) = hint {
        out!("       given value is {h}");
    } else if prefix.is_none() && !predicted {
        out!("       to find the event that differs, give --skl and --kernel (and each --module)");
    }
    false
}
