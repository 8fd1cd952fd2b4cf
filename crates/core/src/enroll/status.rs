//! Token status (DESIGN.md §12): the core asks each token's server what became of it and
//! records the answer, so a revoked, stopped or replaced token stops showing codes.
//!
//! The request and the answer are MAC'd under the token's status key (derived from its
//! seed, see `softtoken_protocol::status`); an answer whose MAC does not match the question
//! asked is refused and changes nothing.

use rand::RngCore;
use rand::rngs::OsRng;
use softtoken_protocol::Serial;
use softtoken_protocol::status::{NONCE_LEN, StatusRequest, StatusResponse};

use super::client::{Enroller, TimeSync, VaultAccess};
use super::error::EnrollError;
use super::server_url::ServerUrl;
use super::transport::Method;
use crate::token::TokenState;

/// The outcome of asking about one token.
#[derive(Debug)]
pub struct StatusRefresh {
    /// The token.
    pub serial: Serial,
    /// Its state now (recorded in the vault), or why it could not be learned (the state in
    /// the vault is then unchanged).
    pub result: Result<TokenState, EnrollError>,
}

/// What [`Enroller::refresh`] did: every server's clock offset, then every token's state.
#[derive(Debug)]
pub struct Refresh {
    /// One per server.
    pub time: Vec<TimeSync>,
    /// One per token that was still alive (a dead token's state never changes again).
    pub status: Vec<StatusRefresh>,
}

impl Enroller {
    /// Refreshes the clock offsets (as [`Enroller::sync_time`]) and then the state of every
    /// live token. One unreachable server does not stop the others; each outcome is
    /// reported. The vault must be unlocked.
    pub fn refresh<V: VaultAccess>(&self, mut vault: V) -> Result<Refresh, V::Error> {
        let time = self.sync_all(&mut vault)?;
        let tokens = vault.with_vault(|store| store.tokens())?;
        let mut status = Vec::new();
        for token in tokens.into_iter().filter(|t| !t.state.is_dead()) {
            let result = self.refresh_token(&mut vault, &token.serial)?;
            status.push(StatusRefresh {
                serial: token.serial,
                result,
            });
        }
        Ok(Refresh { time, status })
    }

    /// Asks token `serial`'s server what became of it and records the answer; returns the
    /// state now. The outer error is the vault's; the inner one this server's alone.
    pub fn refresh_token<V: VaultAccess>(
        &self,
        vault: &mut V,
        serial: &Serial,
    ) -> Result<Result<TokenState, EnrollError>, V::Error> {
        let (info, key) =
            vault.with_vault(|store| Ok((store.token(serial)?, store.status_key(serial)?)))?;
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let server_ms = self
            .clock
            .now_unix_ms()
            .saturating_add(info.clock_offset_ms);
        let request = key.request(serial, server_ms, nonce);
        let asked = ServerUrl::parse(&info.server_url).and_then(|server| {
            let url = server.endpoint("/v1/tokens/status");
            let (answer, ..): (StatusResponse, _, _) =
                self.call::<StatusRequest, _>(Method::Post, &url, Some(&request))?;
            key.check_response(&request, &answer)
                .map_err(EnrollError::Protocol)?;
            Ok(TokenState::from(answer.state))
        });
        let Ok(state) = asked else {
            return Ok(asked);
        };
        if state != info.state {
            vault.with_vault(|store| store.set_state(serial, state))?;
        }
        Ok(Ok(state))
    }
}
