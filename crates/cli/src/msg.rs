//! The words `softtoken` says, in English and Japanese, in one place: every user-facing
//! message is a function here that takes its values and answers in the chosen language, so
//! commands never pick a language themselves. The Japanese follows the banks' guides
//! (ワンタイムパスワード, シリアル番号, 利用開始パスワード, トークン失効, 利用中).
//!
//! The language comes from `--lang`, else the locale (`LC_ALL`, then `LC_MESSAGES`, then
//! `LANG`, as POSIX orders them): `ja…` is Japanese, anything else English.

use std::sync::OnceLock;

use softtoken_core::TokenState;
use softtoken_core::enroll::CertificateProblem;

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

/// The language a run asks for before its arguments are parsed: `--lang X` or `--lang=X`
/// among `args`, else the locale's (for `--help`, which clap answers while parsing).
pub fn requested(args: impl Iterator<Item = String>) -> Lang {
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--lang") {
            Some("") => args.peek().cloned(),
            Some(rest) => rest.strip_prefix('=').map(str::to_owned),
            None => None,
        };
        match value.as_deref() {
            Some("ja") => return Lang::Ja,
            Some("en") => return Lang::En,
            _ => {}
        }
    }
    from_locale(|name| std::env::var(name).ok())
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
    #[cfg(test)]
    if let Some(forced) = tests::FORCED.with(std::cell::Cell::get) {
        return forced;
    }
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
        TokenState::Pending => ("pending", "登録手続き中"),
        TokenState::Active => ("active", "利用中"),
        TokenState::Revoked => ("revoked", "トークン失効"),
        TokenState::Stopped => ("stopped", "利用中止"),
        TokenState::Replaced => ("replaced", "機種変更済み"),
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
    pick("  [pending]".into(), "  [登録手続き中]".into())
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
    pick(tries_left_en(n), format!("残り{n}回"))
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

/// The reserved service of the help-desk console's operators: their tokens finish on the
/// console, not in internet banking.
pub use softtoken_core::protocol::CONSOLE_SERVICE;

