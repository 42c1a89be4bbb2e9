//! The PSP driver, the decision and the PSP path against `fake_psp.rs`.

use super::flow::*;
use super::*;
use crate::error::LaunchError;
use crate::fake_psp::*;
use crate::fake_tpm::hash;
use crate::launch::{EventLog, LaunchPlan};
use crate::memory::FakeRam;
use crate::tpm::TpmError;
use skl_bootinfo::addr::{PhysAddr, PhysRange};
use skl_bootinfo::event_log::{events, parse_tcg2_header};

const RAM: u64 = 0x10_0000;
const SLB: u64 = 0x20_0000;
const MEASURED: u64 = 0x3000;
const DLME: u64 = 0x40_0000;
const DLME_SIZE: u64 = 0x2345;
const ENTRY: u32 = 0x40;
const LOG: u64 = 0x50_0000;
const LOG_SIZE: u64 = 0x8000;
const SHA1: u16 = 0x0004;
const SHA384: u16 = 0x000C;

/// RAM of recognisable bytes and a TPM as SKINIT leaves it: PCR 17 =
/// E(0, H(SLB measured part)) in every bank, PCR 18 = 0.
fn machine(banks: &[u16]) -> FakeMachine {
    let mut ram = FakeRam::new(RAM, 0x80_0000);
    // A 256-byte period, written once and copied (the tests build many
    // machines; a byte loop over 8 MiB is slow unoptimised).
    for (i, b) in ram.bytes[..256].iter_mut().enumerate() {
        *b = (i * 7 + 3) as u8;
    }
    for k in 1..ram.bytes.len() / 256 {
        ram.bytes.copy_within(..256, k * 256);
    }
    let m = FakeMachine::new(ram, banks);
    let slb = bytes(&m, SLB, MEASURED);
    for &alg in banks {
        let zero = vec![0; hash(alg, b"").len()];
        m.tpm.borrow_mut().pcrs.insert((alg, 17), extend(alg, &zero, &hash(alg, &slb)));
    }
    m
}

fn plan() -> LaunchPlan {
    LaunchPlan {
        dlme: PhysRange::new(PhysAddr(DLME), DLME_SIZE).unwrap(),
        entry_offset: ENTRY,
        context: 0x30_0000,
        log: Some(EventLog {
            range: PhysRange::new(PhysAddr(LOG), LOG_SIZE).unwrap(),
            format: skl_bootinfo::slrt::log_format::TPM20_TCG,
            next_record_at: None,
        }),
        mbi: None,
        mbi_declared_len: 0,
        mle_header: Some(0),
    }
}

fn slb() -> PhysRange {
    PhysRange::new(PhysAddr(SLB), MEASURED).unwrap()
}

fn bytes(m: &FakeMachine, at: u64, len: u64) -> Vec<u8> {
    m.ram.bytes[(at - RAM) as usize..(at - RAM + len) as usize].to_vec()
}

fn extend(alg: u16, old: &[u8], digest: &[u8]) -> Vec<u8> {
    let mut b = old.to_vec();
    b.extend_from_slice(digest);
    hash(alg, &b)
}

/// Probe, decide, and run the PSP path; the machine afterwards.
fn psp_launch(m: &mut FakeMachine) -> Result<PspReport, LaunchError> {
    let s = choose(m)?.expect("the PSP path");
    let mut t = m.tpm_port();
    run_psp_path(m, &mut t, &s.mailbox, &plan(), slb(), || Ok(()))
}

/// SKL extended nothing: no PCR_Extend reached the TPM, whatever the PSP
/// itself did.
fn skl_extended_nothing(m: &FakeMachine) {
    assert!(m.tpm.borrow().commands.iter().all(|&(cc, _)| cc != 0x182), "{:x?}", m.tpm.borrow().commands);
}

