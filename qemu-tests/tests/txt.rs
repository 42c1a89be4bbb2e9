//! The shipped skl-txt.bin as an Intel TXT MLE in QEMU + swtpm. QEMU has no
//! SMX or TXT chipset: the launcher builds the post-SENTER state (TXT
//! registers in an ivshmem window at 0xFED20000, the heap, SINIT's MLE page
//! table) and the DRTM proxy does SINIT's part of PCR 17 and the event log
//! (`qemu-tests/guest/launcher/txt.c`, `harness/drtm_proxy.py`).
//!
//! `Launch::txt()` gives the launcher the shipped, ELF-wrapped skl-txt.bin:
//! the GRUB chain, loaded as TrenchBoot GRUB `aem-qubes-4.2.3-rebase` loads
//! a Multiboot2 MLE, the kernel as module 0. [`legacy`] gives it the flat
//! image: the earlier protocol where DL_INFO names the kernel.

use std::fs;

use qemu_tests::predict::{self, dlme_from_elf32, extend, zero};
use qemu_tests::synth::{xen_like_elf, XenLike};
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

/// The flat MLE image: what SINIT measures, the `PT_LOAD` segment of the
/// ELF-wrapped skl-txt.bin (read here from the ELF header, independently of
/// `skl_bootinfo::txt::chain`).
fn mle() -> Vec<u8> {
    let f = fs::read(artifact("skl-txt.bin")).unwrap();
    assert_eq!(&f[..4], b"\x7fELF", "skl-txt.bin is the ELF32 Multiboot2 image GRUB loads");
    let rd = |o: usize| u32::from_le_bytes(f[o..o + 4].try_into().unwrap()) as usize;
    let ph = rd(0x1C);
    assert_eq!(rd(ph), 1, "PT_LOAD");
    let img = f[rd(ph + 4)..rd(ph + 4) + rd(ph + 16)].to_vec();
    assert_eq!(img, fs::read(artifact("skl-txt.image")).unwrap(), "segment = the flat image");
    img
}

/// The earlier protocol (DL_INFO names the kernel): the flat image placed
/// by the launcher as a 64 KiB MLE.
fn legacy() -> Launch {
    Launch::txt().slb(artifact("skl-txt.image"))
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
    // EBX = EIP = DLME entry (DLME mode), EBP = EDX = MLE base, ESI = MBI, ...
    qemu_tests::assert_handoff_regs(r, base, entry, entry, r.report.mbi.expect("kernel reported its MBI").0);
    assert_eq!(reg("cr0") & 0xE000_0001, 1, "protected mode, paging off, caches on");
    assert_eq!(reg("efer") & 0x500, 0, "EFER.LME/LMA clear");
    assert_eq!(reg("eflags") & 0x200, 0, "interrupts off");
    assert_eq!((reg("cs"), reg("ds"), reg("ss")), (0x08, 0x10, 0x10));
    assert_eq!(r.report.loc2_access.expect("loc2 access reported") & 0x20, 0, "TPM locality 2 released");
}

#[test]
fn txt_launch_measures_logs_and_hands_off() {
    let base = 0x0200_0000;
    let r = legacy().run();
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
    let r = legacy().config("txt_pmr_size", "0x1000000").run();
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
        let r = legacy().config("txt_fault", fault).run();
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
    let r = legacy().kernel(artifact("qemu-tests/kernel-plain.elf")).module(module.clone(), "m0").run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    let mbi_addr = r.report.mbi.expect("MBI reported").0;
    let plain = dlme_from_elf32(&fs::read(artifact("qemu-tests/kernel-plain.elf")).unwrap());
    assert!(!plain.has_mle_header);
    let entry = plain.base + plain.entry_offset;
    qemu_tests::assert_handoff_regs(&r, 0x0200_0000, entry, mbi_addr, mbi_addr);
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
    }
    // Independent host computation (`qemu_tests::predict`). PCR 17:
    // SINIT's MLE measurement, SKL's two events, then the module. PCR 18:
    // the MBI as the kernel got it (SKL reserved the SLB and the log in its
    // map), then the SLRT in the heap as the launcher wrote it.
    let mbi = r.mbi.clone().expect("MBI read back");
    let slrt = heap_slrt(&r.txt_heap);
    let pol = slrt_entry(slrt, 3);
    assert_eq!(u16::from_le_bytes([slrt[pol + 14], slrt[pol + 15]]), 3, "policy: MBI, SLRT, one module");
    for i in 0..3 {
        assert_eq!(slrt[pol + 16 + 56 * i + 4] & 1, 1, "policy entry {i} flagged MEASURED");
    }
    for alg in ["sha1", "sha256"] {
        let p17 = predict::pcr17_after_txt(alg, &mle(), &plain, &[&module]);
        let p18 = predict::pcr18_after_multiboot2(alg, &mbi, slrt);
        for (pcr, want) in [(17, p17), (18, p18)] {
            let key = (alg.to_string(), pcr);
            assert_eq!(hex(&r.host_pcrs[&key]), hex(&want), "{alg} PCR {pcr} from swtpm vs host computation");
            assert_eq!(hex(&r.report.pcrs[&key]), hex(&want), "{alg} PCR {pcr} as the kernel read it");
        }
    }
}

