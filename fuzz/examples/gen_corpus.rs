//! Write the seed corpora to `fuzz/corpus/<target>/<name>` (or to the
//! directory given as the first argument), after checking that each seed is
//! what it claims: parsers accept it, a launch seed launches, and every
//! harness passes on it.
use std::path::PathBuf;

use skl::launch::run as launch;
use skl_bootinfo::sl_header::Generation;
use skl_bootinfo::PhysAddr;
use skl_fuzz::launch::{layout, ram, tpm, Input};

fn main() {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    for (target, name, bytes) in skl_fuzz::seeds::all() {
        match target {
            "slrt" => {
                use skl_bootinfo::slrt::{Architecture, Slrt};
                let ok =
                    [Architecture::AmdSkinit, Architecture::IntelTxt].iter().any(|&a| Slrt::parse(&bytes, a).is_ok());
                assert!(ok, "{name}: SLRT refused");
                skl_fuzz::slrt::run(&bytes);
            }
            "mbi" => {
                skl_bootinfo::multiboot2::Mbi::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e:?}"));
                skl_fuzz::mbi::run(&bytes);
            }
            "event_log" => skl_fuzz::event_log::run(&bytes),
            "sl_header" => {
                skl_bootinfo::sl_header::parse_slb_image(&bytes).unwrap_or_else(|e| panic!("{name}: {e:?}"));
                skl_fuzz::sl_header::run(&bytes);
            }
            "launch" => {
                let inp = Input::decode(&bytes);
                let mut mem = ram(&inp);
                let mut t = tpm(inp.flags);
                let h = launch(&mut mem, &mut t, PhysAddr(layout::SLB), Generation::Qubes423)
                    .unwrap_or_else(|e| panic!("{name}: {e:?}"));
                println!("{name}: {:?} mode, {} extends", h.mode, t.extends.len());
                skl_fuzz::launch::run(&bytes);
            }
            _ => unreachable!(),
        }
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(&name), &bytes).unwrap();
    }
    println!("seeds written under {}", root.display());
}
