//! The softtoken token core: what runs inside the phone apps and the desktop token.
//!
//! No FFI and no UI here: `crates/ffi` wraps this crate for Kotlin and Swift,
//! and `crates/cli` for the desktop. The OTP algorithm itself is shared with the
//! server through `softtoken-protocol`; this crate adds what a token holder needs.

#[cfg(feature = "https")]
pub mod app;
pub mod banks;
pub mod enroll;
pub mod keywrap;
pub mod otp;
pub mod secret;
pub mod sign;
pub mod token;
pub mod vault;

pub use banks::{Bank, BankDirectory, BankDirectoryError, ServerCheck};
pub use enroll::{
    ActivationTarget, EnrollError, Enroller, Refresh, ServerUrl, StatusRefresh, VaultAccess,
};
pub use keywrap::{FileKeyWrapper, KeyWrapError, KeyWrapper};
pub use otp::{TokenCode, Totp, group_code};
pub use secret::Secret;
pub use softtoken_protocol as protocol;
pub use token::{Token, TokenState};
pub use vault::{StoreError, StoreOptions, TokenInfo, TokenStore};