// ---- The GRUB chain: skl-txt.bin loaded by `multiboot2` as GRUB does ----

/// SLRT in the heap: right after the 88-byte OsMleData struct.
fn heap_slrt(heap: &[u8]) -> &[u8] {
    let bios = u64::from_le_bytes(heap[0..8].try_into().unwrap()) as usize;
    &heap[bios + 8 + 88..bios + 8 + 88 + 4096]
}

/// (tag offset) of the first SLRT entry with `tag`.
fn slrt_entry(t: &[u8], tag: u32) -> usize {
    let rd = |o: usize| u32::from_le_bytes(t[o..o + 4].try_into().unwrap());
    let mut o = 16;
    while rd(o) != tag {
        assert_ne!(rd(o), 0xFFFF, "no SLRT entry {tag}");
        o += rd(o + 4) as usize;
    }
    o
}

/// GRUB loads skl-txt.bin (ELF32, relocatable tag) as the MLE, the test
/// kernel and a second module as Multiboot2 modules; DL_INFO names
/// skl-txt.bin. SKL loads the kernel, measures it as the DLME and hands off;
/// the kernel sees an MBI without its own module, an SLRT whose DL_INFO
/// names it and whose policy lists exactly its modules.
#[test]
fn txt_grub_chain_loads_and_measures_the_kernel_module() {
    let dom0 = b"dom0 kernel for the GRUB chain".to_vec();
    let r = Launch::txt().module(dom0.clone(), "dom0").run();
    assert_eq!(r.status, Some(33), "launch did not reach the kernel:\n{}", r.summary());
    let plan = r.plan.clone().expect("placement record");
    let base = plan.slb_base;
    assert_eq!(base % 0x20_0000, 0, "GRUB aligns the MLE to 2 MiB");
    assert_eq!(plan.load_base, base, "skl-txt.bin is the Multiboot2 kernel");
    assert_eq!((plan.dlme_base, plan.dlme_size), (base, mle().len() as u32), "GRUB's DL_INFO names skl-txt.bin");
    assert_eq!(plan.modules.len(), 2, "kernel + dom0 as GRUB modules");

    let image = mle();
    let kernel = fs::read(artifact("qemu-tests/kernel.elf")).unwrap();
    let dlme = dlme_from_elf32(&kernel);
    assert!(dlme.has_mle_header);
    for alg in ["sha1", "sha256"] {
        let want = pcr17_after_mle(alg, &image, &dlme);
        let key = (alg.to_string(), 17);
        assert_eq!(hex(&r.host_pcrs[&key]), hex(&want), "{alg} PCR 17 from swtpm vs host computation");
        assert_eq!(hex(&r.report.pcrs[&key]), hex(&want), "{alg} PCR 17 as the kernel read it");
        assert_eq!(hex(&r.host_pcrs[&(alg.to_string(), 18)]), hex(&zero(alg)), "DLME mode: PCR 18 is the kernel's");
    }
    // skl-tool predict (the library the CLI runs) on the shipped ELF file.
    let banks = [skl_tool::Bank::parse("sha1").unwrap(), skl_tool::Bank::parse("sha256").unwrap()];
    let tool_dlme = skl_tool::kernel::dlme_from_elf(&kernel).unwrap();
    let steps = skl_tool::predict::steps(&fs::read(artifact("skl-txt.bin")).unwrap(), &tool_dlme, &[], &banks).unwrap();
    for (b, pcr, v) in skl_tool::predict::pcr_values(&steps, &banks).into_iter().filter(|x| x.1 == 17) {
        assert_eq!(hex(&v), hex(&r.host_pcrs[&(b.name().to_string(), pcr)]), "skl-tool predict, {} PCR 17", b.name());
    }
    assert_handoff(&r, base);

    // What the kernel sees: its MBI without the kernel module, the SLRT
    // naming it as the DLME and listing exactly its modules.
    assert_eq!(r.report.modules, vec![plan.modules[1]], "the kernel sees only dom0");
    let t = heap_slrt(&r.txt_heap);
    let rd64 = |o: usize| u64::from_le_bytes(t[o..o + 8].try_into().unwrap());
    let dl = slrt_entry(t, 1);
    assert_eq!(
        (rd64(dl + 32), rd64(dl + 24), rd64(dl + 40)),
        (dlme.base as u64, dlme.bytes.len() as u64, dlme.entry_offset as u64)
    );
    let pol = slrt_entry(t, 3);
    let n = u16::from_le_bytes([t[pol + 14], t[pol + 15]]) as usize;
    let kinds: Vec<(u16, u16, u64)> = (0..n)
        .map(|i| {
            let e = pol + 16 + 56 * i;
            (u16::from_le_bytes([t[e], t[e + 1]]), u16::from_le_bytes([t[e + 2], t[e + 3]]), rd64(e + 16))
        })
        .collect();
    let mbi = r.report.mbi.expect("MBI").0 as u64;
    assert_eq!(kinds[..2], [(18, 7, mbi), (18, 1, kinds[1].2)], "MBI, SLRT");
    assert_eq!(kinds[2].1, 0x10, "OS-MLE data");
    assert_eq!(kinds[3..], [(17, 8, plan.modules[1].0 as u64)], "only dom0 left in the policy");

    // The log: SINIT's MLE event, then SKL's two.
    let next = heap_log_next(&r.txt_heap);
    let (pcrs, events) = predict::replay_tcg2_until(&r.log, next);
    let kinds: Vec<(u32, u32)> = events.iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(kinds, vec![(17, 0x404), (17, 0x502), (17, 0x502)], "{events:?}");
    assert_eq!(hex(&pcrs[&("sha256".to_string(), 17)]), hex(&r.host_pcrs[&("sha256".to_string(), 17)]));
    assert_eq!(r.txt_reg(CMD_SECRETS), 1);
}

