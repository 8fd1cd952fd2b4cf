//! 取引確認: a scanned transfer or typed digits, and the code's countdown.

use super::*;
use crate::app::view::countdown;
use crate::sign;

impl Model {
    pub(super) fn open_transfer(&mut self, payload: &str) -> Outcome {
        let challenge = match sign::read_challenge(payload) {
            Ok(c) => c,
            Err(_) => {
                self.show_sign_screen(Screen::SignRefused {
                    message: MessageKey::SignMalformed.into(),
                });
                return Ok(());
            }
        };
        let transfer = TransferView {
            service_id: challenge.service_id.as_str().to_string(),
            id: challenge.id.clone(),
            payee_name: challenge.details.payee_name().to_string(),
            masked_account: challenge.details.masked_account(),
            display_amount: challenge.details.display_amount(),
            payload: payload.to_string(),
        };
        // The bank's own token answers: one that works before one that is still pending.
        let of_bank: Vec<TokenSummary> = self
            .tokens()?
            .into_iter()
            .filter(|t| t.service_id == transfer.service_id)
            .collect();
        let usable = of_bank
            .iter()
            .find(|t| t.state == crate::token::TokenState::Active)
            .or_else(|| {
                of_bank
                    .iter()
                    .find(|t| t.state == crate::token::TokenState::Pending)
            });
        let next = match usable {
            Some(token) => Screen::SignConfirm {
                transfer,
                token: token.clone(),
            },
            None if !of_bank.is_empty() => Screen::SignRefused {
                message: MessageKey::SignRevoked.into(),
            },
            None => Screen::SignRefused {
                message: MessageKey::SignOtherBank.into(),
            },
        };
        self.show_sign_screen(next);
        Ok(())
    }

    // A second scan replaces the sign screen on top instead of stacking another.
    pub(super) fn show_sign_screen(&mut self, screen: Screen) {
        if is_sign_screen(&self.state.screen) {
            self.replace(screen, false);
        } else {
            self.push(screen, None);
        }
    }

    pub(super) fn confirm_transfer(&mut self) {
        let Screen::SignConfirm { transfer, token } = self.state.screen.clone() else {
            return;
        };
        let signed = Serial::parse(&token.serial)
            .map_err(Failure::from)
            .and_then(|serial| {
                let challenge = sign::read_challenge(&transfer.payload)?;
                self.with_vault(|s| Ok(s.challenge_code(&serial, &challenge)?))
            });
        match signed {
            Ok(code) => self.show_sign_code(Some(transfer), None, code),
            Err(Failure::Locked) => self.show_unlock(None),
            Err(f) => {
                let message = match f {
                    Failure::Revoked => MessageKey::SignRevoked.into(),
                    Failure::Malformed if token.state.is_dead() => MessageKey::SignRevoked.into(),
                    Failure::Malformed => MessageKey::SignMalformed.into(),
                    other => other.message(),
                };
                self.replace(Screen::SignRefused { message }, false);
            }
        }
    }

    pub(super) fn start_typed_sign(&mut self, serial: &str) -> Outcome {
        match self.tokens()?.into_iter().find(|t| t.serial == serial) {
            None => self.notice(MessageKey::TokenNotFound),
            Some(token) if token.state.is_dead() => self.push(
                Screen::SignRefused {
                    message: MessageKey::SignRevoked.into(),
                },
                None,
            ),
            Some(token) => self.push(Screen::SignManual { token, error: None }, None),
        }
        Ok(())
    }

    pub(super) fn submit_typed_digits(&mut self, digits: &str) {
        let Screen::SignManual { token, .. } = self.state.screen.clone() else {
            return;
        };
        let typed: String = digits.chars().filter(|c| *c != ' ' && *c != '-').collect();
        let signed = Serial::parse(&token.serial)
            .map_err(Failure::from)
            .and_then(|serial| {
                let digits = sign::read_typed(&typed)?;
                self.with_vault(|s| Ok(s.typed_code(&serial, &digits)?))
            });
        match signed {
            Ok(code) => self.show_sign_code(None, Some(typed), code),
            Err(Failure::Locked) => self.show_unlock(None),
            // The token was revoked meanwhile.
            Err(Failure::Revoked) => self.replace(
                Screen::SignRefused {
                    message: MessageKey::SignRevoked.into(),
                },
                false,
            ),
            Err(f) => {
                let error = Some(match f {
                    Failure::Malformed => MessageKey::SignInvalidDigits.into(),
                    other => other.message(),
                });
                self.replace(Screen::SignManual { token, error }, false);
            }
        }
    }

    // The code replaces the form or confirmation: back leads to where the customer came from.
    pub(super) fn show_sign_code(
        &mut self,
        transfer: Option<TransferView>,
        typed_digits: Option<String>,
        code: String,
    ) {
        self.signed_at_ms = self.now_ms();
        let screen = sign_code_screen(
            transfer,
            typed_digits,
            Some(ShownCode(code)),
            SIGN_CODE_SECONDS,
        );
        self.replace(screen, false);
    }

    pub(super) fn sign_code_now(
        &self,
        transfer: Option<TransferView>,
        typed_digits: Option<String>,
        code: ShownCode,
    ) -> Screen {
        let elapsed = u64::try_from((self.now_ms() - self.signed_at_ms) / 1000).unwrap_or(0);
        let left = SIGN_CODE_SECONDS.saturating_sub(elapsed);
        sign_code_screen(transfer, typed_digits, (left > 0).then_some(code), left)
    }
}

/// The 取引確認 code's screen with `left` of [`SIGN_CODE_SECONDS`] to go.
fn sign_code_screen(
    transfer: Option<TransferView>,
    typed_digits: Option<String>,
    code: Option<ShownCode>,
    left: u64,
) -> Screen {
    Screen::SignCode {
        transfer,
        typed_digits,
        code,
        seconds_left: left,
        countdown: countdown(left),
        remaining: (left as f32 / SIGN_CODE_SECONDS as f32).clamp(0.0, 1.0),
    }
}
