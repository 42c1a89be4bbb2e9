//! What the test kernel reports: its `SKLTEST` lines on the debug console
//! (`qemu-tests/guest/kernel`, `docs/test-contract.md`).

use std::collections::BTreeMap;

/// The test kernel's `SKLTEST` lines.
#[derive(Debug, Default)]
pub struct Report {
    pub regs: BTreeMap<String, u32>,
    pub loc2_access: Option<u8>,
    pub pcrs: BTreeMap<(String, u32), Vec<u8>>,
    pub mbi: Option<(u32, u32)>,
    pub modules: Vec<(u32, u32)>,
    pub error: Option<String>,
    pub done: bool,
}

fn hex_u32(s: &str) -> u32 {
    u32::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or(u32::MAX)
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

impl Report {
    pub fn parse(text: &str) -> Report {
        let mut r = Report::default();
        for line in text.lines() {
            let w: Vec<&str> = line.split_whitespace().collect();
            match w.as_slice() {
                ["SKLTEST", "reg", name, v] => {
                    r.regs.insert(name.to_string(), hex_u32(v));
                }
                ["SKLTEST", "tis", "loc2_access", v] => r.loc2_access = Some(hex_u32(v) as u8),
                ["SKLTEST", "pcr", alg, pcr, v] => {
                    r.pcrs.insert((alg.to_string(), pcr.parse().unwrap()), unhex(v));
                }
                ["SKLTEST", "mbi", a, "size", n] => r.mbi = Some((hex_u32(a), n.parse().unwrap())),
                ["SKLTEST", "module", _i, s, e] => r.modules.push((hex_u32(s), hex_u32(e))),
                ["SKLTEST", "error", ..] => r.error = Some(line.to_string()),
                ["SKLTEST", "done"] => r.done = true,
                _ => {}
            }
        }
        r
    }
}
