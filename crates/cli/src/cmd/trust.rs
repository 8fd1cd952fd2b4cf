//! Which servers' certificates to trust: the built-in web roots, a CA file given now
//! (`--ca-file`, `SOFTTOKEN_CA_FILE`), and the CA each server was activated with, which the
//! token remembers so that later commands reach that server without being told again.
//!
//! The remembered CAs are kept beside the vault in `server-cas.json` (server URL → PEM),
//! not inside it: they are public certificates, read before the vault is unlocked would
//! matter, and each vouches only for its own server URL. A CA written into that file by
//! someone who can write the data directory could stand in for that server, but the
//! protocol does not rest on TLS alone: an activation is SPAKE2 under the start password
//! and every status answer is MAC'd under the token's key.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde::{Deserialize, Serialize};
use softtoken_core::ServerUrl;
use softtoken_core::enroll::{EnrollError, Enroller, HttpTransport};
use softtoken_core::vault::SystemClock;

use super::vault;
use crate::failure::Failure;
use crate::msg;

/// The remembered CAs' file name in the data directory.
pub const TRUST_FILE: &str = "server-cas.json";

/// Which servers' certificates to trust, for every command that goes on the network.
#[derive(Args)]
pub struct Trust {
    /// A PEM file of CA certificates to trust besides the built-in ones (a bank's own CA,
    /// a test server's); remembered for the server a token is activated with.
    #[arg(long, env = "SOFTTOKEN_CA_FILE")]
    ca_file: Option<PathBuf>,
}

/// The file's content: one PEM bundle per server URL.
#[derive(Default, Serialize, Deserialize)]
struct Remembered {
    servers: BTreeMap<String, String>,
}

impl Trust {
    /// An enroller trusting the built-in roots, the CA file given now for every server,
    /// and each remembered CA for its own server; its requests together take at most
    /// `budget` when given.
    pub fn enroller(&self, budget: Option<Duration>) -> Result<Enroller, Failure> {
        let mut transport = match &self.ca_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|e| bad_ca_file(path, format!("cannot read it: {e}")))?;
                HttpTransport::trusting(&pem).map_err(|reason| bad_ca_file(path, reason))?
            }
            None => HttpTransport::new().map_err(|reason| {
                super::enroll::enroll_failure(EnrollError::Network {
                    url: String::new(),
                    reason,
                })
            })?,
        };
        let file = trust_file()?;
        for (server, pem) in load(&file)?.servers {
            let named = |reason: String| bad_ca_file(&file, format!("{server}: {reason}"));
            let url = ServerUrl::parse(&server).map_err(|e| named(e.to_string()))?;
            transport = transport
                .trusting_for(&url, pem.as_bytes())
                .map_err(named)?;
        }
        if let Some(budget) = budget {
            transport = transport.within(budget);
        }
        Ok(Enroller::with(Arc::new(transport), Arc::new(SystemClock)))
    }

    /// After a token of `server` was activated or provisioned trusting the CA file given
    /// now: remembers that CA for `server`, so later commands need not be told again.
    pub fn remember_for(&self, server: &str) -> Result<(), Failure> {
        let Some(path) = &self.ca_file else {
            return Ok(());
        };
        let pem = std::fs::read_to_string(path)
            .map_err(|e| bad_ca_file(path, format!("cannot read it: {e}")))?;
        let file = trust_file()?;
        let mut remembered = load(&file)?;
        if remembered.servers.get(server) == Some(&pem) {
            return Ok(());
        }
        remembered.servers.insert(server.to_string(), pem);
        save(&file, &remembered)
    }
}

/// Forgets every remembered CA (`softtoken wipe`): the tokens they were remembered for are
/// gone, and the file is not sealed, so a fresh start must not keep what someone may have
/// written into it.
pub fn forget_all() -> Result<(), Failure> {
    let file = trust_file()?;
    match std::fs::remove_file(&file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Failure::Rejected(
            msg::file_failed(false, &file.display().to_string(), &e.to_string()),
        )),
        _ => Ok(()),
    }
}

fn trust_file() -> Result<PathBuf, Failure> {
    Ok(vault::data_dir()?.join(TRUST_FILE))
}

fn load(file: &Path) -> Result<Remembered, Failure> {
    match std::fs::read(file) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| bad_ca_file(file, format!("not the remembered CAs' JSON: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Remembered::default()),
        Err(e) => Err(bad_ca_file(file, format!("cannot read it: {e}"))),
    }
}

/// Written whole beside the file and renamed over it: a crash leaves the old or the new.
fn save(file: &Path, remembered: &Remembered) -> Result<(), Failure> {
    let failed = |e: std::io::Error| {
        Failure::Rejected(msg::file_failed(
            true,
            &file.display().to_string(),
            &e.to_string(),
        ))
    };
    let json = serde_json::to_vec_pretty(remembered)
        .map_err(|e| failed(std::io::Error::other(e.to_string())))?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let temporary = file.with_extension("json.new");
    let mut out = std::fs::File::create(&temporary).map_err(failed)?;
    out.write_all(&json).map_err(failed)?;
    out.sync_all().map_err(failed)?;
    std::fs::rename(&temporary, file).map_err(failed)
}

fn bad_ca_file(path: &Path, reason: String) -> Failure {
    super::enroll::enroll_failure(EnrollError::BadCaFile {
        path: path.display().to_string(),
        reason,
    })
}
