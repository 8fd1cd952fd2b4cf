//! The bank directory an app build ships: which server each service ID (サービスID) reaches,
//! the bank's name for the picker, and whether an activation server from a QR code or link is
//! one the directory knows.
//!
//! The directory is a JSON resource of the app (`mobile/banks/banks.json`, copied into the
//! Android assets and the iOS bundle). Both apps read it through this one parser (forwarded by
//! `crates/ffi`), so a typed service ID and a scanned QR code are judged the same way on both
//! platforms.
//!
//! ```json
//! { "banks": [ { "serviceId": "bank", "name": "Example Bank", "serverUrl": "https://otp.bank.example" } ] }
//! ```

use std::collections::HashSet;

use serde::Deserialize;
use softtoken_protocol::ServiceId;

use crate::enroll::{EnrollError, ServerUrl};

/// One bank (one service) of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bank {
    /// The service ID the customer types (サービスID).
    pub service_id: String,
    /// The bank's name, as the picker shows it.
    pub name: String,
    /// The bank's activation server, normalised (`https://host[:port][/path]`, no trailing `/`).
    pub server_url: String,
}

/// Whether an activation server (from a QR code or link) is one the directory knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCheck {
    /// The directory has this service at this server.
    Known(Bank),
    /// Not in the directory: the app shows the host (and port, when not the default) and asks
    /// before going on.
    Unknown {
        /// `host[:port]` of the server, for the customer to judge.
        host: String,
    },
}

/// A directory file that cannot be used: a broken build, caught by the apps' tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bank directory: {0}")]
pub struct BankDirectoryError(String);

/// The parsed, checked directory. Immutable: safe from any thread.
#[derive(Debug, Clone, Default)]
pub struct BankDirectory {
    banks: Vec<Bank>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileJson {
    banks: Vec<BankJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BankJson {
    service_id: String,
    name: String,
    server_url: String,
}

impl BankDirectory {
    /// Parses the directory file. Fails on malformed JSON, a bad service ID or server URL, an
    /// empty name, or a service ID listed twice, naming the fault.
    pub fn from_json(json: &str) -> Result<Self, BankDirectoryError> {
        let bad = |detail: String| BankDirectoryError(detail);
        let file: FileJson = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let mut seen = HashSet::new();
        let mut banks = Vec::with_capacity(file.banks.len());
        for entry in file.banks {
            let service = ServiceId::new(entry.service_id.trim())
                .map_err(|e| bad(format!("service ID {:?}: {e}", entry.service_id)))?;
            let server = ServerUrl::parse(&entry.server_url)
                .map_err(|e| bad(format!("{}: {e}", service.as_str())))?;
            let name = entry.name.trim();
            if name.is_empty() {
                return Err(bad(format!("{}: the name is empty", service.as_str())));
            }
            if !seen.insert(service.as_str().to_owned()) {
                return Err(bad(format!("{} is listed twice", service.as_str())));
            }
            banks.push(Bank {
                service_id: service.as_str().to_owned(),
                name: name.to_owned(),
                server_url: server.as_str().to_owned(),
            });
        }
        Ok(BankDirectory { banks })
    }

    /// Every bank, in the file's order (the picker's order).
    pub fn banks(&self) -> &[Bank] {
        &self.banks
    }

    /// The bank of a typed service ID (surrounding spaces ignored; case matters, as it does
    /// to the server), or `None` when the directory does not list it.
    pub fn find(&self, service_id: &str) -> Option<&Bank> {
        let typed = service_id.trim();
        self.banks.iter().find(|b| b.service_id == typed)
    }

    /// Judges an activation target from a QR code or link: `Known` only when the directory
    /// lists this service at this server (compared normalised: case of the host, a trailing
    /// `/`). Fails with [`EnrollError::BadServerUrl`] when `server_url` is no server URL.
    pub fn check_server(
        &self,
        service_id: &str,
        server_url: &str,
    ) -> Result<ServerCheck, EnrollError> {
        let server = ServerUrl::parse(server_url)?;
        let service_id = service_id.trim();
        if let Some(bank) = self
            .banks
            .iter()
            .find(|b| b.service_id == service_id && b.server_url == server.as_str())
        {
            return Ok(ServerCheck::Known(bank.clone()));
        }
        Ok(ServerCheck::Unknown {
            host: host_of(&server),
        })
    }
}

/// `host[:port]` of a checked server URL: what a customer can recognise (or not).
pub fn host_of(server: &ServerUrl) -> String {
    let url = server.as_str();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"{"banks": [
        {"serviceId": "bank-a", "name": "A 銀行", "serverUrl": "https://otp.a.example/"},
        {"serviceId": "bank-b", "name": "B Bank", "serverUrl": "https://OTP.b.example:8443/otp"}
    ]}"#;

