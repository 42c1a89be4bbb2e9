//! The emulated PSP DRTM service of our QEMU (`-device amd-psp-drtm`,
//! `qemu-tests/qemu/0006-…patch`) for launches of `skl-amdsl-psp.bin`, and
//! what the host expects of it, computed from the image, the key and the
//! kernel with the sha crates and openssl (never from SKL's log).
//!
//! The device's own extends (their real encodings are not public, so the
//! device defines them; `docs/psp-drtm.md` §5), all in the SHA-256 bank
//! only, at locality 3:
//! - LAUNCH: PCR 17 ← SHA-256(GET_CAPABILITY's C2PMSG_93|94|95, each u32
//!   LE) and PCR 18 ← SHA-256(the 0x440-byte key token of the `$AS1` area);
//!   a refused LAUNCH caps PCR 18 with 32 bytes of 0xFF instead;
//! - EXTEND_OSSL_DIGEST: PCR 17 and 18 ← SHA-256(DLME), then PCR 17 ←
//!   SHA-256("AMDSL").
//!
//! The device also holds TPM localities 1-2 locked in the TIS until a good
//! LAUNCH, and its TMR 0 (default the low 4 GiB) blocks device DMA through
//! amd-iommu from reset until TMR_RELEASE 0 (`qemu-tests/qemu/README.md`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::predict::{extend, extend_digest, hash, measured, pcr17_after_skinit, zero, Dlme};
use crate::{artifact, build_dir, Launch};

/// `$AS1` header + signature + key token after the measured part.
pub const SIG_AREA: usize = 0x740;
/// GET_CAPABILITY's C2PMSG_93/94/95 when the device's service is on.
pub const CAPABILITY: [u32; 3] = [0x1, 0x0001_0000, (1 << 24) | 0x10_0000];
/// Command IDs (C2PMSG_72 bits 23:16).
pub const GET_CAPABILITY: u8 = 0x01;
pub const LAUNCH: u8 = 0x04;
pub const GET_TCG_LOGS: u8 = 0x07;
pub const EXTEND_OSSL_DIGEST: u8 = 0x0B;
/// The digest SKL logs and extends for a bank a service record lacks.
pub fn placeholder(alg: &str) -> Vec<u8> {
    let mut p = zero(alg);
    p[0] = 1;
    p
}

/// What GET_CAPABILITY says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Enabled,
    /// Status 0, C2PMSG_93 bit 0 clear (the firmware switch is off).
    Disabled,
    /// Status NOT_SUPPORTED (firmware without the service).
    Absent,
}

/// One `-device amd-psp-drtm` and its failure injection.
#[derive(Clone, Debug)]
pub struct PspDevice {
    pub service: Service,
    /// The key whose public half the device trusts (PEM, private or public).
    pub key: Option<PathBuf>,
    /// Answer this status to a command, doing nothing.
    pub status: Vec<(u8, u16)>,
    /// Finish a command this many virtual milliseconds later (-1: never).
    pub delay_ms: Vec<(u8, i64)>,
    /// Never set ready, not even after the kick.
    pub never_ready: bool,
    /// The TMR (base, size) LAUNCH and EXTEND_OSSL_DIGEST check against.
    pub tmr: Option<(u64, u64)>,
    /// Keep TPM localities 1-2 locked even after a good LAUNCH.
    pub keep_locked: bool,
    /// TMR 0 blocks device DMA (through amd-iommu) until TMR_RELEASE.
    pub tmr_dma: bool,
}

impl PspDevice {
    /// Service on, trusting the build's test key (`make payload-psp-signed`).
    pub fn enabled() -> Self {
        PspDevice {
            service: Service::Enabled,
            key: Some(test_key()),
            status: vec![],
            delay_ms: vec![],
            never_ready: false,
            tmr: None,
            keep_locked: false,
            tmr_dma: true,
        }
    }
    pub fn service(mut self, s: Service) -> Self {
        self.service = s;
        self
    }
    pub fn key(mut self, pem: PathBuf) -> Self {
        self.key = Some(pem);
        self
    }
    pub fn status(mut self, cmd: u8, status: u16) -> Self {
        self.status.push((cmd, status));
        self
    }
    pub fn delay_ms(mut self, cmd: u8, ms: i64) -> Self {
        self.delay_ms.push((cmd, ms));
        self
    }
    pub fn never_ready(mut self) -> Self {
        self.never_ready = true;
        self
    }
    pub fn keep_locked(mut self) -> Self {
        self.keep_locked = true;
        self
    }
    /// TMR 0 does not block device DMA (the control of the DMA test).
    pub fn without_tmr_dma(mut self) -> Self {
        self.tmr_dma = false;
        self
    }
    pub fn tmr(mut self, base: u64, size: u64) -> Self {
        self.tmr = Some((base, size));
        self
    }

