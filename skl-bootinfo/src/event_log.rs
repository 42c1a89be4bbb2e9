//! DRTM event log, TPM 2.0 format: TCG crypto-agile log (TCG PC Client
//! Platform Firmware Profile, §10.4: TCG_PCR_EVENT header event carrying
//! TCG_EfiSpecIDEvent, then TCG_PCR_EVENT2 records) with the TXT
//! "EventLogPointer 2.1"-style vendor data TrenchBoot uses so later stages
//! can append: {phys_addr u64, allocated size u32, first_record_offset u32,
//! next_record_offset u32}. Layout as TrenchBoot SKL `event_log.c` writes it
//! and TrenchBoot Xen `xen/arch/x86/tpm.c` appends to it
//! (`abi-grub-xen.md` §6.3).
//!
//! [`Tcg2Log`] appends bounded by the log's size (a full log is an error,
//! never an overflow); [`events`] reads a log back for replay.

/// EV_NO_ACTION (header event).
pub const EV_NO_ACTION: u32 = 3;
/// TXT_EVTYPE_BASE 0x400 + 0x102: the event type of every SKL/Xen DRTM event.
pub const EV_SLAUNCH: u32 = 0x502;

const SPEC_ID_SIGNATURE: &[u8; 16] = b"Spec ID Event03\0";
/// Size of the TCG_PCR_EVENT header record before its event data.
const HEADER_EVENT_FIXED: usize = 32;
/// Vendor info SKL writes (EventLogPointer 2.1 style).
const VENDOR_INFO_SIZE: usize = 20;
pub const MAX_ALGS: usize = 4;

/// Why a log cannot be written or read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogError {
    /// The log area cannot hold the header.
    TooSmall(usize),
    /// An event does not fit in the space left (bytes needed).
    Full(usize),
    /// The existing header is not a crypto-agile Spec ID event03.
    BadHeader(usize),
    /// The existing header lists other algorithms than the TPM's banks.
    AlgorithmMismatch(u16),
    /// A digest of the wrong size or algorithm for this log.
    BadDigest(u16),
    /// A record runs past the end of the log (offset).
    Truncated(usize),
}

/// Algorithm and digest size, as listed in the Spec ID event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AlgSize {
    pub alg: u16,
    pub size: u16,
}

/// A TPM 2.0 DRTM log being appended to.
pub struct Tcg2Log<'a> {
    buf: &'a mut [u8],
    algs: [AlgSize; MAX_ALGS],
    nalgs: usize,
    /// Offset (in `buf`) of the vendor info's next_record_offset field;
    /// `None` when the append point is kept outside the log (TXT: the heap's
    /// EVENT_LOG_POINTER2_1 element).
    next_field: Option<usize>,
    next: usize,
}

