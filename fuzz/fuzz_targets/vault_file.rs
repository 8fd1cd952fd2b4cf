//! The vault file as it lies on the device (a damaged disk, a restored backup, a file
//! another app wrote): taken apart, and opened by the store over an in-memory file with a
//! key wrapper that hands the wrapped key back as is. Never a panic; what parses writes
//! back to bytes that parse to the same thing.
#![no_main]

use std::io;
use std::path::Path;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use softtoken_core::vault::format::VaultFile;
use softtoken_core::{KeyWrapError, KeyWrapper, StoreOptions, TokenStore, vault::FileSystem};

/// The input as the only file there is; every write succeeds and is forgotten.
struct OneFile(Vec<u8>);

impl FileSystem for OneFile {
    fn write_new(&self, _: &Path, _: &[u8]) -> io::Result<()> {
        Ok(())
    }
    fn sync_file(&self, _: &Path) -> io::Result<()> {
        Ok(())
    }
    fn rename(&self, _: &Path, _: &Path) -> io::Result<()> {
        Ok(())
    }
    fn sync_dir(&self, _: &Path) -> io::Result<()> {
        Ok(())
    }
    fn read(&self, _: &Path) -> io::Result<Vec<u8>> {
        Ok(self.0.clone())
    }
    fn remove(&self, _: &Path) -> io::Result<()> {
        Ok(())
    }
}

/// The platform key store of the fuzzer: the wrapped key is the key.
struct Identity;

impl KeyWrapper for Identity {
    fn wrap_key(&self, key: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        Ok(key.to_vec())
    }
    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        Ok(wrapped.to_vec())
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = VaultFile::parse(data) {
        let again = VaultFile::parse(&file.to_bytes()).expect("a parsed vault writes back");
        assert_eq!(again.header_bytes, file.header_bytes);
        assert_eq!(again.header, file.header);
        assert_eq!(again.lock, file.lock);
        assert_eq!(again.body, file.body);
    }
    let options = StoreOptions {
        fs: Arc::new(OneFile(data.to_vec())),
        ..StoreOptions::default()
    };
    if let Ok(store) = TokenStore::open_with(Path::new("fuzz.vault"), Arc::new(Identity), options) {
        let _ = (
            store.is_locked(),
            store.failed_attempts(),
            store.pin_retry_after_seconds(),
        );
        let _ = store.tokens();
    }
});