    /// The `-device` argument (QEMU option syntax: a comma in a value is doubled).
    pub fn device_arg(&self) -> String {
        let svc = match self.service {
            Service::Enabled => "enabled",
            Service::Disabled => "disabled",
            Service::Absent => "absent",
        };
        let mut a = format!("amd-psp-drtm,service={svc}");
        if let Some(k) = &self.key {
            a.push_str(&format!(",pubkey={}", modulus_file(k).display()));
        }
        let list = |v: Vec<String>| v.join(",,");
        if !self.status.is_empty() {
            a.push_str(&format!(",status={}", list(self.status.iter().map(|(c, s)| format!("{c}:{s}")).collect())));
        }
        if !self.delay_ms.is_empty() {
            a.push_str(&format!(",delay={}", list(self.delay_ms.iter().map(|(c, m)| format!("{c}:{m}")).collect())));
        }
        if self.never_ready {
            a.push_str(",never-ready=on");
        }
        if !self.tmr_dma {
            a.push_str(",tmr-dma=off");
        }
        if self.keep_locked {
            a.push_str(",keep-locked=on");
        }
        if let Some((b, s)) = self.tmr {
            a.push_str(&format!(",tmr-base={b},tmr-size={s}"));
        }
        a
    }
}

impl Launch {
    /// `skl-amdsl-psp.signed.bin` launched as GRUB tb-dev does, on a machine
    /// with the emulated PSP `dev`.
    pub fn psp(dev: &PspDevice) -> Self {
        Launch::tb_dev().slb(artifact("skl-amdsl-psp.signed.bin")).with_psp(dev)
    }
    /// Add the PSP device `dev` to this launch's machine.
    pub fn with_psp(mut self, dev: &PspDevice) -> Self {
        self.qemu_args.extend(["-device".to_string(), dev.device_arg()]);
        self
    }
}

/// The build's PSP test key (never committed: `make payload-psp-signed`).
pub fn test_key() -> PathBuf {
    artifact("psp-test-key.pem")
}

/// Another RSA-4096 key (generated once under build/qemu-tests/).
pub fn other_key() -> PathBuf {
    let p = build_dir().join("qemu-tests/psp-other-key.pem");
    if !p.exists() {
        let tmp = p.with_extension(format!("tmp{}", std::process::id()));
        let ok = Command::new("openssl")
            .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096", "-out"])
            .arg(&tmp)
            .status()
            .expect("openssl runs");
        assert!(ok.success(), "openssl genpkey");
        fs::rename(&tmp, &p).unwrap();
    }
    p
}

