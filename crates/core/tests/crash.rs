//! Crash safety: a filesystem seam that "crashes" after each step of a save (half-written
//! temp file, before and after fsync, before and after rename, before the directory
//! fsync), then the vault is reopened with the real filesystem and must hold exactly the
//! old or exactly the new contents.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use softtoken_core::protocol::Serial;
use softtoken_core::vault::{FileSystem, OsFileSystem};
use softtoken_core::{StoreOptions, TokenStore};
use support::*;

/// Lets `steps` write steps succeed, then fails that one and everything after it, as a
/// process killed at that moment would.
struct CrashFs {
    steps: usize,
    done: AtomicUsize,
    crashed: AtomicBool,
}

impl CrashFs {
    fn after(steps: usize) -> Arc<Self> {
        Arc::new(CrashFs {
            steps,
            done: AtomicUsize::new(0),
            crashed: AtomicBool::new(false),
        })
    }

    /// Whether this step runs, is the one the process dies in, or comes after the death.
    fn step(&self) -> Step {
        if self.crashed.load(Ordering::SeqCst) {
            return Step::Dead;
        }
        if self.done.fetch_add(1, Ordering::SeqCst) < self.steps {
            return Step::Run;
        }
        self.crashed.store(true, Ordering::SeqCst);
        Step::CrashNow
    }

    fn crashed(&self) -> bool {
        self.crashed.load(Ordering::SeqCst)
    }

    fn run(&self, op: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        match self.step() {
            Step::Run => op(),
            Step::CrashNow | Step::Dead => Err(dead()),
        }
    }
}

enum Step {
    Run,
    CrashNow,
    Dead,
}

fn dead() -> io::Error {
    io::Error::other("simulated crash")
}

impl FileSystem for CrashFs {
    fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        match self.step() {
            Step::Run => OsFileSystem.write_new(path, bytes),
            Step::CrashNow => {
                // Killed mid-write: half the bytes made it.
                OsFileSystem.write_new(path, &bytes[..bytes.len() / 2])?;
                Err(dead())
            }
            Step::Dead => Err(dead()),
        }
    }
    fn sync_file(&self, path: &Path) -> io::Result<()> {
        self.run(|| OsFileSystem.sync_file(path))
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.run(|| OsFileSystem.rename(from, to))
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.run(|| OsFileSystem.sync_dir(dir))
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        OsFileSystem.read(path)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        // Cleanup after a failure is not a save step; a dead process does not clean up.
        if self.crashed() {
            Err(dead())
        } else {
            OsFileSystem.remove(path)
        }
    }
}

/// What a vault holds, as the user sees it: which PIN opens it (if any) and its tokens.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    pin: Option<&'static str>,
    serials: Vec<Serial>,
}

