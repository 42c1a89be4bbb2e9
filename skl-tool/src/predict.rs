//! PCR 17/18 after a launch, per bank, in the order the launch measures
//! (`skl_bootinfo::drtm`, shared with the payload):
//!
//! ```text
//! PCR 17 = E(E(E(0, H(skl.bin[0 : measured_size])), H(le32(entry_offset))), H(DLME))
//!          then E(…, H(module_i)) for each Multiboot2 module, in load order
//! PCR 18 = E(0, H(MBI))            (TrenchBoot Xen; only when the MBI is known)
//! PCR 18 = E(E(0, H(MBI)), H(AMD_INFO'))  (skl-amdsl.bin + Xen v3: needs the SLRT)
//! PCR 18 = E(E(0, H(MBI')), H(SLRT))  (Multiboot2 mode, in policy order)
//! ```
//!
//! with E(old, d) = H(old ‖ d), old starting at all zeros (SKINIT's DRTM
//! reset). SKINIT itself performs the first extend; SKL logs it as "SKINIT"
//! and extends the entry offset and the DLME. In DLME mode (the kernel has a
//! TXT MLE header: TrenchBoot Xen) the kernel measures the MBI and the
//! modules under the SLRT's DRTM policy. In Multiboot2 mode SKL does, in
//! the policy's order: MBI' is the MBI with the SLB and the DRTM log
//! carved out of its memory map (`skl_bootinfo::multiboot2::reserve`, the
//! edit SKL makes before measuring it), and the SLRT is measured as the
//! bootloader wrote it. Both need the boot's MBI and SLRT (a capture, or
//! what the bootloader will write).
//!
//! `skl-amdsl.bin` has two stages: SKINIT measures stage 1 (the measured
//! size above), which runs stage 2 (the rest of the file) only if it hashes
//! to the SHA-256 stage 1 carries; so the formula is the same, and an image
//! whose stage 1 does not carry its stage 2's digest is refused here
//! ([`stage2_of`]), as SKL refuses it (0x2010).
//!
//! With `skl-amdsl.bin` (the AMD SL generation, detected by the header)
//! the kernel is Xen v3, which after the MBI extends PCR 18 with AMD_INFO
//! as it finds it, `next`, `slrt_base` and `boot_params_base` zeroed
//! (`xen/arch/x86/slaunch.c`, `slaunch_measure_slrt`); AMD_INFO' is that
//! entry with `psp_version` 0 as SKL leaves it.

use skl_bootinfo::drtm;
use skl_bootinfo::multiboot2::{reserve, Mbi};
use skl_bootinfo::sl_header::{
    find_stage2_digest, parse_slb_image, Generation, SlHeaderError, SlbLayout, Stage2Digest, SLB_SIZE,
};
use skl_bootinfo::slrt::{entity, AmdInfo, Architecture, Slrt};
use skl_bootinfo::txt::chain;

use crate::kernel::Dlme;
use crate::Bank;

/// Event text of a module measurement (GRUB's policy `evt_info`).
pub const EVENT_MODULE: &str = "Measured MB2 module";
/// Event text of the MBI measurement (GRUB's policy `evt_info`).
pub const EVENT_MBI: &str = "Measured MB2 information";
/// Name of Xen v3's AMD_INFO measurement (it logs no event data).
pub const EVENT_AMD_INFO: &str = "AMD_INFO";

/// AMD_INFO as Xen v3 extends it into PCR 18: the entry (56 bytes, or the
/// 48 GRUB tb-dev writes) with `next`, `slrt_base` and `boot_params_base`
/// zeroed (addresses, not policy), and `psp_version`, where the entry has
/// it, as SKL leaves it (0: no PSP took part).
pub fn amd_info_as_measured(slrt_bytes: &[u8]) -> Result<Vec<u8>, String> {
    let slrt = Slrt::parse(slrt_bytes, Architecture::AmdSkinit).map_err(|e| format!("SLRT: {e:?}"))?;
    let off = slrt.amd_info_offset().ok_or("the SLRT has no AMD_INFO (skl-amdsl.bin refuses it: 0x200A)")?;
    let a_ref = slrt.amd_info().ok_or("no AMD_INFO")?;
    let mut a = slrt_bytes[off..off + a_ref.hdr.size.get() as usize].to_vec();
    let mut fields = vec![
        (std::mem::offset_of!(AmdInfo, next), 8),
        (std::mem::offset_of!(AmdInfo, slrt_base), 8),
        (std::mem::offset_of!(AmdInfo, boot_params_base), 8),
    ];
    if slrt.psp_version_offset().is_some() {
        fields.push((std::mem::offset_of!(AmdInfo, psp_version), 2));
    }
    for (field, len) in fields {
        a[field..field + len].fill(0);
    }
    Ok(a)
}