#[test]
fn decision_table() {
    let cap = |drtm| Capability { drtm, tsme: false, anti_rollback: false, version: 1, tmr_alignment: 0, tmr_count: 8 };
    assert_eq!(decide(&Probe::NoService), Ok(Path::Skinit));
    assert_eq!(decide(&Probe::Capability(Ok(cap(true)))), Ok(Path::Psp));
    assert_eq!(decide(&Probe::Capability(Ok(cap(false)))), Ok(Path::Skinit));
    for absent in [PspError::NotSupported { cmd: 1 }, PspError::InvalidServiceId { cmd: 1 }] {
        assert_eq!(decide(&Probe::Capability(Err(absent))), Ok(Path::Skinit));
    }
    for failing in [
        PspError::Timeout { cmd: 1 },
        PspError::NeverReady { value: 0 },
        PspError::NoMailbox { base: 0 },
        PspError::Generic { cmd: 1 },
        PspError::OutOfResources { cmd: 1 },
        PspError::UnknownStatus { cmd: 1, status: 0x55 },
    ] {
        assert_eq!(decide(&Probe::Capability(Err(failing))), Err(failing), "present but failing: stop");
    }
}

#[test]
fn discovery_scans_for_a_known_device_and_reads_the_base_through_smn() {
    let mut m = machine(&[SHA256]);
    let s = choose(&mut m).unwrap().unwrap();
    assert_eq!(s.found, Found { at: PSP_BDF, device: 0x14CA, version: 3 });
    assert_eq!(
        s.mailbox,
        Mailbox { cmd: PSP_BASE + 0x10A20, args: [PSP_BASE + 0x10A74, PSP_BASE + 0x10A78, PSP_BASE + 0x10A7C] }
    );
    assert!(s.capability.drtm);
    assert_eq!((s.capability.tmr_count, s.capability.tmr_alignment), (8, 0x1_0000));
    assert_eq!(m.psp.commands, [0x01]);
    assert_eq!(m.psp.command_reg & 6, 6, "memory decoding and bus mastering on");
    assert_eq!(m.cfg_read(HOST_BRIDGE, SMN_INDEX), 0, "SMN index restored");
}

#[test]
fn no_psp_or_a_psp_without_a_drtm_mailbox_is_the_skinit_path() {
    let mut m = machine(&[SHA256]);
    m.no_psp = true;
    assert_eq!(choose(&mut m), Ok(None));
    for device in [0x1537, 0x1456, 0x1468, 0x1234] {
        let mut m = machine(&[SHA256]);
        m.psp.device = device;
        assert_eq!(choose(&mut m), Ok(None), "device {device:#x}");
        assert!(!m.psp.kicked, "nothing written to a device without the service");
    }
}

#[test]
fn service_off_or_absent_is_the_skinit_path() {
    let mut m = machine(&[SHA256]);
    m.psp.capability[0] = 0b110;
    assert_eq!(choose(&mut m), Ok(None));
    for st in [0x1, 0xA] {
        let mut m = machine(&[SHA256]);
        m.psp.status.insert(0x01, st);
        assert_eq!(choose(&mut m), Ok(None), "status {st:#x}");
    }
}

#[test]
fn every_device_in_the_table_with_a_mailbox_is_found() {
    for (device, v) in PSP_DEVICES.iter().copied().filter(|d| d.1 != 0) {
        let mut m = machine(&[SHA256]);
        m.psp.device = device;
        assert_eq!(choose(&mut m).unwrap().unwrap().found.version, v);
    }
}

#[test]
fn layout_b_cpus_use_the_second_register_set() {
    for sig in [0x0086_0F01, 0x0086_0F81, 0x00A4_0F41] {
        let mut m = machine(&[SHA256]);
        m.psp.cpu_signature = sig;
        m.psp.layout = Layout::B;
        let s = choose(&mut m).unwrap().unwrap();
        assert_eq!(s.mailbox.args[0], PSP_BASE + 0x10AA0);
    }
    assert_eq!(Layout::for_signature(0x00A1_0F11), Layout::A);
    assert_eq!(Layout::for_signature(0x00B0_0F21), Layout::A);
}

#[test]
fn a_present_but_failing_psp_stops_the_launch() {
    let mut m = machine(&[SHA256]);
    m.psp.smn_base = 0;
    assert_eq!(choose(&mut m), Err(PspError::NoMailbox { base: 0 }));
    let mut m = machine(&[SHA256]);
    m.psp.smn_base = u32::MAX;
    assert_eq!(choose(&mut m), Err(PspError::NoMailbox { base: 0xFFF0_0000 }));

    let mut m = machine(&[SHA256]);
    m.psp.dead = true;
    assert_eq!(choose(&mut m), Err(PspError::NeverReady { value: 0 }));
    assert!(m.now_us >= READY_MS as u64 * 1000 && m.now_us < (READY_MS as u64 + 10) * 1000, "bounded: {}", m.now_us);

    let mut m = machine(&[SHA256]);
    m.psp.latency_ms.insert(0x01, 60_000);
    assert_eq!(choose(&mut m), Err(PspError::Timeout { cmd: 1 }));

    let mut m = machine(&[SHA256]);
    m.psp.status.insert(0x01, 0x9);
    assert_eq!(choose(&mut m), Err(PspError::Generic { cmd: 1 }));
}

