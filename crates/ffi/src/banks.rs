//! The bank directory an app build ships: which server each service ID (サービスID) reaches,
//! and the bank's name for the picker.
//!
//! The directory is a JSON resource of the app (`mobile/banks/banks.json`, copied into the
//! Android assets and the iOS bundle); both apps read it through this one parser, so a
//! typed service ID and a scanned QR code are judged the same way on both platforms.
//!
//! ```json
//! { "banks": [ { "serviceId": "bank", "name": "Example Bank", "serverUrl": "https://otp.bank.example" } ] }
//! ```

use std::collections::HashSet;
use std::sync::Arc;

use serde::Deserialize;
use softtoken_core::ServerUrl;
use softtoken_core::protocol::ServiceId;

use crate::{InputField, SoftTokenError};

/// One bank (one service) of the directory.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Bank {
    /// The service ID the customer types (サービスID).
    pub service_id: String,
    /// The bank's name, as the picker shows it.
    pub name: String,
    /// The bank's activation server, normalised (`https://host[:port][/path]`, no trailing `/`).
    pub server_url: String,
}

/// Whether an activation server (from a QR code or link) is one the directory knows.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ServerCheck {
    /// The directory has this service at this server.
    Known {
        /// The directory's entry.
        bank: Bank,
    },
    /// Not in the directory: the app shows `host` and asks before going on.
    Unknown {
        /// The server's host (and port, when not the default), for the customer to judge.
        host: String,
    },
}

/// The parsed, checked directory. Immutable: safe from any thread.
#[derive(Debug, uniffi::Object)]
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

fn bad(detail: impl ToString) -> SoftTokenError {
    SoftTokenError::invalid(
        InputField::Other,
        format!("bank directory: {}", detail.to_string()),
    )
}

#[uniffi::export]
impl BankDirectory {
    /// Parses the directory file. Fails with `InvalidInput` (field `Other`) on malformed
    /// JSON, a bad service ID or server URL, an empty name, or a service ID listed twice: a
    /// broken build, caught by the apps' tests before it ships.
    #[uniffi::constructor]
    pub fn from_json(json: String) -> Result<Arc<Self>, SoftTokenError> {
        let file: FileJson = serde_json::from_str(&json).map_err(bad)?;
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
        Ok(Arc::new(BankDirectory { banks }))
    }

    /// Every bank, in the file's order (the picker's order).
    pub fn banks(&self) -> Vec<Bank> {
        self.banks.clone()
    }

    /// The bank of a typed service ID (surrounding spaces ignored; case matters, as it does
    /// to the server), or `None` when the directory does not list it.
    pub fn find(&self, service_id: String) -> Option<Bank> {
        let typed = service_id.trim();
        self.banks.iter().find(|b| b.service_id == typed).cloned()
    }

    /// Judges an activation target from a QR code or link: `Known` only when the directory
    /// lists this service at this server (compared normalised: case of the host, a trailing
    /// `/`). Fails with `InvalidInput` (field `ServerUrl`) when `server_url` is no server URL.
    pub fn check_server(
        &self,
        service_id: String,
        server_url: String,
    ) -> Result<ServerCheck, SoftTokenError> {
        let server = ServerUrl::parse(&server_url)?;
        if let Some(bank) = self
            .banks
            .iter()
            .find(|b| b.service_id == service_id.trim() && b.server_url == server.as_str())
        {
            return Ok(ServerCheck::Known { bank: bank.clone() });
        }
        Ok(ServerCheck::Unknown {
            host: host_of(&server),
        })
    }
}

// `host[:port]` of a checked server URL: what a customer can recognise (or not).
fn host_of(server: &ServerUrl) -> String {
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

    fn parse(json: &str) -> Result<Arc<BankDirectory>, SoftTokenError> {
        BankDirectory::from_json(json.to_owned())
    }

    #[test]
    fn typed_service_ids_resolve_to_their_server() {
        let dir = parse(TWO).unwrap();
        assert_eq!(dir.banks().len(), 2);
        let b = dir.find(" bank-b ".into()).unwrap();
        assert_eq!(b.server_url, "https://otp.b.example:8443/otp");
        assert_eq!(b.name, "B Bank");
        assert_eq!(dir.find("BANK-B".into()), None);
        assert_eq!(dir.find("bank-c".into()), None);
    }

    #[test]
    fn a_server_is_known_only_with_its_own_service() {
        let dir = parse(TWO).unwrap();
        let known = dir
            .check_server("bank-a".into(), "https://OTP.A.example".into())
            .unwrap();
        assert!(matches!(known, ServerCheck::Known { bank } if bank.service_id == "bank-a"));
        // bank-b's service ID pointed at another server: ask first.
        let moved = dir
            .check_server("bank-b".into(), "https://phish.example:444/otp".into())
            .unwrap();
        assert_eq!(
            moved,
            ServerCheck::Unknown {
                host: "phish.example:444".into()
            }
        );
        let err = dir
            .check_server("bank-a".into(), "http://otp.a.example".into())
            .unwrap_err();
        assert!(
            matches!(
                err,
                SoftTokenError::InvalidInput {
                    field: InputField::ServerUrl,
                    ..
                }
            ),
            "{err:?}"
        );
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
            match parse(json) {
                Err(SoftTokenError::InvalidInput { field, detail }) => {
                    assert_eq!(field, InputField::Other);
                    assert!(detail.contains(says), "{json}: {detail}");
                }
                other => panic!("{json}: {other:?}"),
            }
        }
    }
}