/// The key's modulus as the device takes it (512 bytes, big-endian), in a
/// file next to the key's name under build/qemu-tests/.
pub fn modulus_file(pem: &Path) -> PathBuf {
    let out = Command::new("openssl").arg("rsa").arg("-in").arg(pem).args(["-noout", "-modulus"]).output();
    let out = out.expect("openssl runs");
    assert!(out.status.success(), "openssl rsa -modulus {}: {}", pem.display(), String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let hex = text.trim().strip_prefix("Modulus=").expect("Modulus=…");
    let m = crate::unhex(&hex.to_lowercase());
    assert_eq!(m.len(), 512, "{}: not an RSA-4096 key", pem.display());
    let name = pem.file_stem().unwrap().to_string_lossy().into_owned();
    let dir = build_dir().join("qemu-tests");
    fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.modulus"));
    let tmp = dir.join(format!("{name}.modulus.{}.{:?}", std::process::id(), std::thread::current().id()));
    fs::write(&tmp, &m).unwrap();
    fs::rename(&tmp, &p).unwrap();
    p
}

/// Sign `image` (measured part + `$AS1` area, the area's signed size
/// already set) again with `pem`, independently of `skl-tool`: openssl's
/// RSA-PSS, SHA-384, salt 48 over [0, signed size), stored byte-reversed at
/// area + 0x100. `area` is the area's offset in the file.
pub fn resign(image: &[u8], area: usize, pem: &Path, dir: &Path) -> Vec<u8> {
    let signed = u32::from_le_bytes(image[area + 0x14..area + 0x18].try_into().unwrap()) as usize;
    let data = dir.join("signed-part.bin");
    let sig = dir.join("signature.bin");
    fs::write(&data, &image[..signed]).unwrap();
    let st = Command::new("openssl")
        .args(["dgst", "-sha384", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:48", "-sign"])
        .arg(pem)
        .arg("-out")
        .arg(&sig)
        .arg(&data)
        .status()
        .expect("openssl runs");
    assert!(st.success(), "openssl dgst -sign");
    let mut s = fs::read(&sig).unwrap();
    assert_eq!(s.len(), 512);
    s.reverse();
    let mut out = image.to_vec();
    out[area + 0x100..area + 0x300].copy_from_slice(&s);
    out
}

/// The key token of a signed image's `$AS1` area.
pub fn key_token(image: &[u8]) -> &[u8] {
    let m = measured(image).len();
    &image[m + 0x300..m + 0x740]
}

/// What the device's LAUNCH extends into PCR 17 (SHA-256).
pub fn launch_state_digest() -> Vec<u8> {
    let b: Vec<u8> = CAPABILITY.iter().flat_map(|w| w.to_le_bytes()).collect();
    hash("sha256", &b)
}

/// How far a PSP launch got, for [`expected_pcrs`].
#[derive(Clone, Copy)]
pub enum Reached<'a> {
    /// Nothing after SKINIT (no service, or SKL stopped before LAUNCH).
    Skinit,
    /// The device refused LAUNCH (it capped PCR 18).
    LaunchRefused,
    /// LAUNCH done, then SKL stopped before EXTEND_OSSL_DIGEST succeeded.
    Launched,
    /// EXTEND_OSSL_DIGEST of this DLME done, then SKL stopped: nothing of SKL's.
    Extended(&'a Dlme),
    /// The whole PSP path: SKL merged the service's log and measured.
    HandedOff(&'a Dlme),
}

/// PCR 17 and 18 of bank `alg` after a launch of the signed `image` that
/// got as far as `r`: SKINIT's measurement, the device's extends
/// (SHA-256 only) and, after a hand-off only, SKL's (a placeholder per
/// service record in each other bank, then the entry offset and the DLME
/// in every bank).
pub fn expected_pcrs(alg: &str, image: &[u8], r: Reached) -> (Vec<u8>, Vec<u8>) {
    let sha256 = alg == "sha256";
    let mut p17 = pcr17_after_skinit(alg, image);
    let mut p18 = zero(alg);
    let service = |p: &mut Vec<u8>, d: &[u8]| {
        *p = if sha256 { extend_digest(alg, p, d) } else { p.clone() };
    };
    let launched = |p17: &mut Vec<u8>, p18: &mut Vec<u8>| {
        service(p17, &launch_state_digest());
        service(p18, &hash("sha256", key_token(image)));
    };
    match r {
        Reached::Skinit => {}
        Reached::LaunchRefused => service(&mut p18, &[0xFF; 32]),
        Reached::Launched => launched(&mut p17, &mut p18),
        Reached::Extended(d) | Reached::HandedOff(d) => {
            launched(&mut p17, &mut p18);
            let h = hash("sha256", &d.bytes);
            service(&mut p17, &h);
            service(&mut p18, &h);
            service(&mut p17, &hash("sha256", b"AMDSL"));
        }
    }
    if let Reached::HandedOff(d) = r {
        if !sha256 {
            // Three service records on PCR 17, two on 18 (log order).
            for _ in 0..3 {
                p17 = extend_digest(alg, &p17, &placeholder(alg));
            }
            for _ in 0..2 {
                p18 = extend_digest(alg, &p18, &placeholder(alg));
            }
        }
        p17 = extend(alg, &p17, &d.entry_offset.to_le_bytes());
        p17 = extend(alg, &p17, &d.bytes);
    }
    (p17, p18)
}