#[test]
fn every_status_has_its_own_error_and_code() {
    let mut seen = std::collections::BTreeSet::new();
    for st in 1..=0x12u16 {
        let mut m = machine(&[SHA256]);
        m.psp.status.insert(0x01, st);
        let found = find(&mut m).unwrap();
        let mb = Mailbox::open(&mut m, &found).unwrap();
        let e = mb.get_capability(&mut m).unwrap_err();
        assert_eq!(e, PspError::from_status(Command::GetCapability, st));
        match e {
            PspError::UnknownStatus { status, .. } => assert!(matches!(status, 5 | 6 | 0x11 | 0x12)),
            _ => {
                assert_eq!(e.code(), st, "{e:?}");
                assert!(seen.insert(e.code()));
            }
        }
        assert_eq!(LaunchError::Psp(e).code() >> 8, 0x80);
    }
    assert_eq!(seen.len(), 14);
}

#[test]
fn the_extend_bound_grows_with_the_dlme() {
    assert_eq!(Command::GetCapability.bound_ms(0), 5_000);
    assert_eq!(Command::Launch.bound_ms(0), 10_000);
    assert_eq!(Command::ExtendOsslDigest.bound_ms(0), 120_000);
    // A 7.6 MB Xen took more than 5 s on hardware.
    assert_eq!(Command::ExtendOsslDigest.bound_ms(7_600_000), 120_000 + 7 * 8_000);
    assert_eq!(Command::ExtendOsslDigest.bound_ms(u32::MAX), 120_000 + 4095 * 8_000);
}

#[test]
fn the_mailbox_refuses_a_dlme_larger_than_32_bits() {
    let mut m = machine(&[SHA256]);
    let s = choose(&mut m).unwrap().unwrap();
    let e = s.mailbox.extend_ossl_digest(&mut m, 0x1000, 1 << 32);
    assert_eq!(e, Err(PspError::DlmeTooLarge { size: 1 << 32 }));
    assert_eq!(m.psp.commands, [0x01], "nothing sent");
}

