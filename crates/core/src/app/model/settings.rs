//! Settings: the PIN flows, biometric unlock, the reset.

use super::*;

impl Model {
    pub(super) fn start_pin_flow(&mut self, purpose: PinPurpose, step: PinStep) {
        self.forget_pins();
        self.push(
            Screen::PinEntry {
                purpose,
                step,
                error: None,
            },
            None,
        );
    }

    pub(super) fn enter_pin(&mut self, pin: SecretText) {
        let pin = Zeroizing::new(pin.expose().to_string());
        let Screen::PinEntry { purpose, step, .. } = self.state.screen else {
            return;
        };
        let entry = |step, error| Screen::PinEntry {
            purpose,
            step,
            error,
        };
        match step {
            PinStep::Current => {
                self.current_pin = Some(pin);
                if matches!(purpose, PinPurpose::Remove | PinPurpose::Biometric) {
                    self.finish_pin_flow(purpose);
                } else {
                    self.replace(entry(PinStep::New, None), false);
                }
            }
            PinStep::New => {
                self.new_pin = Some(pin);
                self.replace(entry(PinStep::Confirm, None), false);
            }
            PinStep::Confirm => {
                if self.new_pin.as_deref().map(String::as_str) == Some(pin.as_str()) {
                    self.finish_pin_flow(purpose);
                } else {
                    self.new_pin = None;
                    let error = Some(MessageKey::PinMismatch.into());
                    self.replace(entry(PinStep::New, error), false);
                }
            }
        }
    }

    pub(super) fn finish_pin_flow(&mut self, purpose: PinPurpose) {
        let screen = self.state.screen.clone();
        self.replace(screen, true);
        let current = self.current_pin.take().unwrap_or_default();
        let new = self.new_pin.take().unwrap_or_default();
        let shell = self.shell.clone();
        let done = self.with_vault(|s| {
            Ok(match purpose {
                PinPurpose::Set => {
                    s.set_pin(&new)?;
                    MessageKey::PinSet
                }
                PinPurpose::Change => {
                    s.change_pin(&current, &new)?;
                    // The biometric key holds the PIN: encrypt the new one (no prompt needed).
                    // If that fails, the old PIN under the key would only ever fail: remove it.
                    if shell.biometric_enrolled() && !shell.biometric_enroll(new.as_bytes()) {
                        shell.biometric_remove();
                    }
                    MessageKey::PinChanged
                }
                PinPurpose::Remove => {
                    s.remove_pin(&current)?;
                    shell.biometric_remove();
                    MessageKey::PinRemoved
                }
                PinPurpose::Biometric => {
                    // Checks the PIN (counted like any try) without changing it.
                    s.change_pin(&current, &current)?;
                    if shell.biometric_enroll(current.as_bytes()) {
                        MessageKey::BiometricOn
                    } else {
                        MessageKey::BiometricSetupFailed
                    }
                }
            })
        });
        match done.and_then(|key| Ok((key, self.settings()?))) {
            Ok((key, settings)) => {
                while self
                    .back_stack
                    .last()
                    .is_some_and(|s| !matches!(s, Screen::Settings { .. }))
                {
                    self.back_stack.pop();
                }
                self.replace(settings, false);
                self.notice(key);
            }
            Err(f) => {
                // The PINs typed so far are dropped, so the flow restarts at its first step.
                let step = if purpose == PinPurpose::Set {
                    PinStep::New
                } else {
                    PinStep::Current
                };
                let error = Some(f.message());
                self.replace(
                    Screen::PinEntry {
                        purpose,
                        step,
                        error,
                    },
                    false,
                );
            }
        }
    }

    pub(super) fn forget_pins(&mut self) {
        self.current_pin = None;
        self.new_pin = None;
    }

    pub(super) fn settings(&self) -> Result<Screen, Failure> {
        let vault = self.open_vault()?;
        let lock_on = lock(&vault).has_pin();
        Ok(Screen::Settings {
            lock_on,
            biometric_on: lock_on && self.shell.biometric_enrolled(),
            biometric_available: self.shell.biometric_available(),
        })
    }

    pub(super) fn confirm_reset(&mut self) {
        if self.state.screen != Screen::ConfirmReset {
            return;
        }
        self.busy();
        // A new vault, not the open one: a forgotten PIN leaves it locked, and a damaged one
        // was never opened.
        self.refresh_generation += 1;
        self.refreshing = false;
        let reset = TokenStore::reset(
            &self.config.vault_path,
            self.wrapper.clone(),
            self.options.clone(),
        );
        match reset {
            Ok(store) => self.install(store),
            Err(e) => {
                self.vault = None;
                let message = Failure::from(e).message();
                return self.show(Screen::Broken { message }, None, false);
            }
        }
        self.forget_pins();
        self.shell.biometric_remove();
        self.clipboard.clear_now(self.shell.as_ref());
        self.show_tokens(Some(MessageKey::AppReset));
        self.open_pending_link();
    }
}
