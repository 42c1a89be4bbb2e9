//! The DRTM proxy (`harness/drtm_proxy.py`) between QEMU's TPM backend and
//! swtpm: it turns the launch's locality-4 measurement into swtpm's
//! CMD_HASH_START/DATA/END (QEMU's TIS drops locality-4 writes;
//! `docs/test-contract.md`, "DRTM proxy").

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::{wait_for, KillOnDrop};
use crate::Launch;

pub(crate) struct DrtmProxy(KillOnDrop);

impl DrtmProxy {
    /// Starts the proxy on `d/proxy.ctrl` for swtpm's `d/swtpm.ctrl` and
    /// waits until it listens.
    pub(crate) fn start(l: &Launch, d: &Path) -> DrtmProxy {
        let proxy = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("harness/drtm_proxy.py"))
            .arg("--swtpm-ctrl")
            .arg(d.join("swtpm.ctrl"))
            .arg("--listen")
            .arg(d.join("proxy.ctrl"))
            .arg("--ram")
            .arg(d.join("guest.ram"))
            .arg("--banks")
            .arg(l.banks.as_ref().map_or("sha1,sha256,sha384,sha512".to_string(), |b| b.join(",")))
            .arg("--log")
            .arg(d.join("proxy.log"))
            .arg("--ready")
            .arg(d.join("proxy.ready"))
            .spawn()
            .expect("python3 runs the DRTM proxy");
        let proxy = KillOnDrop(proxy);
        wait_for(&d.join("proxy.ready"), Duration::from_secs(10));
        DrtmProxy(proxy)
    }

    /// After QEMU has exited: the proxy ends when QEMU closes the control
    /// channel; it is given 5 s, then killed.
    pub(crate) fn finish(mut self) {
        let t = Instant::now();
        while self.0 .0.try_wait().unwrap().is_none() && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.0 .0.kill();
    }
}