/// Who performs a measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The CPU (SKINIT); SKL only logs it.
    Skinit,
    Skl,
    /// The DLME (TrenchBoot Xen) under the DRTM policy.
    Kernel,
}

/// One step of the launch's measurements, as it appears in the log.
#[derive(Debug, Clone)]
pub struct Step {
    pub pcr: u32,
    pub event: String,
    /// Digest per bank.
    pub digests: Vec<(Bank, Vec<u8>)>,
    /// Logged only (SKINIT extended PCR 17 itself, from zero).
    pub logged_only: bool,
    pub actor: Actor,
}

/// A predicted PCR value, or why there is none.
#[derive(Debug, Clone)]
pub struct PcrValue {
    pub bank: Bank,
    pub pcr: u32,
    /// `None`: depends on run-time data (`runtime` says which).
    pub value: Option<Vec<u8>>,
    pub runtime: &'static str,
}

/// Everything a launch measures that can be known in advance.
#[derive(Debug, Clone)]
pub struct Prediction {
    pub steps: Vec<Step>,
    pub pcrs: Vec<PcrValue>,
}

/// Why `skl.bin` is not loadable, naming the header field.
/// The PSP-path image (`skl-amdsl-psp.bin`, docs/psp-drtm.md): the AMD SL
/// header's total length is the measured part plus the `$AS1` area. On that
/// path the PSP DRTM service extends PCR 17/18 between SKL's "SKINIT" event
/// and its DLME events, with records whose encodings depend on PSP firmware
/// state (§3.6): SKL's own events are predicted exactly, the PCR values are
/// not.
pub fn is_psp_image(skl: &[u8]) -> bool {
    parse_slb_image(skl).is_ok_and(|l| {
        l.generation == Generation::AmdSl
            && l.total_size as usize == l.measured_size as usize + crate::psp_sign::SIGNATURE_AREA
    })
}

pub fn describe_header_error(e: SlHeaderError) -> String {
    match e {
        SlHeaderError::TooShort(n) => format!("header: file is {n} bytes, shorter than its SL header"),
        SlHeaderError::FileTooLarge(n) => format!("file size {n} bytes: above the 61440 GRUB accepts (4 KiB kept for the SLRT)"),
        SlHeaderError::MeasuredBeyondFile { measured, file } => {
            format!("field measured_size (offset 2) = {measured:#x}: beyond the end of the file ({file:#x} bytes)")
        }
        SlHeaderError::EntryNotMeasured { entry, measured } => {
            format!("field entry (offset 0) = {entry:#x}: not below measured_size {measured:#x}")
        }
        SlHeaderError::InfoNotMeasured { info, measured } => {
            format!("field skl_info (offset 4; AMD SL 0x42) = {info:#x}: skl_info (20 bytes) not inside measured_size {measured:#x}")
        }
        SlHeaderError::BadUuid => "field skl_info.uuid: not the SKL UUID 78f1268e-0492-11e9-832a-c85b76c4cc02".into(),
        SlHeaderError::BootloaderDataMeasured { bootloader_data, measured } => format!(
            "field bootloader_data (offset 6; AMD SL 0x44) = {bootloader_data:#x}: overlaps the measured bytes (measured_size {measured:#x})"
        ),
        SlHeaderError::BootloaderDataInFile { bootloader_data, file } => format!(
            "field bootloader_data (AMD SL 0x44) = {bootloader_data:#x}: inside the file ({file:#x} bytes): GRUB would write the SLRT over its end"
        ),
        SlHeaderError::BootloaderDataTooHigh(bl) => {
            format!("field bootloader_data (offset 6; AMD SL 0x44) = {bl:#x}: less than 4 KiB left before the end of the 64 KiB SLB")
        }
        SlHeaderError::NotAmdSl => "field guid (offset 0x04): not the AMD SL GUID da75c40e-d0d3-5d48-b6ae-3cb20fb7ad3a".into(),
        SlHeaderError::BadVersion(v) => format!("field skl_info.version = {v}: GRUB tb-dev loads version 0 only"),
        SlHeaderError::AmdSlField(o) => format!(
            "AMD SL header field at offset {o:#x}: not its fixed value (0x14 reserved 0xffffffff, 0x1c SOC-flag offset 0x1e, 0x1e SOC-flag count 8)"
        ),
        SlHeaderError::TotalSizeMismatch { total, file } => {
            format!("field total_size (offset 0x18) = {total:#x}: not the file size {file:#x}")
        }
    }
}

