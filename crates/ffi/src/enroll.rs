//! Getting tokens from a bank's server: activation with a start password, provisioning for
//! registration mode, and clock sync.
//!
//! Each call **blocks** on the network (up to 30 s) and must run off the main thread. The
//! core's `Enroller` does the work; it reaches the vault through [`VaultAccess`], which
//! takes the vault's mutex only for each vault step (is it unlocked? keep the token), never
//! while the network is in use, so the token list and its codes stay live meanwhile.

use softtoken_core::enroll::TimeSync;
use softtoken_core::protocol::{Serial, ServiceId, UserId};
use softtoken_core::{Enroller, ServerUrl, StoreError, VaultAccess, enroll, vault};
use zeroize::Zeroizing;

use crate::store::TokenInfo;
use crate::{InputField, SoftTokenError, TokenStore};

/// What an activation URI (the bank's QR code, `softtoken://activate?…`) points at. It never
/// carries the start password, which the customer types.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ActivationTarget {
    /// The activation server (`https://…`).
    pub server_url: String,
    /// The bank's service ID (サービスID).
    pub service_id: String,
    /// The customer's user ID (ユーザID).
    pub user_id: String,
}

impl From<enroll::ActivationTarget> for ActivationTarget {
    fn from(t: enroll::ActivationTarget) -> Self {
        ActivationTarget {
            server_url: t.server.as_str().to_owned(),
            service_id: t.service.as_str().to_owned(),
            user_id: t.user.as_str().to_owned(),
        }
    }
}

/// Reads an activation URI from a QR code, so the app can show where and for whom it will
/// activate before asking for the start password. Fails with
/// [`SoftTokenError::InvalidInput`] (field `ActivationUri` or `ServerUrl`) naming the fault.
#[uniffi::export]
pub fn parse_activation_uri(uri: String) -> Result<ActivationTarget, SoftTokenError> {
    let target = enroll::ActivationTarget::from_uri(&uri)?;
    Ok(target.into())
}

/// How syncing the clock with one server went.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TimeSyncOutcome {
    /// The server.
    pub server_url: String,
    /// Its clock minus the device's in milliseconds, now applied to its tokens; `None` when
    /// the server could not be asked.
    pub clock_offset_ms: Option<i64>,
    /// Why it could not be asked (English, for logs); `None` on success.
    pub failure: Option<String>,
}

impl From<TimeSync> for TimeSyncOutcome {
    fn from(sync: TimeSync) -> Self {
        let (clock_offset_ms, failure) = match sync.result {
            Ok(offset) => (Some(offset), None),
            Err(e) => (None, Some(e.to_string())),
        };
        TimeSyncOutcome {
            server_url: sync.server_url,
            clock_offset_ms,
            failure,
        }
    }
}

#[uniffi::export]
impl TokenStore {
    /// Activates a token with the start password (利用開始パスワード) the bank gave the
    /// customer, and stores it as `Pending` until the bank confirms its first code.
    ///
    /// Blocks on the network. A wrong password fails with
    /// [`SoftTokenError::WrongStartPassword`] saying how many tries are left. The vault must
    /// be unlocked ([`SoftTokenError::Locked`] otherwise, checked before anything is sent).
    pub fn activate(
        &self,
        server_url: String,
        service_id: String,
        user_id: String,
        start_password: String,
    ) -> Result<TokenInfo, SoftTokenError> {
        let start_password = Zeroizing::new(start_password);
        let target = enroll::ActivationTarget {
            server: ServerUrl::parse(&server_url)?,
            service: ServiceId::new(service_id)
                .map_err(|e| SoftTokenError::invalid(InputField::ServiceId, e))?,
            user: UserId::new(user_id)
                .map_err(|e| SoftTokenError::invalid(InputField::UserId, e))?,
        };
        let info = self.enroller()?.activate(self, &target, &start_password)?;
        Ok(info.into())
    }

    /// Activates with the URI from the bank's QR code and the start password the customer
    /// typed; otherwise as [`TokenStore::activate`].
    pub fn activate_with_uri(
        &self,
        uri: String,
        start_password: String,
    ) -> Result<TokenInfo, SoftTokenError> {
        let start_password = Zeroizing::new(start_password);
        let target = enroll::ActivationTarget::from_uri(&uri)?;
        let info = self.enroller()?.activate(self, &target, &start_password)?;
        Ok(info.into())
    }

    /// Creates a token for registration mode: the app picks the serial, the seed comes from
    /// a key exchange with the server, and the token stays `Pending` until the customer
    /// registers its serial and a code in internet banking. Blocks on the network.
    pub fn provision(
        &self,
        server_url: String,
        service_id: String,
    ) -> Result<TokenInfo, SoftTokenError> {
        let server = ServerUrl::parse(&server_url)?;
        let service = ServiceId::new(service_id)
            .map_err(|e| SoftTokenError::invalid(InputField::ServiceId, e))?;
        let info = self.enroller()?.provision(self, &server, &service)?;
        Ok(info.into())
    }

    /// Learns the clock offset of every server the vault's tokens come from and applies it
    /// to their codes. One unreachable server does not stop the others: each outcome is
    /// reported. Blocks on the network.
    pub fn sync_time(&self) -> Result<Vec<TimeSyncOutcome>, SoftTokenError> {
        let outcomes = self.enroller()?.sync_time(self)?;
        Ok(outcomes.into_iter().map(TimeSyncOutcome::from).collect())
    }

