//! skl-tool: predict the DRTM PCRs an Anti Evil Maid seal depends on,
//! replay and verify DRTM event logs, inspect skl.bin.
//!
//! Exit codes: 0 success; 1 verification mismatch; 2 bad input or usage.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use skl_bootinfo::sl_header::{parse_slb_image, Generation, MAX_FILE_SIZE};
use skl_tool::kernel::{self, Dlme};
use skl_tool::log::{self, Format, ValueCheck};
use skl_tool::predict::{self, describe_header_error, pcr17_after_skinit, Actor, Prediction};
use skl_tool::{hex, json_str, Bank};

const TOP_EXAMPLES: &str = "\
Examples:
  skl-tool info /boot/skl.bin
  zcat /boot/xen-4.17.4.gz > /tmp/xen.elf
  skl-tool predict --skl /boot/skl.bin --kernel /tmp/xen.elf --banks sha256
  skl-tool eventlog show drtm.log
  skl-tool eventlog replay --offset 0x9e0000 ram.bin
  tpm2_pcrread sha256:17,18 > pcrs.txt
  skl-tool eventlog verify drtm.log --pcrs pcrs.txt --skl /boot/skl.bin --kernel /tmp/xen.elf

Exit codes:
  0  success (verify: every value matches)
  1  verify: a value or an event differs
  2  bad input (unreadable or malformed file, bad option)";

