//! `skl-tool predict`: PCR 17 (and 18) per bank as a launch of the SLB and
//! the kernel leaves them, as text or JSON ([`crate::json::Predict`]).

use std::path::Path;
use std::process::ExitCode;

use skl_tool::predict::{self, Actor, Prediction};
use skl_tool::{hex, Bank};

use crate::cli::{KernelArgs, Tpm};
use crate::input::{banks_of, fail, load_inputs, read, run_prediction, Failure, Inputs};
use crate::json;

/// `skl-tool predict`.
pub(crate) fn run(
    skl: &Path,
    k: &KernelArgs,
    banks: Option<Vec<String>>,
    tpm: Tpm,
    events: bool,
    json: bool,
) -> Result<ExitCode, Failure> {
    let banks = banks_of(banks, tpm)?;
    let skl_bytes = read(skl)?;
    let measured = predict::measured_bytes(&skl_bytes).or_else(|e| fail(skl, e))?.len();
    let i = load_inputs(k)?;
    let p = run_prediction(skl, &skl_bytes, &i, &banks)?;
    let txt_chain = skl_bytes.starts_with(b"\x7fELF");
    let mut notes = notes(&i, txt_chain);
    if predict::is_psp_image(&skl_bytes) {
        notes.push(
            "skl-amdsl-psp.bin (the PSP DRTM path): the PSP's service extends PCR 17/18 between SKL's SKINIT \
             event and its DLME events, with records whose encodings depend on PSP firmware state \
             (docs/psp-drtm.md 3.6); the PCR values above hold only without the service. SKL's own events \
             (--events) are exact: check a log with `eventlog verify --skl`, take PCR values from \
             `eventlog replay` of a trusted boot"
                .into(),
        );
    }
    if json {
        json::print(&as_json(measured, &i, &p, notes))?;
    } else {
        print_text(skl, measured, &i, &p, &notes, events, txt_chain);
    }
    Ok(ExitCode::SUCCESS)
}

/// Compression formats GRUB undoes transparently while loading.
fn compressed(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(&[0x1f, 0x8b]) {
        Some("gzip")
    } else if b.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some("xz")
    } else {
        None
    }
}

/// What the user should know about these inputs: compressed modules, the
/// kernel's own measurements, the TXT chain, an MLE that does not start at
/// the load base. `txt_chain`: the SLB is the ELF-wrapped skl-txt.bin.
fn notes(i: &Inputs, txt_chain: bool) -> Vec<String> {
    let d = &i.dlme;
    let mut notes = vec![];
    for (path, b) in &i.modules {
        if let Some(c) = compressed(b) {
            notes.push(format!(
                "{} is {c}-compressed: GRUB's module2 decompresses it unless --nounzip; predict with the bytes GRUB loads",
                path.display()
            ));
        }
    }
    if d.has_mle_header && i.modules.is_empty() {
        notes.push(
            "PCR 17 before the kernel's own measurements: TrenchBoot Xen then extends it with each module \
             (give them with --module)"
                .into(),
        );
    }
    if txt_chain {
        notes.push(
            "skl-txt.bin (Intel TXT, GRUB chain): the first step is SINIT's MLE measurement of its image; \
             on hardware SINIT's own PCR 17 events come before it, so the PCR 17 value holds for the \
             QEMU emulation only (seal to values read on a trusted boot); the steps after it are exact"
                .into(),
        );
    }
    if let Some(h) = d.mle.filter(|h| h.mle_start != 0) {
        notes.push(format!(
            "MLE header mle_start = {:#x}: GRUB measures mle_end - mle_start bytes from the load base",
            h.mle_start
        ));
    }
    notes
}

/// DLME mode (the kernel has an MLE header) or Multiboot2 mode.
fn mode(i: &Inputs) -> &'static str {
    if i.dlme.has_mle_header {
        "dlme"
    } else {
        "multiboot2"
    }
}

fn actor_name(a: Actor) -> &'static str {
    match a {
        Actor::Skinit => "skinit",
        Actor::Skl => "skl",
        Actor::Kernel => "kernel",
    }
}

fn hex_per_bank(d: &[(Bank, Vec<u8>)]) -> json::Ordered<String> {
    json::Ordered(d.iter().map(|(b, v)| (b.name(), hex(v))).collect())
}

/// The prediction as `predict --json` prints it.
fn as_json(measured: usize, i: &Inputs, p: &Prediction, notes: Vec<String>) -> json::Predict {
    let d = &i.dlme;
    json::Predict {
        mode: mode(i),
        skl_measured_size: measured,
        kernel: json::Kernel {
            source: d.source.name(),
            load_base: d.load_base,
            mle_header_offset: d.mle.map(|h| h.offset),
        },
        entry_offset: d.entry_offset,
        dlme_size: d.bytes.len(),
        events: p
            .steps
            .iter()
            .map(|s| json::Event {
                pcr: s.pcr,
                event: s.event.clone(),
                by: actor_name(s.actor),
                digests: hex_per_bank(&s.digests),
            })
            .collect(),
        pcrs: p
            .pcrs
            .iter()
            .map(|v| json::Pcr {
                bank: v.bank.name(),
                pcr: v.pcr,
                value: v.value.as_deref().map(hex),
                runtime: v.value.is_none().then_some(v.runtime),
            })
            .collect(),
        notes,
    }
}

/// The prediction as text: inputs, mode, (with `--events`) each
/// measurement, the PCR values, the notes.
fn print_text(
    skl: &Path,
    measured: usize,
    i: &Inputs,
    p: &Prediction,
    notes: &[String],
    events: bool,
    txt_chain: bool,
) {
    let d = &i.dlme;
    let by = if txt_chain { "SINIT (skl-txt.bin, the MLE)" } else { "SKINIT" };
    out!("skl.bin   {}: {measured} bytes measured by {by}", skl.display());
    let hdr = match d.mle {
        Some(h) => format!("MLE header at {:#x} (version {:#x})", h.offset, h.version),
        None => "no MLE header".into(),
    };
    out!("kernel    {}: {}, load base {:#x}, {hdr}", i.origin, d.source.name(), d.load_base);
    out!("DLME      {} bytes, entry offset {:#x}", d.bytes.len(), d.entry_offset);
    if d.has_mle_header {
        out!("mode      dlme (the kernel measures the MBI and the modules)");
    } else {
        out!("mode      multiboot2 (SKL measures the MBI, the SLRT and the modules)");
    }
    if events {
        out!("events");
        for s in &p.steps {
            let by = match s.actor {
                Actor::Skinit => "by the CPU, logged by SKL",
                Actor::Skl => "by SKL",
                Actor::Kernel => "by the kernel",
            };
            out!("  PCR {} {:<26} {by}", s.pcr, s.event);
            for (b, v) in &s.digests {
                out!("      {:<6} {}", b.name(), hex(v));
            }
        }
    }
    for v in &p.pcrs {
        match &v.value {
            Some(x) => out!("{:<6} PCR {}: {}", v.bank.name(), v.pcr, hex(x)),
            None => out!("{:<6} PCR {}: runtime ({})", v.bank.name(), v.pcr, v.runtime),
        }
    }
    for n in notes {
        out!("note: {n}");
    }
}
