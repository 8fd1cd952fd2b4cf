//! The words `softtoken` says, in English and Japanese, in one place: every user-facing
//! message is a function here that takes its values and answers in the chosen language, so
//! commands never pick a language themselves. The Japanese follows the banks' guides
//! (ワンタイムパスワード, シリアル番号, 利用開始パスワード, トークン失効, 利用中).
//!
//! The language comes from `--lang`, else the locale (`LC_ALL`, then `LC_MESSAGES`, then
//! `LANG`, as POSIX orders them): `ja…` is Japanese, anything else English.

use std::sync::OnceLock;

use softtoken_core::TokenState;

/// A language the token speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// English.
    En,
    /// 日本語.
    Ja,
}

static LANG: OnceLock<Lang> = OnceLock::new();

/// Sets the language for this run: `forced` (`--lang`), else the locale's.
pub fn init(forced: Option<Lang>) {
    let lang = forced.unwrap_or_else(|| from_locale(|name| std::env::var(name).ok()));
    let _ = LANG.set(lang);
}

/// The language the locale variables (read through `var`) ask for.
pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Lang {
    // The first variable that is set and not empty decides, as POSIX says.
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|name| var(name))
        .find(|value| !value.is_empty())
        .unwrap_or_default();
    if locale.starts_with("ja") {
        Lang::Ja
    } else {
        Lang::En
    }
}

fn lang() -> Lang {
    LANG.get().copied().unwrap_or(Lang::En)
}