#[derive(Parser)]
#[command(
    name = "skl-tool",
    version,
    about = "Inspect skl.bin, predict DRTM PCRs 17/18 for Anti Evil Maid, show/replay/verify DRTM event logs",
    after_help = TOP_EXAMPLES
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Header fields, sizes and the DRTM measurement of skl.bin or skl-amdsl.bin.
    ///
    /// Recognises the header (8-byte, or AMD SL by its GUID at 0x04), validates
    /// it as that generation's GRUB does, prints its fields, the digests of
    /// the measured bytes in every bank and PCR 17 right after SKINIT.
    #[command(after_help = "Examples:\n  skl-tool info /boot/skl.bin\n  skl-tool info --json /boot/skl.bin")]
    Info {
        /// The SLB image (skl.bin or skl-amdsl.bin).
        skl: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// PCR 17 (and 18) per bank as a launch of skl.bin and the kernel leaves them.
    ///
    /// PCR 17 = E(E(E(0, H(skl.bin[0:measured_size])), H(le32(entry_offset))), H(DLME)),
    /// then E(.., H(module)) for each --module, with E(old, d) = H(old || d). The DLME and
    /// its entry offset come from the kernel's TXT MLE header, found as TrenchBoot GRUB finds
    /// it (PT_LOAD segments placed at p_paddr - min p_paddr in a zeroed image, header in the
    /// first 4 KiB on 16-byte steps). PCR 18 = E(0, H(MBI)) needs the MBI of the boot
    /// (--pcr18-mbi); with skl-amdsl.bin (Xen v3) PCR 18 = E(E(0, H(MBI)), H(AMD_INFO with
    /// next, slrt_base, boot_params_base, psp_version zeroed)) also needs --slrt. Without them
    /// PCR 18 is reported as run-time.
    #[command(after_help = "Examples:
  zcat /boot/xen-4.17.4.gz > /tmp/xen.elf
  skl-tool predict --skl /boot/skl.bin --kernel /tmp/xen.elf --banks sha256
  skl-tool predict --skl skl.bin --kernel /tmp/xen.elf --module vmlinuz --module initramfs.cpio --json
  skl-tool predict --skl skl.bin --kernel xen.img --dlme-raw --tpm 1.2
  skl-tool predict --skl skl.bin --dlme dlme.bin --entry-offset 0x1e0 --events
  skl-tool predict --skl skl-amdsl.bin --kernel /tmp/xen.elf --pcr18-mbi mbi.bin --slrt slrt.bin")]
    Predict {
        /// The SLB image (skl.bin or skl-amdsl.bin; the header says which).
        #[arg(long)]
        skl: PathBuf,
        #[command(flatten)]
        kernel: KernelArgs,
        /// Banks, comma separated: sha1, sha256, sha384, sha512 [default: sha1,sha256].
        #[arg(long, value_delimiter = ',')]
        banks: Option<Vec<String>>,
        /// TPM family; a TPM 1.2 has the SHA-1 bank only.
        #[arg(long, value_enum, default_value = "2.0")]
        tpm: Tpm,
        /// Also list each measurement with its digests.
        #[arg(long)]
        events: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// DRTM event logs: show, replay, verify.
    #[command(after_help = "Examples:
  skl-tool eventlog show drtm.log
  skl-tool eventlog replay --offset 0x9e0000 ram.bin
  skl-tool eventlog verify drtm.log --pcr sha256:17=3f…
  skl-tool eventlog verify drtm.log --pcrs pcrs.txt --skl /boot/skl.bin --kernel /tmp/xen.elf

Exit codes:
  0  success (verify: every value matches)
  1  verify: a value or an event differs
  2  bad input (unreadable or malformed file, bad option)")]
    Eventlog {
        #[command(subcommand)]
        cmd: LogCmd,
    },
    /// The AMD PSP DRTM service's signature area: sign an SLB, verify one.
    #[command(after_help = PSP_EXAMPLES)]
    Psp {
        #[command(subcommand)]
        cmd: PspCmd,
    },
}

const PSP_EXAMPLES: &str = "\
Examples:
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out skl-psp.pem
  skl-tool psp sign --key skl-psp.pem build/skl-amdsl-psp.bin -o build/skl-amdsl-psp.signed.bin
  skl-tool psp verify build/skl-amdsl-psp.signed.bin
  openssl pkey -in skl-psp.pem -pubout -out skl-psp.pub.pem
  skl-tool psp verify --key skl-psp.pub.pem skl-amdsl-psp.signed.bin

Layout (docs/psp-drtm.md): measured part (16-byte multiple) | $AS1 header 0x100 |
RSA-4096 PSS SHA-384 salt-48 signature over measured part + $AS1, little-endian, 0x200 |
key token 0x440 (header 0x40, exponent 0x200, modulus 0x200, little-endian).

Exit codes:
  0  signed / the signature verifies
  1  verify: the signature, a size field or the key does not match
  2  bad input (unreadable file, not an SLB, bad key, bad option)";

#[derive(Subcommand)]
enum PspCmd {
    /// Append the $AS1 header, the signature and the key token to an SLB image.
    ///
    /// The image is its measured part (header word 1, a multiple of 16 bytes), or an image
    /// signed before (the area is replaced). With the 68-byte AMD SL header, its total length
    /// (0x18) must already be measured + 0x740: the signer never changes measured bytes.
    Sign {
        /// The SLB image (skl-amdsl.bin).
        image: PathBuf,
        /// RSA-4096 private key, PEM (PKCS#8 or PKCS#1).
        #[arg(long)]
        key: PathBuf,
        /// Key ID for the $AS1 header and the key token, 32 hex digits [default: the first
        /// 16 bytes of SHA-256 of the stored modulus].
        #[arg(long, value_parser = parse_key_id)]
        key_id: Option<[u8; 16]>,
        /// Where to write the signed image.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Check a signed image: sizes, $AS1 header, key token, signature.
    Verify {
        /// The signed SLB image.
        image: PathBuf,
        /// Also require the key token to be this key (PEM: public or private).
        #[arg(long)]
        key: Option<PathBuf>,
    },
}

fn parse_key_id(s: &str) -> Result<[u8; 16], String> {
    let s = s.trim_start_matches("0x");
    if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("32 hex digits".into());
    }
    let mut id = [0u8; 16];
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(id)
}

/// Where the DLME comes from (predict; verify with --skl).
#[derive(Args)]
struct KernelArgs {
    /// The Multiboot2 ELF kernel as GRUB loads it (decompressed: zcat /boot/xen-*.gz > xen.elf).
    #[arg(long)]
    kernel: Option<PathBuf>,
    /// --kernel is a flat image as loaded in memory (from its load base), not an ELF.
    #[arg(long, requires = "kernel")]
    dlme_raw: bool,
    /// The DLME bytes themselves (DL_INFO dlme_base..+dlme_size); needs --entry-offset.
    #[arg(long, conflicts_with = "kernel", requires = "entry_offset")]
    dlme: Option<PathBuf>,
    /// DL_INFO dlme_entry: the entry offset in the DLME (decimal or 0x hex).
    #[arg(long, requires = "dlme", value_parser = parse_u32)]
    entry_offset: Option<u32>,
    /// A Multiboot2 module (dom0 kernel, initramfs), in load order; repeatable. The kernel
    /// (or SKL in Multiboot2 mode) extends PCR 17 with each.
    #[arg(long = "module", value_name = "FILE")]
    modules: Vec<PathBuf>,
    /// The boot's Multiboot2 information (MBI): predicts PCR 18 = E(0, H(MBI)) in DLME mode;
    /// in Multiboot2 mode (with --slrt) SKL's policy measurements of MBI and SLRT.
    #[arg(long, value_name = "FILE")]
    pcr18_mbi: Option<PathBuf>,
    /// The boot's SLRT as the bootloader wrote it (Multiboot2 mode: with --pcr18-mbi, predicts
    /// PCR 18 and orders PCR 17 by the DRTM policy; DLME mode with skl-amdsl.bin: the AMD_INFO
    /// Xen v3 measures into PCR 18 after the MBI).
    #[arg(long, value_name = "FILE", requires = "pcr18_mbi")]
    slrt: Option<PathBuf>,
}

impl KernelArgs {
    fn given(&self) -> bool {
        self.kernel.is_some() || self.dlme.is_some()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
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

#[derive(Args)]
struct LogInput {
    /// Log file, or a raw memory dump with --offset.
    log: PathBuf,
    /// Where the log starts in the file (e.g. LOG_INFO addr minus the dump's base), decimal or 0x hex.
    #[arg(long, value_parser = parse_u64, default_value = "0")]
    offset: u64,
    /// Log format; auto reads the Spec ID signature.
    #[arg(long, value_enum, default_value = "auto")]
    format: LogFormat,
}

#[derive(Subcommand)]
enum LogCmd {
    /// Print every event: index, offset, PCR, type, event data, digest per bank.
    #[command(
        after_help = "Examples:\n  skl-tool eventlog show drtm.log\n  skl-tool eventlog show --offset 0x9e0000 --format tpm12 ram.bin"
    )]
    Show(LogInput),
    /// Replay the log: PCR values per bank, each starting from zero (SKINIT's DRTM reset).
    #[command(
        after_help = "Examples:\n  skl-tool eventlog replay drtm.log\n  skl-tool eventlog replay --offset 0x9e0000 ram.bin"
    )]
    Replay(LogInput),
    /// Compare the replay with PCR values read from the TPM, and the log's events with a prediction.
    ///
    /// Values come from --pcrs (tpm2_pcrread output, or lines BANK:PCR=HEX) and --pcr. With
    /// --skl and --kernel (or --dlme) each logged SKL/kernel event is compared with its
    /// prediction and the first event that differs is named. For a PCR value that differs
    /// from the replay, the events that extended it are listed. PCRs outside 17-22 (e.g. 13)
    /// are not DRTM PCRs and are skipped.
    #[command(after_help = "Examples:
  tpm2_pcrread sha256:17,18 > pcrs.txt
  skl-tool eventlog verify drtm.log --pcrs pcrs.txt
  skl-tool eventlog verify drtm.log --pcr sha256:17=$(cat /sys/class/tpm/tpm0/pcr-sha256/17)
  skl-tool eventlog verify drtm.log --pcrs pcrs.txt --skl /boot/skl.bin --kernel /tmp/xen.elf

