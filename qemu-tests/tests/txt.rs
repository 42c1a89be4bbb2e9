//! The shipped skl-txt.bin as an Intel TXT MLE in QEMU + swtpm. QEMU has no
//! SMX or TXT chipset: the launcher builds the post-SENTER state (TXT
//! registers in an ivshmem window at 0xFED20000, the heap, SINIT's MLE page
//! table) and the DRTM proxy does SINIT's part of PCR 17 and the event log
//! (`qemu-tests/guest/launcher/txt.c`, `harness/drtm_proxy.py`).

use std::fs;

use qemu_tests::predict::{self, dlme_from_elf32, extend, zero};
use qemu_tests::{artifact, Launch, LaunchResult};

const ERRORCODE: usize = 0x30;
const ESTS: usize = 0x08;
const CMD_SYS_RESET: usize = 0x38;
const CMD_UNLOCK_MEM_CONFIG: usize = 0x218;
const CMD_SECRETS: usize = 0x8E0;
const CMD_NO_SECRETS: usize = 0x8E8;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn mle() -> Vec<u8> {
    fs::read(artifact("skl-txt.bin")).unwrap()
}

/// PCR 17 after SINIT (emulated: reset, then the MLE's measured bytes,
/// header word 1) and after skl-txt.bin (entry offset, then the DLME).
fn pcr17_after_mle(alg: &str, mle: &[u8], dlme: &predict::Dlme) -> Vec<u8> {
    let measured = u16::from_le_bytes([mle[2], mle[3]]) as usize;
    let p = extend(alg, &zero(alg), &mle[..measured]);
    let p = extend(alg, &p, &dlme.entry_offset.to_le_bytes());
    extend(alg, &p, &dlme.bytes)
}

/// NextRecordOffset of the heap's EVENT_LOG_POINTER2_1, found by walking
/// the four heap tables and OsSinitData's elements (SDG 315168 App. C).
fn heap_log_next(heap: &[u8]) -> usize {
    let rd64 = |o: usize| u64::from_le_bytes(heap[o..o + 8].try_into().unwrap()) as usize;
    let rd32 = |o: usize| u32::from_le_bytes(heap[o..o + 4].try_into().unwrap()) as usize;
    let os_sinit = rd64(0) + rd64(rd64(0));
    let mut e = os_sinit + 8 + 92; // v7 fixed fields
    while rd32(e) != 0 {
        if rd32(e) == 8 {
            return rd32(e + 8 + 16);
        }
        e += rd32(e + 4);
    }
    panic!("no EVENT_LOG_POINTER2_1 element");
}

fn assert_handoff(r: &LaunchResult, base: u32) {
    let reg = |n: &str| *r.report.regs.get(n).unwrap_or_else(|| panic!("no register {n}\n{}", r.summary()));
    let dlme = dlme_from_elf32(&fs::read(artifact("qemu-tests/kernel.elf")).unwrap());
    let entry = dlme.base + dlme.entry_offset;
    assert_eq!(reg("entry"), entry);
    assert_eq!(reg("ebx"), entry, "EBX = EIP = DLME entry (DLME mode)");
    assert_eq!(reg("ebp"), base, "EBP = MLE base");
    assert_eq!(reg("esi"), r.report.mbi.expect("kernel reported its MBI").0, "ESI = MBI");
    assert_eq!(reg("eax"), 0x36d7_6289);
    assert_eq!(reg("cr0") & 0xE000_0001, 1, "protected mode, paging off, caches on");
    assert_eq!(reg("efer") & 0x500, 0, "EFER.LME/LMA clear");
    assert_eq!(reg("eflags") & 0x200, 0, "interrupts off");
    assert_eq!((reg("cs"), reg("ds"), reg("ss")), (0x08, 0x10, 0x10));
    assert_eq!(r.report.loc2_access.expect("loc2 access reported") & 0x20, 0, "TPM locality 2 released");
}

#[test]
fn txt_launch_measures_logs_and_hands_off() {
    let base = 0x0200_0000;
    let r = Launch::txt().run();
    assert_eq!(r.status, Some(33), "launch did not reach the kernel:\n{}", r.summary());
    let mle = mle();
    let dlme = dlme_from_elf32(&fs::read(artifact("qemu-tests/kernel.elf")).unwrap());
    assert!(dlme.has_mle_header);
    for alg in ["sha1", "sha256"] {
        let want = pcr17_after_mle(alg, &mle, &dlme);
        let key = (alg.to_string(), 17);
        assert_eq!(hex(&r.host_pcrs[&key]), hex(&want), "{alg} PCR 17 from swtpm vs host computation");
        assert_eq!(hex(&r.report.pcrs[&key]), hex(&want), "{alg} PCR 17 as the kernel read it");
        assert_eq!(hex(&r.host_pcrs[&(alg.to_string(), 18)]), hex(&zero(alg)), "DLME mode: PCR 18 untouched");
    }
    assert_handoff(&r, base);

    // The event log: SINIT's MLE event, then SKL's two, appended where the
    // heap element said and the element advanced past them.
    let next = heap_log_next(&r.txt_heap);
    let (pcrs, events) = predict::replay_tcg2_until(&r.log, next);
    let kinds: Vec<(u32, u32)> = events.iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(kinds, vec![(17, 0x404), (17, 0x502), (17, 0x502)], "{events:?}");
    assert_eq!(events[1].2, "DLME entry offset");
    assert_eq!(events[2].2, "DLME");
    for alg in ["sha1", "sha256"] {
        assert_eq!(hex(&pcrs[&(alg.to_string(), 17)]), hex(&r.host_pcrs[&(alg.to_string(), 17)]), "{alg} log replay");
    }
    assert!(r.log[next..next + 64].iter().all(|&b| b == 0), "nothing written past NextRecordOffset");

    // TXT registers: SINIT's code cleared, ESTS written-1-to-clear, SECRETS
    // set, no reset requested.
    assert_eq!(r.txt_reg(ERRORCODE), 0);
    assert_eq!(r.txt_reg(ESTS), u64::MAX);
    assert_eq!(r.txt_reg(CMD_SECRETS), 1);
    assert_eq!((r.txt_reg(CMD_SYS_RESET), r.txt_reg(CMD_NO_SECRETS)), (0, 0));
}

