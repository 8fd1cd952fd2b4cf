//! `uniffi-bindgen`, pinned to the workspace's UniFFI version so the generated Kotlin and
//! Swift always match the scaffolding compiled into `crates/ffi`. Run by `bindings/generate.sh`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