Exit codes:
  0  every given value and predicted event matches
  1  a value or an event differs
  2  bad input (unreadable or malformed file, bad option, nothing to compare)")]
    Verify {
        #[command(flatten)]
        input: LogInput,
        /// PCR values: `tpm2_pcrread` output, or lines BANK:PCR=HEX.
        #[arg(long, value_name = "FILE")]
        pcrs: Option<PathBuf>,
        /// A PCR value as BANK:PCR=HEX (repeatable).
        #[arg(long = "pcr", value_name = "BANK:PCR=HEX")]
        pcr: Vec<String>,
        /// skl.bin, to compare each event with the prediction (with --kernel or --dlme).
        #[arg(long)]
        skl: Option<PathBuf>,
        #[command(flatten)]
        kernel: Box<KernelArgs>,
    },
}

fn parse_u64(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|e| format!("{s}: {e}"))
}

fn parse_u32(s: &str) -> Result<u32, String> {
    parse_u64(s).and_then(|v| u32::try_from(v).map_err(|_| format!("{s}: above 32 bits")))
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

/// A one-line error naming the file (exit code 2).
struct Failure(String);

fn fail<T>(file: &Path, msg: impl std::fmt::Display) -> Result<T, Failure> {
    Err(Failure(format!("{}: {msg}", file.display())))
}

fn read(p: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(p).map_err(|e| Failure(format!("{}: {e}", p.display())))
}

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
        Cmd::Info { skl, json } => info(&skl, json),
        Cmd::Predict { skl, kernel, banks, tpm, events, json } => predict_cmd(&skl, &kernel, banks, tpm, events, json),
        Cmd::Eventlog { cmd } => eventlog(cmd),
        Cmd::Psp { cmd } => psp(cmd),
    }
}

