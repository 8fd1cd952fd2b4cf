//! The server's side of the token status call (DESIGN.md §12): judges a
//! [`StatusRequest`] and answers what became of the token, MAC'd under its status key.
//!
//! The call is open to anyone, so it must tell nobody which tokens exist: an unknown serial
//! and a wrong MAC get the same 401 `not_recognised` problem, and both take the same steps
//! (one indexed read, one seed opened — a throwaway one for an unknown serial —, one key
//! derived, one MAC compared in constant time). What it may refuse apart is only what the
//! request alone shows: a malformed field, or a time more than five minutes from the
//! server's clock (`clock_skew`, so an honest app refreshes its offset and asks again).
//!
//! No nonce cache: a replayed request (within the window) gets an answer whose MAC binds
//! the nonce the app chose, so the app accepts nothing but answers to its own questions,
//! and the request changes nothing on the server.

use http::StatusCode;
use rand::RngCore;
use rand::rngs::OsRng;
use softtoken_protocol::problem::codes;
use softtoken_protocol::status::{
    MAC_LEN, NONCE_LEN, StatusKey, StatusRequest, StatusResponse, TokenStatus, time_in_window,
};

use crate::crypto::{Bound, Keyring};
use crate::error::ServiceError;
use crate::store::{Store, TokenEnd, TokenStanding, TokenState};

/// The serial a throwaway seed is sealed to, with an empty service no real seed has.
const NOBODY: &str = "SKTS00000000";

/// What the holder is told of a token in `standing`.
pub fn status_of(standing: &TokenStanding) -> TokenStatus {
    match (standing.state, standing.ended_as) {
        // A provisioned token waits for the bank to register it: pending, to its holder.
        (TokenState::Unassigned | TokenState::Pending, _) => TokenStatus::Pending,
        (TokenState::Active, _) => TokenStatus::Active,
        (TokenState::Revoked, Some(TokenEnd::Stopped)) => TokenStatus::Stopped,
        (TokenState::Revoked, Some(TokenEnd::Replaced)) => TokenStatus::Replaced,
        (TokenState::Revoked, Some(TokenEnd::Revoked) | None) => TokenStatus::Revoked,
    }
}

fn not_recognised() -> ServiceError {
    ServiceError::new(
        StatusCode::UNAUTHORIZED,
        codes::NOT_RECOGNISED,
        "the server does not recognise this token, or the request's MAC does not match",
    )
}

/// Answers `request` at server time `now`.
pub async fn answer(
    store: &dyn Store,
    keyring: &Keyring,
    request: &StatusRequest,
    now: i64,
) -> Result<StatusResponse, ServiceError> {
    if request.nonce.0.len() != NONCE_LEN {
        return Err(ServiceError::invalid_field(format!(
            "nonce: must be {NONCE_LEN} bytes"
        )));
    }
    if request.mac.0.len() != MAC_LEN {
        return Err(ServiceError::invalid_field(format!(
            "mac: must be {MAC_LEN} bytes"
        )));
    }
    if !time_in_window(request.unix_ms, now) {
        return Err(ServiceError::new(
            StatusCode::BAD_REQUEST,
            codes::CLOCK_SKEW,
            "unix_ms: more than five minutes from the server's clock; refresh the clock \
             offset (GET /v1/time) and ask again",
        ));
    }
    let standing = store.token_standing(&request.serial.clone().into()).await?;
    // For an unknown serial, open a seed all the same (sealed now, under the current key),
    // so the answer takes as long as for a known one.
    let (sealed, service, serial, known) = match &standing {
        Some(s) => (
            s.seed.clone(),
            s.service_id.as_str().to_owned(),
            request.serial.as_str(),
            true,
        ),
        None => {
            let mut throwaway = [0u8; 20];
            OsRng.fill_bytes(&mut throwaway);
            let bound = Bound::Seed {
                service: "",
                serial: NOBODY,
            };
            (
                keyring.seal(&throwaway, bound),
                String::new(),
                NOBODY,
                false,
            )
        }
    };
    let seed = keyring.open(
        &sealed,
        Bound::Seed {
            service: &service,
            serial,
        },
    )?;
    let key = StatusKey::derive(&seed);
    let mac_ok = key.check_request(request).is_ok();
    match standing {
        Some(standing) if known && mac_ok => Ok(key.response(request, status_of(&standing), now)),
        _ => Err(not_recognised()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use softtoken_protocol::ServiceId;

    fn standing(state: TokenState, ended_as: Option<TokenEnd>) -> TokenStanding {
        TokenStanding {
            service_id: ServiceId::new("bank").unwrap(),
            state,
            ended_as,
            seed: Vec::new(),
        }
    }

    #[test]
    fn every_stored_state_has_its_word() {
        use TokenStatus as S;
        let cases = [
            (TokenState::Unassigned, None, S::Pending),
            (TokenState::Pending, None, S::Pending),
            (TokenState::Active, None, S::Active),
            (TokenState::Revoked, None, S::Revoked),
            (TokenState::Revoked, Some(TokenEnd::Revoked), S::Revoked),
            (TokenState::Revoked, Some(TokenEnd::Stopped), S::Stopped),
            (TokenState::Revoked, Some(TokenEnd::Replaced), S::Replaced),
        ];
        for (state, end, want) in cases {
            assert_eq!(status_of(&standing(state, end)), want, "{state:?} {end:?}");
        }
    }
}
