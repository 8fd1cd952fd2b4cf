//! The app lock: going to the background, the PIN and biometric unlock, the back-off.

use super::*;

impl Model {
    pub(super) fn on_background(&mut self) {
        let Some(vault) = &self.vault else { return };
        let store = lock(vault);
        if store.has_pin() && !store.is_locked() && self.background_since_ms.is_none() {
            drop(store);
            self.background_since_ms = Some(self.now_ms());
        }
    }

    pub(super) fn lock_if_due(&mut self) {
        let Some(since) = self.background_since_ms else {
            return;
        };
        let grace = if self.scanning {
            SCAN_GRACE_MS
        } else {
            LOCK_GRACE_MS
        };
        if self.now_ms() - since < grace {
            return;
        }
        self.background_since_ms = None;
        self.scanning = false;
        let Some(vault) = self.vault.clone() else {
            return;
        };
        let mut store = lock(&vault);
        if store.has_pin() && !store.is_locked() {
            store.lock();
            drop(store);
            // A locked app shows no code: none stays on the clipboard either.
            self.clipboard.clear_now(self.shell.as_ref());
            self.forget_pins();
            self.show_unlock(None);
        }
    }

    pub(super) fn unlock(&mut self, pin: &str) {
        let Screen::Unlock { biometric, .. } = self.state.screen else {
            return;
        };
        let wait = self.wait_seconds();
        if wait > 0 {
            let error = Some(Message::with(MessageKey::PinWait, vec![secs(wait)]));
            self.replace(
                Screen::Unlock {
                    error,
                    wait_seconds: wait,
                    biometric,
                },
                false,
            );
            return;
        }
        self.busy();
        match self.with_vault(|s| s.unlock(pin).map_err(Failure::from)) {
            Ok(()) => self.unlocked(),
            Err(f) => self.show_unlock(Some(f.message())),
        }
    }

    pub(super) fn biometric(&mut self, outcome: BiometricOutcome) {
        if !matches!(self.state.screen, Screen::Unlock { .. }) {
            return; // a Success's PIN is wiped as it drops
        }
        match outcome {
            BiometricOutcome::Success(pin) => {
                let pin = Zeroizing::new(String::from_utf8_lossy(&pin).into_owned());
                self.busy();
                match self.with_vault(|s| s.unlock(&pin).map_err(Failure::from)) {
                    Ok(()) => self.unlocked(),
                    Err(f) => {
                        // A stored PIN the core refuses is stale: drop it, the PIN pad remains.
                        if matches!(f, Failure::WrongPin { .. }) {
                            self.shell.biometric_remove();
                        }
                        self.show_unlock(Some(f.message()));
                    }
                }
            }
            BiometricOutcome::Cancelled => {}
            BiometricOutcome::Invalidated => {
                // A new fingerprint or face must not open the vault: back to the PIN, for good.
                self.shell.biometric_remove();
                self.show_unlock(Some(MessageKey::BiometryChanged.into()));
            }
            BiometricOutcome::Failed => self.show_unlock(Some(MessageKey::BiometricFailed.into())),
        }
    }

    /// The back-off is the vault's (it counts the tries and keeps them across restarts).
    pub(super) fn wait_seconds(&self) -> u64 {
        self.vault
            .as_ref()
            .map_or(0, |v| lock(v).pin_retry_after_seconds())
    }

    pub(super) fn show_unlock(&mut self, error: Option<Message>) {
        // Whatever the refresh answers now is for an unlocked vault that is no more.
        self.refresh_generation += 1;
        self.refreshing = false;
        let biometric = self.shell.biometric_available() && self.shell.biometric_enrolled();
        let screen = Screen::Unlock {
            error,
            wait_seconds: self.wait_seconds(),
            biometric,
        };
        let keep = self.pending_link.is_some();
        self.show(screen, None, keep);
    }

    pub(super) fn unlocked(&mut self) {
        self.opened();
        self.open_pending_link();
    }

    // A link that waited behind the lock opens now, over the token list.
    pub(super) fn open_pending_link(&mut self) {
        let link = self.pending_link.take();
        if let Some(link) = link
            && matches!(self.state.screen, Screen::Tokens { .. })
        {
            self.scanned(link);
        }
    }

    // The vault is open: the token list with the last known states at once, then the
    // servers' answers, in the background.
    pub(super) fn opened(&mut self) {
        self.show_tokens(None);
        if matches!(&self.state.screen, Screen::Tokens { cards } if !cards.is_empty()) {
            self.refresh_states();
        }
    }
}