/// The bytes SKINIT (or, for `skl-txt.bin`, SINIT as the MLE) measures:
/// `skl[0 : measured_size]` of a valid image. An ELF-wrapped `skl-txt.bin`
/// (the GRUB chain, `skl_bootinfo::txt::chain`) is unwrapped first: GRUB
/// loads its segment, which is the flat image, and SINIT hashes that.
/// A two-stage image (`skl-amdsl.bin`) is refused unless its stage 1
/// carries SHA-256(stage 2): SKL would stop with 0x2010 before any extend.
pub fn measured_bytes(skl: &[u8]) -> Result<&[u8], String> {
    let skl = chain::image(skl).ok_or("ELF-wrapped skl-txt.bin: its PT_LOAD segment lies outside the file")?;
    let layout = parse_slb_image(skl).map_err(describe_header_error)?;
    if let Some(s) = stage2_of(skl, &layout) {
        if !s.carried {
            return Err(format!(
                "stage 1 does not carry SHA-256 of stage 2 (bytes {:#x}..{:#x}, SHA-256 {}): SKL stops with 0x2010 before any extend",
                s.range.start,
                s.range.end,
                crate::hex(&s.sha256)
            ));
        }
    }
    Ok(&skl[..layout.measured_size as usize])
}

/// Stage 2 of a two-stage image (docs/design.md, "The two-stage image").
#[derive(Debug, Clone)]
pub struct Stage2 {
    /// File range (the header's measured size to its total length).
    pub range: std::ops::Range<usize>,
    pub sha256: [u8; 32],
    /// Stage 1 carries exactly this digest after its magic, once; only then
    /// does it run stage 2.
    pub carried: bool,
}

/// Stage 2 of the image `skl` whose header parsed as `layout`; `None` for
/// the one-stage images.
pub fn stage2_of(skl: &[u8], layout: &SlbLayout) -> Option<Stage2> {
    use sha2::Digest as _;
    let range = layout.stage2()?;
    let sha256: [u8; 32] = sha2::Sha256::digest(&skl[range.clone()]).into();
    let stage1 = &skl[..range.start];
    let off = std::mem::offset_of!(Stage2Digest, sha256);
    let carried = find_stage2_digest(stage1).is_some_and(|at| stage1[at + off..at + off + 32] == sha256);
    Some(Stage2 { range, sha256, carried })
}

/// PCR 17 right after SKINIT: E(0, H(skl[0 : measured_size])).
pub fn pcr17_after_skinit(bank: Bank, measured: &[u8]) -> Vec<u8> {
    bank.extend_data(&bank.zero(), measured)
}

/// The launch's measurements: SKINIT of the measured part of `skl`, the
/// entry offset, the DLME, then each module into PCR 17 (by SKL in
/// Multiboot2 mode, by the kernel in DLME mode).
pub fn steps(skl: &[u8], dlme: &Dlme, modules: &[Vec<u8>], banks: &[Bank]) -> Result<Vec<Step>, String> {
    steps_with_mbi(skl, dlme, modules, None, banks)
}

/// The MBI as SKL measures and hands it over in Multiboot2 mode: the SLB
/// (DL_INFO's DCE base, 64 KiB) and the log (LOG_INFO) reserved in its
/// memory map.
pub fn mbi_for_kernel(mbi: &[u8], slrt: &Slrt) -> Result<Vec<u8>, String> {
    let dl = slrt.dl_info().ok_or("the SLRT has no DL_INFO")?;
    let slb = dl.dce_base();
    let log = slrt.log_info().map_or((0, 0), |l| (l.addr.get(), l.addr.get() + l.size.get() as u64));
    let holes = [(slb, slb + SLB_SIZE as u64), log];
    let m = Mbi::parse(mbi).map_err(|e| format!("MBI: {e:?}"))?;
    let grow = reserve::growth(&m, &holes).map_err(|e| format!("MBI memory map: {e:?}"))?;
    let mut buf = m.as_bytes().to_vec();
    buf.resize(buf.len() + grow, 0);
    let total = reserve::reserve(&mut buf, &holes).map_err(|e| format!("MBI memory map: {e:?}"))?;
    buf.truncate(total as usize);
    Ok(buf)
}