fn rd32(b: &[u8], o: usize) -> Option<u32> {
    b.get(o..o + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}
/// `b[o..o + want.len()] == want`, without a call to `memcmp` (the payload
/// has few comparisons; the generic routine costs ~600 bytes of its image).
fn bytes_at(b: &[u8], o: usize, want: &[u8]) -> bool {
    b.get(o..o + want.len()).is_some_and(|s| s.iter().zip(want).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0)
}

fn rd16(b: &[u8], o: usize) -> Option<u16> {
    b.get(o..o + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

/// The parsed header of a TPM 2.0 log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tcg2Header {
    pub algs: [AlgSize; MAX_ALGS],
    pub nalgs: usize,
    /// First byte after the header record.
    pub events_start: usize,
    /// Vendor info next_record_offset (end of the last record), if present.
    pub next_record: Option<usize>,
    /// Offset of the next_record_offset field, if present.
    next_field: Option<usize>,
}

/// Parse the header record of a TPM 2.0 log.
pub fn parse_tcg2_header(b: &[u8]) -> Result<Tcg2Header, LogError> {
    let bad = |o| LogError::BadHeader(o);
    if rd32(b, 4) != Some(EV_NO_ACTION) {
        return Err(bad(4));
    }
    let ev_size = rd32(b, 28).ok_or(bad(28))? as usize;
    let end = HEADER_EVENT_FIXED.checked_add(ev_size).filter(|&e| e <= b.len()).ok_or(bad(28))?;
    if !bytes_at(b, 32, SPEC_ID_SIGNATURE) {
        return Err(bad(32));
    }
    let n = rd32(b, 56).ok_or(bad(56))? as usize;
    if n == 0 || n > MAX_ALGS {
        return Err(bad(56));
    }
    let mut algs = [AlgSize::default(); MAX_ALGS];
    for (i, a) in algs.iter_mut().enumerate().take(n) {
        let o = 60 + 4 * i;
        *a = AlgSize { alg: rd16(b, o).ok_or(bad(o))?, size: rd16(b, o + 2).ok_or(bad(o))? };
    }
    let vs_off = 60 + 4 * n;
    let vendor_size = *b.get(vs_off).ok_or(bad(vs_off))? as usize;
    if vs_off + 1 + vendor_size != end {
        return Err(bad(vs_off));
    }
    let (next_record, next_field) = if vendor_size == VENDOR_INFO_SIZE {
        let f = vs_off + 1 + 16;
        (rd32(b, f).map(|v| v as usize), Some(f))
    } else {
        (None, None)
    };
    Ok(Tcg2Header { algs, nalgs: n, events_start: end, next_record, next_field })
}

/// Bytes of one TCG_PCR_EVENT2 without its data: pcr, type, digest count,
/// then (algorithm, digest) per bank, then the data size. `digest_bytes` is
/// the sum of the banks' digest sizes.
pub const fn tcg2_event_fixed(banks: usize, digest_bytes: usize) -> usize {
    16 + 2 * banks + digest_bytes
}

/// Bytes of one TPM 1.2 TCG_PCR_EVENT without its data: pcr, type, SHA-1,
/// data size.
pub const TPM12_EVENT_FIXED: usize = 32;

impl<'a> Tcg2Log<'a> {
    /// Zero `buf` and write a header for `algs`. `phys` is the log's physical
    /// address (recorded in the vendor info for the DLME).
    pub fn init(buf: &'a mut [u8], phys: u64, algs: &[AlgSize]) -> Result<Self, LogError> {
        let n = algs.len().min(MAX_ALGS);
        let ev_size = 16 + 4 + 4 + 4 + 4 * n + 1 + VENDOR_INFO_SIZE;
        let end = HEADER_EVENT_FIXED + ev_size;
        if buf.len() < end || buf.len() > u32::MAX as usize {
            return Err(LogError::TooSmall(buf.len()));
        }
        buf.fill(0);
        let mut w = Cursor { b: buf, o: 0 };
        w.u32(0).u32(EV_NO_ACTION).bytes(&[0; 20]).u32(ev_size as u32);
        w.bytes(SPEC_ID_SIGNATURE).u32(0); // platformClass
        w.bytes(&[0, 2, 0, 2]); // specVersionMinor 0, Major 2, errata 0, uintnSize 2 (u64)
        w.u32(n as u32);
        for a in &algs[..n] {
            w.u16(a.alg).u16(a.size);
        }
        w.bytes(&[VENDOR_INFO_SIZE as u8]);
        let total = w.b.len() as u32;
        w.u64(phys).u32(total).u32(0);
        let next_field = w.o;
        w.u32(end as u32);
        let mut a = [AlgSize::default(); MAX_ALGS];
        a[..n].copy_from_slice(&algs[..n]);
        Ok(Tcg2Log { buf, algs: a, nalgs: n, next_field: Some(next_field), next: end })
    }

    /// Continue a log the bootloader already started: its header must list
    /// exactly `algs` and carry the vendor info with the append offset.
    pub fn open(buf: &'a mut [u8], algs: &[AlgSize]) -> Result<Self, LogError> {
        let h = parse_tcg2_header(buf)?;
        if h.nalgs != algs.len() {
            return Err(LogError::AlgorithmMismatch(h.nalgs as u16));
        }
        for (have, want) in h.algs[..h.nalgs].iter().zip(algs) {
            if have != want {
                return Err(LogError::AlgorithmMismatch(have.alg));
            }
        }
        let (Some(next), Some(next_field)) = (h.next_record, h.next_field) else {
            return Err(LogError::BadHeader(h.events_start));
        };
        if next < h.events_start || next > buf.len() {
            return Err(LogError::BadHeader(next_field));
        }
        Ok(Tcg2Log { buf, algs: h.algs, nalgs: h.nalgs, next_field: Some(next_field), next })
    }

    /// Continue a log whose append offset `next` is kept outside it (Intel
    /// TXT: SINIT writes the header and its events and advances
    /// `NextRecordOffset` in the heap; `txt-mle.md` §5.3). The header must
    /// list exactly `algs`; the caller stores [`Self::len`] back afterwards.
    pub fn open_at(buf: &'a mut [u8], algs: &[AlgSize], next: usize) -> Result<Self, LogError> {
        let h = parse_tcg2_header(buf)?;
        if h.algs[..h.nalgs] != *algs {
            return Err(LogError::AlgorithmMismatch(h.algs[0].alg));
        }
        if next < h.events_start || next > buf.len() {
            return Err(LogError::BadHeader(next));
        }
        Ok(Tcg2Log { buf, algs: h.algs, nalgs: h.nalgs, next_field: None, next })
    }

    /// Append a TCG_PCR_EVENT2. `digests` must be one per log algorithm, in
    /// the header's order.
    pub fn append(&mut self, pcr: u32, ev_type: u32, digests: &[(u16, &[u8])], data: &[u8]) -> Result<(), LogError> {
        if digests.len() != self.nalgs {
            return Err(LogError::BadDigest(digests.len() as u16));
        }
        let mut digest_bytes = 0;
        for ((alg, d), want) in digests.iter().zip(&self.algs[..self.nalgs]) {
            if *alg != want.alg || d.len() != want.size as usize {
                return Err(LogError::BadDigest(*alg));
            }
            digest_bytes += d.len();
        }
        let need = tcg2_event_fixed(digests.len(), digest_bytes) + data.len();
        if self.next.checked_add(need).is_none_or(|e| e > self.buf.len()) {
            return Err(LogError::Full(need));
        }
        let mut w = Cursor { b: self.buf, o: self.next };
        w.u32(pcr).u32(ev_type).u32(digests.len() as u32);
        for (alg, d) in digests {
            w.u16(*alg).bytes(d);
        }
        w.u32(data.len() as u32).bytes(data);
        self.next = w.o;
        if let Some(nf) = self.next_field {
            self.buf[nf..nf + 4].copy_from_slice(&(self.next as u32).to_le_bytes());
        }
        Ok(())
    }

    /// Bytes in use.
    pub fn len(&self) -> usize {
        self.next
    }
    pub fn is_empty(&self) -> bool {
        self.next == 0
    }
}

struct Cursor<'b> {
    b: &'b mut [u8],
    o: usize,
}

impl Cursor<'_> {
    fn bytes(&mut self, s: &[u8]) -> &mut Self {
        self.b[self.o..self.o + s.len()].copy_from_slice(s);
        self.o += s.len();
        self
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
}

/// One TCG_PCR_EVENT2 read back from a log.
#[derive(Clone, Copy, Debug)]
pub struct Event2<'a> {
    pub offset: usize,
    pub pcr: u32,
    pub ev_type: u32,
    digests: &'a [u8],
    count: usize,
    pub data: &'a [u8],
}

