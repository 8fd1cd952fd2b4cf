//! Importing hardware tokens from a vendor's PSKC file (RFC 6030): the one code path
//! behind `POST /v1/services/{sid}/tokens/import` and `softtoken-server tokens import`.
//!
//! The file is verified whole by `softtoken-pskc` first (a wrong key or any altered
//! value imports nothing). Usable TOTP keys become `unassigned` tokens under their
//! vendor serial, sealed like every other seed; a serial already on the server is
//! skipped, never overwritten. The bank then registers one to a user with serial +
//! code, as for a soft token.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use softtoken_protocol::{OtpParams, ServiceId};
use softtoken_pskc::{KeySource, OtpKind, PskcError};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use crate::audit::{AuditKind, Detail};
use crate::crypto::{Bound, Keyring};
use crate::error::ServiceError;
use crate::serial::TokenSerial;
use crate::store::{NewAuditEvent, Store, Token, TokenState};

/// The largest import request body: 8 MiB (the PSKC document's own limit).
pub const MAX_IMPORT_BODY: usize = softtoken_pskc::MAX_DOCUMENT_BYTES;

/// A key package that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SkippedToken {
    /// Its serial, if the package has one.
    pub serial: Option<String>,
    /// Why it was skipped.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportOutcome {
    /// Tokens added.
    pub imported: usize,
    /// Packages skipped, in file order.
    pub skipped: Vec<SkippedToken>,
}

/// A PSKC document error as a problem document: 413 for size, 400 for a file that is
/// not (valid) PSKC or lacks its key, 422 for a wrong key, failed integrity or an
/// unsupported mechanism.
pub fn problem(error: &PskcError) -> ServiceError {
    let status = match error.code() {
        "payload_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_pskc" | "pskc_key_needed" => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ServiceError::new(status, error.code(), error.to_string())
}

/// Verifies `document` and stores its usable tokens for `service`. Parsing, and the
/// PBKDF2 of a password-protected file, run off the async workers.
pub async fn import(
    store: &dyn Store,
    key: &Keyring,
    service: &ServiceId,
    document: Zeroizing<Vec<u8>>,
    source: KeySource,
    actor: crate::actions::Actor<'_>,
    now: i64,
) -> Result<ImportOutcome, ServiceError> {
    let file = tokio::task::spawn_blocking(move || softtoken_pskc::parse(&document, &source))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| problem(&e))?;
    let mut skipped: Vec<(usize, SkippedToken)> = file
        .skipped
        .iter()
        .map(|s| {
            (
                s.package,
                SkippedToken {
                    serial: s.serial.clone(),
                    reason: s.reason.to_string(),
                },
            )
        })
        .collect();
    let mut tokens = Vec::new();
    let mut packages = Vec::new();
    for k in &file.keys {
        let skip = |reason: &str| {
            (
                k.package,
                SkippedToken {
                    serial: Some(k.serial.clone()),
                    reason: reason.to_string(),
                },
            )
        };
        let OtpKind::Totp {
            period,
            drift_steps,
            ..
        } = k.kind
        else {
            skipped.push(skip(
                "HOTP tokens are not supported by this server (TOTP only)",
            ));
            continue;
        };
        let Some(serial) = TokenSerial::vendor(&k.serial) else {
            skipped.push(skip("not a usable hardware serial"));
            continue;
        };
        // Hardware tokens wait in the bank's stock: no expiry, unlike soft ones.
        let mut token = Token::new(
            service.clone(),
            serial.clone(),
            TokenState::Unassigned,
            OtpParams {
                algorithm: k.algorithm,
                digits: k.digits,
                period,
            },
            key.seal(
                k.secret.expose(),
                Bound::Seed {
                    service: service.as_str(),
                    serial: serial.as_str(),
                },
            ),
            now,
        );
        token.drift = drift_steps;
        tokens.push(token);
        packages.push(k.package);
    }
    let event = actor.stamp(NewAuditEvent::new(
        service,
        AuditKind::TokensImported,
        // The store fills in how many it imported of those offered.
        Detail::TokensImported {
            packages: u64::try_from(file.keys.len() + file.skipped.len()).unwrap_or(u64::MAX),
            imported: 0,
            of: 0,
        },
    ));
    let added = store.import_tokens(&tokens, &event, now).await?;
    let mut imported = 0;
    for ((token, package), added) in tokens.iter().zip(packages).zip(added) {
        if added {
            imported += 1;
        } else {
            skipped.push((
                package,
                SkippedToken {
                    serial: Some(token.serial.to_string()),
                    reason: "the serial is already on this server".into(),
                },
            ));
        }
    }
    skipped.sort_by_key(|(package, _)| *package);
    let skipped: Vec<SkippedToken> = skipped.into_iter().map(|(_, s)| s).collect();
    Ok(ImportOutcome { imported, skipped })
}
