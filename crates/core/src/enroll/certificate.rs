//! Why a server's certificate was not believed, told apart from "the server cannot be
//! reached": a customer who sees "offline?" checks the network, while a certificate the
//! token cannot verify needs the bank's CA (or tells of someone in between).

use std::fmt;

/// What is wrong with the certificate a server presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateProblem {
    /// Signed by no CA the token trusts (a bank's own CA not given, or an impostor).
    UnknownIssuer,
    /// Past its end date.
    Expired,
    /// Before its start date (or this device's clock is behind).
    NotYetValid,
    /// Issued for another name than the server URL's host.
    WrongName,
    /// A CA certificate served as the server's own (what a plain `openssl req -x509`
    /// makes): a CA signs leaves, it is not one.
    CaUsedAsEndEntity,
    /// Any other reason the TLS library gave (its words).
    Other(String),
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateProblem::UnknownIssuer => f.write_str("untrusted issuer (UnknownIssuer)"),
            CertificateProblem::Expired => f.write_str("expired (Expired)"),
            CertificateProblem::NotYetValid => f.write_str("not valid yet (NotValidYet)"),
            CertificateProblem::WrongName => {
                f.write_str("issued for another name (NotValidForName)")
            }
            CertificateProblem::CaUsedAsEndEntity => f.write_str(
                "a CA certificate served as the server's own (CaUsedAsEndEntity); \
                 the server needs a leaf certificate signed by the CA",
            ),
            CertificateProblem::Other(reason) => f.write_str(reason),
        }
    }
}

/// The certificate problem behind a failed request, if a certificate was the cause.
///
/// rustls's error sits inside an `io::Error` (inside another: hyper-rustls wraps
/// tokio-rustls's) in reqwest's chain, and `io::Error::source` skips what it wraps: each
/// `io::Error` is also opened with `get_ref`.
#[cfg(feature = "https")]
pub(super) fn classify(e: &(dyn std::error::Error + 'static)) -> Option<CertificateProblem> {
    if let Some(problem) = from_rustls(e) {
        return Some(problem);
    }
    if let Some(inner) = e
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
        && let Some(problem) = classify(inner)
    {
        return Some(problem);
    }
    e.source().and_then(classify)
}

#[cfg(feature = "https")]
fn from_rustls(e: &(dyn std::error::Error + 'static)) -> Option<CertificateProblem> {
    use rustls::CertificateError as C;
    let rustls::Error::InvalidCertificate(certificate) = e.downcast_ref::<rustls::Error>()? else {
        return None;
    };
    Some(match certificate {
        C::UnknownIssuer => CertificateProblem::UnknownIssuer,
        C::Expired | C::ExpiredContext { .. } => CertificateProblem::Expired,
        C::NotValidYet | C::NotValidYetContext { .. } => CertificateProblem::NotYetValid,
        C::NotValidForName | C::NotValidForNameContext { .. } => CertificateProblem::WrongName,
        // rustls passes webpki's CaUsedAsEndEntity on as an opaque `Other`, whose only
        // handle is its debug text.
        C::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            CertificateProblem::CaUsedAsEndEntity
        }
        other => CertificateProblem::Other(format!("invalid peer certificate: {other:?}")),
    })
}
