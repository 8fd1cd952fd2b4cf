//! Token status for the apps (DESIGN.md §12): refresh what became of each token, on open
//! and on request. Thin: the exchange and its MACs are the core's
//! (`Enroller::refresh`).

use softtoken_core::Enroller;
use softtoken_core::app::AppConfig;
use softtoken_core::protocol::Serial;

use crate::SoftTokenError;
use crate::enroll::TimeSyncOutcome;
use crate::store::{TokenState, TokenStore};

/// The outcome of asking about one token.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StatusOutcome {
    /// The token's serial, compact.
    pub serial: String,
    /// Its state now (also recorded in the vault), or `None` if the server could not say.
    pub state: Option<TokenState>,
    /// Why the server could not say, for the log or a hint; `None` on success.
    pub error: Option<String>,
}

/// What [`TokenStore::refresh`] did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RefreshOutcome {
    /// One per server: its clock offset, or why it could not be learned.
    pub time: Vec<TimeSyncOutcome>,
    /// One per live token (dead ones never change again).
    pub status: Vec<StatusOutcome>,
}

#[uniffi::export]
impl TokenStore {
    /// Refreshes every server's clock offset and then every live token's state (call it
    /// after unlocking, and when the customer pulls to refresh). One unreachable server
    /// does not stop the others. Blocks on the network for at most 3 s in all (the desktop
    /// token's budget): call it off the main thread.
    pub fn refresh(&self) -> Result<RefreshOutcome, SoftTokenError> {
        // Best effort, as the desktop token's: every request shares one budget, so an
        // unreachable server holds the caller (and a shell's worker) up for at most that.
        let enroller = Enroller::over_https(None, Some(AppConfig::REFRESH_BUDGET))?;
        let refresh = enroller.refresh(self)?;
        Ok(RefreshOutcome {
            time: refresh
                .time
                .into_iter()
                .map(TimeSyncOutcome::from)
                .collect(),
            status: refresh
                .status
                .into_iter()
                .map(|s| {
                    let (state, error) = match s.result {
                        Ok(state) => (Some(state.into()), None),
                        Err(e) => (None, Some(e.to_string())),
                    };
                    StatusOutcome {
                        serial: s.serial.as_str().to_string(),
                        state,
                        error,
                    }
                })
                .collect(),
        })
    }

    /// Refreshes the state of token `serial` only and returns it. Blocks on the network.
    pub fn refresh_token_state(&self, serial: String) -> Result<TokenState, SoftTokenError> {
        let serial = Serial::parse(&serial)?;
        let mut access = self;
        Ok(self
            .enroller()?
            .refresh_token(&mut access, &serial)??
            .into())
    }
}