/// Makes a [`Step`] from (PCR, event text, measured bytes).
type MakeStep<'a> = &'a dyn Fn(u32, &[u8], &[u8]) -> Step;

/// Multiboot2 mode: SKL's measurements under the DRTM policy, in table
/// order; the k-th module entry is the k-th of `modules`.
fn policy_steps(slrt_bytes: &[u8], mbi: &[u8], modules: &[Vec<u8>], step: MakeStep<'_>) -> Result<Vec<Step>, String> {
    let slrt = Slrt::parse(slrt_bytes, Architecture::AmdSkinit).map_err(|e| format!("SLRT: {e:?}"))?;
    let mbi = mbi_for_kernel(mbi, &slrt)?;
    let mut mods = modules.iter();
    let mut out = vec![];
    for e in slrt.policy_entries() {
        let data: &[u8] = match e.entity_type.get() {
            entity::UNUSED => continue,
            entity::MULTIBOOT2_INFO => &mbi,
            entity::SLRT => &slrt_bytes[..slrt.size() as usize],
            entity::MULTIBOOT2_MODULE => mods.next().ok_or("the policy names more modules than --module gives")?,
            t => return Err(format!("policy entity type {t} is refused in Multiboot2 mode")),
        };
        out.push(step(e.pcr.get() as u32, e.evt_info(), data));
    }
    if mods.next().is_some() {
        return Err("more --module files than the policy names".into());
    }
    Ok(out)
}

/// [`steps`], plus the MBI into PCR 18 when it is given and the kernel is
/// the one measuring it (DLME mode).
pub fn steps_with_mbi(
    skl: &[u8],
    dlme: &Dlme,
    modules: &[Vec<u8>],
    mbi: Option<&[u8]>,
    banks: &[Bank],
) -> Result<Vec<Step>, String> {
    steps_full(skl, dlme, modules, mbi, None, banks)
}

/// [`steps_with_mbi`], and in Multiboot2 mode with the boot's SLRT, SKL's
/// policy measurements (MBI', SLRT, modules) in table order.
pub fn steps_full(
    skl: &[u8],
    dlme: &Dlme,
    modules: &[Vec<u8>],
    mbi: Option<&[u8]>,
    slrt: Option<&[u8]>,
    banks: &[Bank],
) -> Result<Vec<Step>, String> {
    let measured = measured_bytes(skl)?;
    let step = |pcr: u32, event: &[u8], data: &[u8], actor: Actor| Step {
        pcr,
        event: String::from_utf8_lossy(event).into_owned(),
        digests: banks.iter().map(|b| (*b, b.hash(data))).collect(),
        logged_only: actor == Actor::Skinit,
        actor,
    };
    let mut out = vec![
        step(drtm::PCR_CODE, drtm::EVENT_SKINIT, measured, Actor::Skinit),
        step(drtm::PCR_CODE, drtm::EVENT_DLME_ENTRY, &drtm::entry_offset_bytes(dlme.entry_offset), Actor::Skl),
        step(drtm::PCR_CODE, drtm::EVENT_DLME, &dlme.bytes, Actor::Skl),
    ];
    let policy_actor = if dlme.has_mle_header { Actor::Kernel } else { Actor::Skl };
    if let (Some(m), Some(t), false) = (mbi, slrt, dlme.has_mle_header) {
        let s = |pcr: u32, ev: &[u8], data: &[u8]| step(pcr, ev, data, Actor::Skl);
        out.extend(policy_steps(t, m, modules, &s)?);
        return Ok(out);
    }
    if let (Some(m), true) = (mbi, dlme.has_mle_header) {
        out.push(step(drtm::PCR_DATA, EVENT_MBI.as_bytes(), m, policy_actor));
        if let (Some(t), Generation::AmdSl) = (slrt, Generation::detect(skl)) {
            out.push(step(drtm::PCR_DATA, EVENT_AMD_INFO.as_bytes(), &amd_info_as_measured(t)?, Actor::Kernel));
        }
    }
    for m in modules {
        out.push(step(drtm::PCR_CODE, EVENT_MODULE.as_bytes(), m, policy_actor));
    }
    Ok(out)
}

