//! Wire types and cryptography shared by the softtoken app core and server.
//!
//! Both sides of every message are one type defined here, so the app and the
//! server cannot drift apart: serial numbers ([`serial`]), OTP parameters and
//! the HOTP/TOTP algorithm ([`otp`]), identifiers ([`ids`]), and the two ways a
//! token is born: activation by start password ([`activation`], SPAKE2) and
//! provisioning for registration mode ([`provisioning`], X25519), which share
//! the session key and its derivations ([`session`]); and the token status a token asks
//! its server for ([`status`]).

pub mod activation;
pub mod ids;
pub mod ocra;
pub mod otp;
pub mod problem;
pub mod provisioning;
pub mod serial;
pub mod session;
pub mod status;
pub mod transaction;
pub mod wire;

pub use ids::{CONSOLE_SERVICE, IdError, ServiceId, UserId};
pub use otp::{Algorithm, Digits, OtpParams, ParamError, Period};
pub use problem::Problem;
pub use serial::{Serial, SerialError};
pub use session::{IssuedToken, ProtocolError, SessionKey};
