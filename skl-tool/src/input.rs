//! The files and names on the command line turned into checked inputs:
//! file contents, the kernel's DLME, PCR banks. A failure is one line that
//! names the file (exit code 2).

use std::path::{Path, PathBuf};

use skl_tool::kernel::{self, Dlme};
use skl_tool::predict::{self, Prediction};
use skl_tool::Bank;

use crate::cli::{KernelArgs, Tpm};

/// A one-line error naming the file (exit code 2).
pub(crate) struct Failure(pub(crate) String);

pub(crate) fn fail<T>(file: &Path, msg: impl std::fmt::Display) -> Result<T, Failure> {
    Err(Failure(format!("{}: {msg}", file.display())))
}

pub(crate) fn read(p: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(p).map_err(|e| Failure(format!("{}: {e}", p.display())))
}

/// The banks `--banks` names (default: what a TPM of the family has).
pub(crate) fn banks_of(names: Option<Vec<String>>, tpm: Tpm) -> Result<Vec<Bank>, Failure> {
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

/// The kernel, modules, MBI and SLRT a prediction starts from.
pub(crate) struct Inputs {
    pub(crate) dlme: Dlme,
    /// (path, bytes)
    pub(crate) modules: Vec<(PathBuf, Vec<u8>)>,
    pub(crate) mbi: Option<Vec<u8>>,
    pub(crate) slrt: Option<Vec<u8>>,
    pub(crate) origin: String,
}

/// Reads the kernel (or the DLME itself) and the files around it.
pub(crate) fn load_inputs(k: &KernelArgs) -> Result<Inputs, Failure> {
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

/// The library's prediction for `skl` with these inputs, in `banks`.
pub(crate) fn run_prediction(skl: &Path, skl_bytes: &[u8], i: &Inputs, banks: &[Bank]) -> Result<Prediction, Failure> {
    let mods: Vec<Vec<u8>> = i.modules.iter().map(|m| m.1.clone()).collect();
    predict::predict_full(skl_bytes, &i.dlme, &mods, i.mbi.as_deref(), i.slrt.as_deref(), banks)
        .or_else(|e| fail(skl, e))
}