    /// Learns the clock offset of the server token `serial` comes from, applies it to every
    /// token of that server, and returns it (milliseconds, server minus device). Blocks on
    /// the network; fails with [`SoftTokenError::Network`] when the server cannot be asked.
    pub fn sync_token_time(&self, serial: String) -> Result<i64, SoftTokenError> {
        let serial = Serial::parse(&serial)?;
        self.enroller()?.sync_token_time(self, &serial)
    }
}

/// The enroller takes the vault's lock for each of its vault steps only.
impl VaultAccess for &TokenStore {
    type Error = SoftTokenError;

    fn with_vault<T>(
        &mut self,
        f: impl FnOnce(&mut vault::TokenStore) -> Result<T, StoreError>,
    ) -> Result<T, SoftTokenError> {
        self.with(f)
    }
}

impl TokenStore {
    /// The HTTPS client, made once per store on first use.
    pub(crate) fn enroller(&self) -> Result<&Enroller, SoftTokenError> {
        if let Some(enroller) = self.enroller.get() {
            return Ok(enroller);
        }
        let made = Enroller::new()?;
        Ok(self.enroller.get_or_init(|| made))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{KeyWrapper, KeyWrapperError};

    /// Stands in for a platform key: enough for tests that never look at the ciphertext.
    struct PlainWrapper;

    impl KeyWrapper for PlainWrapper {
        fn wrap_key(&self, key: Vec<u8>) -> Result<Vec<u8>, KeyWrapperError> {
            Ok(key)
        }
        fn unwrap_key(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyWrapperError> {
            Ok(wrapped)
        }
    }

    fn store(dir: &tempfile::TempDir) -> Arc<TokenStore> {
        let path = dir.path().join("tokens.vault").display().to_string();
        TokenStore::open(path, Arc::new(PlainWrapper)).unwrap()
    }

    // Port 1 on loopback never answers: reaching the network would be a Network error.
    const NOWHERE: &str = "http://127.0.0.1:1";

    #[test]
    fn a_locked_vault_refuses_before_the_network() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        store.set_pin("2468".into()).unwrap();
        store.lock().unwrap();
        let activate = store.activate(
            NOWHERE.into(),
            "bank".into(),
            "alice".into(),
            "pass-1234".into(),
        );
        assert_eq!(activate.unwrap_err(), SoftTokenError::Locked);
        let uri = format!("softtoken://activate?server={NOWHERE}&service=bank&user=alice");
        let by_uri = store.activate_with_uri(uri, "pass-1234".into());
        assert_eq!(by_uri.unwrap_err(), SoftTokenError::Locked);
        let provision = store.provision(NOWHERE.into(), "bank".into());
        assert_eq!(provision.unwrap_err(), SoftTokenError::Locked);
    }

    #[test]
    fn bad_input_names_its_field_and_sends_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let field = |r: Result<TokenInfo, SoftTokenError>| match r {
            Err(SoftTokenError::InvalidInput { field, .. }) => field,
            other => panic!("expected invalid input, got {other:?}"),
        };
        let activate = |server: &str, service: &str, user: &str, password: &str| {
            store.activate(server.into(), service.into(), user.into(), password.into())
        };
        assert_eq!(
            field(activate(
                "http://bank.example",
                "bank",
                "alice",
                "pass-1234"
            )),
            InputField::ServerUrl
        );
        assert_eq!(
            field(activate(NOWHERE, "b a n k", "alice", "pass-1234")),
            InputField::ServiceId
        );
        assert_eq!(
            field(activate(NOWHERE, "bank", "", "pass-1234")),
            InputField::UserId
        );
        assert_eq!(
            field(activate(NOWHERE, "bank", "alice", "abc")),
            InputField::StartPassword
        );
        assert_eq!(
            field(store.activate_with_uri("https://bank.example/".into(), "pass-1234".into())),
            InputField::ActivationUri
        );
        assert!(matches!(
            parse_activation_uri("softtoken://activate?server=https://a.example&service=b".into()),
            Err(SoftTokenError::InvalidInput {
                field: InputField::ActivationUri,
                ..
            })
        ));
        // Well-formed input does reach the network, and its failure says so.
        assert!(matches!(
            store.provision(NOWHERE.into(), "bank".into()),
            Err(SoftTokenError::Network { .. })
        ));
        assert_eq!(store.tokens().unwrap(), vec![]);
    }

    #[test]
    fn an_activation_uri_reads_back_what_the_bank_put_in() {
        let uri =
            "softtoken://activate?server=https%3A%2F%2Fotp.bank.example&service=netbank&user=alice";
        assert_eq!(
            parse_activation_uri(uri.into()).unwrap(),
            ActivationTarget {
                server_url: "https://otp.bank.example".into(),
                service_id: "netbank".into(),
                user_id: "alice".into(),
            }
        );
    }

    #[test]
    fn time_sync_of_an_empty_vault_asks_nobody() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(store(&dir).sync_time().unwrap(), vec![]);
        assert!(matches!(
            store(&dir).sync_token_time(crate::generate_serial().compact),
            Err(SoftTokenError::TokenNotFound { .. })
        ));
    }
}
