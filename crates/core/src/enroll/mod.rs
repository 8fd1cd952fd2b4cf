//! Getting a token: activation by start password (SPAKE2), provisioning for registration
//! mode (X25519), the server's clock offset (DESIGN.md §4–6), and the token's status
//! (§12).
//!
//! The protocol steps live in `softtoken-protocol`; here they meet the network and the
//! vault. Network calls **block** (10 s connect, 30 s total timeout): the phone shells run
//! them off the main thread. Servers must be `https://`; plain `http://` is accepted only
//! for loopback addresses (tests, demos on one machine).

mod certificate;
mod client;
mod error;
mod server_url;
mod status;
mod time;
pub mod transport;
mod uri;

pub use certificate::CertificateProblem;
pub use client::{Enroller, TimeSync, VaultAccess};
pub use error::EnrollError;
pub use server_url::ServerUrl;
pub use status::{Refresh, StatusRefresh};
pub use time::{TimeResponse, clock_offset_ms};
#[cfg(feature = "https")]
pub use transport::HttpTransport;
pub use transport::{HttpRequest, HttpResponse, Method, SendError, Transport};
pub use uri::ActivationTarget;
