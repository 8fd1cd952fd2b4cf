//! The bank directory for the apps: a thin forward to `softtoken_core::banks`, where the
//! parsing, the lookup and the check of an activation server live (and are tested).

use std::sync::Arc;

use softtoken_core::banks;

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

impl From<&banks::Bank> for Bank {
    fn from(bank: &banks::Bank) -> Self {
        Bank {
            service_id: bank.service_id.clone(),
            name: bank.name.clone(),
            server_url: bank.server_url.clone(),
        }
    }
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

impl From<banks::ServerCheck> for ServerCheck {
    fn from(check: banks::ServerCheck) -> Self {
        match check {
            banks::ServerCheck::Known(bank) => ServerCheck::Known {
                bank: (&bank).into(),
            },
            banks::ServerCheck::Unknown { host } => ServerCheck::Unknown { host },
        }
    }
}

/// The parsed, checked directory. Immutable: safe from any thread.
#[derive(Debug, uniffi::Object)]
pub struct BankDirectory(banks::BankDirectory);

#[uniffi::export]
impl BankDirectory {
    /// Parses the directory file. Fails with `InvalidInput` (field `Other`) on malformed
    /// JSON, a bad service ID or server URL, an empty name, or a service ID listed twice: a
    /// broken build, caught by the apps' tests before it ships.
    #[uniffi::constructor]
    pub fn from_json(json: String) -> Result<Arc<Self>, SoftTokenError> {
        let directory = banks::BankDirectory::from_json(&json)
            .map_err(|e| SoftTokenError::invalid(InputField::Other, e))?;
        Ok(Arc::new(BankDirectory(directory)))
    }

    /// Every bank, in the file's order (the picker's order).
    pub fn banks(&self) -> Vec<Bank> {
        self.0.banks().iter().map(Bank::from).collect()
    }

    /// The bank of a typed service ID (surrounding spaces ignored; case matters, as it does
    /// to the server), or `None` when the directory does not list it.
    pub fn find(&self, service_id: String) -> Option<Bank> {
        self.0.find(&service_id).map(Bank::from)
    }

    /// Judges an activation target from a QR code or link: `Known` only when the directory
    /// lists this service at this server (compared normalised: case of the host, a trailing
    /// `/`). Fails with `InvalidInput` (field `ServerUrl`) when `server_url` is no server URL.
    pub fn check_server(
        &self,
        service_id: String,
        server_url: String,
    ) -> Result<ServerCheck, SoftTokenError> {
        Ok(self.0.check_server(&service_id, &server_url)?.into())
    }
}

#[cfg(test)]
mod tests {
    //! The directory's behaviour is tested in `softtoken_core::banks`; these prove the
    //! forwarding: records, the enum and the error mapping onto `InvalidInput`.
    use super::*;

    const ONE: &str = r#"{"banks": [
        {"serviceId": "bank-a", "name": "A 銀行", "serverUrl": "https://otp.a.example/"}
    ]}"#;

    #[test]
    fn the_forward_keeps_records_checks_and_fields() {
        let dir = BankDirectory::from_json(ONE.into()).unwrap();
        let bank = Bank {
            service_id: "bank-a".into(),
            name: "A 銀行".into(),
            server_url: "https://otp.a.example".into(),
        };
        assert_eq!(dir.banks(), vec![bank.clone()]);
        assert_eq!(dir.find(" bank-a ".into()), Some(bank.clone()));
        assert_eq!(
            dir.check_server("bank-a".into(), "https://OTP.A.example/".into())
                .unwrap(),
            ServerCheck::Known { bank }
        );
        assert_eq!(
            dir.check_server("bank-a".into(), "https://phish.example:444".into())
                .unwrap(),
            ServerCheck::Unknown {
                host: "phish.example:444".into()
            }
        );
        for (result, want) in [
            (
                dir.check_server("bank-a".into(), "http://otp.a.example".into())
                    .map(|_| ()),
                InputField::ServerUrl,
            ),
            (
                BankDirectory::from_json("{".into()).map(|_| ()),
                InputField::Other,
            ),
        ] {
            match result {
                Err(SoftTokenError::InvalidInput { field, detail }) => {
                    assert_eq!(field, want, "{detail}");
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
