//! Link the payload with our linker script, only for the bare-metal target.
//! Host builds (tests, clippy) of the same crate get no link arguments.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(skl_baremetal)");
    println!("cargo::rerun-if-changed=../linker/skl.ld");
    for f in ["entry_head.S", "entry_skinit.S", "entry_txt.S", "entry_common.S"] {
        println!("cargo::rerun-if-changed=src/hw/{f}");
    }
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "none" {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        println!("cargo::rustc-cfg=skl_baremetal");
        // Both payloads share the 64 KiB layout.
        for bin in ["skl", "skl-txt", "skl-psp"] {
            println!("cargo::rustc-link-arg-bin={bin}=-T{dir}/../linker/skl.ld");
            // RELR: 24 bytes of relocations instead of ~1 KiB of RELA.
            println!("cargo::rustc-link-arg-bin={bin}=-zpack-relative-relocs");
            println!("cargo::rustc-link-arg-bin={bin}=--no-dynamic-linker");
        }
    }
}