/// Final PCR values per (bank, pcr) after `steps`, starting from the zeros
/// SKINIT's DRTM reset leaves.
pub fn pcr_values(steps: &[Step], banks: &[Bank]) -> Vec<(Bank, u32, Vec<u8>)> {
    let mut out = vec![];
    for &b in banks {
        for pcr in [drtm::PCR_CODE, drtm::PCR_DATA] {
            let mut v = b.zero();
            for s in steps.iter().filter(|s| s.pcr == pcr) {
                if let Some((_, d)) = s.digests.iter().find(|(x, _)| *x == b) {
                    v = b.extend_digest(&v, d);
                }
            }
            out.push((b, pcr, v));
        }
    }
    out
}

/// The whole prediction: steps, PCR 17 per bank, PCR 18 per bank when the
/// MBI is given in DLME mode (otherwise marked run-time).
pub fn predict(
    skl: &[u8],
    dlme: &Dlme,
    modules: &[Vec<u8>],
    mbi: Option<&[u8]>,
    banks: &[Bank],
) -> Result<Prediction, String> {
    predict_full(skl, dlme, modules, mbi, None, banks)
}

/// [`predict`] with the boot's SLRT (Multiboot2 mode: PCR 18 predicted).
pub fn predict_full(
    skl: &[u8],
    dlme: &Dlme,
    modules: &[Vec<u8>],
    mbi: Option<&[u8]>,
    slrt: Option<&[u8]>,
    banks: &[Bank],
) -> Result<Prediction, String> {
    let steps = steps_full(skl, dlme, modules, mbi, slrt, banks)?;
    let values = pcr_values(&steps, banks);
    let mb2_known = mbi.is_some() && slrt.is_some();
    let amdsl = Generation::detect(skl) == Generation::AmdSl;
    let pcrs = values
        .into_iter()
        .map(|(bank, pcr, v)| {
            let (value, runtime) = match (pcr, dlme.has_mle_header, mbi.is_some()) {
                (drtm::PCR_DATA, false, _) if !mb2_known => (None, "depends on the MBI and the SLRT"),
                (drtm::PCR_DATA, true, false) => (None, "depends on the MBI"),
                (drtm::PCR_DATA, true, true) if amdsl && slrt.is_none() => {
                    (None, "depends on the MBI and AMD_INFO (give the SLRT with --slrt)")
                }
                _ => (Some(v), ""),
            };
            PcrValue { bank, pcr, value, runtime }
        })
        .collect();
    Ok(Prediction { steps, pcrs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::dlme_direct;

    fn skl() -> Vec<u8> {
        let mut f = vec![0xccu8; 0x40];
        f[0..8].copy_from_slice(&[0x20, 0, 0x40, 0, 8, 0, 0x40, 0]);
        f[8..24].copy_from_slice(&skl_bootinfo::sl_header::SKL_UUID);
        f
    }

    #[test]
    fn order_is_skinit_entry_dlme_then_modules() {
        let d = dlme_direct(b"kernel", 1).unwrap();
        let b = Bank::Sha256;
        let p = predict(&skl(), &d, &[b"m1".to_vec()], Some(b"mbi"), &[b]).unwrap();
        let mut want = b.zero();
        for data in [&skl()[..], &1u32.to_le_bytes(), b"kernel", b"m1"] {
            want = b.extend_data(&want, data);
        }
        assert_eq!(p.pcrs[0].value.as_deref(), Some(&want[..]));
        // No MLE header: Multiboot2 mode, SKL measures the MBI with the SLRT.
        assert_eq!(p.pcrs[1].value, None);
        assert_eq!(p.pcrs[1].runtime, "depends on the MBI and the SLRT");
        let names: Vec<_> = p.steps.iter().map(|s| s.event.as_str()).collect();
        assert_eq!(names, ["SKINIT", "DLME entry offset", "DLME", EVENT_MODULE]);
    }

    /// An AMD SL image (offsets from docs/amd-sl.md) and an SLRT with
    /// DL_INFO, AMD_INFO and END as GRUB tb-dev writes them.
    fn amdsl() -> (Vec<u8>, Vec<u8>) {
        let mut f = vec![0xccu8; 0x80];
        f[0..4].copy_from_slice(&[0x60, 0, 0x80, 0]);
        f[4..20].copy_from_slice(&skl_bootinfo::sl_header::AMD_SL_GUID);
        f[0x14..0x18].copy_from_slice(&[0xff; 4]);
        f[0x18..0x1c].copy_from_slice(&0x80u32.to_le_bytes());
        f[0x1c..0x22].copy_from_slice(&[0x1e, 0, 8, 0, 0, 0]);
        f[0x42..0x46].copy_from_slice(&[0x46, 0, 0x80, 0]);
        f[0x46..0x56].copy_from_slice(&skl_bootinfo::sl_header::SKL_UUID);
        f[0x56..0x5a].fill(0);
        let mut t = vec![0u8; 16 + 72 + 56 + 8];
        let n = t.len() as u32;
        t[0..4].copy_from_slice(&0x4452_544Du32.to_le_bytes());
        t[4..8].copy_from_slice(&[1, 0, 2, 0]);
        t[8..12].copy_from_slice(&n.to_le_bytes());
        t[12..16].copy_from_slice(&0x1000u32.to_le_bytes());
        t[16..24].copy_from_slice(&[1, 0, 0, 0, 72, 0, 0, 0]);
        let a = 16 + 72;
        t[a..a + 8].copy_from_slice(&[5, 0, 0, 0, 56, 0, 0, 0]);
        t[a + 8..a + 16].copy_from_slice(&0x1234u64.to_le_bytes()); // next
        t[a + 16..a + 24].copy_from_slice(&[10, 0, 0, 0, 56, 0, 0, 0]);
        t[a + 24..a + 32].copy_from_slice(&0xF000u64.to_le_bytes()); // slrt_size
        t[a + 32..a + 40].copy_from_slice(&0x0201_0080u64.to_le_bytes()); // slrt_base
        t[a + 40..a + 48].copy_from_slice(&0x0080_0000u64.to_le_bytes()); // boot_params_base
        t[a + 48] = 3; // psp_version: SKL writes 0 before Xen measures
        t[a + 56..a + 64].copy_from_slice(&[0xff, 0xff, 0, 0, 8, 0, 0, 0]);
        (f, t)
    }

    #[test]
    fn amdsl_pcr18_is_mbi_then_amd_info_with_addresses_zeroed() {
        let (skl, slrt) = amdsl();
        let mut kernel = vec![0u8; 0x40];
        kernel[0x10..0x20].copy_from_slice(&[
            0x5a, 0xac, 0x82, 0x90, 0x6f, 0x47, 0xa7, 0x74, 0x0f, 0x5c, 0x55, 0xa2, 0xcb, 0x51, 0xb6, 0x42,
        ]);
        let d = dlme_direct(&kernel, 4).unwrap();
        assert!(d.has_mle_header);
        let b = Bank::Sha256;
        let p = predict_full(&skl, &d, &[], Some(b"mbi"), Some(&slrt), &[b]).unwrap();
        let mut amd = slrt[88..144].to_vec();
        amd[8..16].fill(0);
        amd[32..50].fill(0);
        assert_eq!(amd_info_as_measured(&slrt).unwrap(), amd);
        let want = b.extend_data(&b.extend_data(&b.zero(), b"mbi"), &amd);
        assert_eq!(p.pcrs[1].value.as_deref(), Some(&want[..]));
        // PCR 17 starts with SKINIT over the AMD SL image's measured bytes.
        assert_eq!(p.steps[0].digests[0].1, b.hash(&skl[..0x80]));
        // Without the SLRT, PCR 18 waits for it; the 8-byte generation's
        // Xen measures no AMD_INFO.
        let p = predict_full(&skl, &d, &[], Some(b"mbi"), None, &[b]).unwrap();
        assert_eq!(p.pcrs[1].value, None);
        let p = predict_full(&self::skl(), &d, &[], Some(b"mbi"), Some(&slrt), &[b]).unwrap();
        assert_eq!(p.pcrs[1].value.as_deref(), Some(&b.extend_data(&b.zero(), b"mbi")[..]));
    }

    #[test]
    fn header_errors_name_the_field() {
        let mut f = skl();
        f[2] = 0x41;
        assert!(measured_bytes(&f).unwrap_err().contains("measured_size (offset 2)"));
        let mut f = skl();
        f[9] ^= 1;
        assert!(measured_bytes(&f).unwrap_err().contains("skl_info.uuid"));
    }
}
