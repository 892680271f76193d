//! The committed C header `include/hogflags.h` must be exactly what cbindgen generates from this crate
//! (the CI drift check). To regenerate it after changing the API:
//!
//!     HOGFLAGS_UPDATE_HEADER=1 cargo test -p hogflags-c --test header

use std::path::PathBuf;

fn generate() -> String {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("header is UTF-8")
}

#[test]
fn committed_header_matches_a_fresh_generation() {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/hogflags.h"));
    let fresh = generate();
    if std::env::var_os("HOGFLAGS_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &fresh).expect("write include/hogflags.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/hogflags.h is out of date with bindings/c/src; regenerate it with\n  \
         HOGFLAGS_UPDATE_HEADER=1 cargo test -p hogflags-c --test header"
    );
}

#[test]
fn header_declares_every_exported_function() {
    // Every `#[no_mangle]` function of the crate must appear in the generated header.
    let fresh = generate();
    let src_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut count = 0;
    for entry in std::fs::read_dir(src_dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim() == "#[no_mangle]" {
                let sig = lines.next().unwrap();
                let name = sig.split("fn ").nth(1).unwrap().split('(').next().unwrap();
                assert!(fresh.contains(&format!("{name}(")), "{name} is missing from the header");
                count += 1;
            }
        }
    }
    assert!(count >= 20, "found only {count} exported functions");
}
