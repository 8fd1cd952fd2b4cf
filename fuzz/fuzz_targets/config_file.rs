//! The server's TOML configuration file, through its smallest public entry point
//! (`config_file::load`, which reads the file `--config` names): the fuzzer's bytes are
//! written to a file of this process and `config check` is run over it, with no
//! environment. Never a panic; a bad file is a configuration error.
#![no_main]

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use softtoken_server::config_file::{LoadError, load};

fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("softtoken-fuzz-config-{}.toml", std::process::id()))
    })
}

fn no_env(_: &OsStr) -> Option<OsString> {
    None
}

fuzz_target!(|data: &[u8]| {
    if std::fs::write(path(), data).is_err() {
        return;
    }
    let args = [
        OsString::from("softtoken-server"),
        "config".into(),
        "check".into(),
        "--config".into(),
        path().into(),
    ];
    match load(args, no_env) {
        Ok(_) | Err(LoadError::Config(_)) => {}
        Err(other) => panic!("not a configuration error: {other:?}"),
    }
});
