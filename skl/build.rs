//! Link the payloads with their linker scripts, only for the bare-metal
//! target. Host builds (tests, clippy) of the same crate get no link
//! arguments.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(skl_baremetal)");
    for f in ["skl.ld", "skl-amdsl.ld", "skl-amdsl-psp.ld", "slb.ld"] {
        println!("cargo::rerun-if-changed=../linker/{f}");
    }
    for f in ["entry_head.S", "entry_skinit.S", "entry_txt.S", "entry_common.S"] {
        println!("cargo::rerun-if-changed=src/hw/{f}");
    }
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "none" {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        println!("cargo::rustc-cfg=skl_baremetal");
        // Every payload shares the 64 KiB layout (linker/slb.ld); each
        // script adds its SL header. skl-amdsl-psp: the PSP-path image
        // (feature `psp`, docs/psp-drtm.md), AMD SL header + $AS1 area.
        for (bin, script) in [
            ("skl", "skl.ld"),
            ("skl-amdsl", "skl-amdsl.ld"),
            ("skl-txt", "skl.ld"),
            ("skl-amdsl-psp", "skl-amdsl-psp.ld"),
        ] {
            println!("cargo::rustc-link-arg-bin={bin}=-L{dir}/../linker");
            println!("cargo::rustc-link-arg-bin={bin}=-T{dir}/../linker/{script}");
            // RELR: 24 bytes of relocations instead of ~1 KiB of RELA.
            println!("cargo::rustc-link-arg-bin={bin}=-zpack-relative-relocs");
            println!("cargo::rustc-link-arg-bin={bin}=--no-dynamic-linker");
        }
    }
}
