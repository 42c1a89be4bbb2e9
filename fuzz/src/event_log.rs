//! `event_log`: bytes → the TPM 2.0 header parser and both event iterators;
//! then open a copy as a bootloader-started log (TPM 2.0 with the algorithms
//! its header lists, and TPM 1.2), append one event, and read it back.

use skl_bootinfo::event_log::{events, events12, parse_tcg2_header, Tcg2Log, Tpm12Log, EV_SLAUNCH};

const EVENT: &[u8] = b"fuzz event";

pub fn run(data: &[u8]) {
    if let Ok(h) = parse_tcg2_header(data) {
        assert!((1..=4).contains(&h.nalgs));
        assert!(h.events_start <= data.len());
        for e in events(data, &h).take(4096) {
            let Ok(e) = e else { break };
            assert!(e.offset >= h.events_start && e.offset < data.len());
            assert!(e.digests(&h).count() <= 16);
            assert!(e.data.len() < data.len());
        }
    }
    for e in events12(data).take(4096) {
        let Ok(e) = e else { break };
        assert!(e.offset >= 105 && e.sha1.len() == 20 && e.data.len() < data.len());
    }

    let mut buf = data.to_vec();
    if let Ok(h) = parse_tcg2_header(&buf) {
        let algs = h.algs[..h.nalgs].to_vec();
        let digests: Vec<(u16, Vec<u8>)> =
            algs.iter().enumerate().map(|(i, a)| (a.alg, vec![i as u8 ^ 0xA5; a.size as usize])).collect();
        let refs: Vec<(u16, &[u8])> = digests.iter().map(|(a, d)| (*a, &d[..])).collect();
        if let Ok(mut log) = Tcg2Log::open(&mut buf, &algs) {
            let before = log.len();
            if log.append(17, EV_SLAUNCH, &refs, EVENT).is_ok() {
                let after = log.len();
                assert!(before < after && after <= data.len());
                let h2 = parse_tcg2_header(&buf).expect("header still parses after an append");
                assert_eq!(h2.next_record, Some(after));
                // Below its offset, an append changes only next_record_offset.
                let f = 60 + 4 * h.nalgs + 17;
                let mut old = data[..before].to_vec();
                old[f..f + 4].copy_from_slice(&(after as u32).to_le_bytes());
                assert_eq!(&buf[..before], &old[..], "append wrote below its offset");
                // If the walk reaches our record it must read back as written.
                // (Only with distinct algorithms: the reader sizes a digest by
                // the first header entry of its algorithm.)
                let unique = algs.iter().all(|a| algs.iter().filter(|b| b.alg == a.alg).count() == 1);
                let mine = events(&buf, &h2).find(|e| e.as_ref().is_ok_and(|e| e.offset >= before));
                if let (true, Some(Ok(e))) = (unique, mine) {
                    if e.offset == before {
                        assert_eq!((e.pcr, e.ev_type, e.data), (17, EV_SLAUNCH, EVENT));
                        let got: Vec<(u16, &[u8])> = e.digests(&h2).collect();
                        assert_eq!(got, refs);
                    }
                }
            }
        }
    }

    let mut buf = data.to_vec();
    if let Ok(mut log) = Tpm12Log::open(&mut buf) {
        let before = log.len();
        if log.append(17, EV_SLAUNCH, &[0x5A; 20], EVENT).is_ok() {
            let after = log.len();
            assert!(before < after && after <= data.len());
            assert_eq!(&buf[..101], &data[..101]);
            let mut found = false;
            for e in events12(&buf).take(4096) {
                let Ok(e) = e else { break };
                if e.offset == before {
                    assert_eq!((e.pcr, e.ev_type, e.sha1, e.data), (17, EV_SLAUNCH, &[0x5A; 20][..], EVENT));
                    found = true;
                }
                assert!(e.offset + 32 + e.data.len() <= after);
            }
            let _ = found;
        }
    }
}