/// One message in both languages; picks the run's.
fn pick(en: String, ja: String) -> String {
    match lang() {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

/// The one note when the refresh on open could not reach a server (offline, slow).
pub fn offline_note() -> String {
    pick(
        "could not ask the bank about the tokens (offline?); showing the states last known \
         (softtoken refresh to retry, --offline to skip)"
            .into(),
        "銀行にトークンの状態を確認できませんでした（オフライン？）。最後に確認した状態で表示します\
         （再確認は softtoken refresh、確認しないときは --offline）"
            .into(),
    )
}

/// A token's state as a word for lists.
pub fn state(state: TokenState) -> String {
    let (en, ja) = match state {
        TokenState::Pending => ("pending", "利用開始待ち"),
        TokenState::Active => ("active", "利用中"),
        TokenState::Revoked => ("revoked", "トークン失効"),
        TokenState::Stopped => ("stopped", "利用停止"),
        TokenState::Replaced => ("replaced", "他のトークンに変更済み"),
    };
    pick(en.into(), ja.into())
}

/// Why a dead token shows no code, and what to do.
pub fn dead_token(state: TokenState, serial_grouped: &str, serial: &str) -> String {
    let (en, ja) = match state {
        TokenState::Revoked => (
            "your bank revoked this token; it gives no more one-time passwords. Contact your bank, or activate again with a new start password.",
            "このトークンは銀行により失効されました（トークン失効）。ワンタイムパスワードは表示されません。お取引の金融機関にお問い合わせいただくか、新しい利用開始パスワードで再度利用開始してください。",
        ),
        TokenState::Stopped => (
            "your bank stopped one-time passwords for you; this token gives no more. Contact your bank to use them again.",
            "ワンタイムパスワードの利用が停止されました。このトークンは使えません。再開はお取引の金融機関にお問い合わせください。",
        ),
        TokenState::Replaced => (
            "another token took this one's place (a device change or a newer activation); use that one.",
            "このトークンは別のトークンに変更されました（機種変更または再度の利用開始）。新しいトークンをご利用ください。",
        ),
        TokenState::Pending | TokenState::Active => ("", ""),
    };
    pick(
        format!("{serial_grouped}: {en} Remove it with `softtoken delete {serial}`."),
        format!(
            "{serial_grouped}：{ja}削除するには `softtoken delete {serial}` を実行してください。"
        ),
    )
}

/// Shown after a pending token's code.
pub fn pending_mark() -> String {
    pick("  [pending]".into(), "  [利用開始待ち]".into())
}

/// `show` has nothing to show.
pub fn nothing_to_show() -> String {
    pick(
        "no tokens to show (`softtoken list` shows ended ones too)".into(),
        "表示できるトークンがありません（`softtoken list` で失効したものも表示されます）".into(),
    )
}

/// `list` has nothing.
pub fn no_tokens() -> String {
    pick("no tokens yet".into(), "トークンはまだありません".into())
}

/// "next" before the next code.
pub fn next() -> String {
    pick("next".into(), "次".into())
}

/// Tries left, plural right.
pub fn tries_left(n: u32) -> String {
    pick(
        match n {
            1 => "1 try left".into(),
            n => format!("{n} tries left"),
        },
        format!("残り{n}回"),
    )
}

/// The start password was wrong.
pub fn wrong_start_password(attempts_left: u32) -> String {
    pick(
        format!(
            "wrong start password ({} before the bank must issue a new one)",
            tries_left(attempts_left)
        ),
        format!(
            "利用開始パスワードが違います（{}。0回になると金融機関による再発行が必要です）",
            tries_left(attempts_left)
        ),
    )
}

/// The line `refresh` prints per token.
pub fn refreshed(serial_grouped: &str, state_word: &str) -> String {
    pick(
        format!("{serial_grouped}: {state_word}"),
        format!("{serial_grouped}：{state_word}"),
    )
}

/// A token whose state could not be learned.
pub fn refresh_failed(serial_grouped: &str, reason: &str) -> String {
    pick(
        format!("{serial_grouped}: state not refreshed: {reason}"),
        format!("{serial_grouped}：状態を更新できませんでした：{reason}"),
    )
}

/// Summary when some servers could not be asked.
pub fn refresh_incomplete(failed: usize, total: usize) -> String {
    pick(
        format!("{failed} of {total} could not be refreshed"),
        format!("{total}件中{failed}件を更新できませんでした"),
    )
}

/// Clock line of `refresh` / `sync-time`.
pub fn clock_offset(server: &str, seconds: f64) -> String {
    pick(
        format!("{server}: server clock {seconds:+.3} s from this computer's"),
        format!("{server}：サーバーの時計はこのコンピューターより {seconds:+.3} 秒"),
    )
}

/// After an activation, before the code.
pub fn activated(serial_grouped: &str, issuer: &str, user: &str) -> String {
    pick(
        format!("Activated token {serial_grouped} ({issuer}, user {user})"),
        format!("トークン {serial_grouped}（{issuer}、ユーザー {user}）の利用を開始しました"),
    )
}

/// A code and its seconds.
pub fn code_line(code: &str, seconds_left: u64) -> String {
    pick(
        format!("Code: {code}  ({seconds_left} s left)"),
        format!("ワンタイムパスワード：{code}（残り{seconds_left}秒）"),
    )
}

/// What to do with the first code.
pub fn type_first_code() -> String {
    pick(
        "Type this code into your internet banking to finish the activation.".into(),
        "このワンタイムパスワードをインターネットバンキングに入力して利用開始を完了してください。"
            .into(),
    )
}

/// Prompt for the start password.
pub fn start_password_prompt() -> String {
    pick("Start password: ".into(), "利用開始パスワード：".into())
}

/// The PIN or start password could not be read from a terminal.
pub fn no_terminal(what_en: &str, what_ja: &str, reason: &str, flag: &str) -> String {
    pick(
        format!("cannot read the {what_en} from a terminal ({reason}); use {flag}"),
        format!("端末から{what_ja}を読めません（{reason}）。{flag} を使ってください"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_string())
        }
    }

    #[test]
    fn english_plurals_are_right() {
        // No `init` in unit tests: English.
        assert_eq!(tries_left(1), "1 try left");
        assert_eq!(tries_left(2), "2 tries left");
        assert_eq!(tries_left(0), "0 tries left");
    }

    #[test]
    fn the_locale_picks_the_language_in_posix_order() {
        assert_eq!(from_locale(env(&[("LANG", "ja_JP.UTF-8")])), Lang::Ja);
        assert_eq!(from_locale(env(&[("LANG", "en_US.UTF-8")])), Lang::En);
        assert_eq!(from_locale(env(&[])), Lang::En);
        assert_eq!(
            from_locale(env(&[("LC_ALL", "C"), ("LANG", "ja_JP.UTF-8")])),
            Lang::En
        );
        assert_eq!(
            from_locale(env(&[
                ("LC_ALL", ""),
                ("LC_MESSAGES", "ja_JP.UTF-8"),
                ("LANG", "C")
            ])),
            Lang::Ja
        );
    }
}
