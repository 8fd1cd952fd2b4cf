//! What the audit trail records: one kind per thing that happened, stored and shown by its
//! stable name.

use std::fmt;

/// What an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditKind {
    /// The bank issued an activation (enrollment) for a user.
    EnrollmentIssued,
    /// A well-formed activation start: one guess of the start password counted.
    ActivationStarted,
    /// An activation start refused because the enrollment is locked.
    ActivationRefused,
    /// A wrong start password, seen at finish.
    ActivationFailed,
    /// A token was activated and waits for its first code.
    ActivationFinished,
    /// Provisioned (registration-mode) tokens created since the last summary.
    TokensProvisioned,
    /// A vendor's PSKC file was imported.
    TokensImported,
    /// A code checked by `verify`.
    Verify,
    /// A code checked by `confirm`.
    Confirm,
    /// A code checked while registering a token to a user.
    Registration,
    /// A code of the new token checked during a device change.
    Replacement,
    /// A code checked before stopping OTP or changing device.
    Possession,
    /// The user reached `max_failures` and is locked.
    UserLocked,
    /// The bank cleared a user's lockout.
    UserUnlocked,
    /// A token collected `max_failures` wrong registration codes and is locked.
    TokenLocked,
    /// The bank cleared a token's registration lockout.
    TokenUnlocked,
    /// A token was registered to a user.
    TokenRegistered,
    /// A user changed device.
    TokenReplaced,
    /// OTP was stopped for a user.
    OtpStopped,
    /// A token was revoked (lost phone).
    TokenRevoked,
    /// The bank ended a cool-down early.
    CooldownEnded,
    /// An activation e-mail was accepted by the SMTP server.
    MailSent,
    /// An activation e-mail failed for now and will be tried again.
    MailDeferred,
    /// An activation e-mail was given up (refused for good, or its enrollment expired).
    MailFailed,
    /// A console operator was added.
    OperatorAdded,
    /// A console operator was disabled, re-enabled or given a new password.
    OperatorChanged,
    /// A console operator signed in (or began enrolling their own token).
    ConsoleSignIn,
    /// A console sign-in was refused: wrong password or code, locked or disabled.
    ConsoleSignInFailed,
    /// A console operator signed out.
    ConsoleSignOut,
    /// A service's API key was replaced from the console.
    ApiKeyRotated,
    /// The bank created a transfer challenge (取引確認); the detail holds the details'
    /// digest and the masked account.
    TransactionCreated,
    /// A code checked against a transfer challenge.
    Transaction,
    /// A service's policy was changed from the console.
    PolicyChanged,
}

impl AuditKind {
    /// Every kind, for documentation and tests.
    pub const ALL: [AuditKind; 33] = [
        AuditKind::EnrollmentIssued,
        AuditKind::ActivationStarted,
        AuditKind::ActivationRefused,
        AuditKind::ActivationFailed,
        AuditKind::ActivationFinished,
        AuditKind::TokensProvisioned,
        AuditKind::TokensImported,
        AuditKind::Verify,
        AuditKind::Confirm,
        AuditKind::Registration,
        AuditKind::Replacement,
        AuditKind::Possession,
        AuditKind::UserLocked,
        AuditKind::UserUnlocked,
        AuditKind::TokenLocked,
        AuditKind::TokenUnlocked,
        AuditKind::TokenRegistered,
        AuditKind::TokenReplaced,
        AuditKind::OtpStopped,
        AuditKind::TokenRevoked,
        AuditKind::CooldownEnded,
        AuditKind::MailSent,
        AuditKind::MailDeferred,
        AuditKind::MailFailed,
        AuditKind::OperatorAdded,
        AuditKind::OperatorChanged,
        AuditKind::ConsoleSignIn,
        AuditKind::ConsoleSignInFailed,
        AuditKind::ConsoleSignOut,
        AuditKind::ApiKeyRotated,
        AuditKind::TransactionCreated,
        AuditKind::Transaction,
        AuditKind::PolicyChanged,
    ];

    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::EnrollmentIssued => "enrollment_issued",
            AuditKind::ActivationStarted => "activation_started",
            AuditKind::ActivationRefused => "activation_refused",
            AuditKind::ActivationFailed => "activation_failed",
            AuditKind::ActivationFinished => "activation_finished",
            AuditKind::TokensProvisioned => "tokens_provisioned",
            AuditKind::TokensImported => "tokens_imported",
            AuditKind::Verify => "verify",
            AuditKind::Confirm => "confirm",
            AuditKind::Registration => "registration",
            AuditKind::Replacement => "replacement",
            AuditKind::Possession => "possession",
            AuditKind::UserLocked => "user_locked",
            AuditKind::UserUnlocked => "user_unlocked",
            AuditKind::TokenLocked => "token_locked",
            AuditKind::TokenUnlocked => "token_unlocked",
            AuditKind::TokenRegistered => "token_registered",
            AuditKind::TokenReplaced => "token_replaced",
            AuditKind::OtpStopped => "otp_stopped",
            AuditKind::TokenRevoked => "token_revoked",
            AuditKind::CooldownEnded => "cooldown_ended",
            AuditKind::MailSent => "mail_sent",
            AuditKind::MailDeferred => "mail_deferred",
            AuditKind::MailFailed => "mail_failed",
            AuditKind::OperatorAdded => "operator_added",
            AuditKind::OperatorChanged => "operator_changed",
            AuditKind::ConsoleSignIn => "console_sign_in",
            AuditKind::ConsoleSignInFailed => "console_sign_in_failed",
            AuditKind::ConsoleSignOut => "console_sign_out",
            AuditKind::ApiKeyRotated => "api_key_rotated",
            AuditKind::TransactionCreated => "transaction_created",
            AuditKind::Transaction => "transaction",
            AuditKind::PolicyChanged => "policy_changed",
        }
    }

    /// The inverse of [`AuditKind::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut names: Vec<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditKind::ALL.len());
        assert_eq!(AuditKind::parse("nothing"), None);
    }
}
