//! DRTM event logs (TPM 2.0 crypto-agile and TPM 1.2 TXT container,
//! `abi-grub-xen.md` §6) read with skl-bootinfo's bounded parsers: events,
//! replay, and the comparisons `eventlog verify` reports.
//!
//! Nothing here panics on malformed input: every read is bounded, and an
//! error names the offset and the field.

use skl_bootinfo::event_log::{
    events, events12, parse_tcg2_header, parse_tpm12_header, LogError, Tcg2Header, EV_NO_ACTION, EV_SLAUNCH,
};

use crate::predict::Step;
use crate::{hex, Bank};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Tpm20,
    Tpm12,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Tpm20 => "TPM 2.0 (TCG crypto-agile)",
            Format::Tpm12 => "TPM 1.2 (TXT event container)",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Event {
    pub index: usize,
    /// Offset from the start of the log.
    pub offset: usize,
    pub pcr: u32,
    pub ev_type: u32,
    pub digests: Vec<(Bank, Vec<u8>)>,
    pub data: Vec<u8>,
}

/// Event types of DRTM logs.
pub fn type_name(t: u32) -> String {
    match t {
        EV_NO_ACTION => "EV_NO_ACTION".into(),
        EV_SLAUNCH => "EV_SLAUNCH (0x502)".into(),
        0x503 => "EV_SLAUNCH_START (0x503)".into(),
        0x504 => "EV_SLAUNCH_END (0x504)".into(),
        t => format!("{t:#x}"),
    }
}

/// Event data longer than this is shown abbreviated.
const TEXT_MAX: usize = 64;

impl Event {
    pub fn type_name(&self) -> String {
        type_name(self.ev_type)
    }
    /// The event data as text up to its first NUL when it is printable,
    /// else as hex (abbreviated past 64 bytes).
    pub fn text(&self) -> String {
        let t = self.data.iter().position(|&c| c == 0).map_or(&self.data[..], |n| &self.data[..n]);
        let rest_zero = self.data[t.len()..].iter().all(|&c| c == 0);
        if rest_zero && t.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
            String::from_utf8_lossy(t).into_owned()
        } else if self.data.len() > TEXT_MAX {
            format!("0x{}… ({} bytes)", hex(&self.data[..TEXT_MAX]), self.data.len())
        } else {
            format!("0x{}", hex(&self.data))
        }
    }
    /// Whether a replay extends it (EV_NO_ACTION is only informational).
    pub fn extends(&self) -> bool {
        self.ev_type != EV_NO_ACTION
    }
}

/// The header of a log, for display.
#[derive(Debug, Clone)]
pub struct Header {
    pub format: Format,
    /// Banks listed in the Spec ID event (TPM 2.0), or SHA-1 (TPM 1.2).
    pub banks: Vec<Bank>,
    /// Algorithm IDs listed that the tool does not know.
    pub unknown_algs: Vec<u16>,
    /// End of the events as the header states it (next_record_offset /
    /// NextEventOffset), if it does.
    pub end: Option<usize>,
}

fn tcg2_field(o: usize, n_algs: Option<usize>) -> String {
    match (o, n_algs) {
        (4, _) => "eventType of the header event (EV_NO_ACTION expected)".into(),
        (28, _) => "eventSize of the header event".into(),
        (32, _) => "Spec ID signature (\"Spec ID Event03\" expected)".into(),
        (56, _) => "numberOfAlgorithms (1 to 4 supported)".into(),
        (o, Some(n)) if o >= 60 && o < 60 + 4 * n => format!("digestSizes[{}]", (o - 60) / 4),
        _ => "vendorInfoSize (does not end the header event)".into(),
    }
}

fn header_error(b: &[u8], format: Format, e: LogError, base: usize) -> String {
    let o = match e {
        LogError::BadHeader(o) | LogError::Truncated(o) | LogError::TooSmall(o) | LogError::Full(o) => o,
        LogError::AlgorithmMismatch(_) | LogError::BadDigest(_) => 0,
    };
    let field = match format {
        Format::Tpm20 => {
            let n = b.get(56..60).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize).filter(|&n| n <= 4);
            tcg2_field(o, n)
        }
        Format::Tpm12 => match o {
            57 => "TXT container signature (\"TXT Event Container\" expected)".into(),
            101 => "NextEventOffset (before the first event or past the end of the data)".into(),
            _ => "eventType / Spec ID signature (EV_NO_ACTION, \"Spec ID Event00\" expected)".into(),
        },
    };
    format!("{} log header: bad field at offset {:#x}: {field}", short(format), base + o)
}

