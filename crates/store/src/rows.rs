//! Rows into domain types, once for both backends: a column read by name through
//! [`Row`], checked, and turned into the type the rest of the server uses. A value that does
//! not parse is a corrupt row, never a panic.

use std::str::FromStr;

use softtoken_protocol::{Algorithm, Digits, OtpParams, Period, ServiceId, UserId};

use super::StoreResult;
use super::conn::{FromRow, Row};
use super::error::corrupt;
use super::model::{
    ActivationSession, AuditEvent, Enrollment, EnrollmentId, SealedValue, Service, SessionId,
    Token, TokenEnd, TokenStanding, TokenState,
};
use super::model::{MailId, MailTemplate, OutboxMail, ServiceMail};
use crate::night_cutoff::NightCutoff;
use crate::policy::Policy;
use crate::serial::TokenSerial;

fn to_u32(n: i64, what: &str) -> StoreResult<u32> {
    u32::try_from(n).map_err(|_| corrupt(format!("{what} = {n}")))
}

fn to_u64(n: i64, what: &str) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| corrupt(format!("{what} = {n}")))
}

fn count(row: &dyn Row, column: &str) -> StoreResult<u32> {
    to_u32(row.int(column)?, column)
}

fn service_id(text: String) -> StoreResult<ServiceId> {
    ServiceId::new(text).map_err(corrupt)
}

fn user_id(text: String) -> StoreResult<UserId> {
    UserId::new(text).map_err(corrupt)
}

fn serial(text: &str) -> StoreResult<TokenSerial> {
    TokenSerial::parse(text).map_err(corrupt)
}

impl FromRow for Service {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        let policy = Policy {
            algorithm: row
                .opt_text("algorithm")?
                .map(|a| Algorithm::from_str(&a))
                .transpose()
                .map_err(corrupt)?,
            digits: row
                .opt_int("digits")?
                .map(|d| Digits::try_from(to_u32(d, "digits")?).map_err(corrupt))
                .transpose()?,
            period: row
                .opt_int("period")?
                .map(|p| Period::new(to_u64(p, "period")?).map_err(corrupt))
                .transpose()?,
            window: count(row, "otp_window")?,
            max_failures: count(row, "max_failures")?,
            cooldown_secs: to_u64(row.int("cooldown_secs")?, "cooldown_secs")?,
            cooldown_restarts: row.flag("cooldown_restarts")?,
            enrollment_ttl_secs: to_u64(row.int("enrollment_ttl_secs")?, "enrollment_ttl_secs")?,
            tokens_per_user: count(row, "tokens_per_user")?,
            shared_tokens: row.flag("shared_tokens")?,
            unassigned_quota: count(row, "unassigned_quota")?,
            night_cutoff: match (
                row.opt_text("night_cutoff")?,
                row.opt_text("night_cutoff_zone")?,
            ) {
                (None, None) => None,
                (Some(window), Some(zone)) => {
                    Some(NightCutoff::parse(&window, &zone).map_err(corrupt)?)
                }
                _ => return Err(corrupt("a night cut-off without its zone, or a zone alone")),
            },
        };
        Ok(Service {
            id: service_id(row.text("id")?)?,
            name: row.text("name")?,
            policy,
            created_at: row.int("created_at")?,
        })
    }
}

impl FromRow for Token {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        let params = OtpParams::new(
            Algorithm::from_str(&row.text("algorithm")?).map_err(corrupt)?,
            count(row, "digits")?,
            to_u64(row.int("period")?, "period")?,
        )
        .map_err(corrupt)?;
        Ok(Token {
            service_id: service_id(row.text("service_id")?)?,
            serial: serial(&row.text("serial")?)?,
            state: TokenState::parse(&row.text("state")?)?,
            params,
            seed: row.blob("seed")?,
            last_step: row.int("last_step")?,
            drift: row.int("drift")?,
            failures: count(row, "failures")?,
            last_used_by: row.opt_text("last_used_by")?.map(user_id).transpose()?,
            created_at: row.int("created_at")?,
            activated_at: row.opt_int("activated_at")?,
            last_used_at: row.opt_int("last_used_at")?,
            expires_at: row.opt_int("expires_at")?,
        })
    }
}

impl FromRow for TokenStanding {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(TokenStanding {
            service_id: service_id(row.text("service_id")?)?,
            state: TokenState::parse(&row.text("state")?)?,
            ended_as: row
                .opt_text("ended_as")?
                .map(|e| TokenEnd::parse(&e))
                .transpose()?,
            seed: row.blob("seed")?,
        })
    }
}

/// A user's counters (`users` row).
#[derive(Debug, Clone, Copy)]
pub(crate) struct UserState {
    pub failures: u32,
    pub locked: bool,
    pub cooldown_until: Option<i64>,
}

impl FromRow for UserState {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(UserState {
            failures: count(row, "failures")?,
            locked: row.flag("locked")?,
            cooldown_until: row.opt_int("cooldown_until")?,
        })
    }
}

/// One row of [`super::sql::USER_WITH_TOKENS`]: the user, and one of their tokens if any.
pub(crate) struct UserTokenRow {
    pub user: UserState,
    pub token: Option<Token>,
}

impl FromRow for UserTokenRow {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        let token = match row.opt_text("serial")? {
            Some(_) => Some(Token::from_row(row)?),
            None => None,
        };
        let user = UserState {
            failures: count(row, "user_failures")?,
            locked: row.flag("user_locked")?,
            cooldown_until: row.opt_int("user_cooldown_until")?,
        };
        Ok(UserTokenRow { user, token })
    }
}

