//! `softtoken wipe`: deletes every token, the PIN, the keys and the remembered server CAs.
//! The way out of a forgotten PIN or a damaged vault; each bank must then issue new tokens.

use std::sync::Arc;

use clap::Parser;
use softtoken_core::{FileKeyWrapper, StoreError, StoreOptions, TokenStore};

use super::vault;
use crate::failure::Failure;
use crate::msg;

/// Arguments of `softtoken wipe`.
#[derive(Parser)]
pub struct Args {
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
}

/// Asks, then replaces the vault with an empty one under a new key file.
pub fn run(args: Args) -> Result<(), Failure> {
    let path = vault::vault_path()?;
    if !args.yes && !vault::confirm(&msg::wipe_question(&path.display().to_string()))? {
        return Err(Failure::Rejected(msg::nothing_deleted()));
    }
    // A new platform key as well, so an old copy of the vault stays unreadable.
    let key_path = FileKeyWrapper::path_beside(&path);
    match std::fs::remove_file(&key_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(Failure::Rejected(msg::file_failed(
                false,
                &key_path.display().to_string(),
                &e.to_string(),
            )));
        }
        _ => {}
    }
    let wrapper = FileKeyWrapper::open(&key_path)
        .map_err(|e| vault::store_failure(StoreError::KeyWrapper(e)))?;
    TokenStore::reset(&path, Arc::new(wrapper), StoreOptions::default())
        .map_err(vault::store_failure)?;
    super::trust::forget_all()?;
    eprintln!("{}", msg::wiped());
    Ok(())
}
