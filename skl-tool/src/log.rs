//! DRTM event logs (TPM 2.0 crypto-agile and TPM 1.2 TXT container) read
//! with skl-bootinfo's bounded parsers: events, replay, comparison.

use skl_bootinfo::event_log::{events, events12, parse_tcg2_header, parse_tpm12_header, EV_NO_ACTION, EV_SLAUNCH};

use crate::Bank;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Tpm20,
    Tpm12,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub index: usize,
    pub offset: usize,
    pub pcr: u32,
    pub ev_type: u32,
    pub digests: Vec<(Bank, Vec<u8>)>,
    pub data: Vec<u8>,
}

impl Event {
    pub fn type_name(&self) -> String {
        match self.ev_type {
            EV_NO_ACTION => "EV_NO_ACTION".into(),
            EV_SLAUNCH => "SLAUNCH (0x502)".into(),
            t => format!("{t:#x}"),
        }
    }
    pub fn text(&self) -> String {
        let t = self.data.iter().position(|&c| c == 0).map_or(&self.data[..], |n| &self.data[..n]);
        if t.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
            String::from_utf8_lossy(t).into_owned()
        } else {
            crate::hex(&self.data)
        }
    }
}

/// The format of a log from its header (Spec ID Event03 or Event00).
pub fn detect(b: &[u8]) -> Result<Format, String> {
    if parse_tcg2_header(b).is_ok() {
        Ok(Format::Tpm20)
    } else if parse_tpm12_header(b).is_ok() {
        Ok(Format::Tpm12)
    } else {
        Err("no TCG Spec ID event at offset 0 (neither Event03 nor a TPM 1.2 TXT container)".into())
    }
}

/// Every event after the header; an error names the offset of the first
/// record that runs past the log.
pub fn read(b: &[u8], format: Format) -> Result<Vec<Event>, String> {
    let mut out = vec![];
    match format {
        Format::Tpm20 => {
            let h = parse_tcg2_header(b).map_err(|e| format!("log header: {e:?}"))?;
            for (index, e) in events(b, &h).enumerate() {
                let e = e.map_err(|e| format!("event {index}: {e:?}"))?;
                let digests =
                    e.digests(&h).filter_map(|(a, d)| Bank::from_tpm_alg(a).map(|b| (b, d.to_vec()))).collect();
                out.push(Event {
                    index,
                    offset: e.offset,
                    pcr: e.pcr,
                    ev_type: e.ev_type,
                    digests,
                    data: e.data.to_vec(),
                });
            }
        }
        Format::Tpm12 => {
            parse_tpm12_header(b).map_err(|e| format!("log header: {e:?}"))?;
            for (index, e) in events12(b).enumerate() {
                let e = e.map_err(|e| format!("event {index}: {e:?}"))?;
                out.push(Event {
                    index,
                    offset: e.offset,
                    pcr: e.pcr,
                    ev_type: e.ev_type,
                    digests: vec![(Bank::Sha1, e.sha1.to_vec())],
                    data: e.data.to_vec(),
                });
            }
        }
    }
    Ok(out)
}

/// PCR values per (bank, pcr) from zero, after every event; the value
/// after each event is returned too, for pointing at a mismatch.
pub fn replay(evs: &[Event]) -> Vec<(Bank, u32, Vec<u8>)> {
    let mut state: Vec<(Bank, u32, Vec<u8>)> = vec![];
    for e in evs {
        for (b, d) in &e.digests {
            match state.iter_mut().find(|(x, p, _)| x == b && *p == e.pcr) {
                Some(s) => s.2 = b.extend_digest(&s.2, d),
                None => state.push((*b, e.pcr, b.extend_digest(&b.zero(), d))),
            }
        }
    }
    state.sort_by_key(|(b, p, _)| (*p, *b));
    state
}