#[test]
fn good_psp_launch_merges_the_psp_log_and_replays_in_every_bank() {
    let banks = [SHA1, SHA256, SHA384];
    let mut m = machine(&banks);
    // Something (GRUB, a locality SKL had) holds locality 2: released.
    m.tpm.borrow_mut().active = Some(0);
    let r = psp_launch(&mut m).unwrap();
    assert_eq!(r.merged, 5);
    assert_eq!(m.psp.commands, [0x01, 0x04, 0x0B, 0x07]);
    assert_eq!(m.psp.ossl, [(DLME, DLME_SIZE as u32)], "the DLME in place");
    assert_eq!(m.tpm.borrow().active, None, "locality released before hand-off");
    let cmds = m.tpm.borrow().commands.clone();
    assert!(cmds.iter().all(|&(_, l)| l == 2), "every TPM command at locality 2: {cmds:x?}");
    // GetCapability, PCR_Read per bank (the service's log checked against
    // the TPM), 5 placeholder extends (SHA-1 and SHA-384 lack every PSP
    // record), entry offset, DLME.
    let want = [0x17A, 0x17E, 0x17E, 0x17E, 0x182, 0x182, 0x182, 0x182, 0x182, 0x182, 0x182];
    assert_eq!(cmds.iter().map(|c| c.0).collect::<Vec<_>>(), want);

    let log = bytes(&m, LOG, LOG_SIZE);
    let h = parse_tcg2_header(&log).unwrap();
    assert_eq!(h.algs[..h.nalgs].iter().map(|a| a.alg).collect::<Vec<_>>(), banks);
    let ev: Vec<_> = events(&log, &h).map(|e| e.unwrap()).collect();
    let types: Vec<u32> = ev.iter().map(|e| e.ev_type).collect();
    assert_eq!(types, [0x502, EV_PSP_LAUNCH, EV_PSP_LAUNCH, EV_PSP_OSSL, EV_PSP_OSSL, EV_PSP_OSSL, 0x502, 0x502]);
    assert_eq!(ev[0].data, b"SKINIT");
    assert_eq!(ev[6].data, b"DLME entry offset");
    assert_eq!(ev[7].data, b"DLME");
    assert!(ev.iter().all(|e| e.ev_type != EV_PSP_SL_IMAGE));

    // Replay: from the DRTM reset's zeros the log gives the TPM's PCR 17
    // and 18 in every bank.
    let slb_image = bytes(&m, SLB, MEASURED);
    for alg in banks {
        let zero = vec![0; hash(alg, b"").len()];
        let mut pcr17 = zero.clone();
        let mut pcr18 = zero.clone();
        for (i, e) in ev.iter().enumerate() {
            let d = e.digests(&h).find(|(a, _)| *a == alg).unwrap().1.to_vec();
            if alg != SHA256 && (1..=5).contains(&i) {
                assert_eq!(d[0], 1);
                assert!(d[1..].iter().all(|&b| b == 0), "placeholder");
            }
            if i == 0 {
                assert_eq!(d, hash(alg, &slb_image), "SKINIT: the CPU's extend, logged by SKL");
            }
            match e.pcr {
                17 => pcr17 = extend(alg, &pcr17, &d),
                18 => pcr18 = extend(alg, &pcr18, &d),
                p => panic!("PCR {p}"),
            }
        }
        let t = m.tpm.borrow();
        assert_eq!(t.pcr(alg, 17), &pcr17[..], "PCR 17 bank {alg:#x}");
        assert_eq!(t.pcr(alg, 18), &pcr18[..], "PCR 18 bank {alg:#x}");
        // SKL's own measurements end PCR 17 in every bank.
        let dlme = bytes(&m, DLME, DLME_SIZE);
        assert_eq!(ev[7].digests(&h).find(|(a, _)| *a == alg).unwrap().1, &hash(alg, &dlme)[..]);
        assert_eq!(ev[6].digests(&h).find(|(a, _)| *a == alg).unwrap().1, &hash(alg, &ENTRY.to_le_bytes())[..]);
    }
    // The PSP's own DLME digest is SHA-256 over the same bytes.
    assert_eq!(
        ev[3].digests(&h).find(|(a, _)| *a == SHA256).unwrap().1,
        &hash(SHA256, &bytes(&m, DLME, DLME_SIZE))[..]
    );
}

#[test]
fn sha256_only_tpm_needs_no_placeholders() {
    let mut m = machine(&[SHA256]);
    psp_launch(&mut m).unwrap();
    let cmds: Vec<u32> = m.tpm.borrow().commands.iter().map(|c| c.0).collect();
    assert_eq!(cmds, [0x17A, 0x17E, 0x182, 0x182]);
}

#[test]
fn a_slow_extend_ossl_is_waited_for() {
    let mut m = machine(&[SHA256]);
    m.psp.latency_ms.insert(0x0B, 100_000);
    psp_launch(&mut m).unwrap();
    assert!(m.now_us >= 100_000_000);
}

/// Run the PSP path on a machine `edit` breaks; the error, after checking
/// SKL extended nothing and released its locality.
fn psp_fails(banks: &[u16], edit: impl FnOnce(&mut FakeMachine)) -> LaunchError {
    let mut m = machine(banks);
    edit(&mut m);
    let e = psp_launch(&mut m).unwrap_err();
    skl_extended_nothing(&m);
    assert_eq!(m.tpm.borrow().active, None, "locality released after {e:?}");
    e
}

#[test]
fn every_launch_status_stops_with_its_own_code() {
    for st in [0x1u16, 0x2, 0x3, 0x4, 0x7, 0x8, 0x9, 0xA, 0xB, 0xC, 0xD, 0xE, 0xF, 0x10, 0x33] {
        let e = psp_fails(&[SHA1, SHA256], |m| {
            m.psp.status.insert(0x04, st);
        });
        assert_eq!(e, LaunchError::Psp(PspError::from_status(Command::Launch, st)));
    }
}

