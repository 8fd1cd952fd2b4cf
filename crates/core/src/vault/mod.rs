//! The token vault (DESIGN.md §8): one encrypted file holding every token, with the
//! app lock (PIN) and atomic, crash-safe saves. The file format is in `FORMAT.md`.

mod crypto;
pub mod durable;
mod error;
pub mod format;
mod pin;
mod store;

pub use durable::{FileSystem, OsFileSystem};
pub use error::StoreError;
pub use pin::{DEFAULT_PIN_ITERATIONS, FREE_ATTEMPTS, PIN_MAX_LEN, check_pin};
pub use store::{Clock, StoreOptions, SystemClock, TokenInfo, TokenStore};