fn psp(cmd: PspCmd) -> Result<ExitCode, Failure> {
    use skl_tool::psp_sign;
    let pem = |p: &Path| String::from_utf8(read(p)?).or_else(|_| fail(p, "not PEM text"));
    match cmd {
        PspCmd::Sign { image, key, key_id, output } => {
            let k = psp_sign::private_key_from_pem(&pem(&key)?).or_else(|e| fail(&key, e))?;
            let signed = psp_sign::sign(&read(&image)?, &k, key_id).or_else(|e| fail(&image, e))?;
            std::fs::write(&output, &signed).or_else(|e| fail(&output, e))?;
            let s = psp_sign::verify(&signed, None).or_else(|e| fail(&output, e))?;
            out!(
                "{}: measured {:#x}, signed {:#x} bytes, key ID {}",
                output.display(),
                s.measured,
                signed.len(),
                hex(&s.key_id)
            );
            Ok(ExitCode::SUCCESS)
        }
        PspCmd::Verify { image, key } => {
            let want = match &key {
                Some(k) => Some(psp_sign::public_key_from_pem(&pem(k)?).or_else(|e| fail(k, e))?),
                None => None,
            };
            let bytes = read(&image)?;
            // Input that is not a signed SLB at all is exit 2; a signed one
            // that does not check out is exit 1.
            let (measured, _) = psp_sign::measured_part(&bytes).or_else(|e| fail(&image, e))?;
            if bytes.len() != measured + psp_sign::SIGNATURE_AREA {
                return fail(&image, format!("{:#x} bytes: not measured part + 0x740 (unsigned?)", bytes.len()));
            }
            match psp_sign::verify(&bytes, want.as_ref()) {
                Ok(s) => {
                    out!(
                        "{}: signature good; measured {:#x}, key ID {}, modulus SHA-256 {}{}",
                        image.display(),
                        s.measured,
                        hex(&s.key_id),
                        hex(&s.modulus_sha256),
                        if s.amd_sl_header { ", AMD SL header" } else { "" }
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    out!("{}: {e}", image.display());
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}

fn uuid(b: &[u8]) -> String {
    let h = hex(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn info(skl: &Path, json: bool) -> Result<ExitCode, Failure> {
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
    let id = uuid(&b[l.skl_info as usize..l.skl_info as usize + 16]);
    if json {
        let d: Vec<String> = Bank::ALL
            .iter()
            .map(|k| {
                format!(
                    "{}: {{\"measured_digest\": \"{}\", \"pcr17_after_skinit\": \"{}\"}}",
                    json_str(k.name()),
                    hex(&k.hash(measured)),
                    hex(&pcr17_after_skinit(*k, measured))
                )
            })
            .collect();
        out!(
            "{{\"file\": {}, \"generation\": \"{}\", \"file_size\": {}, \"total_size\": {}, \"entry\": {}, \
             \"measured_size\": {}, \"skl_info\": {}, \"bootloader_data\": {}, \"uuid\": \"{id}\", \"version\": {}, \
             \"banks\": {{{}}}}}",
            json_str(&skl.display().to_string()),
            match l.generation {
                Generation::Qubes423 => "qubes-4.2.3",
                Generation::AmdSl => "amdsl",
            },
            b.len(),
            l.total_size,
            l.entry,
            l.measured_size,
            l.skl_info,
            l.bootloader_data,
            l.version,
            d.join(", ")
        );
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

fn banks_of(names: Option<Vec<String>>, tpm: Tpm) -> Result<Vec<Bank>, Failure> {
    let names = names.unwrap_or_else(|| match tpm {
        Tpm::V12 => vec!["sha1".into()],
        Tpm::V20 => vec!["sha1".into(), "sha256".into()],
    });
    let mut out: Vec<Bank> = vec![];
    for n in &names {
        let b = Bank::parse(n)
            .ok_or_else(|| Failure(format!("--banks: unknown bank {n:?} (sha1, sha256, sha384, sha512)")))?;
        if tpm == Tpm::V12 && b != Bank::Sha1 {
            return Err(Failure(format!("--banks: a TPM 1.2 has the sha1 bank only, not {}", b.name())));
        }
        if !out.contains(&b) {
            out.push(b);
        }
    }
    if out.is_empty() {
        return Err(Failure("--banks: no bank given".into()));
    }
    Ok(out)
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

struct Inputs {
    dlme: Dlme,
    /// (path, bytes)
    modules: Vec<(PathBuf, Vec<u8>)>,
    mbi: Option<Vec<u8>>,
    slrt: Option<Vec<u8>>,
    origin: String,
}

fn load_inputs(k: &KernelArgs) -> Result<Inputs, Failure> {
    let (dlme, origin) = match (&k.kernel, &k.dlme, k.entry_offset) {
        (Some(p), None, _) => {
            let b = read(p)?;
            let r = if k.dlme_raw { kernel::dlme_from_raw(&b) } else { kernel::dlme_from_elf(&b) };
            match r {
                Ok(d) => (d, p.display().to_string()),
                Err(e) => return fail(p, e),
            }
        }
        (None, Some(p), Some(off)) => match kernel::dlme_direct(&read(p)?, off) {
            Ok(d) => (d, p.display().to_string()),
            Err(e) => return fail(p, e),
        },
        _ => return Err(Failure("give the kernel: --kernel FILE, or --dlme FILE --entry-offset N".into())),
    };
    let modules = k.modules.iter().map(|m| read(m).map(|b| (m.clone(), b))).collect::<Result<Vec<_>, _>>()?;
    let mbi = k.pcr18_mbi.as_deref().map(read).transpose()?;
    let slrt = k.slrt.as_deref().map(read).transpose()?;
    Ok(Inputs { dlme, modules, mbi, slrt, origin })
}

fn run_prediction(skl: &Path, skl_bytes: &[u8], i: &Inputs, banks: &[Bank]) -> Result<Prediction, Failure> {
    let mods: Vec<Vec<u8>> = i.modules.iter().map(|m| m.1.clone()).collect();
    predict::predict_full(skl_bytes, &i.dlme, &mods, i.mbi.as_deref(), i.slrt.as_deref(), banks)
        .or_else(|e| fail(skl, e))
}

fn actor_name(a: Actor) -> &'static str {
    match a {
        Actor::Skinit => "skinit",
        Actor::Skl => "skl",
        Actor::Kernel => "kernel",
    }
}

fn predict_cmd(
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
    let d = &i.dlme;
    let mode = if d.has_mle_header { "dlme" } else { "multiboot2" };
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
    let txt_chain = skl_bytes.starts_with(b"\x7fELF");
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
    if json {
        let steps: Vec<String> = p
            .steps
            .iter()
            .map(|s| {
                let dg: Vec<String> =
                    s.digests.iter().map(|(b, v)| format!("\"{}\": \"{}\"", b.name(), hex(v))).collect();
                format!(
                    "{{\"pcr\": {}, \"event\": {}, \"by\": \"{}\", \"digests\": {{{}}}}}",
                    s.pcr,
                    json_str(&s.event),
                    actor_name(s.actor),
                    dg.join(", ")
                )
            })
            .collect();
        let pcrs: Vec<String> = p
            .pcrs
            .iter()
            .map(|v| match &v.value {
                Some(x) => {
                    format!("{{\"bank\": \"{}\", \"pcr\": {}, \"value\": \"{}\"}}", v.bank.name(), v.pcr, hex(x))
                }
                None => format!(
                    "{{\"bank\": \"{}\", \"pcr\": {}, \"value\": null, \"runtime\": {}}}",
                    v.bank.name(),
                    v.pcr,
                    json_str(v.runtime)
                ),
            })
            .collect();
        let notes: Vec<String> = notes.iter().map(|n| json_str(n)).collect();
        out!(
            "{{\"mode\": \"{mode}\", \"skl_measured_size\": {measured}, \"kernel\": {{\"source\": \"{}\", \
             \"load_base\": {}, \"mle_header_offset\": {}}}, \"entry_offset\": {}, \"dlme_size\": {}, \
             \"events\": [{}], \"pcrs\": [{}], \"notes\": [{}]}}",
            d.source.name(),
            d.load_base,
            d.mle.map_or("null".to_string(), |h| h.offset.to_string()),
            d.entry_offset,
            d.bytes.len(),
            steps.join(", "),
            pcrs.join(", "),
            notes.join(", ")
        );
        return Ok(ExitCode::SUCCESS);
    }
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
    for n in &notes {
        out!("note: {n}");
    }
    Ok(ExitCode::SUCCESS)
}

struct LoadedLog {
    events: Vec<log::Event>,
    header: log::Header,
}

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

fn event_ref(e: &log::Event) -> String {
    format!("#{} \"{}\"", e.index, e.text())
}

fn eventlog(cmd: LogCmd) -> Result<ExitCode, Failure> {
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

fn verify(
    input: &LogInput,
    pcrs: Option<&Path>,
    pcr: &[String],
    skl: Option<&Path>,
    kernel: &KernelArgs,
) -> Result<ExitCode, Failure> {
    // Parse every input before reading the log, so usage errors come first.
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
        let i = load_inputs(kernel)?;
        let bytes = read(s)?;
        let banks: Vec<Bank> = if l.header.banks.is_empty() { Bank::ALL.to_vec() } else { l.header.banks.clone() };
        let p = run_prediction(s, &bytes, &i, &banks)?;
        let (div, notes) = log::compare_with_prediction(&l.events, &p.steps);
        match div {
            None => out!("prediction: the {} predicted events match the log", p.steps.len()),
            Some(d) => {
                mismatch = true;
                match d.event.and_then(|n| l.events.iter().find(|e| e.index == n)) {
                    Some(e) => {
                        out!(
                            "prediction: MISMATCH at event {} (PCR {}, predicted \"{}\")",
                            event_ref(e),
                            d.pcr,
                            d.predicted
                        );
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
                }
            }
        }
        for n in notes {
            out!("note: {n}");
        }
    }

    for (b, n, v) in &want {
        if !(17..=22).contains(n) {
            out!("{:<6} PCR {n}: skipped (not a DRTM PCR; the DRTM log does not cover it)", b.name());
            continue;
        }
        match log::check_value(&l.events, *b, *n, v) {
            ValueCheck::Match => out!("{:<6} PCR {n}: ok", b.name()),
            ValueCheck::Mismatch { replayed, contributors, prefix, hint } => {
                mismatch = true;
                out!("{:<6} PCR {n}: MISMATCH", b.name());
                out!("       replay {}", hex(&replayed));
                out!("       given  {}", hex(v));
                let refs: Vec<String> = contributors
                    .iter()
                    .filter_map(|c| l.events.iter().find(|e| e.index == *c))
                    .map(event_ref)
                    .collect();
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
                } else if prefix.is_none() && skl.is_none() {
                    out!("       to find the event that differs, give --skl and --kernel (and each --module)");
                }
            }
        }
    }
    out!("result: {}", if mismatch { "MISMATCH" } else { "ok" });
    Ok(if mismatch { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
