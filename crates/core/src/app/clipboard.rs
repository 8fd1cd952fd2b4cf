//! A copied code's life on the clipboard: cleared [`CLEAR_AFTER_MS`] after the copy, and at
//! once when the app locks, unless the clip is known to be someone else's (the customer's
//! next copy stays). The tick runs every second, in the background too.
//!
//! Android 10+ hides the clipboard from an app in the background, so there the app cannot
//! tell its code from a later copy: it clears anyway (writing the clipboard is allowed in
//! the background). A code must not outlive its time on a clipboard every app in front can
//! read; the price is that text another app copied in those seconds is cleared with it.

use super::Shell;

/// 60 s: long enough to switch to internet banking and paste, no longer.
pub const CLEAR_AFTER_MS: i64 = 60_000;

/// When the code on the clipboard is due to go.
#[derive(Debug, Default)]
pub(crate) struct CodeClipboard {
    clear_at_ms: Option<i64>,
}

impl CodeClipboard {
    /// Copies `code` at `now_ms` and starts its countdown.
    pub(crate) fn copy(&mut self, shell: &dyn Shell, code: String, now_ms: i64) {
        shell.put_on_clipboard(code);
        self.clear_at_ms = Some(now_ms + CLEAR_AFTER_MS);
    }

    /// Clears the clip when its time is up. True when it cleared it.
    pub(crate) fn tick(&mut self, shell: &dyn Shell, now_ms: i64) -> bool {
        match self.clear_at_ms {
            Some(due) if now_ms >= due => self.clear_unless_theirs(shell),
            _ => false,
        }
    }

    /// The app locks: a copied code still waiting goes now. True when it cleared it.
    pub(crate) fn clear_now(&mut self, shell: &dyn Shell) -> bool {
        self.clear_at_ms.is_some() && self.clear_unless_theirs(shell)
    }

    fn clear_unless_theirs(&mut self, shell: &dyn Shell) -> bool {
        self.clear_at_ms = None;
        // Someone copied something else since: theirs stays.
        if shell.clipboard_still_ours() == Some(false) {
            return false;
        }
        // Ours, or the platform cannot tell (Android in the background): the code goes.
        shell.clear_clipboard();
        true
    }
}