impl<'a> Event2<'a> {
    /// (algorithm, digest) pairs, sizes from the header.
    pub fn digests(&self, h: &Tcg2Header) -> impl Iterator<Item = (u16, &'a [u8])> + 'a {
        let algs = h.algs;
        let nalgs = h.nalgs;
        let mut o = 0;
        let b = self.digests;
        (0..self.count).map_while(move |_| {
            let alg = rd16(b, o)?;
            let size = algs[..nalgs].iter().find(|a| a.alg == alg)?.size as usize;
            let d = b.get(o + 2..o + 2 + size)?;
            o += 2 + size;
            Some((alg, d))
        })
    }
}

/// Iterate the events after the header up to `end` (next_record_offset, or
/// the first all-zero record). Stops with an error item on a record that
/// runs past the log.
pub fn events<'a>(b: &'a [u8], h: &Tcg2Header) -> impl Iterator<Item = Result<Event2<'a>, LogError>> + 'a {
    let end = h.next_record.unwrap_or(b.len()).min(b.len());
    let algs = h.algs;
    let nalgs = h.nalgs;
    let mut o = h.events_start;
    let mut failed = false;
    core::iter::from_fn(move || {
        if failed || o + 12 > end {
            return None;
        }
        let start = o;
        let rec = (|| {
            let pcr = rd32(b, o)?;
            let ev_type = rd32(b, o + 4)?;
            let count = rd32(b, o + 8)? as usize;
            if ev_type == 0 && count == 0 {
                return None;
            }
            let mut p = o + 12;
            for _ in 0..count.min(16) {
                let alg = rd16(b, p)?;
                let size = algs[..nalgs].iter().find(|a| a.alg == alg)?.size as usize;
                p += 2 + size;
            }
            let dig = b.get(o + 12..p)?;
            let len = rd32(b, p)? as usize;
            let data = b.get(p + 4..(p + 4).checked_add(len)?)?;
            if p + 4 + len > end {
                return None;
            }
            Some((Event2 { offset: start, pcr, ev_type, digests: dig, count, data }, p + 4 + len))
        })();
        match rec {
            Some((e, next)) => {
                o = next;
                Some(Ok(e))
            }
            None => {
                failed = true;
                // An all-zero record at the end of a zeroed log is not an error.
                if rd32(b, o + 4) == Some(0) && rd32(b, o + 8) == Some(0) {
                    None
                } else {
                    Some(Err(LogError::Truncated(start)))
                }
            }
        }
    })
}