#[test]
fn txt_kernel_outside_the_pmr_is_a_txt_reset_with_its_code() {
    // The low PMR ends at 16 MiB: the kernel (16 MiB) is not DMA-protected.
    let r = Launch::txt().config("txt_pmr_size", "0x1000000").run();
    assert!(!r.handed_off(), "{}", r.summary());
    assert_eq!(r.txt_reg(ERRORCODE), 0xC000_F007, "NotDmaProtected (0x7007) in TXT.ERRORCODE\n{}", r.summary());
    for reg in [CMD_NO_SECRETS, CMD_UNLOCK_MEM_CONFIG, CMD_SYS_RESET] {
        assert_eq!(r.txt_reg(reg), 1, "reset sequence register {reg:#x}");
    }
    assert_eq!(r.txt_reg(CMD_SECRETS), 0, "no SECRETS on failure");
    // PCR 17 holds only SINIT's measurement.
    let mle = mle();
    let measured = u16::from_le_bytes([mle[2], mle[3]]) as usize;
    for alg in ["sha1", "sha256"] {
        let want = extend(alg, &zero(alg), &mle[..measured]);
        assert_eq!(hex(&r.host_pcrs[&(alg.to_string(), 17)]), hex(&want));
    }
}

#[test]
fn txt_debug_build_logs_the_launch() {
    let r = Launch::txt().slb(artifact("skl-txt-debug.bin")).run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    assert!(r.debugcon.contains("SKL-TXT: hand-off"), "{}", r.debugcon);
}

/// Each flaw of the post-SENTER state stops the MLE with its own code in
/// TXT.ERRORCODE and the reset sequence; PCR 17 keeps SINIT's value only.
#[test]
fn txt_fault_matrix() {
    let mle = mle();
    let measured = u16::from_le_bytes([mle[2], mle[3]]) as usize;
    for (fault, code) in [
        ("not_launched", 0x7001),
        ("sinit_error", 0x7003),
        ("heap_version", 0x7005),
        ("mle_size", 0x700A),
        ("pagetable", 0x700B),
        ("txt_space_cached", 0x7009),
    ] {
        let r = Launch::txt().config("txt_fault", fault).run();
        assert!(!r.handed_off(), "{fault}: handed off\n{}", r.summary());
        assert_eq!(r.txt_reg(ERRORCODE), 0xC000_8000 | code, "{fault}\n{}", r.summary());
        assert_eq!(r.txt_reg(CMD_SYS_RESET), 1, "{fault}: reset requested");
        assert_eq!(r.txt_reg(CMD_SECRETS), 0, "{fault}: no SECRETS");
        let want = extend("sha256", &zero("sha256"), &mle[..measured]);
        assert_eq!(hex(&r.host_pcrs[&("sha256".to_string(), 17)]), hex(&want), "{fault}: PCR 17 = SINIT only");
    }
}

/// A plain Multiboot2 kernel: skl-txt.bin measures the DRTM policy itself
/// (MBI and the SLRT, which lives in the TXT heap, into PCR 18; the module
/// into PCR 17), and the log replays to both PCRs.
#[test]
fn txt_multiboot2_mode_measures_the_policy() {
    let module = b"module for the TXT launch".to_vec();
    let r = Launch::txt().kernel(artifact("qemu-tests/kernel-plain.elf")).module(module.clone(), "m0").run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    assert_eq!(r.report.regs["ebx"], r.report.mbi.expect("MBI reported").0, "Multiboot2: EBX = MBI");
    let (pcrs, events) = predict::replay_tcg2_until(&r.log, heap_log_next(&r.txt_heap));
    let texts: Vec<&str> = events.iter().map(|e| e.2.trim_end_matches('\0')).collect();
    assert_eq!(
        texts[1..],
        ["DLME entry offset", "DLME", "Measured MB2 information", "Measured SLR Table", "Measured MB2 module"],
        "{events:?}"
    );
    assert_eq!(events[5].0, 17, "module into PCR 17");
    for alg in ["sha1", "sha256"] {
        for pcr in [17, 18] {
            let key = (alg.to_string(), pcr);
            assert_eq!(hex(&pcrs[&key]), hex(&r.host_pcrs[&key]), "{alg} PCR {pcr}: log replay vs swtpm");
        }
        assert_ne!(hex(&r.host_pcrs[&(alg.to_string(), 18)]), hex(&zero(alg)));
    }
}