fn short(f: Format) -> &'static str {
    match f {
        Format::Tpm20 => "TPM 2.0",
        Format::Tpm12 => "TPM 1.2",
    }
}

/// The format of a log from its header (Spec ID Event03 or Event00). `base`
/// is where the log starts in the file, for the messages.
pub fn detect_at(b: &[u8], base: usize) -> Result<Format, String> {
    match (parse_tcg2_header(b), parse_tpm12_header(b)) {
        (Ok(_), _) => Ok(Format::Tpm20),
        (_, Ok(_)) => Ok(Format::Tpm12),
        (Err(e), _) if b.get(32..47) == Some(&b"Spec ID Event03"[..]) => Err(header_error(b, Format::Tpm20, e, base)),
        (_, Err(e)) if b.get(32..47) == Some(&b"Spec ID Event00"[..]) => Err(header_error(b, Format::Tpm12, e, base)),
        _ => Err(format!(
            "no DRTM log header at offset {base:#x}: no \"Spec ID Event03\" (TPM 2.0) or \"Spec ID Event00\" (TPM 1.2) \
             signature at offset {:#x}",
            base + 32
        )),
    }
}

/// [`detect_at`] for a log at the start of `b`.
pub fn detect(b: &[u8]) -> Result<Format, String> {
    detect_at(b, 0)
}

/// The header of a log in a known format.
pub fn header_at(b: &[u8], format: Format, base: usize) -> Result<Header, String> {
    match format {
        Format::Tpm20 => {
            let h = parse_tcg2_header(b).map_err(|e| header_error(b, format, e, base))?;
            let algs = &h.algs[..h.nalgs];
            Ok(Header {
                format,
                banks: algs.iter().filter_map(|a| Bank::from_tpm_alg(a.alg)).collect(),
                unknown_algs: algs.iter().filter(|a| Bank::from_tpm_alg(a.alg).is_none()).map(|a| a.alg).collect(),
                end: h.next_record,
            })
        }
        Format::Tpm12 => {
            let end = parse_tpm12_header(b).map_err(|e| header_error(b, format, e, base))?;
            Ok(Header { format, banks: vec![Bank::Sha1], unknown_algs: vec![], end: Some(end) })
        }
    }
}

