//! A minimal TPM behind `skl::tpm::TpmTransport`: it answers
//! TPM2_GetCapability(TPM_CAP_PCRS) with its banks (PCR 0–23 allocated), and
//! every TPM2_PCR_Extend / TPM_Extend with success, recording what was
//! extended so the harness can check it against memory afterwards.

use skl::tpm::{Locality, TpmError, TpmFamily, TpmTransport};

/// One extend: PCR and (algorithm, digest) per bank, in command order.
pub type Extend = (u32, Vec<(u16, Vec<u8>)>);

pub struct FuzzTpm {
    pub family: TpmFamily,
    pub banks: Vec<u16>,
    pub extends: Vec<Extend>,
    pub locality: Option<u8>,
    /// Commands received with no locality held after a relinquish.
    pub after_release: usize,
    /// Commands received.
    pub commands: usize,
    released: bool,
}

fn be16(b: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([b[o], b[o + 1]])
}
fn be32(b: &[u8], o: usize) -> u32 {
    u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

fn digest_size(alg: u16) -> usize {
    skl_bootinfo::tpm_alg::digest_size(alg).unwrap_or_else(|| panic!("SKL extended unknown algorithm {alg:#x}"))
}

impl FuzzTpm {
    /// Opened at locality 2, as `probe::open` leaves it.
    pub fn new(family: TpmFamily, banks: &[u16]) -> Self {
        FuzzTpm {
            family,
            banks: banks.to_vec(),
            extends: vec![],
            locality: Some(2),
            after_release: 0,
            commands: 0,
            released: false,
        }
    }

    fn answer<'r>(&mut self, cmd: &[u8], rsp: &'r mut [u8]) -> &'r [u8] {
        assert!(cmd.len() >= 10, "command of {} bytes", cmd.len());
        assert_eq!(be32(cmd, 2) as usize, cmd.len(), "command size field");
        let cc = be32(cmd, 6);
        let mut out: Vec<u8> = vec![];
        match (self.family, cc) {
            (TpmFamily::Tpm20, 0x17A) => {
                assert_eq!(be16(cmd, 0), 0x8001);
                assert_eq!(be32(cmd, 10), 5, "TPM_CAP_PCRS");
                out.extend_from_slice(&[0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
                out.extend_from_slice(&5u32.to_be_bytes());
                out.extend_from_slice(&(self.banks.len() as u32).to_be_bytes());
                for &b in &self.banks {
                    out.extend_from_slice(&b.to_be_bytes());
                    out.extend_from_slice(&[3, 0xFF, 0xFF, 0xFF]);
                }
            }
            (TpmFamily::Tpm20, 0x182) => {
                assert_eq!(be16(cmd, 0), 0x8002);
                let pcr = be32(cmd, 10);
                let auth = be32(cmd, 14) as usize;
                let mut o = 18 + auth;
                let n = be32(cmd, o) as usize;
                o += 4;
                let mut d = vec![];
                for _ in 0..n {
                    let alg = be16(cmd, o);
                    let s = digest_size(alg);
                    d.push((alg, cmd[o + 2..o + 2 + s].to_vec()));
                    o += 2 + s;
                }
                assert_eq!(o, cmd.len(), "PCR_Extend length");
                self.extends.push((pcr, d));
                // tag, size, rc, parameterSize, empty auth response.
                out.extend_from_slice(&[0x80, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
            }
            (TpmFamily::Tpm12, 0x14) => {
                assert_eq!(be16(cmd, 0), 0x00C1);
                assert_eq!(cmd.len(), 34);
                self.extends.push((be32(cmd, 10), vec![(skl_bootinfo::tpm_alg::SHA1, cmd[14..34].to_vec())]));
                out.extend_from_slice(&[0x00, 0xC4, 0, 0, 0, 0, 0, 0, 0, 0]);
                out.extend_from_slice(&[0x11; 20]);
            }
            (f, cc) => panic!("unexpected command {cc:#x} for {f:?}"),
        }
        let n = out.len() as u32;
        out[2..6].copy_from_slice(&n.to_be_bytes());
        rsp[..out.len()].copy_from_slice(&out);
        &rsp[..out.len()]
    }
}

impl TpmTransport for FuzzTpm {
    fn family(&self) -> TpmFamily {
        self.family
    }
    fn request_locality(&mut self, l: Locality) -> Result<(), TpmError> {
        self.locality = Some(l.get());
        Ok(())
    }
    fn relinquish_locality(&mut self) {
        self.locality = None;
        self.released = true;
    }
    fn transmit<'r>(&mut self, cmd: &[u8], rsp: &'r mut [u8]) -> Result<&'r [u8], TpmError> {
        self.commands += 1;
        if self.locality.is_none() {
            self.after_release += 1;
        }
        Ok(self.answer(cmd, rsp))
    }
}

impl FuzzTpm {
    pub fn released(&self) -> bool {
        self.released
    }
}
