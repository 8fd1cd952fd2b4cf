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
        if self.refreshing {
            return;
        }
        self.start_job(Job::States, self.config.refresh_budget);
    }

    /// Measures the token's server clock in the background, like the refresh: the code keeps
    /// counting down meanwhile, and the answer comes as a notice.
    pub(super) fn sync_time(&mut self, serial: &str) {
        match Serial::parse(serial) {
            Ok(serial) => self.start_job(Job::Time(serial), self.config.time_sync_budget),
            Err(e) => self.fail(e.into()),
        }
    }

    /// Runs `job` on a thread of its own within `budget`, superseding one that runs (its
    /// answer is no longer wanted); nothing while the vault is locked or busy.
    fn start_job(&mut self, job: Job, budget: Duration) {
        let Some(vault) = self.vault.clone() else {
            return;
        };
        if self.state.busy
            || matches!(
                self.state.screen,
                Screen::Unlock { .. } | Screen::Broken { .. }
            )
        {
            return;
        }
        self.refresh_generation += 1;
        self.refreshing = true;
        self.publish_with(|s| s.notice = None);
        refresh::start(
            vault,
            self.clock(),
            budget,
            self.me.clone(),
            self.refresh_generation,
            job,
        );
    }

    /// The background job `generation` ended. An unreachable server leaves the last known
    /// states and says so once, quietly; a refresh that reached every server says nothing;
    /// a time sync says how it went.
    pub(crate) fn refresh_done(&mut self, generation: u64, answer: Answer) {
        if generation != self.refresh_generation || !self.refreshing {
            return;
        }
        self.refreshing = false;
        let notice = match answer {
            Answer::States { reached: true } => None,
            Answer::States { reached: false } => Some(MessageKey::StatesUnreachable.into()),
            Answer::Time(Ok(())) => Some(MessageKey::TimeSynced.into()),
            Answer::Time(Err(e)) => Some(Failure::from(e).message()),
        };
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
                    if notice.is_some() {
                        s.notice = notice;
                    }
                });
            }
            Err(f) => self.fail(f),
        }
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
