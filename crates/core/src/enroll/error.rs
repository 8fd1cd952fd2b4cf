//! Why an activation, a provisioning or a time sync failed, in terms a customer can act on.

use softtoken_protocol::ProtocolError;

use super::certificate::CertificateProblem;
use crate::vault::StoreError;

/// Why enrolling a token (or syncing time) failed.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    /// The server URL is malformed, or plain `http://` to a machine other than this one.
    #[error("server URL {url:?}: {reason}")]
    BadServerUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The activation URI is malformed.
    #[error("activation URI: {0}")]
    BadUri(String),
    /// The start password is not 4–64 printable ASCII characters (nothing was sent).
    #[error("a start password is 4 to 64 printable ASCII characters")]
    InvalidStartPassword,
    /// The start password was wrong (the server counted one failed try).
    #[error(
        "wrong start password ({attempts_left} tries left before the bank must issue a new one)"
    )]
    WrongStartPassword {
        /// Tries left before the enrollment locks.
        attempts_left: u32,
    },
    /// No usable enrollment for this service and user (never issued, used, replaced, or
    /// ended by a revocation). The server answers the same for a service or user it does
    /// not know, so as not to tell who its customers are.
    #[error(
        "no activation is waiting for this service ID and user ID; check both, or ask the bank to issue one"
    )]
    EnrollmentNotFound,
    /// The enrollment expired: the bank must issue a new one.
    #[error("the activation has expired; ask the bank to issue a new one")]
    EnrollmentExpired,
    /// Too many wrong start passwords: the bank must issue a new enrollment.
    #[error("too many wrong start passwords; ask the bank to issue a new activation")]
    EnrollmentLocked,
    /// The server does not know this service.
    #[error("the server does not know the service")]
    UnknownService,
    /// The server asks to slow down.
    #[error("the server is busy; try again in {retry_after_seconds} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_seconds: u64,
    },
    /// The server refused the request for another reason (its problem `code` and `detail`).
    #[error("{url} refused the request ({status} {code}): {detail}")]
    Refused {
        /// The endpoint.
        url: String,
        /// HTTP status.
        status: u16,
        /// The problem's stable code.
        code: String,
        /// What the server said.
        detail: String,
    },
    /// The server could not be reached.
    #[error("cannot reach {url}: {reason}")]
    Network {
        /// The endpoint.
        url: String,
        /// Why (DNS, refused connection, TLS, timeout, …).
        reason: String,
    },
    /// The server was reached but its certificate could not be verified (not "offline":
    /// the bank's CA is missing, or someone is in between).
    #[error("cannot verify the certificate of {url}: {problem}")]
    Certificate {
        /// The endpoint.
        url: String,
        /// What is wrong with the certificate.
        problem: CertificateProblem,
    },
    /// The extra CA certificates to trust (`--ca-file`, `SOFTTOKEN_CA_FILE`) cannot be used.
    #[error("CA file {path}: {reason}")]
    BadCaFile {
        /// The file as given.
        path: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The server answered something that is not the protocol.
    #[error("unexpected answer from {url}: {reason}")]
    BadResponse {
        /// The endpoint.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// The protocol failed: a tampered answer or the wrong server.
    #[error("activation failed: {0}")]
    Protocol(ProtocolError),
    /// The vault could not take the token.
    #[error(transparent)]
    Store(#[from] StoreError),
}