/// What to do with the first code: an operator types it on the console page that showed
/// the QR code; a customer in their internet banking.
pub fn type_first_code(service: &str) -> String {
    if service == CONSOLE_SERVICE {
        return pick(
            "Type this code on the help-desk console page that showed the QR code (keep that page open) to finish your token.".into(),
            "このワンタイムパスワードを、QRコードを表示したヘルプデスク画面（開いたままにしてください）の入力欄に入力して登録を完了してください。"
                .into(),
        );
    }
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

/// `lock set` when a PIN is already set.
pub fn pin_already_set() -> String {
    pick(
        "a PIN is already set; use `softtoken lock change`".into(),
        "アプリロックの暗証番号はすでに設定されています。変更は `softtoken lock change` で行ってください".into(),
    )
}

/// `lock change` / `lock off` without a PIN.
pub fn no_pin_set(hint: bool) -> String {
    match hint {
        true => pick(
            "no PIN is set; use `softtoken lock set`".into(),
            "アプリロックの暗証番号は設定されていません。設定は `softtoken lock set` で行ってください"
                .into(),
        ),
        false => pick(
            "no PIN is set".into(),
            "アプリロックの暗証番号は設定されていません".into(),
        ),
    }
}

/// Prompt for a new PIN.
pub fn new_pin_prompt() -> String {
    pick(
        "New PIN (1-32 digits): ".into(),
        "新しい暗証番号（半角数字1～32桁）: ".into(),
    )
}

/// Prompt for the current PIN.
pub fn current_pin_prompt() -> String {
    pick("Current PIN: ".into(), "現在の暗証番号: ".into())
}

/// Prompt for the PIN that unlocks the vault.
pub fn pin_prompt() -> String {
    pick("PIN: ".into(), "暗証番号: ".into())
}

/// Prompt to type the new PIN again.
pub fn repeat_pin_prompt() -> String {
    pick(
        "Repeat the new PIN: ".into(),
        "新しい暗証番号をもう一度: ".into(),
    )
}

/// The two new PINs differ.
pub fn pins_differ() -> String {
    pick(
        "the two PINs differ".into(),
        "入力された2つの暗証番号が一致しません".into(),
    )
}

/// `lock set` done.
pub fn lock_on() -> String {
    pick("PIN lock on".into(), "アプリロックを設定しました".into())
}

/// `lock change` done.
pub fn pin_changed() -> String {
    pick("PIN changed".into(), "暗証番号を変更しました".into())
}

/// `lock off` done.
pub fn lock_off() -> String {
    pick("PIN lock off".into(), "アプリロックを解除しました".into())
}

/// `delete` done.
pub fn deleted(serial_grouped: &str) -> String {
    pick(
        format!("deleted token {serial_grouped}"),
        format!("トークン（シリアル番号 {serial_grouped}）を削除しました"),
    )
}

/// `wipe` asks first.
pub fn wipe_question(path: &str) -> String {
    pick(
        format!("Delete every token in {path}? Each bank will have to issue a new one."),
        format!(
            "{path} のトークンをすべて削除しますか？ 各銀行で新しいトークンの利用開始が必要になります。"
        ),
    )
}

/// The answer hint after a yes/no question.
pub fn yes_no() -> String {
    pick("[y/N]".into(), "[y/N]（はい: y）".into())
}

/// `wipe` not confirmed.
pub fn nothing_deleted() -> String {
    pick("nothing was deleted".into(), "何も削除していません".into())
}

/// `wipe` done.
pub fn wiped() -> String {
    pick(
        "wiped: the vault is empty and has no PIN; remembered server certificates are forgotten"
            .into(),
        "すべてのトークンと暗証番号を削除しました（記憶していたサーバー証明書も削除し、アプリロックは解除されています）"
            .into(),
    )
}

/// 取引確認: the transfer a scanned challenge's code is for, shown before the code.
pub fn transfer_details(payee: &str, account: &str, amount: &str) -> String {
    pick(
        format!("payee:   {payee}\naccount: {account}\namount:  {amount}"),
        format!("振込先:   {payee}\n口座番号: {account}\n金額:     {amount}"),
    )
}

/// An amount as `display_amount` writes it (`50,000 JPY`), in the customer's words: yen as
/// `50,000円` in Japanese.
pub fn amount(display: &str, currency: &str) -> String {
    match (lang(), currency, display.strip_suffix(" JPY")) {
        (Lang::Ja, "JPY", Some(number)) => format!("{number}円"),
        _ => display.to_string(),
    }
}

/// Digits grouped by thousands (`1234567` → `1,234,567`), so a typed amount reads as one.
pub fn grouped_digits(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 取引確認 in manual mode: what the typed digits were read as, shown before the code, so
/// the customer compares them with the bank's screen.
pub fn typed_details(
    challenge_number: &str,
    account_tail: &str,
    amount_minor_units: &str,
) -> String {
    pick(
        format!(
            "challenge number:        {challenge_number}\naccount (last 6 digits): {account_tail}\namount (minor units):    {amount_minor_units}"
        ),
        format!(
            "確認番号:                 {challenge_number}\n口座番号（下6桁）:        {account_tail}\n金額:                     {amount_minor_units}"
        ),
    )
}

/// 取引確認: the code confirming the transfer shown above it.
pub fn transfer_code(code: &str) -> String {
    pick(
        format!("code:    {code}"),
        format!("取引確認用ワンタイムパスワード: {code}"),
    )
}

/// `sign` without anything to sign.
pub fn sign_needs_input() -> String {
    pick(
        "give --challenge or --digits-typed".into(),
        "--challenge（QRコードの内容）か --digits-typed（画面の数字）を指定してください".into(),
    )
}

/// No live token of the challenge's bank.
pub fn no_token_for_challenge() -> String {
    pick(
        "no usable token for this challenge in the vault".into(),
        "この取引確認に使えるトークンがありません".into(),
    )
}

/// Several live tokens could sign: the customer must choose.
pub fn several_tokens_could_sign() -> String {
    pick(
        "several tokens could sign this: name one by its serial".into(),
        "使えるトークンが複数あります。シリアル番号を指定してください".into(),
    )
}

/// No such token.
pub fn no_such_token(serial_grouped: &str) -> String {
    pick(
        format!("no token {serial_grouped} in the vault"),
        format!("シリアル番号 {serial_grouped} のトークンはありません"),
    )
}

/// The way out of a forgotten PIN, said once the PIN back-off begins.
fn forgotten_pin() -> String {
    pick(
        ". Forgot the PIN? `softtoken wipe` starts over (every token is deleted; your bank \
         issues new ones)"
            .into(),
        "。暗証番号を忘れた場合は `softtoken wipe` で初期化できます（トークンはすべて削除され、\
         銀行での再発行が必要です）"
            .into(),
    )
}

/// A vault error (core's `StoreError`) in the user's language. `detail` is the core's
/// English text, kept for what only it knows (paths, OS reasons).
pub fn store_error(e: &softtoken_core::StoreError) -> String {
    use softtoken_core::StoreError as E;
    let detail = e.to_string();
    match e {
        E::InvalidPin => pick(detail, "暗証番号は半角数字（0～9）1～32桁です".into()),
        E::WrongPin {
            attempts_left,
            retry_after_seconds,
        } => {
            let wait = |en: bool| match (*retry_after_seconds, en) {
                (0, _) => String::new(),
                (1, true) => "; next try in 1 second".into(),
                (s, true) => format!("; next try in {s} seconds"),
                (s, false) => format!("。次の入力は{s}秒後にできます"),
            };
            let message = pick(
                format!(
                    "wrong PIN ({}{})",
                    tries_left_en(*attempts_left),
                    wait(true)
                ),
                format!("暗証番号が違います（あと{attempts_left}回{}）", wait(false)),
            );
            // Once the back-off begins, say the way out of a forgotten PIN.
            if *retry_after_seconds > 0 {
                format!("{message}{}", forgotten_pin())
            } else {
                message
            }
        }
        E::TooSoon {
            retry_after_seconds,
        } => pick(
            format!(
                "too many wrong PINs: try again in {}{}",
                match retry_after_seconds {
                    1 => "1 second".to_string(),
                    s => format!("{s} seconds"),
                },
                forgotten_pin()
            ),
            format!(
                "暗証番号の誤りが続いたため、{retry_after_seconds}秒後に再度入力してください{}",
                forgotten_pin()
            ),
        ),
        E::Locked => pick(
            detail,
            "アプリロック中です。先に暗証番号を入力してください".into(),
        ),
        E::NoPin => no_pin_set(false),
        E::PinAlreadySet => pick(
            detail,
            "アプリロックの暗証番号はすでに設定されています".into(),
        ),
        E::NotFound(serial) => no_such_token(&serial.grouped()),
        E::Duplicate(serial) => pick(
            detail,
            format!(
                "シリアル番号 {} のトークンはすでにあります",
                serial.grouped()
            ),
        ),
        E::Corrupt { .. } | E::UnsupportedVersion { .. } | E::KeyWrapper(_) | E::Io { .. } => pick(
            detail.clone(),
            format!("トークンの保存ファイルを読み書きできません（{detail}）"),
        ),
    }
}

fn tries_left_en(n: u32) -> String {
    match n {
        1 => "1 try left".into(),
        n => format!("{n} tries left"),
    }
}

/// What to do after a damaged vault (`Corrupt`).
pub fn wipe_hint_corrupt() -> String {
    pick(
        "`softtoken wipe` starts over with an empty vault (every token is lost)".into(),
        "`softtoken wipe` で空の状態からやり直せます（トークンはすべて失われます）".into(),
    )
}

/// What to do after a lost key file.
pub fn wipe_hint_key_lost() -> String {
    pick(
        "If the key file was lost, `softtoken wipe` starts over (every token is lost)".into(),
        "鍵ファイルを失った場合は `softtoken wipe` でやり直せます（トークンはすべて失われます）"
            .into(),
    )
}

/// `--pin-stdin` gave a new PIN but not the line that confirms it.
pub fn pin_confirmation_missing() -> String {
    pick(
        "--pin-stdin: give the new PIN twice, on two lines (the second confirms it)".into(),
        "--pin-stdin: 新しい暗証番号を確認のため2行続けて入力してください".into(),
    )
}

/// `--pin-stdin` / `--password-stdin` found no line.
pub fn nothing_on_stdin(what_en: &str, what_ja: &str) -> String {
    pick(
        format!("expected a {what_en} on stdin, found none"),
        format!("標準入力に{what_ja}がありません"),
    )
}

/// An activation, provisioning or network error (core's `EnrollError`) in the user's
/// language; what only the core knows (URLs, server details) is kept as it said it.
pub fn enroll_error(e: &softtoken_core::enroll::EnrollError) -> String {
    use softtoken_core::enroll::EnrollError as E;
    let detail = e.to_string();
    let ja = match e {
        E::BadServerUrl { url, reason } => format!("サーバーのURL {url:?} が正しくありません（{reason}）"),
        E::BadUri(reason) => format!("利用開始用のURIが正しくありません（{reason}）"),
        E::InvalidStartPassword => {
            "利用開始パスワードは半角英数字記号4～64文字です".to_string()
        }
        E::WrongStartPassword { attempts_left } => return wrong_start_password(*attempts_left),
        E::EnrollmentNotFound => "このサービスIDとユーザーIDで待っている利用開始はありません。両方を確かめるか、銀行に発行を依頼してください".into(),
        E::EnrollmentExpired => "利用開始パスワードの有効期限が切れました。銀行に再発行を依頼してください".into(),
        E::EnrollmentLocked => "利用開始パスワードの誤りが続きました。銀行に再発行を依頼してください".into(),
        E::UnknownService => "サーバーがこのサービスを知りません".into(),
        E::RateLimited { retry_after_seconds } => {
            format!("サーバーが混み合っています。{retry_after_seconds}秒後にもう一度お試しください")
        }
        E::Refused { url, .. } => format!("{url} が要求を受け付けませんでした（{detail}）"),
        E::Network { url, reason } => format!("{url} に接続できません（{reason}）"),
        E::Certificate { url, problem } => {
            format!("サーバーの証明書を確認できません: {url}（{}）", certificate_problem_ja(problem))
        }
        E::BadCaFile { path, reason } => format!("CA証明書ファイル {path} を使えません（{reason}）"),
        E::BadResponse { url, reason } => format!("{url} から想定外の応答がありました（{reason}）"),
        E::Protocol(p) => format!("利用開始に失敗しました（{p}）"),
        E::Store(store) => return store_error(store),
    };
    let en = match e {
        E::RateLimited {
            retry_after_seconds: 1,
        } => "the server is busy; try again in 1 second".into(),
        E::RateLimited {
            retry_after_seconds,
        } => format!("the server is busy; try again in {retry_after_seconds} seconds"),
        E::Certificate {
            problem: CertificateProblem::UnknownIssuer,
            ..
        } => format!("{detail}; if the bank uses a CA of its own, give it with --ca-file"),
        _ => detail,
    };
    pick(en, ja)
}

/// What is wrong with a server's certificate, in Japanese (with rustls's name, which
/// README and support staff search for).
fn certificate_problem_ja(problem: &CertificateProblem) -> String {
    match problem {
        CertificateProblem::UnknownIssuer => {
            "信頼されていない発行者 UnknownIssuer。銀行独自のCAを使う場合は --ca-file で指定してください".into()
        }
        CertificateProblem::Expired => "有効期限切れ Expired".into(),
        CertificateProblem::NotYetValid => {
            "有効期間の開始前 NotValidYet。端末の時計もご確認ください".into()
        }
        CertificateProblem::WrongName => "別の名前に発行された証明書 NotValidForName".into(),
        CertificateProblem::CaUsedAsEndEntity => {
            "CA証明書がサーバー証明書として使われています CaUsedAsEndEntity。CAで署名したサーバー証明書が必要です".into()
        }
        CertificateProblem::Other(reason) => reason.clone(),
    }
}

/// After a refresh on open met only certificate errors (said each on its own line).
pub fn last_known_states() -> String {
    pick(
        "showing the states last known".into(),
        "最後に確認した状態で表示します".into(),
    )
}

/// `provision`: the new token's serial.
pub fn provisioned(serial_grouped: &str, issuer: &str) -> String {
    pick(
        format!("Serial: {serial_grouped} ({issuer})"),
        format!("シリアル番号: {serial_grouped}（{issuer}）"),
    )
}

/// `provision`: what to do next.
pub fn register_serial() -> String {
    pick(
        "Register this serial and code in your internet banking.".into(),
        "このシリアル番号とワンタイムパスワードをインターネットバンキングで登録してください。"
            .into(),
    )
}

/// `sync-time` with no tokens.
pub fn nothing_to_sync() -> String {
    pick(
        "no tokens: nothing to sync".into(),
        "トークンがないため、時刻を合わせる相手がありません".into(),
    )
}

/// `sync-time`: some servers did not answer.
pub fn servers_unreachable(failed: usize, total: usize) -> String {
    pick(
        match total {
            1 => format!("{failed} of 1 server could not be reached"),
            _ => format!("{failed} of {total} servers could not be reached"),
        },
        format!("{total}台中{failed}台のサーバーに接続できませんでした"),
    )
}

/// A malformed serial number (core's `SerialError`) in the user's language.
pub fn serial_error(e: &softtoken_core::protocol::SerialError) -> String {
    use softtoken_core::protocol::SerialError as E;
    let ja = match e {
        E::Prefix => "シリアル番号は SKTS で始まります".to_string(),
        E::Length { found } => {
            format!("シリアル番号は12文字（SKTS と8文字）です。入力は{found}文字です")
        }
        E::Symbol { symbol, position } => {
            format!("シリアル番号の{position}文字目の「{symbol}」は使えない文字です")
        }
        E::Check => "シリアル番号が正しくありません。入力に誤りがないかご確認ください".into(),
    };
    pick(e.to_string(), ja)
}

/// A bad `--service` or `--user` value; `which_en`/`which_ja` name it.
pub fn bad_id(which_en: &str, which_ja: &str, reason: &str) -> String {
    pick(
        format!("{which_en}: {reason}"),
        format!("{which_ja}が正しくありません（{reason}）"),
    )
}

/// `activate` without a target.
pub fn activate_target_missing() -> String {
    pick(
        "give --uri, or --server, --service and --user".into(),
        "--uri、または --server・--service・--user を指定してください".into(),
    )
}

/// A file or directory the vault needs could not be created or removed.
pub fn file_failed(create: bool, path: &str, reason: &str) -> String {
    match create {
        true => pick(
            format!("cannot create {path}: {reason}"),
            format!("{path} を作成できません（{reason}）"),
        ),
        false => pick(
            format!("cannot remove {path}: {reason}"),
            format!("{path} を削除できません（{reason}）"),
        ),
    }
}

/// Reading stdin failed.
pub fn stdin_failed(reason: &str) -> String {
    pick(
        format!("cannot read stdin: {reason}"),
        format!("標準入力を読めません（{reason}）"),
    )
}

/// No place for the vault.
pub fn no_data_dir() -> String {
    pick(
        "cannot find a data directory (no HOME); set SOFTTOKEN_HOME to choose one".into(),
        "データの保存先が見つかりません（HOME がありません）。SOFTTOKEN_HOME で指定してください"
            .into(),
    )
}

/// A vault error followed by what to do about it.
pub fn with_hint(error: &str, hint: &str) -> String {
    pick(format!("{error}. {hint}"), format!("{error}。{hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// The language of this test thread (the run's is set once per process).
        pub(super) static FORCED: std::cell::Cell<Option<Lang>> = const { std::cell::Cell::new(None) };
    }

    /// Every message of the catalogue, once in `lang`.
    fn every_message(lang: Lang) -> Vec<String> {
        FORCED.with(|f| f.set(Some(lang)));
        let serial = "1234 5678 9012";
        let store = softtoken_core::StoreError::WrongPin {
            attempts_left: 1,
            retry_after_seconds: 30,
        };
        let mut all = vec![
            offline_note(),
            pending_mark(),
            nothing_to_show(),
            no_tokens(),
            next(),
            tries_left(1),
            wrong_start_password(2),
            refreshed(serial, "x"),
            refresh_failed(serial, "x"),
            refresh_incomplete(1, 2),
            clock_offset("https://bank.example", 1.5),
            activated(serial, "Bank", "yamada"),
            code_line("123456", 10),
            type_first_code("bank"),
            type_first_code(CONSOLE_SERVICE),
            start_password_prompt(),
            pin_already_set(),
            no_pin_set(true),
            no_pin_set(false),
            new_pin_prompt(),
            current_pin_prompt(),
            pin_prompt(),
            repeat_pin_prompt(),
            pins_differ(),
            pin_confirmation_missing(),
            lock_on(),
            pin_changed(),
            lock_off(),
            deleted(serial),
            wipe_question("/tmp/v"),
            nothing_deleted(),
            wiped(),
            no_such_token(serial),
            store_error(&store),
            store_error(&softtoken_core::StoreError::InvalidPin),
            store_error(&softtoken_core::StoreError::Locked),
            store_error(&softtoken_core::StoreError::TooSoon {
                retry_after_seconds: 1,
            }),
            wipe_hint_corrupt(),
            wipe_hint_key_lost(),
            nothing_on_stdin("PIN", "暗証番号"),
            enroll_error(&softtoken_core::enroll::EnrollError::EnrollmentExpired),
            enroll_error(&softtoken_core::enroll::EnrollError::RateLimited {
                retry_after_seconds: 1,
            }),
            provisioned(serial, "Bank"),
            register_serial(),
            nothing_to_sync(),
            servers_unreachable(1, 1),
            serial_error(&softtoken_core::protocol::SerialError::Check),
            bad_id("service ID", "サービスID", "x"),
            activate_target_missing(),
            file_failed(true, "/tmp/x", "x"),
            file_failed(false, "/tmp/x", "x"),
            stdin_failed("x"),
            no_data_dir(),
            with_hint("x", "y"),
            transfer_details("x", "1", "1"),
            typed_details("123456", "1", "1"),
            transfer_code("1"),
            sign_needs_input(),
            no_token_for_challenge(),
            several_tokens_could_sign(),
            serial_error(&softtoken_core::protocol::SerialError::Length { found: 3 }),
        ];
        for s in [
            TokenState::Pending,
            TokenState::Active,
            TokenState::Revoked,
            TokenState::Stopped,
            TokenState::Replaced,
        ] {
            all.push(state(s));
        }
        for s in [
            TokenState::Revoked,
            TokenState::Stopped,
            TokenState::Replaced,
        ] {
            all.push(dead_token(s, serial, "123456789012"));
        }
        FORCED.with(|f| f.set(None));
        all
    }

    #[test]
    fn yen_reads_as_yen_in_japanese_and_typed_amounts_are_grouped() {
        FORCED.with(|f| f.set(Some(Lang::Ja)));
        assert_eq!(amount("50,000 JPY", "JPY"), "50,000円");
        assert_eq!(amount("1,234.56 EUR", "EUR"), "1,234.56 EUR");
        FORCED.with(|f| f.set(Some(Lang::En)));
        assert_eq!(amount("50,000 JPY", "JPY"), "50,000 JPY");
        FORCED.with(|f| f.set(None));
        assert_eq!(grouped_digits("7"), "7");
        assert_eq!(grouped_digits("123"), "123");
        assert_eq!(grouped_digits("1234"), "1,234");
        assert_eq!(grouped_digits("123456789012"), "123,456,789,012");
    }

    #[test]
    fn an_operators_first_code_goes_to_the_console_not_internet_banking() {
        for (lang, banking, console) in [
            (Lang::Ja, "インターネットバンキング", "ヘルプデスク画面"),
            (Lang::En, "internet banking", "help-desk console"),
        ] {
            FORCED.with(|f| f.set(Some(lang)));
            let operator = type_first_code(CONSOLE_SERVICE);
            assert!(
                operator.contains(console) && !operator.contains(banking),
                "{operator}"
            );
            assert!(type_first_code("bank").contains(banking));
        }
        FORCED.with(|f| f.set(None));
    }

    #[test]
    fn the_pin_back_off_names_the_way_out_of_a_forgotten_pin() {
        let too_soon = softtoken_core::StoreError::TooSoon {
            retry_after_seconds: 30,
        };
        for lang in [Lang::En, Lang::Ja] {
            FORCED.with(|f| f.set(Some(lang)));
            assert!(store_error(&too_soon).contains("softtoken wipe"));
        }
        FORCED.with(|f| f.set(None));
    }

    #[test]
    fn every_message_has_both_languages() {
        let en = every_message(Lang::En);
        let ja = every_message(Lang::Ja);
        for (en, ja) in en.iter().zip(&ja) {
            assert!(!en.trim().is_empty(), "an empty English message");
            assert!(en.is_ascii(), "Japanese in the English message {en:?}");
            assert!(
                !ja.is_ascii(),
                "the Japanese of {en:?} is not Japanese: {ja:?}"
            );
        }
    }

    #[test]
    fn english_plurals_of_seconds_are_right() {
        FORCED.with(|f| f.set(Some(Lang::En)));
        let one = store_error(&softtoken_core::StoreError::TooSoon {
            retry_after_seconds: 1,
        });
        let many = store_error(&softtoken_core::StoreError::WrongPin {
            attempts_left: 0,
            retry_after_seconds: 30,
        });
        FORCED.with(|f| f.set(None));
        assert!(
            one.starts_with("too many wrong PINs: try again in 1 second."),
            "{one}"
        );
        assert!(
            many.starts_with("wrong PIN (0 tries left; next try in 30 seconds)."),
            "{many}"
        );
    }

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