fn rd16(b: &[u8], o: usize) -> Option<u16> {
    b.get(o..o.checked_add(2)?).map(|s| u16::from_le_bytes([s[0], s[1]]))
}
fn rd32(b: &[u8], o: usize) -> Option<u32> {
    b.get(o..o.checked_add(4)?).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Which field of the TPM 2.0 record at `o` is wrong (the parser only says
/// the record does not fit).
fn diagnose_tcg2(b: &[u8], h: &Tcg2Header, o: usize) -> String {
    let end = h.next_record.unwrap_or(b.len()).min(b.len());
    let Some(count) = rd32(b, o + 8) else {
        return "record header (pcrIndex, eventType, digests.count) past the end of the log".into();
    };
    let mut p = o + 12;
    for k in 0..count.min(16) as usize {
        let Some(alg) = rd16(b, p) else {
            return format!("digests.count = {count}: digests[{k}] past the end of the log");
        };
        let Some(a) = h.algs[..h.nalgs].iter().find(|a| a.alg == alg) else {
            return format!("digests[{k}].hashAlg = {alg:#06x} at offset {p:#x}: not listed in the log header");
        };
        p += 2 + a.size as usize;
    }
    match rd32(b, p) {
        None => format!("eventSize at offset {p:#x}: past the end of the log"),
        Some(n) => {
            format!("eventSize = {n} at offset {p:#x}: the event data runs past the end of the log ({:#x})", end)
        }
    }
}

/// Every event after the header of a log that starts at `base` in its file;
/// an error names the event, its file offset and the field.
pub fn read_at(b: &[u8], format: Format, base: usize) -> Result<Vec<Event>, String> {
    let mut out = vec![];
    match format {
        Format::Tpm20 => {
            let h = parse_tcg2_header(b).map_err(|e| header_error(b, format, e, base))?;
            for (index, e) in events(b, &h).enumerate() {
                let e = e.map_err(|e| match e {
                    LogError::Truncated(o) => {
                        format!("event #{index} at offset {:#x}: {}", base + o, diagnose_tcg2(b, &h, o))
                    }
                    e => format!("event #{index}: {e:?}"),
                })?;
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
            let end = parse_tpm12_header(b).map_err(|e| header_error(b, format, e, base))?;
            for (index, e) in events12(b).enumerate() {
                let e = e.map_err(|e| match e {
                    LogError::Truncated(o) => format!(
                        "event #{index} at offset {:#x}: eventDataSize = {}: runs past NextEventOffset ({:#x})",
                        base + o,
                        rd32(b, o + 28).unwrap_or(0),
                        base + end
                    ),
                    e => format!("event #{index}: {e:?}"),
                })?;
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

/// [`read_at`] for a log at the start of `b`.
pub fn read(b: &[u8], format: Format) -> Result<Vec<Event>, String> {
    read_at(b, format, 0)
}

/// PCR values per (bank, pcr), each starting from zero (SKINIT's DRTM
/// reset of PCR 17–22), after every event that extends; sorted by PCR, then
/// bank.
pub fn replay(evs: &[Event]) -> Vec<(Bank, u32, Vec<u8>)> {
    let mut state: Vec<(Bank, u32, Vec<u8>)> = vec![];
    for e in evs.iter().filter(|e| e.extends()) {
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

/// The value of one PCR after each event that extends it: (event index,
/// value after it).
pub fn trace(evs: &[Event], bank: Bank, pcr: u32) -> Vec<(usize, Vec<u8>)> {
    let mut v = bank.zero();
    let mut out = vec![];
    for e in evs.iter().filter(|e| e.extends() && e.pcr == pcr) {
        if let Some((_, d)) = e.digests.iter().find(|(b, _)| *b == bank) {
            v = bank.extend_digest(&v, d);
            out.push((e.index, v.clone()));
        }
    }
    out
}

/// The result of comparing one PCR value with the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueCheck {
    Match,
    Mismatch {
        /// The replayed value (zero when no event extends it).
        replayed: Vec<u8>,
        /// Events that extend this PCR in this bank.
        contributors: Vec<usize>,
        /// The given value equals the replay after only the first `n` of
        /// `contributors`: the later ones are logged but not in the PCR.
        prefix: Option<usize>,
        /// What a well-known value means.
        hint: Option<&'static str>,
    },
}

/// Compare a read PCR value with the log's replay.
pub fn check_value(evs: &[Event], bank: Bank, pcr: u32, want: &[u8]) -> ValueCheck {
    let t = trace(evs, bank, pcr);
    let replayed = t.last().map_or_else(|| bank.zero(), |x| x.1.clone());
    if replayed == want {
        return ValueCheck::Match;
    }
    let hint = if want.iter().all(|&b| b == 0xff) {
        Some("all ones: no dynamic launch happened since the TPM started")
    } else if want.iter().all(|&b| b == 0) {
        Some("all zeros: reset by a dynamic launch, then never extended")
    } else {
        None
    };
    let prefix = (1..t.len()).find(|&n| t[n - 1].1 == want);
    ValueCheck::Mismatch { replayed, contributors: t.iter().map(|x| x.0).collect(), prefix, hint }
}

/// Where the log departs from a prediction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    pub pcr: u32,
    /// The log event that differs; `None` when the log lacks the event.
    pub event: Option<usize>,
    /// The predicted event it was compared with.
    pub predicted: String,
    /// One line per differing bank (or why the event is missing).
    pub detail: Vec<String>,
}

/// SKL's events of a PSP-path log, and the indices of the others: the PSP
/// DRTM service's records, merged into the log by SKL (docs/psp-drtm.md
/// §3.2–3.3). SKL writes its own as EV_SLAUNCH; the service's real type
/// values are not public, so every other extending record is the service's.
/// They still replay (`eventlog replay`, `verify --pcrs`); only the
/// comparison with SKL's prediction skips them.
pub fn skl_events_of_psp_log(evs: &[Event]) -> (Vec<Event>, Vec<usize>) {
    let (ours, theirs): (Vec<&Event>, Vec<&Event>) =
        evs.iter().filter(|e| e.extends()).partition(|e| e.ev_type == EV_SLAUNCH);
    (ours.into_iter().cloned().collect(), theirs.iter().map(|e| e.index).collect())
}

/// Walk the predicted steps of each PCR against the log's events on that PCR,
/// in order; return the first divergence (lowest log position), plus notes
/// (events beyond the prediction, banks that could not be compared).
pub fn compare_with_prediction(evs: &[Event], steps: &[Step]) -> (Option<Divergence>, Vec<String>) {
    let mut found: Vec<Divergence> = vec![];
    let mut notes = vec![];
    let mut pcrs: Vec<u32> = steps.iter().map(|s| s.pcr).collect();
    pcrs.sort_unstable();
    pcrs.dedup();
    for pcr in pcrs {
        let logged: Vec<&Event> = evs.iter().filter(|e| e.extends() && e.pcr == pcr).collect();
        let predicted: Vec<&Step> = steps.iter().filter(|s| s.pcr == pcr).collect();
        for (i, s) in predicted.iter().enumerate() {
            let Some(e) = logged.get(i) else {
                found.push(Divergence {
                    pcr,
                    event: None,
                    predicted: s.event.clone(),
                    detail: vec![format!("the log has no event for it ({} events on PCR {pcr})", logged.len())],
                });
                break;
            };
            let common: Vec<_> = s
                .digests
                .iter()
                .filter_map(|(b, pd)| e.digests.iter().find(|(eb, _)| eb == b).map(|(_, ed)| (*b, pd, ed)))
                .collect();
            if common.is_empty() {
                notes.push(format!("event #{} (PCR {pcr}): no bank in common with the prediction", e.index));
            }
            let differ: Vec<String> = common
                .iter()
                .filter(|(_, pd, ed)| pd != ed)
                .map(|(b, pd, ed)| format!("{} digest {} in the log, {} predicted", b.name(), hex(ed), hex(pd)))
                .collect();
            if !differ.is_empty() {
                found.push(Divergence { pcr, event: Some(e.index), predicted: s.event.clone(), detail: differ });
                break;
            }
        }
        if logged.len() > predicted.len() {
            let extra: Vec<String> = logged[predicted.len()..].iter().map(|e| format!("#{}", e.index)).collect();
            let (what, verb) = if extra.len() == 1 { ("event", "is") } else { ("events", "are") };
            notes.push(format!(
                "PCR {pcr}: {what} {} {verb} beyond the prediction (modules the kernel measured? give them with --module)",
                extra.join(", ")
            ));
        }
    }
    let first = found.into_iter().min_by_key(|d| d.event.unwrap_or(usize::MAX));
    (first, notes)
}

/// `tpm2_pcrread` output ("  sha256:" then "    17: 0x…"), or lines
/// `BANK:PCR=HEX`. Returns the values or the first line that is neither.
pub fn parse_pcr_values(text: &str) -> Result<Vec<(Bank, u32, Vec<u8>)>, String> {
    let mut out = vec![];
    let mut bank = None;
    for (n, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some(b) = l.strip_suffix(':').and_then(Bank::parse) {
            bank = Some(b);
            continue;
        }
        let bad = |why: &str| format!("line {}: {why}: {l:?}", n + 1);
        if l.contains('=') {
            out.push(parse_pcr_assignment(l).map_err(|e| bad(&e))?);
            continue;
        }
        let Some((i, v)) = l.split_once(':') else {
            return Err(bad("expected \"sha256:\", \"17: 0x…\" or \"sha256:17=…\""));
        };
        let b = bank.ok_or_else(|| bad("PCR value before a bank line such as \"sha256:\""))?;
        let idx = pcr_index(i).map_err(|e| bad(&e))?;
        out.push((b, idx, unhex_checked(v, b).map_err(|e| bad(&e))?));
    }
    Ok(out)
}

fn pcr_index(s: &str) -> Result<u32, String> {
    s.trim().parse().ok().filter(|&i| i < 24).ok_or_else(|| format!("PCR index {:?} not 0-23", s.trim()))
}

/// One value written as `BANK:PCR=HEX` (`sha256:17=0x…`).
pub fn parse_pcr_assignment(s: &str) -> Result<(Bank, u32, Vec<u8>), String> {
    let form = "expected BANK:PCR=HEX";
    let (lhs, v) = s.split_once('=').ok_or(form)?;
    let (b, i) = lhs.split_once(':').ok_or(form)?;
    let b = Bank::parse(b).ok_or_else(|| format!("unknown bank {:?}", b.trim()))?;
    Ok((b, pcr_index(i)?, unhex_checked(v, b)?))
}

/// A digest in hex for `bank`, with its length checked.
pub fn unhex_checked(s: &str, bank: Bank) -> Result<Vec<u8>, String> {
    let v = crate::unhex(s).ok_or("value is not hex")?;
    if v.len() != bank.size() {
        return Err(format!("{} bytes where a {} value has {}", v.len(), bank.name(), bank.size()));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(index: usize, pcr: u32, data: &[u8]) -> Event {
        let b = Bank::Sha256;
        Event { index, offset: 0, pcr, ev_type: EV_SLAUNCH, digests: vec![(b, b.hash(data))], data: data.to_vec() }
    }

    /// SKL's events of a PSP-path log: EV_SLAUNCH ones in order; the
    /// service's other extending records set aside; EV_NO_ACTION neither.
    #[test]
    fn psp_log_keeps_skl_events_and_names_the_services() {
        let typed = |i, pcr, t| Event { ev_type: t, ..ev(i, pcr, b"x") };
        let evs = [
            typed(0, 17, EV_SLAUNCH),
            typed(1, 17, 0x8002),
            typed(2, 17, EV_NO_ACTION),
            typed(3, 18, 0x8003),
            typed(4, 17, EV_SLAUNCH),
            typed(5, 17, EV_SLAUNCH),
        ];
        let (ours, theirs) = skl_events_of_psp_log(&evs);
        assert_eq!(ours.iter().map(|e| e.index).collect::<Vec<_>>(), [0, 4, 5]);
        assert_eq!(theirs, [1, 3]);
    }

    #[test]
    fn no_action_events_are_not_replayed() {
        let mut e = ev(0, 17, b"x");
        e.ev_type = EV_NO_ACTION;
        assert!(replay(&[e]).is_empty());
    }

    #[test]
    fn a_value_missing_the_last_extends_is_located() {
        let b = Bank::Sha256;
        let evs = [ev(0, 17, b"a"), ev(1, 18, b"m"), ev(2, 17, b"b"), ev(3, 17, b"c")];
        let after_b = b.extend_data(&b.extend_data(&b.zero(), b"a"), b"b");
        match check_value(&evs, b, 17, &after_b) {
            ValueCheck::Mismatch { contributors, prefix, .. } => {
                assert_eq!(contributors, [0, 2, 3]);
                assert_eq!(prefix, Some(2));
            }
            ValueCheck::Match => panic!("not a match"),
        }
        assert!(matches!(
            check_value(&evs, b, 17, &[0xff; 32]),
            ValueCheck::Mismatch { hint: Some(h), prefix: None, .. } if h.contains("no dynamic launch")
        ));
    }

    #[test]
    fn pcrread_text_and_assignments_parse() {
        let v =
            parse_pcr_values(&format!("sha256:\n  17: 0x{}\nsha1:18={}\n", "AB".repeat(32), "00".repeat(20))).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].0, v[0].1), (Bank::Sha256, 17));
        assert_eq!((v[1].0, v[1].1), (Bank::Sha1, 18));
        assert!(parse_pcr_values("  17: 0x00").unwrap_err().contains("line 1"));
        assert!(parse_pcr_values("sha1:17=00").unwrap_err().contains("1 bytes where a sha1 value has 20"));
    }
}
