//! What the vault commands share: where the vault lives, opening and unlocking it, reading
//! PINs, and turning vault errors into messages.

use std::env;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use softtoken_core::{FileKeyWrapper, KeyWrapError, StoreError, TokenStore};
use zeroize::Zeroizing;

use crate::failure::Failure;
use crate::msg;

/// The vault's file name inside the data directory (its key file is `tokens.key`).
pub const VAULT_FILE: &str = "tokens.vault";

/// The directory holding the vault: `$SOFTTOKEN_HOME`, else the platform's data directory.
pub fn data_dir() -> Result<PathBuf, Failure> {
    if let Some(home) = env::var_os("SOFTTOKEN_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    platform_data_dir()
        .map(|d| d.join("softtoken"))
        .ok_or_else(|| Failure::BadInput(msg::no_data_dir()))
}

fn var_dir(name: &str) -> Option<PathBuf> {
    env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

#[cfg(target_os = "macos")]
fn platform_data_dir() -> Option<PathBuf> {
    var_dir("HOME").map(|h| h.join("Library/Application Support"))
}

#[cfg(windows)]
fn platform_data_dir() -> Option<PathBuf> {
    var_dir("APPDATA")
}

#[cfg(not(any(target_os = "macos", windows)))]
fn platform_data_dir() -> Option<PathBuf> {
    // XDG Base Directory: $XDG_DATA_HOME, defaulting to ~/.local/share.
    var_dir("XDG_DATA_HOME").or_else(|| var_dir("HOME").map(|h| h.join(".local/share")))
}

/// The vault file's path, creating its directory (owner-only) if needed.
pub fn vault_path() -> Result<PathBuf, Failure> {
    let dir = data_dir()?;
    create_private_dir(&dir).map_err(|e| {
        Failure::Rejected(msg::file_failed(
            true,
            &dir.display().to_string(),
            &e.to_string(),
        ))
    })?;
    Ok(dir.join(VAULT_FILE))
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Opens (or creates) the vault with the desktop key file beside it.
pub fn open() -> Result<TokenStore, Failure> {
    let path = vault_path()?;
    let wrapper = FileKeyWrapper::open(&FileKeyWrapper::path_beside(&path))
        .map_err(|e| store_failure(StoreError::KeyWrapper(e)))?;
    TokenStore::open(&path, Arc::new(wrapper)).map_err(store_failure)
}

/// Opens the vault and, if it is locked, asks for the PIN.
pub fn open_unlocked(pins: &mut PinReader) -> Result<TokenStore, Failure> {
    let mut store = open()?;
    if store.is_locked() {
        let pin = pins.read(&msg::pin_prompt())?;
        store.unlock(&pin).map_err(store_failure)?;
    }
    Ok(store)
}

/// Where PINs come from: one per line on stdin (`--pin-stdin`), or typed hidden at the
/// terminal.
pub struct PinReader {
    from_stdin: bool,
    /// What is read, for the messages: (English, Japanese, the flag that reads it from stdin).
    what: (&'static str, &'static str, &'static str),
}

impl PinReader {
    /// A reader; `from_stdin` is the `--pin-stdin` flag.
    pub fn new(from_stdin: bool) -> Self {
        PinReader {
            from_stdin,
            what: ("PIN", "暗証番号", "--pin-stdin"),
        }
    }

    /// A reader of the start password; `from_stdin` is the `--password-stdin` flag.
    pub fn start_password(from_stdin: bool) -> Self {
        PinReader {
            from_stdin,
            what: ("start password", "利用開始パスワード", "--password-stdin"),
        }
    }

    /// Reads one PIN, prompting with `prompt` at a terminal.
    pub fn read(&mut self, prompt: &str) -> Result<Zeroizing<String>, Failure> {
        if self.from_stdin {
            let line = read_stdin_line()?.ok_or_else(|| {
                Failure::BadInput(msg::nothing_on_stdin(self.what.0, self.what.1))
            })?;
            return Ok(line);
        }
        let (en, ja, flag) = self.what;
        // Without a terminal (a script, a pipe) nobody could type it: say which flag reads
        // it from stdin instead of waiting on a terminal that is not there.
        if !io::stdin().is_terminal() {
            return Err(Failure::BadInput(crate::msg::no_terminal(
                en,
                ja,
                "stdin is not a terminal",
                flag,
            )));
        }
        rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|e| Failure::BadInput(crate::msg::no_terminal(en, ja, &e.to_string(), flag)))
    }

    /// Reads a new PIN, twice: typed at the terminal, or two lines of stdin.
    pub fn read_new(&mut self, prompt: &str) -> Result<Zeroizing<String>, Failure> {
        // Typed or piped, a new PIN is given twice: a slip in a script's PIN would lock its
        // owner out as surely as a slip at the keyboard.
        let pin = self.read(prompt)?;
        let again = if self.from_stdin {
            read_stdin_line()?.ok_or_else(|| Failure::BadInput(msg::pin_confirmation_missing()))?
        } else {
            self.read(&msg::repeat_pin_prompt())?
        };
        if *again != *pin {
            return Err(Failure::BadInput(msg::pins_differ()));
        }
        Ok(pin)
    }
}

/// One line of stdin without its line ending; `None` at end of input.
pub fn read_stdin_line() -> Result<Option<Zeroizing<String>>, Failure> {
    let mut line = Zeroizing::new(String::new());
    let n = io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::BadInput(msg::stdin_failed(&e.to_string())))?;
    if n == 0 {
        return Ok(None);
    }
    let trimmed = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(trimmed);
    Ok(Some(line))
}

/// Asks a yes/no question on stderr and reads the answer from stdin.
pub fn confirm(question: &str) -> Result<bool, Failure> {
    eprint!("{question} {} ", msg::yes_no());
    let _ = io::stderr().flush();
    let answer = read_stdin_line()?.unwrap_or_default();
    if !io::stdin().is_terminal() {
        // Nothing was echoed: end the prompt's line so messages start on their own.
        eprintln!();
    }
    let answer = answer.trim().to_ascii_lowercase();
    Ok(answer == "y" || answer == "yes")
}

/// Whether stdout is a terminal (live redraw and colours only there).
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

/// Now, in Unix milliseconds.
pub fn now_unix_ms() -> Result<i64, Failure> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .ok_or_else(|| Failure::Rejected("the system clock is before 1970".into()))
}

/// The message and exit status for a vault error.
pub fn store_failure(e: StoreError) -> Failure {
    match e {
        StoreError::InvalidPin => Failure::BadInput(msg::store_error(&e)),
        StoreError::Corrupt { .. } => Failure::Rejected(msg::with_hint(
            &msg::store_error(&e),
            &msg::wipe_hint_corrupt(),
        )),
        // Wiping over a key file that is only unreadable for now would lose tokens that
        // fixing the file (its owner, its mode, the disk) would have kept.
        StoreError::KeyWrapper(KeyWrapError::KeyLost { .. }) => Failure::Rejected(msg::with_hint(
            &msg::store_error(&e),
            &msg::wipe_hint_key_lost(),
        )),
        _ => Failure::Rejected(msg::store_error(&e)),
    }
}
