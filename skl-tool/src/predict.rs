//! PCR 17/18 after a launch, per bank, in the order SKL measures
//! (`skl_bootinfo::drtm`, shared with the payload).

use skl_bootinfo::drtm;
use skl_bootinfo::sl_header::parse_slb_image;

use crate::kernel::Dlme;
use crate::Bank;

/// One step of the launch's measurements, as it appears in the log.
#[derive(Debug, Clone)]
pub struct Step {
    pub pcr: u32,
    pub event: String,
    /// Digest per bank.
    pub digests: Vec<(Bank, Vec<u8>)>,
    /// Logged only (SKINIT extended PCR 17 itself, from zero).
    pub logged_only: bool,
}

/// The launch's measurements: SKINIT of the measured part of `skl`, the
/// entry offset, the DLME; in Multiboot2 mode (a DLME without MLE header)
/// also each module into PCR 17 (MBI and SLRT go to PCR 18 and depend on
/// run-time addresses: pass them to [`pcr_values`] when known).
pub fn steps(skl: &[u8], dlme: &Dlme, modules: &[Vec<u8>], banks: &[Bank]) -> Result<Vec<Step>, String> {
    let layout = parse_slb_image(skl).map_err(|e| format!("skl.bin header: {e:?}"))?;
    let measured = &skl[..layout.measured_size as usize];
    let step = |pcr: u32, event: &[u8], data: &[u8], logged_only: bool| Step {
        pcr,
        event: String::from_utf8_lossy(event).into_owned(),
        digests: banks.iter().map(|b| (*b, b.hash(data))).collect(),
        logged_only,
    };
    let mut out = vec![
        step(drtm::PCR_CODE, drtm::EVENT_SKINIT, measured, true),
        step(drtm::PCR_CODE, drtm::EVENT_DLME_ENTRY, &drtm::entry_offset_bytes(dlme.entry_offset), false),
        step(drtm::PCR_CODE, drtm::EVENT_DLME, &dlme.bytes, false),
    ];
    if !dlme.has_mle_header {
        for m in modules {
            out.push(step(drtm::PCR_CODE, b"Measured MB2 module", m, false));
        }
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
                let d = &s.digests.iter().find(|(x, _)| *x == b).expect("digest for every bank").1;
                v = b.extend_digest(&v, d);
            }
            out.push((b, pcr, v));
        }
    }
    out
}
