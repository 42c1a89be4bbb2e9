//! The command line: subcommands, options, their help text and value
//! parsers (clap derive). What each subcommand does is in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) cmd: Cmd,
}

#[derive(Subcommand)]
pub(crate) enum Cmd {
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
pub(crate) enum PspCmd {
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
pub(crate) struct KernelArgs {
    /// The Multiboot2 ELF kernel as GRUB loads it (decompressed: zcat /boot/xen-*.gz > xen.elf).
    #[arg(long)]
    pub(crate) kernel: Option<PathBuf>,
    /// --kernel is a flat image as loaded in memory (from its load base), not an ELF.
    #[arg(long, requires = "kernel")]
    pub(crate) dlme_raw: bool,
    /// The DLME bytes themselves (DL_INFO dlme_base..+dlme_size); needs --entry-offset.
    #[arg(long, conflicts_with = "kernel", requires = "entry_offset")]
    pub(crate) dlme: Option<PathBuf>,
    /// DL_INFO dlme_entry: the entry offset in the DLME (decimal or 0x hex).
    #[arg(long, requires = "dlme", value_parser = parse_u32)]
    pub(crate) entry_offset: Option<u32>,
    /// A Multiboot2 module (dom0 kernel, initramfs), in load order; repeatable. The kernel
    /// (or SKL in Multiboot2 mode) extends PCR 17 with each.
    #[arg(long = "module", value_name = "FILE")]
    pub(crate) modules: Vec<PathBuf>,
    /// The boot's Multiboot2 information (MBI): predicts PCR 18 = E(0, H(MBI)) in DLME mode;
    /// in Multiboot2 mode (with --slrt) SKL's policy measurements of MBI and SLRT.
    #[arg(long, value_name = "FILE")]
    pub(crate) pcr18_mbi: Option<PathBuf>,
    /// The boot's SLRT as the bootloader wrote it (Multiboot2 mode: with --pcr18-mbi, predicts
    /// PCR 18 and orders PCR 17 by the DRTM policy; DLME mode with skl-amdsl.bin: the AMD_INFO
    /// Xen v3 measures into PCR 18 after the MBI).
    #[arg(long, value_name = "FILE", requires = "pcr18_mbi")]
    pub(crate) slrt: Option<PathBuf>,
}

impl KernelArgs {
    pub(crate) fn given(&self) -> bool {
        self.kernel.is_some() || self.dlme.is_some()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Tpm {
    #[value(name = "1.2")]
    V12,
    #[value(name = "2.0")]
    V20,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum LogFormat {
    Auto,
    Tpm20,
    Tpm12,
}

#[derive(Args)]
pub(crate) struct LogInput {
    /// Log file, or a raw memory dump with --offset.
    pub(crate) log: PathBuf,
    /// Where the log starts in the file (e.g. LOG_INFO addr minus the dump's base), decimal or 0x hex.
    #[arg(long, value_parser = parse_u64, default_value = "0")]
    pub(crate) offset: u64,
    /// Log format; auto reads the Spec ID signature.
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) format: LogFormat,
}

#[derive(Subcommand)]
pub(crate) enum LogCmd {
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
