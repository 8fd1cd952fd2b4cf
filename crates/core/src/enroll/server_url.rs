//! The server a token talks to: `https://` only, except plain `http://` to this machine
//! (loopback), where there is no network to protect and tests and demos run.

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};

use super::error::EnrollError;

/// A validated server base URL, without a trailing slash (`https://otp.bank.example/base`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ServerUrl(String);

impl ServerUrl {
    /// Parses and checks `text`: `https://host[:port][/path]`, or `http://` to a loopback
    /// address (`localhost`, `127.0.0.0/8`, `::1`). No user info, query or fragment.
    pub fn parse(text: &str) -> Result<Self, EnrollError> {
        let bad = |reason: &str| EnrollError::BadServerUrl {
            url: text.to_string(),
            reason: reason.to_string(),
        };
        let url = Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
        let host = url.host().ok_or_else(|| bad("it has no host"))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => {
                return Err(bad(
                    "plain http:// is refused except to this machine (localhost); use https://",
                ));
            }
            other => {
                return Err(bad(&format!(
                    "unsupported scheme {other}:// (use https://)"
                )));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "user names and passwords do not belong in the server URL",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("the server URL takes no query or fragment"));
        }
        Ok(ServerUrl(url.as_str().trim_end_matches('/').to_string()))
    }

    /// The URL as text (what the vault stores with each token).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL of API path `path` (which starts with `/`).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerUrl({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_are_accepted() {
        for (text, want) in [
            ("https://otp.bank.example", "https://otp.bank.example"),
            ("https://otp.bank.example/", "https://otp.bank.example"),
            (
                "https://OTP.Bank.example:8443/otp/",
                "https://otp.bank.example:8443/otp",
            ),
            ("http://localhost:8080", "http://localhost:8080"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://127.8.9.10", "http://127.8.9.10"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ] {
            assert_eq!(ServerUrl::parse(text).unwrap().as_str(), want, "{text}");
        }
        let url = ServerUrl::parse("https://bank.example/otp").unwrap();
        assert_eq!(url.endpoint("/v1/time"), "https://bank.example/otp/v1/time");
    }

    #[test]
    fn plain_http_elsewhere_and_other_oddities_are_refused() {
        for text in [
            "http://otp.bank.example",
            "http://192.168.1.10:8080",
            "http://10.0.0.1",
            "http://[::ffff:7f00:1]",
            "http://localhost.bank.example",
            "ftp://bank.example",
            "softtoken://activate",
            "https://user:pw@bank.example",
            "https://bank.example/?x=1",
            "https://bank.example/#frag",
            "bank.example",
            "",
        ] {
            assert!(
                matches!(
                    ServerUrl::parse(text),
                    Err(EnrollError::BadServerUrl { .. })
                ),
                "{text}"
            );
        }
        let message = ServerUrl::parse("http://bank.example")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("http://bank.example") && message.contains("https"),
            "{message}"
        );
    }
}