/// Each flaw of the GRUB chain's inputs stops the MLE before anything is
/// extended, with its own code in TXT.ERRORCODE and the TXT reset.
#[test]
fn txt_grub_chain_fault_matrix() {
    let image = mle();
    let kernel = fs::read(artifact("qemu-tests/kernel.elf")).unwrap();
    let cases: Vec<(&str, Launch, u32)> = vec![
        ("no kernel module", Launch::txt().config("txt_fault", "no_kernel"), 0x7011),
        ("two kernel candidates", Launch::txt().module(kernel.clone(), "xen2"), 0x7012),
        (
            "a module in the MLE's area",
            Launch::txt().module(b"m".to_vec(), "m").config("txt_fault", "module_in_mle"),
            0x7013,
        ),
        ("kernel without MLE header", Launch::txt().kernel(artifact("qemu-tests/kernel-plain.elf")), 0x7014),
        ("DL_INFO: not our measured size", Launch::txt().config("txt_fault", "dlme_size"), 0x7016),
    ];
    for (what, l, code) in cases {
        let r = l.run();
        assert!(!r.handed_off(), "{what}: handed off\n{}", r.summary());
        assert_eq!(r.txt_reg(ERRORCODE), 0xC000_8000 | code as u64, "{what}\n{}", r.summary());
        assert_eq!(r.txt_reg(CMD_SYS_RESET), 1, "{what}: reset requested");
        assert_eq!(r.txt_reg(CMD_SECRETS), 0, "{what}: no SECRETS");
        for alg in ["sha1", "sha256"] {
            let want = extend(alg, &zero(alg), &image);
            assert_eq!(hex(&r.host_pcrs[&(alg.to_string(), 17)]), hex(&want), "{what}: PCR 17 = SINIT only");
        }
    }
}

/// A relocatable, Xen-shaped kernel (4 MiB, relocatable tag, TXT MLE
/// header): SKL loads it 2 MiB into skl-txt.bin's area, as GRUB would have
/// loaded it (segment at its offset, zeroed `.bss`), measures it there and
/// enters it.
#[test]
fn txt_grub_chain_relocatable_kernel_goes_into_the_mle_area() {
    let dir = std::env::temp_dir().join(format!("skl-txt-chain-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let xl = XenLike { mle_header: true, ..XenLike::default() };
    let elf = xen_like_elf(&xl);
    let k = dir.join("xen.elf");
    fs::write(&k, &elf).unwrap();
    let r = Launch::txt().kernel_file(&k).timeout(120).run();
    assert_eq!(r.status, Some(33), "{}", r.summary());
    assert!(r.serial.contains("XENLIKE: entered"), "{}", r.summary());
    let base = r.plan.clone().expect("placement record").slb_base;
    let dlme = dlme_from_elf32(&elf);
    let t = heap_slrt(&r.txt_heap);
    let dl = slrt_entry(t, 1);
    let rd64 = |o: usize| u64::from_le_bytes(t[o..o + 8].try_into().unwrap());
    assert_eq!(rd64(dl + 32), base as u64 + 0x20_0000, "kernel at MLE base + 2 MiB");
    assert_eq!(rd64(dl + 24), dlme.bytes.len() as u64);
    let image = mle();
    for alg in ["sha1", "sha256"] {
        let want = pcr17_after_mle(alg, &image, &dlme);
        assert_eq!(hex(&r.host_pcrs[&(alg.to_string(), 17)]), hex(&want), "{alg} PCR 17");
    }
    // Larger than the 30 MiB kernel area: refused before anything is measured.
    let big = xen_like_elf(&XenLike { mle_header: true, size: 31 << 20, ..XenLike::default() });
    fs::write(&k, &big).unwrap();
    let r = Launch::txt().kernel_file(&k).timeout(120).run();
    assert!(!r.handed_off_any_kernel(), "{}", r.summary());
    assert_eq!(r.txt_reg(ERRORCODE), 0xC000_F015, "KernelPlacement\n{}", r.summary());
    assert_eq!(hex(&r.host_pcrs[&("sha256".to_string(), 17)]), hex(&extend("sha256", &zero("sha256"), &image)));
    let _ = fs::remove_dir_all(&dir);
}
