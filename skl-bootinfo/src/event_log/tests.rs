//! Header bytes checked against a layout written by hand from
//! `abi-grub-xen.md` §6.3 (SKL `event_log.c` offsets).
use super::*;

const SHA1: AlgSize = AlgSize { alg: 0x0004, size: 20 };
const SHA256: AlgSize = AlgSize { alg: 0x000B, size: 32 };

#[test]
fn two_bank_header_matches_the_documented_offsets() {
    let mut buf = [0xAAu8; 256];
    let log = Tcg2Log::init(&mut buf, 0x90_0000, &[SHA1, SHA256]).unwrap();
    assert_eq!(log.len(), 89);
    assert_eq!(&buf[0..4], &[0, 0, 0, 0]); // pcr 0
    assert_eq!(&buf[4..8], &[3, 0, 0, 0]); // EV_NO_ACTION
    assert_eq!(&buf[8..28], &[0; 20]);
    assert_eq!(&buf[28..32], &[57, 0, 0, 0]); // event size
    assert_eq!(&buf[32..48], b"Spec ID Event03\0");
    assert_eq!(&buf[48..52], &[0; 4]);
    assert_eq!(&buf[52..56], &[0, 2, 0, 2]);
    assert_eq!(&buf[56..60], &[2, 0, 0, 0]);
    assert_eq!(&buf[60..68], &[4, 0, 20, 0, 0x0B, 0, 32, 0]);
    assert_eq!(buf[68], 20);
    assert_eq!(&buf[69..77], &0x90_0000u64.to_le_bytes());
    assert_eq!(&buf[77..81], &256u32.to_le_bytes());
    assert_eq!(&buf[81..85], &[0; 4]);
    assert_eq!(&buf[85..89], &89u32.to_le_bytes());
    assert!(buf[89..].iter().all(|&b| b == 0), "rest of the log zeroed");
}

#[test]
fn events_append_and_read_back() {
    let mut buf = [0u8; 512];
    let mut log = Tcg2Log::init(&mut buf, 0x1000, &[SHA1, SHA256]).unwrap();
    log.append(17, EV_SLAUNCH, &[(4, &[1; 20]), (0x0B, &[2; 32])], b"SKINIT").unwrap();
    log.append(17, EV_SLAUNCH, &[(4, &[3; 20]), (0x0B, &[4; 32])], b"DLME").unwrap();
    // 72 + len per event (abi-grub-xen.md §6.3)
    assert_eq!(log.len(), 89 + 72 + 6 + 72 + 4);
    let h = parse_tcg2_header(&buf).unwrap();
    assert_eq!(h.next_record, Some(89 + 78 + 76));
    let ev: Vec<_> = events(&buf, &h).map(|e| e.unwrap()).collect();
    assert_eq!(ev.len(), 2);
    assert_eq!((ev[0].pcr, ev[0].ev_type, ev[0].data), (17, EV_SLAUNCH, &b"SKINIT"[..]));
    let d: Vec<_> = ev[1].digests(&h).collect();
    assert_eq!(d, [(4, &[3u8; 20][..]), (0x0B, &[4u8; 32][..])]);
}

#[test]
fn a_full_log_is_an_error_not_an_overflow() {
    let mut buf = [0u8; 89 + 72 + 10];
    let mut log = Tcg2Log::init(&mut buf, 0, &[SHA1, SHA256]).unwrap();
    log.append(17, EV_SLAUNCH, &[(4, &[0; 20]), (0x0B, &[0; 32])], b"0123456789").unwrap();
    assert_eq!(log.append(17, EV_SLAUNCH, &[(4, &[0; 20]), (0x0B, &[0; 32])], b""), Err(LogError::Full(72)));
    assert_eq!(Tcg2Log::init(&mut [0u8; 88], 0, &[SHA1, SHA256]).err(), Some(LogError::TooSmall(88)));
}

#[test]
fn reopen_continues_and_checks_algorithms() {
    let mut buf = [0u8; 512];
    Tcg2Log::init(&mut buf, 0, &[SHA1, SHA256])
        .unwrap()
        .append(17, 1, &[(4, &[0; 20]), (0x0B, &[0; 32])], b"a")
        .unwrap();
    assert_eq!(Tcg2Log::open(&mut buf, &[SHA256]).err(), Some(LogError::AlgorithmMismatch(2)));
    let mut log = Tcg2Log::open(&mut buf, &[SHA1, SHA256]).unwrap();
    assert_eq!(log.len(), 89 + 73);
    log.append(18, 2, &[(4, &[0; 20]), (0x0B, &[0; 32])], b"b").unwrap();
    assert_eq!(log.append(18, 2, &[(4, &[0; 20])], b"b"), Err(LogError::BadDigest(1)));
}

#[test]
fn tpm12_header_matches_the_documented_offsets_and_events_read_back() {
    let mut buf = [0xAAu8; 300];
    let mut log = Tpm12Log::init(&mut buf).unwrap();
    log.append(17, EV_SLAUNCH, &[9; 20], b"DLME").unwrap();
    assert_eq!(log.len(), 105 + 36);
    assert_eq!(&buf[4..8], &[3, 0, 0, 0]);
    assert_eq!(&buf[28..32], &[73, 0, 0, 0]);
    assert_eq!(&buf[32..48], b"Spec ID Event00\0");
    assert_eq!(&buf[52..56], &[2, 1, 1, 0]);
    assert_eq!(buf[56], 48);
    assert_eq!(&buf[57..77], b"TXT Event Container\0");
    assert_eq!(&buf[89..93], &[1, 0, 1, 0]);
    assert_eq!(&buf[93..97], &300u32.to_le_bytes());
    assert_eq!(&buf[97..101], &48u32.to_le_bytes());
    assert_eq!(&buf[101..105], &(48u32 + 36).to_le_bytes());
    let ev: Vec<_> = events12(&buf).map(|e| e.unwrap()).collect();
    assert_eq!(ev.len(), 1);
    assert_eq!((ev[0].pcr, ev[0].sha1, ev[0].data), (17, &[9u8; 20][..], &b"DLME"[..]));
    let mut again = Tpm12Log::open(&mut buf).unwrap();
    assert_eq!(again.append(17, 1, &[0; 20], &[0; 200]), Err(LogError::Full(232)));
}
