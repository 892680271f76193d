//! `uniffi-bindgen`, pinned to the workspace's UniFFI version. Use `scripts/uniffi-generate.sh`.
fn main() {
    uniffi::uniffi_bindgen_main()
}
