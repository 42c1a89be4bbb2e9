//! swtpm for one launch: manufactured with the PCR banks asked for,
//! serving the control channel the DRTM proxy talks to; after the run,
//! restarted with a server socket to read PCR 17/18 back.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::{pid_alive, run_ok, PidGuard};
use crate::report::unhex;
use crate::{Launch, TpmFamily};

/// Manufactures the TPM 2.0 state with `l.banks` (swtpm's default: all
/// four) and starts swtpm on `d/swtpm.ctrl`, daemonised. The guard stops it.
pub(crate) fn start(l: &Launch, d: &Path) -> PidGuard {
    let tpm2 = l.family == TpmFamily::Tpm20;
    if let (true, Some(banks)) = (tpm2, &l.banks) {
        run_ok(Command::new("swtpm_setup").args(["--tpm2", "--tpmstate"]).arg(d).args([
            "--pcr-banks",
            &banks.join(","),
            "--overwrite",
        ]));
    }
    let mut swtpm = Command::new("swtpm");
    swtpm.arg("socket");
    if tpm2 {
        swtpm.arg("--tpm2");
    }
    swtpm
        .arg("--tpmstate")
        .arg(format!("dir={}", d.display()))
        .arg("--ctrl")
        .arg(format!("type=unixio,path={}", d.join("swtpm.ctrl").display()))
        .args(["--flags", "startup-clear"])
        .arg("--pid")
        .arg(format!("file={}", d.join("swtpm.pid").display()))
        .arg("--log")
        .arg(format!("file={},level=1", d.join("swtpm.log").display()))
        .arg("-d");
    run_ok(&mut swtpm);
    PidGuard(d.join("swtpm.pid"))
}

/// PCR 17/18 of every bank after the run (TPM 1.2: `sha1`).
pub(crate) fn read_pcrs(d: &Path, family: TpmFamily) -> BTreeMap<(String, u32), Vec<u8>> {
    match family {
        TpmFamily::Tpm20 => read_pcrs_tpm2_tools(d),
        TpmFamily::Tpm12 => read_pcrs_tpm12(d),
    }
}

/// The swtpm of a finished run, with its volatile state (the PCRs) kept,
/// restarted with a server socket the host can talk to: save the volatile
/// state, stop it, start it again on `tpm.sock` (TPM 2.0) or `tpm12.sock`,
/// resume. Returns the socket and the guard that stops the new swtpm.
fn restart_swtpm_as_server(d: &Path, tpm2: bool) -> (PathBuf, PidGuard) {
    let ctrl = d.join("swtpm.ctrl");
    run_ok(Command::new("swtpm_ioctl").arg("--unix").arg(&ctrl).arg("-v"));
    run_ok(Command::new("swtpm_ioctl").arg("--unix").arg(&ctrl).arg("-s"));
    let pid = d.join("swtpm.pid");
    let t = Instant::now();
    while pid_alive(&pid) && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (sock, pidfile) = if tpm2 { ("tpm.sock", "swtpm2.pid") } else { ("tpm12.sock", "swtpm3.pid") };
    let (sock, pidfile) = (d.join(sock), d.join(pidfile));
    run_ok(
        Command::new("swtpm")
            .arg("socket")
            .args(if tpm2 { &["--tpm2"][..] } else { &[][..] })
            .arg("--tpmstate")
            .arg(format!("dir={}", d.display()))
            .arg("--server")
            .arg(format!("type=unixio,path={}", sock.display()))
            .arg("--ctrl")
            .arg(format!("type=unixio,path={}.ctrl", sock.display()))
            .arg("--pid")
            .arg(format!("file={}", pidfile.display()))
            .arg("-d"),
    );
    let guard = PidGuard(pidfile);
    init_swtpm(&format!("{}.ctrl", sock.display()));
    (sock, guard)
}

/// Read PCR 17/18 of every bank from the still-running swtpm with Debian's
/// tpm2-tools (`docs/test-contract.md`, "DRTM proxy"): save the volatile state,
/// stop, restart with a server socket, resume, `tpm2_pcrread`.
pub fn read_pcrs_tpm2_tools(d: &Path) -> BTreeMap<(String, u32), Vec<u8>> {
    let (sock, _guard) = restart_swtpm_as_server(d, true);
    let out = Command::new("tpm2_pcrread")
        .env("TPM2TOOLS_TCTI", format!("swtpm:path={}", sock.display()))
        .arg("sha1:17,18+sha256:17,18+sha384:17,18+sha512:17,18")
        .output()
        .expect("tpm2_pcrread runs (make setup installs tpm2-tools)");
    let _ = Command::new("swtpm_ioctl").arg("--unix").arg(format!("{}.ctrl", sock.display())).arg("-s").status();
    let mut pcrs = BTreeMap::new();
    let mut alg = String::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let l = line.trim();
        if let Some(a) = l.strip_suffix(':') {
            alg = a.to_string();
        } else if let Some((n, v)) = l.split_once(": 0x") {
            pcrs.insert((alg.clone(), n.trim().parse().unwrap()), unhex(&v.to_lowercase()));
        }
    }
    pcrs
}

/// Read PCR 17/18 of a TPM 1.2 swtpm after the run (tpm2-tools cannot):
/// the same save/restart as [`read_pcrs_tpm2_tools`], then TPM_PCRRead
/// (TPM 1.2 Main Part 3, ordinal 0x15) over the server socket by hand.
fn read_pcrs_tpm12(d: &Path) -> BTreeMap<(String, u32), Vec<u8>> {
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    let (sock, _guard) = restart_swtpm_as_server(d, false);
    let mut pcrs = BTreeMap::new();
    for pcr in [17u32, 18] {
        let Ok(mut s) = UnixStream::connect(&sock) else { break };
        let mut cmd = vec![0x00, 0xC1, 0, 0, 0, 14, 0, 0, 0, 0x15];
        cmd.extend_from_slice(&pcr.to_be_bytes());
        let mut resp = [0u8; 30];
        if s.write_all(&cmd).is_ok() && s.read_exact(&mut resp).is_ok() && resp[6..10] == [0, 0, 0, 0] {
            pcrs.insert(("sha1".to_string(), pcr), resp[10..30].to_vec());
        }
    }
    let _ = Command::new("swtpm_ioctl").arg("--unix").arg(format!("{}.ctrl", sock.display())).arg("-s").status();
    pcrs
}

/// `swtpm_ioctl -i` on the restarted swtpm, retried while it fails: the
/// stopped swtpm deletes its pid file at once (so `pid_alive` says gone) but
/// keeps the state directory locked a little longer, and PTM_INIT meanwhile
/// answers 0x9 (seen about once in 30 launches on a loaded machine; the lock
/// was free 14 ms after the stop when measured).
fn init_swtpm(ctrl: &str) {
    let t = Instant::now();
    loop {
        let mut c = Command::new("swtpm_ioctl");
        c.args(["--unix", ctrl, "-i"]);
        match c.output() {
            Ok(o) if o.status.success() => return,
            _ if t.elapsed() < Duration::from_secs(10) => {
                eprintln!("swtpm_ioctl -i failed {:?} after the stop: retrying", t.elapsed());
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => return run_ok(&mut c),
        }
    }
}
