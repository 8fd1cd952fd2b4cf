//! Atomic replacement of the vault file, through a small filesystem seam.
//!
//! A save writes a temporary file in the vault's directory, fsyncs it, renames it over
//! the vault and fsyncs the directory. A crash at any point leaves either the old or the
//! new vault under the vault's name, never a mix. Tests put a [`FileSystem`] in between
//! that "crashes" after each step.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The filesystem operations a save needs, one method per step that can be interrupted.
pub trait FileSystem: Send + Sync {
    /// Creates (or truncates) `path` with owner-only permissions and writes `bytes` to it.
    fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// Flushes `path`'s contents to stable storage.
    fn sync_file(&self, path: &Path) -> io::Result<()>;
    /// Atomically renames `from` to `to`, replacing `to`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Flushes the directory `dir`, so a rename in it survives a power cut.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Reads the whole file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Removes a file.
    fn remove(&self, path: &Path) -> io::Result<()>;
}

/// The real filesystem.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsFileSystem;

impl FileSystem for OsFileSystem {
    fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        crate::keywrap::private_file(path)?.write_all(bytes)
    }

    fn sync_file(&self, path: &Path) -> io::Result<()> {
        File::options().write(true).open(path)?.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        sync_dir(dir)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Windows cannot open a directory for syncing; NTFS journals the rename itself.
    Ok(())
}

/// Fsyncs the directory holding `path`.
pub(crate) fn sync_parent(path: &Path) -> io::Result<()> {
    sync_dir(&parent_dir(path))
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The temporary file a save of `path` writes first (same directory, so rename is atomic).
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Replaces `path` with `bytes` atomically: write temp, fsync, rename, fsync directory.
/// On failure the error names the file or directory involved.
pub fn replace(fs: &dyn FileSystem, path: &Path, bytes: &[u8]) -> Result<(), (PathBuf, io::Error)> {
    let tmp = temp_path(path);
    let step = |r: io::Result<()>, p: &Path| r.map_err(|e| (p.to_path_buf(), e));
    if let Err(e) =
        step(fs.write_new(&tmp, bytes), &tmp).and_then(|()| step(fs.sync_file(&tmp), &tmp))
    {
        // Best effort: a leftover temp file is harmless (the next save truncates it).
        let _ = fs.remove(&tmp);
        return Err(e);
    }
    step(fs.rename(&tmp, path), path)?;
    let dir = parent_dir(path);
    step(fs.sync_dir(&dir), &dir)
}
