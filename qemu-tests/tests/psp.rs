//! `skl-amdsl-psp.bin`, the PSP-path image (docs/psp-drtm.md), signed with
//! the build's test key (`make payload-psp-signed`), launched the way
//! TrenchBoot GRUB `tb-dev` does (`Launch::tb_dev()`). Our QEMU has no PSP
//! device: SKL scans PCI, finds no DRTM mailbox, and must stop with
//! `NoService` (0x802A) instead of falling back to the SKINIT path; the
//! bootloader should have chosen `skl-amdsl.bin`. Nothing is extended after
//! SKINIT, so PCR 17 is SKINIT's measurement of the signed file's measured
//! part and nothing else.

use std::fs;

use qemu_tests::predict::pcr17_after_skinit;
use qemu_tests::{artifact, Launch};

/// `PspError::NoService`: 0x8000 | 0x2A, detail 0 (docs/launch-errors.md).
const NO_SERVICE: (u32, u32) = (0x802A, 0);
/// `$AS1` header + signature + key token after the measured part.
const SIG_AREA: usize = 0x740;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn u16_at(b: &[u8], o: usize) -> usize {
    u16::from_le_bytes([b[o], b[o + 1]]) as usize
}

#[test]
fn signed_psp_image_without_a_psp_stops_with_no_service() {
    let path = artifact("skl-amdsl-psp.signed.bin");
    let image = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (make payload-psp-signed)", path.display()));
    let unsigned = fs::read(artifact("skl-amdsl-psp.bin")).unwrap();
    // The file the launcher loads: measured part + the signature area, the
    // SLRT right after it; signing changed no measured byte.
    let measured = u16_at(&image, 2);
    let slrt_off = u16_at(&image, 0x44);
    assert_eq!(image.len(), measured + SIG_AREA);
    assert_eq!(u32::from_le_bytes(image[0x18..0x1C].try_into().unwrap()) as usize, image.len());
    assert_eq!(slrt_off, image.len(), "the SLRT follows the $AS1 area");
    assert_eq!(&image[..measured], &unsigned[..measured]);
    assert_eq!(&image[measured + 0x10..measured + 0x14], b"$AS1");

    let r = Launch::tb_dev().slb(path).run();
    assert_eq!(r.status, Some(0), "expected SKL's reset\n{}", r.summary());
    assert!(!r.handed_off() && !r.handed_off_any_kernel(), "no hand-off without a PSP\n{}", r.summary());
    assert_eq!(r.failure_at(slrt_off), Some(NO_SERVICE), "failure record\n{}", r.summary());
    // Only SKINIT's extend: SKL extended nothing (no fallback launch).
    for alg in ["sha1", "sha256"] {
        let host =
            r.host_pcrs.get(&(alg.to_string(), 17)).unwrap_or_else(|| panic!("no {alg} PCR 17\n{}", r.summary()));
        assert_eq!(hex(host), hex(&pcr17_after_skinit(alg, &image)), "{alg} PCR 17\n{}", r.summary());
    }
}
