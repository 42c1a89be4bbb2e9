//! `skl-tool info`: the SLB image's header fields, sizes, the two-stage
//! image's stage 2 and whether stage 1 carries its digest, and the DRTM
//! measurement (digest and PCR 17 after SKINIT) in every bank.

use std::path::Path;
use std::process::ExitCode;

use skl_bootinfo::sl_header::{parse_slb_image, Generation, MAX_FILE_SIZE};
use skl_tool::predict::{describe_header_error, pcr17_after_skinit, stage2_of};
use skl_tool::{hex, Bank};

use crate::input::{fail, read, Failure};
use crate::json;

fn uuid(b: &[u8]) -> String {
    let h = hex(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// `skl-tool info`.
pub(crate) fn run(skl: &Path, json: bool) -> Result<ExitCode, Failure> {
    let file = read(skl)?;
    // skl-txt.bin for the GRUB chain: the flat image is its ELF segment.
    let b = match skl_bootinfo::txt::chain::image(&file) {
        Some(i) => i.to_vec(),
        None => return fail(skl, "ELF-wrapped skl-txt.bin: its PT_LOAD segment lies outside the file".to_string()),
    };
    let l = match parse_slb_image(&b) {
        Ok(l) => l,
        Err(e) => return fail(skl, describe_header_error(e)),
    };
    let measured = &b[..l.measured_size as usize];
    let s2 = stage2_of(&b, &l);
    let id = uuid(&b[l.skl_info as usize..l.skl_info as usize + 16]);
    if json {
        let banks = Bank::ALL
            .iter()
            .map(|k| {
                let digests = json::InfoBank {
                    measured_digest: hex(&k.hash(measured)),
                    pcr17_after_skinit: hex(&pcr17_after_skinit(*k, measured)),
                };
                (k.name(), digests)
            })
            .collect();
        json::print(&json::Info {
            file: skl.display().to_string(),
            generation: match l.generation {
                Generation::Qubes423 => "qubes-4.2.3",
                Generation::AmdSl => "amdsl",
            },
            file_size: b.len(),
            total_size: l.total_size,
            entry: l.entry,
            measured_size: l.measured_size,
            skl_info: l.skl_info,
            bootloader_data: l.bootloader_data,
            uuid: id,
            version: l.version,
            stage2: s2.as_ref().map(|s| json::InfoStage2 {
                offset: s.range.start,
                size: s.range.len(),
                sha256: hex(&s.sha256),
                checked_by_stage1: s.carried,
            }),
            banks: json::Ordered(banks),
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    out!("{}", skl.display());
    out!("  generation        {}: {}", l.generation.name(), loaders(l.generation));
    out!("  file size         {} bytes (GRUB accepts up to {MAX_FILE_SIZE})", b.len());
    if l.generation == Generation::AmdSl {
        out!("  total length      {} bytes (header 0x18)", l.total_size);
    }
    out!("  entry             {:#06x}", l.entry);
    out!("  measured size     {} bytes", l.measured_size);
    if let Some(s) = &s2 {
        let check = if s.carried { "carried by stage 1" } else { "NOT carried by stage 1: SKL stops with 0x2010" };
        out!(
            "  stage 2           {} bytes at {:#06x}, SHA-256 {} ({check})",
            s.range.len(),
            s.range.start,
            hex(&s.sha256)
        );
    }
    out!("  skl_info          {:#06x}  UUID {id}, version {}", l.skl_info, l.version);
    out!("  bootloader data   {:#06x}  (the SLRT, 4 KiB)", l.bootloader_data);
    for k in Bank::ALL {
        out!("  {:<6} measured   {}", k.name(), hex(&k.hash(measured)));
        out!("  {:<6} PCR 17     {}  (after SKINIT)", k.name(), hex(&pcr17_after_skinit(k, measured)));
    }
    Ok(ExitCode::SUCCESS)
}

/// Which bootloader and kernel load an image of generation `g` (README).
fn loaders(g: Generation) -> &'static str {
    match g {
        Generation::Qubes423 => "GRUB aem-qubes-4.2.3-rebase + Xen aem-staging-14-10-24-rebase",
        Generation::AmdSl => "GRUB tb-dev + Xen aem-staging-2025-05-30-v3 / Linux Secure Launch v16",
    }
}