fn observe(v: &Vault, pins: &[&'static str]) -> Seen {
    let mut store = v.open().expect("the vault opens after a crash");
    if !store.has_pin() {
        return Seen {
            pin: None,
            serials: serials(&store),
        };
    }
    for pin in pins {
        if store.unlock(pin).is_ok() {
            return Seen {
                pin: Some(pin),
                serials: serials(&store),
            };
        }
    }
    panic!("no known PIN opens the vault");
}

/// Runs `change` with a crash after 0, 1, 2, … write steps until it completes without
/// crashing. Each time, the reopened vault must be exactly the old one (byte for byte
/// while the rename has not happened) or show the new contents.
fn crash_at_every_step(
    name: &str,
    setup: impl Fn(&mut TokenStore),
    change: impl Fn(&mut TokenStore) -> Result<(), softtoken_core::StoreError>,
    pins: &[&'static str],
) {
    let new = reference(name, &setup, &change, pins);
    let mut crashes_that_kept_the_new = 0;
    for steps in 0.. {
        let v = Vault::new();
        let mut store = v.open().unwrap();
        setup(&mut store);
        drop(store);
        let old = observe(&v, pins);

        let fs = CrashFs::after(steps);
        let options = StoreOptions {
            fs: fs.clone(),
            ..v.options()
        };
        let mut store = TokenStore::open_with(&v.path, v.wrapper(), options).unwrap();
        let result = change(&mut store);
        let crashed = fs.crashed();
        drop(store);
        if !crashed {
            result.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let seen = observe(&v, pins);
        if !crashed {
            assert_eq!(seen, new, "{name}");
            assert_ne!(seen, old, "{name}: the change changes something");
            assert!(steps >= 4, "{name}: a save has four steps");
            // A crash after the rename (before the directory fsync) already shows the new.
            assert!(crashes_that_kept_the_new >= 1, "{name}");
            return;
        }
        assert!(
            seen == old || seen == new,
            "{name}, crash after {steps} steps: saw {seen:?}, old {old:?}, new {new:?}"
        );
        if seen == new {
            crashes_that_kept_the_new += 1;
        }
    }
}

/// The contents `change` produces without a crash (serials are fixed by `setup`).
fn reference(
    name: &str,
    setup: &impl Fn(&mut TokenStore),
    change: &impl Fn(&mut TokenStore) -> Result<(), softtoken_core::StoreError>,
    pins: &[&'static str],
) -> Seen {
    let v = Vault::new();
    let mut store = v.open().unwrap();
    setup(&mut store);
    change(&mut store).unwrap_or_else(|e| panic!("{name}: {e}"));
    drop(store);
    observe(&v, pins)
}

#[test]
fn adding_a_token() {
    let t = rfc_token();
    crash_at_every_step("add", |_| {}, |s| s.add(t.clone()), &[]);
}

#[test]
fn deleting_a_token() {
    let a = rfc_token();
    let b = token("B", &[2; 20]);
    crash_at_every_step(
        "delete",
        |s| {
            s.add(a.clone()).unwrap();
            s.add(b.clone()).unwrap();
        },
        |s| s.delete(&a.serial),
        &[],
    );
}

#[test]
fn setting_a_pin() {
    let a = rfc_token();
    crash_at_every_step(
        "set_pin",
        |s| s.add(a.clone()).unwrap(),
        |s| s.set_pin("2468"),
        &["2468"],
    );
}

#[test]
fn changing_the_pin() {
    let a = rfc_token();
    crash_at_every_step(
        "change_pin",
        |s| {
            s.add(a.clone()).unwrap();
            s.set_pin("1111").unwrap();
        },
        |s| s.change_pin("1111", "2222"),
        &["1111", "2222"],
    );
}

#[test]
fn removing_the_pin() {
    let a = rfc_token();
    crash_at_every_step(
        "remove_pin",
        |s| {
            s.add(a.clone()).unwrap();
            s.set_pin("1111").unwrap();
        },
        |s| s.remove_pin("1111"),
        &["1111"],
    );
}

#[test]
fn wiping() {
    let a = rfc_token();
    crash_at_every_step(
        "wipe",
        |s| {
            s.add(a.clone()).unwrap();
            s.set_pin("1111").unwrap();
        },
        |s| s.wipe(),
        &["1111"],
    );
}

#[test]
fn a_crash_before_the_rename_leaves_the_old_file_byte_for_byte() {
    for steps in 0..3 {
        let v = Vault::new();
        let mut store = v.open().unwrap();
        store.add(rfc_token()).unwrap();
        drop(store);
        let old = v.bytes();
        let options = StoreOptions {
            fs: CrashFs::after(steps),
            ..v.options()
        };
        let mut store = TokenStore::open_with(&v.path, v.wrapper(), options).unwrap();
        let before = serials(&store);
        assert!(store.add(token("New", &[3; 20])).is_err());
        // A failed save changes nothing in memory either.
        assert_eq!(serials(&store), before);
        drop(store);
        assert_eq!(v.bytes(), old, "crash after {steps} steps");
    }
}

#[test]
fn a_crash_while_counting_a_wrong_pin_keeps_the_vault() {
    for steps in 0..5 {
        let v = Vault::new();
        let mut store = v.open().unwrap();
        store.add(rfc_token()).unwrap();
        store.set_pin("1111").unwrap();
        drop(store);
        let options = StoreOptions {
            fs: CrashFs::after(steps),
            ..v.options()
        };
        let mut store = TokenStore::open_with(&v.path, v.wrapper(), options).unwrap();
        let result = store.unlock("0000");
        drop(store);
        if steps < 4 {
            // The try could not be counted, so it was not made.
            assert!(
                matches!(result, Err(softtoken_core::StoreError::Io { .. })),
                "{result:?}"
            );
        }
        let mut store = v.open().unwrap();
        assert!(store.failed_attempts() <= 1);
        store.unlock("1111").unwrap();
        assert_eq!(serials(&store).len(), 1);
    }
}