/// The TPM 1.2 DRTM log: a TCG_PCR_EVENT header ("Spec ID Event00") whose
/// vendor data is a TXT event container; SHA-1 TCG_PCR_EVENT records follow.
/// Offsets as TrenchBoot SKL `event_log.c` writes it (`abi-grub-xen.md`
/// §6.2): the container starts at 57 and its offsets count from there.
pub struct Tpm12Log<'a> {
    buf: &'a mut [u8],
    next: usize,
}

const TXT_CONTAINER: usize = 57;
const TPM12_EVENTS: usize = 105;
const TPM12_NEXT_FIELD: usize = 101;

/// Where the events of a TPM 1.2 log end, from its container header.
pub fn parse_tpm12_header(b: &[u8]) -> Result<usize, LogError> {
    if rd32(b, 4) != Some(EV_NO_ACTION) || !bytes_at(b, 32, b"Spec ID Event00\0") {
        return Err(LogError::BadHeader(4));
    }
    if !bytes_at(b, 57, b"TXT Event Container\0") {
        return Err(LogError::BadHeader(57));
    }
    let next = rd32(b, TPM12_NEXT_FIELD).ok_or(LogError::BadHeader(TPM12_NEXT_FIELD))? as usize + TXT_CONTAINER;
    if next < TPM12_EVENTS || next > b.len() {
        return Err(LogError::BadHeader(TPM12_NEXT_FIELD));
    }
    Ok(next)
}

impl<'a> Tpm12Log<'a> {
    pub fn init(buf: &'a mut [u8]) -> Result<Self, LogError> {
        if buf.len() < TPM12_EVENTS || buf.len() > u32::MAX as usize {
            return Err(LogError::TooSmall(buf.len()));
        }
        buf.fill(0);
        let size = buf.len() as u32;
        let mut w = Cursor { b: buf, o: 0 };
        w.u32(0).u32(EV_NO_ACTION).bytes(&[0; 20]).u32((TPM12_EVENTS - HEADER_EVENT_FIXED) as u32);
        w.bytes(b"Spec ID Event00\0").u32(0).bytes(&[2, 1, 1, 0]).bytes(&[48]);
        w.bytes(b"TXT Event Container\0").bytes(&[0; 12]).bytes(&[1, 0, 1, 0]);
        w.u32(size).u32((TPM12_EVENTS - TXT_CONTAINER) as u32).u32((TPM12_EVENTS - TXT_CONTAINER) as u32);
        Ok(Tpm12Log { buf, next: TPM12_EVENTS })
    }

    pub fn open(buf: &'a mut [u8]) -> Result<Self, LogError> {
        let next = parse_tpm12_header(buf)?;
        Ok(Tpm12Log { buf, next })
    }

    pub fn append(&mut self, pcr: u32, ev_type: u32, sha1: &[u8; 20], data: &[u8]) -> Result<(), LogError> {
        let need = TPM12_EVENT_FIXED + data.len();
        if self.next.checked_add(need).is_none_or(|e| e > self.buf.len()) {
            return Err(LogError::Full(need));
        }
        let mut w = Cursor { b: self.buf, o: self.next };
        w.u32(pcr).u32(ev_type).bytes(sha1).u32(data.len() as u32).bytes(data);
        self.next = w.o;
        let rel = (self.next - TXT_CONTAINER) as u32;
        self.buf[TPM12_NEXT_FIELD..TPM12_NEXT_FIELD + 4].copy_from_slice(&rel.to_le_bytes());
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.next
    }
    pub fn is_empty(&self) -> bool {
        self.next == 0
    }
}

/// One TPM 1.2 TCG_PCR_EVENT read back.
#[derive(Clone, Copy, Debug)]
pub struct Event12<'a> {
    pub offset: usize,
    pub pcr: u32,
    pub ev_type: u32,
    pub sha1: &'a [u8],
    pub data: &'a [u8],
}

/// Events of a TPM 1.2 log.
pub fn events12(b: &[u8]) -> impl Iterator<Item = Result<Event12<'_>, LogError>> + '_ {
    let end = parse_tpm12_header(b).unwrap_or(TPM12_EVENTS);
    let mut o = TPM12_EVENTS;
    let mut failed = false;
    core::iter::from_fn(move || {
        if failed || o + 32 > end {
            return None;
        }
        let start = o;
        let len = rd32(b, o + 28)? as usize;
        match b.get(o + 32..).and_then(|r| r.get(..len)).filter(|_| o + 32 + len <= end) {
            Some(data) => {
                o += 32 + len;
                Some(Ok(Event12 {
                    offset: start,
                    pcr: rd32(b, start)?,
                    ev_type: rd32(b, start + 4)?,
                    sha1: &b[start + 8..start + 28],
                    data,
                }))
            }
            None => {
                failed = true;
                Some(Err(LogError::Truncated(start)))
            }
        }
    })
}

#[cfg(test)]
mod tests;