#[test]
fn failures_after_launch_stop_before_any_skl_extend() {
    let b = [SHA1, SHA256];
    let psp = |e| LaunchError::Psp(e);
    assert_eq!(
        psp_fails(&b, |m| {
            m.psp.latency_ms.insert(0x04, 20_000);
        }),
        psp(PspError::Timeout { cmd: 4 })
    );
    assert_eq!(
        psp_fails(&b, |m| {
            m.psp.latency_ms.insert(0x0B, 10_000_000);
        }),
        psp(PspError::Timeout { cmd: 0xB })
    );
    assert_eq!(
        psp_fails(&b, |m| {
            m.psp.status.insert(0x0B, 0xE);
        }),
        psp(PspError::ExtendOsslFailed { cmd: 0xB })
    );
    // DLME outside the TMR: the PSP refuses to hash it.
    let e = psp_fails(&b, |m| m.psp.tmr = PhysRange::new(PhysAddr(0), DLME).unwrap());
    assert_eq!(e, psp(PspError::ExtendOsslFailed { cmd: 0xB }));
    assert_eq!(
        psp_fails(&b, |m| {
            m.psp.status.insert(0x07, 0x7);
        }),
        psp(PspError::TcgLogsFailed { cmd: 7 })
    );
    // The PSP never gives locality 2 back.
    let e = psp_fails(&b, |m| m.psp.keep_locked = true);
    assert_eq!(e, LaunchError::Tpm(TpmError::LocalityTimeout(2)));
    // TPM 1.2, or a TPM 2.0 without SHA-256.
    assert_eq!(psp_fails(&b, |m| m.tpm.borrow_mut().tpm12 = true), psp(PspError::NeedsSha256Bank));
    assert_eq!(psp_fails(&[SHA1, SHA384], |_| {}), psp(PspError::NeedsSha256Bank));
    // The PSP's log where it must not be.
    for at in [DLME, LOG + 0x100, SLB + 0x8000] {
        let e = psp_fails(&b, |m| m.psp.log_at = at);
        assert_eq!(e, psp(PspError::TcgLogRange { addr: at }));
    }
}

#[test]
fn a_malformed_psp_log_stops_before_any_skl_extend() {
    let b = [SHA1, SHA256];
    type Case = (fn(&mut Vec<u8>), fn(u32) -> bool);
    let cases: [Case; 4] = [
        // Header signature.
        (|l| l[32] ^= 1, |o| o == 0),
        // A record cut short.
        (|l| l.truncate(l.len() - 3), |o| o > 0),
        // The first merged record names PCR 0 (a record after the header
        // and the SL-image one: find it by its type).
        (
            |l| {
                let at = l.windows(4).position(|w| w == 0x8002u32.to_le_bytes()).unwrap() - 4;
                l[at] = 0;
            },
            |o| o > 0,
        ),
        // A record without a SHA-256 digest: its algorithm ID changed.
        (
            |l| {
                let at = l.windows(4).position(|w| w == 0x8002u32.to_le_bytes()).unwrap() + 8;
                l[at] = 0x0C;
            },
            |o| o > 0,
        ),
    ];
    for (i, (corrupt, offset_ok)) in cases.into_iter().enumerate() {
        let e = psp_fails(&b, |m| m.psp.corrupt_log = Some(Box::new(corrupt)));
        match e {
            LaunchError::Psp(PspError::BadTcgLog { offset }) => assert!(offset_ok(offset), "case {i}: {offset}"),
            e => panic!("case {i}: {e:?}"),
        }
    }
}

#[test]
fn a_log_too_small_for_the_merge_stops_before_any_skl_extend() {
    let mut m = machine(&[SHA1, SHA256]);
    let s = choose(&mut m).unwrap().unwrap();
    let mut p = plan();
    p.log.as_mut().unwrap().range = PhysRange::new(PhysAddr(LOG), 0x180).unwrap();
    let mut t = m.tpm_port();
    let e = run_psp_path(&mut m, &mut t, &s.mailbox, &p, slb(), || Ok(())).unwrap_err();
    assert!(matches!(e, LaunchError::LogFull { .. } | LaunchError::BadLogRange { .. }), "{e:?}");
    skl_extended_nothing(&m);
}

