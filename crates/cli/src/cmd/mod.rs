//! One module per `softtoken` subcommand.

pub mod delete;
pub mod enroll;
pub mod list;
pub mod lock;
pub mod ocra;
pub mod otp;
pub mod serial;
pub mod show;
pub mod sign;
pub mod trust;
pub mod vault;
pub mod wipe;
