//! The background sender: claims the outbox's due mails, hands each to the SMTP server,
//! and records what became of it.
//!
//! It wakes when a mail is queued on this instance ([`Mailer::wake`]) and every
//! [`POLL_EVERY`] besides (mails queued by another instance, retries coming due, mails left
//! by a crash). A claim leases a mail for [`LEASE_MS`], so two senders never send it at
//! once; a failure for now is tried again with a growing pause, at most [`MAX_ATTEMPTS`]
//! times in all (about an hour) and never past the enrollment's expiry; a 5xx about the
//! mail gives it up at once. A mail is marked sent right after the SMTP
//! server's 250: a crash in between leaves it claimed, and it is sent again once the lease
//! ends, with the same Message-ID, so the rare second copy is recognisable as the same
//! message. Nothing is lost: a crash before the send leaves the mail queued.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use crate::Context;
use crate::audit::{AuditKind, Detail};
use crate::mail::Mailer;
use crate::mail::address::mask;
use crate::mail::smtp::Delivery;
use crate::store::{MailOutcome, NewAuditEvent, OutboxMail, StoreResult};
use crate::views::rfc3339;

/// How often the sender looks for due mails without being woken.
pub const POLL_EVERY: Duration = Duration::from_secs(15);
/// How long a claimed mail belongs to the sender that claimed it: far beyond one SMTP
/// conversation ([`super::smtp::SMTP_TIMEOUT`]), so only a sender that died loses it.
pub const LEASE_MS: i64 = 5 * 60 * 1000;
/// Mails claimed at once.
pub const BATCH: u32 = 20;
/// The pause after the first failure; it doubles per attempt up to [`MAX_RETRY_MS`].
pub const FIRST_RETRY_MS: i64 = 30 * 1000;
/// The longest pause between attempts.
pub const MAX_RETRY_MS: i64 = 30 * 60 * 1000;
/// Attempts before a mail that keeps failing for now is given up: 30 s, 1, 2, 4, 8, 16 and
/// 30 min apart, so a mail the relay never takes is `failed` about an hour after it was
/// queued and the help desk can see it, rather than pending until its enrollment expires
/// (issue 22, item 7).
pub const MAX_ATTEMPTS: u32 = 8;
/// Tries to record an outcome before the sender gives up on it (the lease then brings
/// the mail back).
const RECORD_TRIES: u32 = 5;

/// The pause before the next attempt after `attempts` failed ones.
pub fn retry_delay_ms(attempts: u32) -> i64 {
    let doublings = attempts.saturating_sub(1).min(16);
    FIRST_RETRY_MS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_RETRY_MS)
}

/// What follows a failure for now at attempt `attempts`: another try after the pause, or
/// giving up when the attempts are spent or the enrollment expires before the next try.
pub fn after_transient(attempts: u32, now: i64, expires_at: i64, error: String) -> MailOutcome {
    let at = now + retry_delay_ms(attempts);
    if attempts >= MAX_ATTEMPTS {
        MailOutcome::Failed {
            error: format!("{error}; given up after {attempts} attempts"),
        }
    } else if at >= expires_at {
        MailOutcome::Failed {
            error: format!("{error}; given up, its enrollment expires before the next try"),
        }
    } else {
        MailOutcome::Retry { at, error }
    }
}

/// Sends due mails for as long as the server runs.
pub async fn run(state: Context, mailer: Arc<Mailer>) {
    tracing::info!(smtp = %mailer.smtp().url(), from = %mailer.smtp().from(), "activation e-mail sender started");
    loop {
        match deliver_due(&state, &mailer).await {
            // A full batch: more may be waiting.
            Ok(claimed) if claimed == BATCH as usize => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reading the mail outbox failed; will retry"),
        }
        tokio::select! {
            () = mailer.woken() => {}
            () = tokio::time::sleep(POLL_EVERY) => {}
        }
    }
}

/// Claims the mails due now and tries each once; how many were claimed.
pub async fn deliver_due(state: &Context, mailer: &Mailer) -> StoreResult<usize> {
    let now = state.now();
    let due = state.store.claim_mail(now, now + LEASE_MS, BATCH).await?;
    for mail in &due {
        deliver(state, mailer, mail).await;
    }
    Ok(due.len())
}