#[test]
fn launch_is_refused_while_a_locality_is_held() {
    // An interface that does not release: the PSP's rule stops the launch.
    let mut m = machine(&[SHA256]);
    let s = choose(&mut m).unwrap().unwrap();
    m.tpm.borrow_mut().active = Some(0);
    let mut t = m.tpm_port();
    t.no_release = true;
    let e = run_psp_path(&mut m, &mut t, &s.mailbox, &plan(), slb(), || Ok(())).unwrap_err();
    assert_eq!(e, LaunchError::Psp(PspError::LaunchRefused { cmd: 4 }));
    assert_eq!(m.psp.commands, [0x01, 0x04], "nothing after the refused LAUNCH");
    skl_extended_nothing(&m);
    // The emulator's capping of PCR 18 on a failed launch.
    assert_ne!(m.tpm.borrow().pcr(SHA256, 18), &[0u8; 32][..]);
}

#[test]
fn the_kernel_commands_follow_the_launch_rules() {
    let mut m = machine(&[SHA256]);
    let s = choose(&mut m).unwrap().unwrap();
    assert_eq!(s.mailbox.tpm_locality_access(&mut m), Err(PspError::LaunchRefused { cmd: 8 }), "refused before launch");
    let mut t = m.tpm_port();
    run_psp_path(&mut m, &mut t, &s.mailbox, &plan(), slb(), || Ok(())).unwrap();
    assert_eq!(s.mailbox.tmr_release(&mut m, 0), Ok(()));
    assert_eq!(s.mailbox.tmr_release(&mut m, 9), Err(PspError::TmrDestroyFailed { cmd: 3 }));
    assert_eq!(s.mailbox.tpm_locality_access(&mut m), Ok(()));
    assert!(m.locked.get(), "DRTM localities locked again");
    assert_eq!(m.psp.commands, [0x01, 0x08, 0x04, 0x0B, 0x07, 0x03, 0x03, 0x08]);
}

#[test]
fn tis_release_all_gives_up_every_active_locality() {
    use crate::fake_tpm::{FakeTis, FakeTpm};
    use crate::tpm::tis::Tis;
    use crate::tpm::{Locality, TpmTransport};
    let mut t = Tis::open(FakeTis(std::cell::RefCell::new(FakeTpm::new(&[SHA256]))), Locality::TWO).unwrap();
    t.release_all_localities();
    assert_eq!(t.into_inner().0.into_inner().active, None);
}

#[test]
fn an_unopened_tis_releases_what_another_held_then_takes_locality_2() {
    use crate::fake_tpm::{FakeTis, FakeTpm};
    use crate::tpm::tis::Tis;
    use crate::tpm::tpm2::Tpm2;
    use crate::tpm::{Locality, Pcr, TpmTransport};
    let mut fake = FakeTpm::new(&[SHA256]);
    fake.active = Some(0);
    let mut t = Tis::unopened_tpm20(FakeTis(std::cell::RefCell::new(fake)));
    t.release_all_localities();
    t.request_locality(Locality::TWO).unwrap();
    assert_eq!(Tpm2::new(&mut t).pcr_banks(Pcr::DRTM_CODE).unwrap().len(), 1);
    t.relinquish_locality();
    assert_eq!(t.into_inner().0.into_inner().active, None);
}

#[test]
fn dma_protection_runs_after_launch_and_its_failure_stops_the_launch() {
    let mut m = machine(&[SHA1, SHA256]);
    let s = choose(&mut m).unwrap().unwrap();
    let mut t = m.tpm_port();
    let launched = std::cell::Cell::new(None);
    // The service unlocks localities 1-2 with a good LAUNCH.
    let locked = m.locked.clone();
    let e = run_psp_path(&mut m, &mut t, &s.mailbox, &plan(), slb(), || {
        launched.set(Some(!locked.get()));
        Err(crate::dma::DmaError::NoIommu)
    });
    assert_eq!(e, Err(LaunchError::Dma(crate::dma::DmaError::NoIommu)));
    assert_eq!(launched.get(), Some(true), "after a good LAUNCH");
    assert_eq!(m.psp.commands, [0x01, 0x04], "nothing sent after");
    skl_extended_nothing(&m);
    assert_eq!(m.tpm.borrow().active, None);
}

