//! `skl-tool psp`: append the AMD PSP DRTM signature area to an SLB, or
//! check one (`skl_tool::psp_sign`).

use std::path::Path;
use std::process::ExitCode;

use skl_tool::hex;

use crate::cli::PspCmd;
use crate::input::{fail, read, Failure};

/// `skl-tool psp sign|verify`.
pub(crate) fn run(cmd: PspCmd) -> Result<ExitCode, Failure> {
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
