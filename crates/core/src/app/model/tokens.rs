//! The token list: opening a token, copying a code, the refresh of the states, deleting.

use super::*;

impl Model {
    pub(super) fn open_token(&mut self, serial: &str) -> Outcome {
        match self.cards()?.into_iter().find(|c| c.token.serial == serial) {
            Some(card) => self.push(
                Screen::TokenDetail {
                    card,
                    first_use: None,
                },
                None,
            ),
            None => self.notice(MessageKey::TokenNotFound),
        }
        Ok(())
    }

    pub(super) fn copy_code(&mut self, serial: &str) -> Outcome {
        let serial = Serial::parse(serial)?;
        let now = self.now_ms();
        let code = self.with_vault(|s| {
            let token = s.token(&serial)?;
            // A dead token shows no code, so it has none to copy either.
            if token.state.is_dead() {
                return Err(Failure::TokenNotFound);
            }
            Ok(s.code(&serial, now)?)
        })?;
        self.clipboard
            .copy(self.shell.as_ref(), code.code.clone(), now);
        let seconds = CLEAR_AFTER_MS / 1000;
        self.publish_with(|s| {
            s.busy = false;
            s.notice = Some(Message::with(MessageKey::CodeCopied, vec![seconds]));
        });
        Ok(())
    }

    /// Asks the servers what became of each token, in the background (see `refresh`).
    pub(super) fn refresh_states(&mut self) {
        let Some(vault) = self.vault.clone() else {
            return;
        };
        if self.state.busy
            || self.refreshing
            || matches!(
                self.state.screen,
                Screen::Unlock { .. } | Screen::Broken { .. }
            )
        {
            return;
        }
        self.refresh_generation += 1;
        self.refreshing = true;
        self.publish_with(|_| {});
        refresh::start(
            vault,
            self.clock(),
            self.config.refresh_budget,
            self.me.clone(),
            self.refresh_generation,
        );
    }

    /// The refresh `generation` ended; `reached`: every server answered. An unreachable
    /// server leaves the last known states and says so once, quietly; success says nothing.
    pub(crate) fn refresh_done(&mut self, generation: u64, reached: bool) {
        if generation != self.refresh_generation || !self.refreshing {
            return;
        }
        self.refreshing = false;
        if self.state.busy {
            return self.publish_with(|_| {});
        }
        let Some(top) = self.back_stack.last().cloned() else {
            return self.publish_with(|_| {});
        };
        match self.refreshed(top) {
            Ok(screen) => {
                if let Some(last) = self.back_stack.last_mut() {
                    *last = screen.clone();
                }
                self.publish_with(|s| {
                    s.screen = screen;
                    if !reached {
                        s.notice = Some(MessageKey::StatesUnreachable.into());
                    }
                });
            }
            Err(f) => self.fail(f),
        }
    }

    pub(super) fn sync_time(&mut self, serial: &str) -> Outcome {
        let serial = Serial::parse(serial)?;
        let vault = self.open_vault()?;
        refresh::enroller(self.clock(), None)?.sync_token_time(Locked(&vault), &serial)?;
        self.publish_with(|s| s.busy = false);
        self.tick();
        self.notice(MessageKey::TimeSynced);
        Ok(())
    }

    pub(super) fn request_delete(&mut self, serial: &str) -> Outcome {
        let token = self.tokens()?.into_iter().find(|t| t.serial == serial);
        match token {
            Some(token) => self.push(Screen::ConfirmDelete { token }, None),
            None => self.notice(MessageKey::TokenNotFound),
        }
        Ok(())
    }

    pub(super) fn confirm_delete(&mut self) {
        let Screen::ConfirmDelete { token } = &self.state.screen else {
            return;
        };
        let serial = token.serial.clone();
        self.guarded(|m| {
            let serial = Serial::parse(&serial)?;
            m.with_vault(|s| s.delete(&serial).map_err(Failure::from))?;
            m.show_tokens(Some(MessageKey::TokenDeleted));
            Ok(())
        });
    }
}