    #[test]
    fn typed_service_ids_resolve_to_their_server() {
        let dir = BankDirectory::from_json(TWO).unwrap();
        assert_eq!(dir.banks().len(), 2);
        let b = dir.find(" bank-b ").unwrap();
        assert_eq!(b.server_url, "https://otp.b.example:8443/otp");
        assert_eq!(b.name, "B Bank");
        assert_eq!(dir.find("BANK-B"), None);
        assert_eq!(dir.find("bank-c"), None);
    }

    #[test]
    fn a_server_is_known_only_with_its_own_service() {
        let dir = BankDirectory::from_json(TWO).unwrap();
        let known = dir
            .check_server(" bank-a", "https://OTP.A.example")
            .unwrap();
        assert!(matches!(known, ServerCheck::Known(bank) if bank.service_id == "bank-a"));
        // bank-b's service ID pointed at another server: ask first.
        let moved = dir
            .check_server("bank-b", "https://phish.example:444/otp")
            .unwrap();
        assert_eq!(
            moved,
            ServerCheck::Unknown {
                host: "phish.example:444".into()
            }
        );
        // A known server under another bank's service ID is not that bank either.
        let swapped = dir.check_server("bank-b", "https://otp.a.example").unwrap();
        assert_eq!(
            swapped,
            ServerCheck::Unknown {
                host: "otp.a.example".into()
            }
        );
        let err = dir
            .check_server("bank-a", "http://otp.a.example")
            .unwrap_err();
        assert!(matches!(err, EnrollError::BadServerUrl { .. }), "{err:?}");
    }

    #[test]
    fn the_host_is_what_a_customer_can_recognise() {
        for (url, host) in [
            ("https://otp.bank.example", "otp.bank.example"),
            (
                "https://OTP.bank.example:8443/base/",
                "otp.bank.example:8443",
            ),
            ("https://otp.bank.example:443/x", "otp.bank.example"),
            ("http://127.0.0.1:8080", "127.0.0.1:8080"),
        ] {
            assert_eq!(host_of(&ServerUrl::parse(url).unwrap()), host, "{url}");
        }
    }

    #[test]
    fn broken_directories_are_refused_naming_the_fault() {
        for (json, says) in [
            ("{", "bank directory"),
            (
                r#"{"banks": [{"serviceId": "a b", "name": "x", "serverUrl": "https://a.example"}]}"#,
                "a b",
            ),
            (
                r#"{"banks": [{"serviceId": "a", "name": "x", "serverUrl": "http://a.example"}]}"#,
                "http",
            ),
            (
                r#"{"banks": [{"serviceId": "a", "name": " ", "serverUrl": "https://a.example"}]}"#,
                "name is empty",
            ),
            (
                r#"{"banks": [{"serviceId": "a", "name": "x", "serverUrl": "https://a.example"},
                              {"serviceId": "a", "name": "y", "serverUrl": "https://b.example"}]}"#,
                "listed twice",
            ),
            (r#"{"banks": [], "extra": 1}"#, "extra"),
        ] {
            match BankDirectory::from_json(json) {
                Err(e) => {
                    let text = e.to_string();
                    assert!(text.starts_with("bank directory: "), "{json}: {text}");
                    assert!(text.contains(says), "{json}: {text}");
                }
                Ok(dir) => panic!("{json}: accepted {dir:?}"),
            }
        }
    }
}
