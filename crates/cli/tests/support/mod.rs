//! What the CLI's end-to-end tests share: the real `softtoken-server` to run against.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The server binary next to ours; built first when `cargo test -p softtoken-cli` ran alone.
pub fn server_binary() -> PathBuf {
    let ours = Path::new(env!("CARGO_BIN_EXE_softtoken"));
    let server = ours.with_file_name(format!("softtoken-server{}", std::env::consts::EXE_SUFFIX));
    if !server.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "softtoken-server"])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building softtoken-server failed");
    }
    server
}