/// What an activation start judges an enrollment by.
#[derive(Clone)]
pub(crate) struct EnrollmentForStart {
    pub id: EnrollmentId,
    pub w: Vec<u8>,
    pub guesses: u32,
    pub expires_at: i64,
    pub used: bool,
    pub cooldown_until: Option<i64>,
}

impl FromRow for EnrollmentForStart {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(EnrollmentForStart {
            id: EnrollmentId::from_stored(row.text("id")?)?,
            w: row.blob("w")?,
            guesses: count(row, "guesses")?,
            expires_at: row.int("expires_at")?,
            used: row.opt_int("used_at")?.is_some(),
            cooldown_until: row.opt_int("cooldown_until")?,
        })
    }
}

impl FromRow for Enrollment {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(Enrollment {
            id: EnrollmentId::from_stored(row.text("id")?)?,
            created_at: row.int("created_at")?,
            expires_at: row.int("expires_at")?,
            guesses: count(row, "guesses")?,
        })
    }
}

impl FromRow for ActivationSession {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(ActivationSession {
            id: SessionId::from_stored(row.text("id")?)?,
            enrollment_id: EnrollmentId::from_stored(row.text("enrollment_id")?)?,
            service_id: service_id(row.text("service_id")?)?,
            user_id: user_id(row.text("user_id")?)?,
            session_key: row.blob("session_key")?,
            attempts_left: count(row, "attempts_left")?,
            expires_at: row.int("expires_at")?,
        })
    }
}

impl FromRow for AuditEvent {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(AuditEvent {
            id: row.int("id")?,
            at: row.int("at")?,
            kind: row.text("kind")?,
            user_id: row.opt_text("user_id")?,
            serial: row.opt_text("serial")?,
            detail: row.text("detail")?,
            operator: row.opt_text("operator")?,
        })
    }
}

impl FromRow for SealedValue {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(SealedValue {
            id: row.text("id")?,
            service_id: row.text("service_id")?,
            blob: row.blob("blob")?,
        })
    }
}

/// An integer result, selected `AS n`.
pub(crate) struct Int(pub i64);

impl FromRow for Int {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        row.int("n").map(Int)
    }
}

/// A boolean result, selected `AS b`.
pub(crate) struct Flag(pub bool);

impl FromRow for Flag {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        row.flag("b").map(Flag)
    }
}

/// A text result, selected `AS v` (NULL allowed).
pub(crate) struct Text(pub Option<String>);

impl FromRow for Text {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        row.opt_text("v").map(Text)
    }
}

/// A user a token is bound to, with the end of their cool-down (`v`, `n`).
pub(crate) struct TokenUser {
    pub user_id: UserId,
    pub cooldown_until: Option<i64>,
}

impl FromRow for TokenUser {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(TokenUser {
            user_id: user_id(row.text("v")?)?,
            cooldown_until: row.opt_int("n")?,
        })
    }
}

/// `failures` and `locked` of a counted failure.
pub(crate) struct Counted {
    pub failures: u32,
    pub locked: bool,
}

impl FromRow for Counted {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(Counted {
            failures: count(row, "failures")?,
            locked: row.flag("locked")?,
        })
    }
}

/// Parses a stored serial (for lists of serials).
pub(crate) fn stored_serial(text: Option<String>) -> StoreResult<TokenSerial> {
    serial(text.as_deref().unwrap_or_default())
}

impl FromRow for ServiceMail {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        let template = |subject: &str, body: &str| -> StoreResult<Option<MailTemplate>> {
            Ok(match (row.opt_text(subject)?, row.opt_text(body)?) {
                (Some(subject), Some(body)) => Some(MailTemplate { subject, body }),
                (None, None) => None,
                _ => {
                    return Err(corrupt(format!(
                        "{subject} and {body}: one without the other"
                    )));
                }
            })
        };
        Ok(ServiceMail {
            service_id: service_id(row.text("service_id")?)?,
            download_url: row.text("download_url")?,
            ja: template("subject_ja", "body_ja")?,
            en: template("subject_en", "body_en")?,
            updated_at: row.int("updated_at")?,
        })
    }
}

impl FromRow for super::model::MailStatus {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(super::model::MailStatus {
            state: row.text("state")?,
            recipient: row.text("recipient")?,
            attempts: count(row, "attempts")?,
            last_error: row.opt_text("last_error")?,
            created_at: row.int("created_at")?,
            sent_at: row.opt_int("sent_at")?,
        })
    }
}

impl FromRow for OutboxMail {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(OutboxMail {
            id: MailId::from_stored(row.text("id")?)?,
            service_id: service_id(row.text("service_id")?)?,
            user_id: user_id(row.text("user_id")?)?,
            recipient: row.text("recipient")?,
            subject: row.text("subject")?,
            body: row.text("body")?,
            attempts: count(row, "attempts")?,
            expires_at: row.int("expires_at")?,
            created_at: row.int("created_at")?,
        })
    }
}

impl FromRow for super::model::Transaction {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(super::model::Transaction {
            id: row.text("id")?,
            service_id: service_id(row.text("service_id")?)?,
            user_id: user_id(row.text("user_id")?)?,
            question: row.text("question")?,
            manual_question: row.opt_text("manual_question")?,
            masked_account: row.text("masked_account")?,
            created_at: row.int("created_at")?,
            expires_at: row.int("expires_at")?,
            used_at: row.opt_int("used_at")?,
        })
    }
}