/// A PSP log mutated at random (a fixed xorshift seed): the launch never
/// panics; it either stops with SKL having extended nothing, or succeeds
/// with a DRTM log that replays to the TPM in every bank.
#[test]
fn mutated_psp_logs_stop_cleanly_or_replay() {
    let banks = [SHA1, SHA256];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..300 {
        let r = next();
        let edits: Vec<(usize, u8)> = (0..1 + r % 4).map(|_| (next() as usize, next() as u8)).collect();
        let cut = if r & 0x100 != 0 { Some(next() as usize) } else { None };
        let mut m = machine(&banks);
        m.psp.corrupt_log = Some(Box::new(move |l: &mut Vec<u8>| {
            for &(at, v) in &edits {
                let i = at % l.len();
                l[i] ^= v;
            }
            if let Some(c) = cut {
                l.truncate(c % (l.len() + 1));
            }
        }));
        match psp_launch(&mut m) {
            Ok(_) => {
                ok += 1;
                let log = bytes(&m, LOG, LOG_SIZE);
                let h = parse_tcg2_header(&log).unwrap();
                for alg in banks {
                    let (mut p17, mut p18) = (vec![0; hash(alg, b"").len()], vec![0; hash(alg, b"").len()]);
                    for (i, e) in events(&log, &h).enumerate() {
                        let d = e.unwrap().digests(&h).find(|(a, _)| *a == alg).unwrap().1.to_vec();
                        let e = events(&log, &h).nth(i).unwrap().unwrap();
                        match e.pcr {
                            17 => p17 = extend(alg, &p17, &d),
                            18 => p18 = extend(alg, &p18, &d),
                            p => panic!("PCR {p} merged"),
                        }
                    }
                    let t = m.tpm.borrow();
                    assert_eq!((t.pcr(alg, 17), t.pcr(alg, 18)), (&p17[..], &p18[..]), "bank {alg:#x}");
                }
            }
            Err(_) => {
                refused += 1;
                skl_extended_nothing(&m);
                assert_eq!(m.tpm.borrow().active, None);
            }
        }
    }
    assert!(ok > 0 && refused > 0, "ok {ok}, refused {refused}");
}

#[test]
fn a_psp_log_that_does_not_replay_to_the_tpm_stops_the_launch() {
    // The service's DLME record altered in memory after it was extended.
    let e = psp_fails(&[SHA1, SHA256], |m| {
        m.psp.corrupt_log = Some(Box::new(|l: &mut Vec<u8>| {
            let at = l.windows(4).position(|w| w == EV_PSP_OSSL.to_le_bytes()).unwrap() + 4 + 4 + 2;
            l[at] ^= 1;
        }))
    });
    assert_eq!(e, LaunchError::Psp(PspError::PcrMismatch { alg: SHA256, pcr: 17 }));
    // A service that also extends SHA-1 without logging it: SKL cannot
    // write a log that replays there.
    let e = psp_fails(&[SHA1, SHA256], |m| {
        m.tpm.borrow_mut().pcrs.insert((SHA1, 18), vec![9; 20]);
    });
    assert_eq!(e, LaunchError::Psp(PspError::PcrMismatch { alg: SHA1, pcr: 18 }));
}

#[test]
fn an_impostor_mailbox_is_stopped_by_the_dma_step() {
    use crate::dma::fake::{FakeFabric, SLB as FABRIC_SLB};
    use crate::dma::{protect_under_psp, Bdf, DmaError};
    // Answers like an enabled service, extends and logs nothing (its empty
    // log replays to the TPM), but nothing lifts SKINIT's protection of
    // the SLB: the IOMMUs cannot read SKL's tables.
    let mut m = machine(&[SHA256]);
    m.psp.impostor = true;
    let s = choose(&mut m).unwrap().unwrap();
    let mut t = m.tpm_port();
    let mut fabric = FakeFabric::new(0x19, 1, &[Bdf::new(0, 0, 2)]);
    let e = run_psp_path(&mut m, &mut t, &s.mailbox, &plan(), slb(), || {
        protect_under_psp(&mut fabric, PhysAddr(FABRIC_SLB)).map(|_| ())
    });
    assert!(matches!(e, Err(LaunchError::Dma(DmaError::IommuTimeout { .. }))), "{e:?}");
    skl_extended_nothing(&m);
}