async fn deliver(state: &Context, mailer: &Mailer, mail: &OutboxMail) {
    let smtp = mailer.smtp();
    let to = mask(&mail.recipient);
    let outcome = if mail.expires_at <= state.now() {
        MailOutcome::Failed {
            error: "its enrollment expired before it could be sent".into(),
        }
    } else {
        let date = UNIX_EPOCH + Duration::from_millis(u64::try_from(state.now()).unwrap_or(0));
        match smtp.message(mail, date) {
            Err(error) => MailOutcome::Failed { error },
            Ok(message) => match smtp.send(message, &mail.recipient).await {
                Delivery::Accepted => MailOutcome::Sent,
                Delivery::Permanent(error) => MailOutcome::Failed { error },
                Delivery::Transient(error) => {
                    after_transient(mail.attempts, state.now(), mail.expires_at, error)
                }
            },
        }
    };
    let (kind, detail) = match &outcome {
        MailOutcome::Sent => {
            tracing::info!(service = %mail.service_id, to = %to, attempt = mail.attempts, "activation e-mail sent");
            (
                AuditKind::MailSent,
                Detail::MailSent {
                    to: to.to_string(),
                    message_id: smtp.message_id(mail).to_string(),
                    attempt: mail.attempts,
                },
            )
        }
        MailOutcome::Retry { at, error } => {
            tracing::warn!(service = %mail.service_id, to = %to, attempt = mail.attempts, error = %error,
                "activation e-mail not sent; will retry");
            (
                AuditKind::MailDeferred,
                Detail::MailDeferred {
                    to: to.to_string(),
                    attempt: mail.attempts,
                    error: error.to_string(),
                    next_at: rfc3339(*at),
                },
            )
        }
        MailOutcome::Failed { error } => {
            tracing::warn!(service = %mail.service_id, to = %to, attempt = mail.attempts, error = %error,
                "activation e-mail given up");
            (
                AuditKind::MailFailed,
                Detail::MailFailed {
                    to: to.to_string(),
                    attempt: mail.attempts,
                    error: error.to_string(),
                },
            )
        }
    };
    let event = NewAuditEvent::new(&mail.service_id, kind, detail).user(&mail.user_id);
    record(state, mail, &outcome, &event).await;
}

/// Records an outcome, trying again for a while should the database fail: after a 250, a
/// lost record would send the mail a second time once the lease ends.
async fn record(state: &Context, mail: &OutboxMail, outcome: &MailOutcome, event: &NewAuditEvent) {
    for attempt in 1..=RECORD_TRIES {
        match state
            .store
            .finish_mail(&mail.id, outcome, event, state.now())
            .await
        {
            Ok(_) => return,
            Err(e) if attempt < RECORD_TRIES => {
                tracing::warn!(error = %e, attempt, "recording a mail's outcome failed; retrying");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
            Err(e) => {
                tracing::error!(error = %e, mail = %mail.id,
                    "recording a mail's outcome failed; the mail will be tried again when its lease ends");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_up_to_its_cap() {
        assert_eq!(retry_delay_ms(1), 30_000);
        assert_eq!(retry_delay_ms(2), 60_000);
        assert_eq!(retry_delay_ms(3), 120_000);
        assert_eq!(retry_delay_ms(7), MAX_RETRY_MS);
        assert_eq!(retry_delay_ms(1000), MAX_RETRY_MS);
        assert_eq!(retry_delay_ms(0), 30_000);
    }

    #[test]
    fn a_mail_failing_for_now_is_given_up_after_its_attempts() {
        let day = 86_400_000;
        let retry = after_transient(1, 0, day, "451".into());
        assert_eq!(
            retry,
            MailOutcome::Retry {
                at: 30_000,
                error: "451".into()
            }
        );
        assert!(matches!(
            after_transient(MAX_ATTEMPTS - 1, 0, day, "451".into()),
            MailOutcome::Retry { .. }
        ));
        let MailOutcome::Failed { error } = after_transient(MAX_ATTEMPTS, 0, day, "451".into())
        else {
            panic!("retried past its attempts");
        };
        assert_eq!(
            error,
            format!("451; given up after {MAX_ATTEMPTS} attempts")
        );
        // The whole series fits well inside the shortest enrollment worth mailing.
        let series: i64 = (1..MAX_ATTEMPTS).map(retry_delay_ms).sum();
        assert!(series < 2 * 3_600_000, "{series}");
        assert!(matches!(
            after_transient(1, day - 1000, day, "451".into()),
            MailOutcome::Failed { .. }
        ));
    }
}
