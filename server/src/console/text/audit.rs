//! The audit trail's words: every event kind and every detail in the page's language.
//!
//! A detail is typed ([`softtoken_store::audit::Detail`], JSON in the store): English is
//! [`Detail::english`], the bank API's and the CSV's words; Japanese is worded here from the
//! detail's fields, IDs, serials, names, addresses, times and an SMTP server's own answer
//! as they are. What is text is a code check's bare outcome (`ok`, `invalid`, …), a stable
//! key worded from [`OUTCOMES_JA`], and rows written before every detail was typed
//! ([`legacy_ja`]).

use softtoken_store::audit::{Detail, KeySource, QueuedMail, SignInFailure, SignInStep};

use super::Texts;

/// Every audit event kind in Japanese, by its stored name.
pub const AUDIT_KINDS_JA: [(&str, &str); 35] = [
    ("enrollment_issued", "利用開始パスワードの発行"),
    ("activation_started", "利用開始の手続き"),
    ("activation_refused", "利用開始の拒否"),
    ("activation_failed", "利用開始パスワードの誤り"),
    ("activation_finished", "利用開始（初回確認待ち）"),
    ("tokens_provisioned", "登録用トークンの作成"),
    ("tokens_imported", "PSKC取り込み"),
    ("verify", "ワンタイムパスワードの確認"),
    ("confirm", "初回のワンタイムパスワード確認"),
    ("registration", "シリアル番号登録時の確認"),
    ("replacement", "機種変更時の確認"),
    ("possession", "本人確認（利用中止・機種変更の前）"),
    ("user_locked", "利用停止"),
    ("user_unlocked", "利用停止解除"),
    ("token_locked", "トークンの登録ロック"),
    ("token_unlocked", "トークンの登録ロック解除"),
    ("token_registered", "シリアル番号の登録"),
    ("token_replaced", "機種変更"),
    ("otp_stopped", "利用中止"),
    ("token_revoked", "トークン失効"),
    ("cooldown_ended", "待機期間の終了"),
    ("mail_sent", "ご案内メール送信"),
    ("mail_deferred", "ご案内メール再送待ち"),
    ("mail_failed", "ご案内メール送信不可"),
    ("operator_added", "オペレーターの追加"),
    ("operator_changed", "オペレーターの変更"),
    ("console_sign_in", "サインイン"),
    ("console_sign_in_failed", "サインインの失敗"),
    ("console_sign_out", "サインアウト"),
    ("api_key_rotated", "APIキーの再発行"),
    ("transaction_created", "取引確認の作成"),
    ("transaction", "取引確認"),
    ("policy_changed", "ポリシーの変更"),
    ("service_added", "サービスの追加"),
    ("service_mail_set", "利用開始のご案内メールの設定"),
];

/// An audit event kind in the catalogue's language: Japanese from [`AUDIT_KINDS_JA`];
/// in English the stored name, which is English already.
pub fn audit_kind<'a>(t: &'static Texts, kind: &'a str) -> &'a str {
    if t.lang != "ja" {
        return kind;
    }
    AUDIT_KINDS_JA
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(kind, |(_, ja)| ja)
}

/// The bare outcome names a code check (and a registration's token state) stores as its
/// detail: stable keys, not words.
const OUTCOMES_JA: [(&str, &str); 10] = [
    ("ok", "正しいコード"),
    ("invalid", "誤ったコード"),
    ("reused", "使用済みのコード"),
    ("locked", "利用停止"),
    ("pending", "登録手続き中"),
    ("no_token", "トークンなし"),
    ("already_active", "利用中"),
    ("expired", "期限切れ"),
    ("wrong_length", "桁数の誤り"),
    ("active", "利用中"),
];

/// An audit event's detail in the catalogue's language: a typed one from its fields, an
/// outcome name from the catalogue, in English as the bank API shows it.
pub fn audit_detail(t: &'static Texts, stored: &str) -> String {
    if let Some(typed) = Detail::parse(stored) {
        return if t.lang == "ja" {
            detail_ja(t, &typed)
        } else {
            typed.english()
        };
    }
    if t.lang != "ja" || stored.is_empty() {
        return stored.to_owned();
    }
    match outcome_ja(stored) {
        Some(ja) => ja.to_owned(),
        None => legacy_ja(t, stored),
    }
}

fn outcome_ja(outcome: &str) -> Option<&'static str> {
    OUTCOMES_JA
        .iter()
        .find(|(en, _)| *en == outcome)
        .map(|(_, ja)| *ja)
}

/// Where an API key came from, in Japanese.
fn key_source_ja(from: KeySource) -> &'static str {
    match from {
        KeySource::Console => "ヘルプデスク画面から",
        KeySource::CommandLine => "サーバー管理コマンドから",
        KeySource::Demo => "デモのデータディレクトリに保存した鍵",
    }
}

/// A typed detail in Japanese.
fn detail_ja(t: &'static Texts, detail: &Detail) -> String {
    match detail {
        Detail::TransferCheck { outcome, id } => {
            format!("{} 取引 {id}", outcome_ja(outcome).unwrap_or(outcome))
        }
        Detail::TransactionCreated {
            id,
            digest,
            account,
            amount,
            currency,
        } => {
            let amount = if currency == "JPY" {
                format!("{}円", grouped(*amount))
            } else {
                format!("{} {currency}", grouped(*amount))
            };
            format!("取引 {id}：振込先口座 {account}、金額 {amount}（ダイジェスト {digest}）")
        }
        Detail::Stopped { help_desk, unbound } => {
            let unbound = format!("解除したトークン {}", unbound.join(", "));
            if *help_desk {
                format!("ヘルプデスクによる；{unbound}")
            } else {
                unbound
            }
        }
        Detail::Replaced { old_serial } => format!("{old_serial} からの機種変更"),
        Detail::MailSent {
            to,
            message_id,
            attempt,
        } => format!("{to} に送信済み（{attempt} 回目、Message-ID {message_id}）"),
        Detail::MailDeferred {
            to,
            attempt,
            error,
            next_at,
        } => format!("{to} への {attempt} 回目の送信に失敗：{error}。次回 {next_at}"),
        Detail::MailFailed { to, attempt, error } => {
            format!("{to} への送信を {attempt} 回目で断念：{error}")
        }
        Detail::CooldownEnded { help_desk: true } => "ヘルプデスクによる".into(),
        Detail::CooldownEnded { help_desk: false } => "銀行による".into(),
        Detail::ApiKeyRotated { from } => key_source_ja(*from).into(),
        Detail::ServiceAdded { name, from } => format!("{name}（{}）", key_source_ja(*from)),
        Detail::ServiceMailSet {
            download_url,
            own_ja,
            own_en,
        } => {
            let template = |own: bool| {
                if own {
                    "独自テンプレート"
                } else {
                    "標準テンプレート"
                }
            };
            format!(
                "ダウンロードURL {download_url}；日本語 {}、英語 {}",
                template(*own_ja),
                template(*own_en)
            )
        }
        Detail::EnrollmentIssued { expires, mail } => match mail {
            Some(QueuedMail { language, to }) => {
                let language = match language.as_str() {
                    "ja" => "日本語",
                    "en" => "英語",
                    other => other,
                };
                format!("有効期限 {expires}；ご案内メール（{language}）を {to} に送信予定")
            }
            None => format!("有効期限 {expires}"),
        },
        Detail::PolicyChanged {
            digits,
            period_secs,
            window,
            max_failures,
            cooldown_secs,
            enrollment_ttl_secs,
            tokens_per_user,
            shared_tokens,
        } => format!(
            "桁数 {}、周期 {}、許容ずれ {window} ステップ、ロックまでの誤り回数 {max_failures} 回、\
             待機期間 {}、利用開始パスワードの有効期間 {}、トークン数 {tokens_per_user}、\
             共有 {}",
            digits.map_or("既定".into(), |d| format!("{d}桁")),
            period_secs.map_or("既定".into(), duration_ja),
            duration_ja(*cooldown_secs),
            duration_ja(*enrollment_ttl_secs),
            if *shared_tokens { "あり" } else { "なし" },
        ),
        Detail::OperatorAdded { name, role } => format!("{name}（{}）", super::role(t, role)),
        Detail::OperatorDisabled { name } => format!("{name}：無効"),
        Detail::OperatorPasswordReset { name } => format!("{name}：パスワード再発行、ロック解除"),
        Detail::UnlockedByPasswordReset => "パスワード再発行によるロック解除".into(),
        Detail::SignIn { step } => match step {
            SignInStep::EnrollingOwnToken => "パスワードは正しい；本人のトークンを登録中",
            SignInStep::PasswordAndCode => "パスワードとワンタイムパスワード",
            SignInStep::OwnTokenConfirmed => "本人のトークンを確認",
        }
        .into(),
        Detail::SignInFailed { failure } => match failure {
            SignInFailure::UnknownName => "登録のないオペレーター名",
            SignInFailure::WrongPassword => "パスワードの誤り",
            SignInFailure::WrongPasswordDisabled => "パスワードの誤り；無効",
            SignInFailure::WrongPasswordLocked => "パスワードの誤り；一時ロック中",
            SignInFailure::Disabled => "パスワードは正しい；無効",
            SignInFailure::RightPasswordLocked => "パスワードは正しい；一時ロック中",
            SignInFailure::Locked => "ロック中",
            SignInFailure::WrongCode => "ワンタイムパスワードの誤り",
            SignInFailure::WrongFirstCode => "本人のトークンの初回コードの誤り",
        }
        .into(),
        Detail::LockedWhileEnrolling => "トークンの登録中にロック".into(),
        Detail::ActivationStarted { from } => format!("接続元 {from}"),
        Detail::EnrollmentLocked => "利用開始パスワードの誤りが続いたためロック中".into(),
        Detail::WrongStartPassword => "利用開始パスワードの誤り".into(),
        Detail::PendingConfirmation => "初回確認待ちのトークン".into(),
        Detail::TokensImported {
            packages,
            imported,
            of,
        } => format!("ファイル内の鍵 {packages} 件、{of} 件中 {imported} 件を取り込み"),
        Detail::TokensProvisioned { count } => format!("前回の集計以降 {count} 件"),
        Detail::UserLocked { after } => format!("{after} 回続けて誤ったため利用停止"),
        Detail::TokenLocked { after } => format!("登録時のコードを {after} 回誤ったためロック"),
        Detail::TokenRevoked {
            users,
            enrollments_ended,
        } => {
            let users = if users.is_empty() {
                "なし".to_owned()
            } else {
                users.join(", ")
            };
            format!("利用者 {users}；終了した利用開始登録 {enrollments_ended} 件")
        }
    }
}

/// A whole number with thousands separators: 50,000.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A policy's duration in the largest whole unit: 7日, 24時間, 30分, 90秒.
fn duration_ja(secs: u64) -> String {
    match secs {
        0 => "0秒".into(),
        s if s % 86_400 == 0 => format!("{}日", s / 86_400),
        s if s % 3600 == 0 => format!("{}時間", s / 3600),
        s if s % 60 == 0 => format!("{}分", s / 60),
        s => format!("{s}秒"),
    }
}

/// Rows written before every detail was typed hold English free text, and stay so in
/// existing databases: this minimal fallback, for them only (no writer stores such text
/// now), words each `; `-separated segment that is one of the fixed phrases they used, or
/// starts with one of their prefixes (the value after it kept as it is); any other segment
/// is shown as written. It can go once no database keeps rows from before.
fn legacy_ja(t: &'static Texts, text: &str) -> String {
    const PHRASES: [(&str, &str); 19] = [
        ("by the help desk", "ヘルプデスクによる"),
        ("by the bank", "銀行による"),
        ("from the console", "ヘルプデスク画面から"),
        ("from the command line", "サーバー管理コマンドから"),
        ("password and code", "パスワードとワンタイムパスワード"),
        ("own token confirmed", "本人のトークンを確認"),
        ("password", "パスワードは正しい"),
        ("enrolling own token", "本人のトークンを登録中"),
        ("unknown name", "登録のないオペレーター名"),
        ("wrong password", "パスワードの誤り"),
        ("right password", "パスワードは正しい"),
        ("disabled", "無効"),
        ("temporarily locked", "一時ロック中"),
        ("wrong code", "ワンタイムパスワードの誤り"),
        (
            "wrong first code of own token",
            "本人のトークンの初回コードの誤り",
        ),
        ("locked while enrolling", "トークンの登録中にロック"),
        ("wrong start password", "利用開始パスワードの誤り"),
        ("password reset", "パスワード再発行"),
        ("token pending confirmation", "初回確認待ちのトークン"),
    ];
    const PREFIXES: [(&str, &str); 5] = [
        ("from ", "接続元 "),
        ("users: ", "利用者 "),
        ("expires ", "有効期限 "),
        ("unbound ", "解除したトークン "),
        ("enrollments ended: ", "終了した利用開始登録 "),
    ];
    text.split("; ")
        .map(|segment| {
            if let Some((_, ja)) = PHRASES.iter().find(|(en, _)| *en == segment) {
                return (*ja).to_owned();
            }
            if let Some(ja) = outcome_ja(segment) {
                return ja.to_owned();
            }
            if let Some(ja) = legacy_shaped_ja(t, segment) {
                return ja;
            }
            PREFIXES
                .iter()
                .find_map(|(en, ja)| segment.strip_prefix(en).map(|rest| format!("{ja}{rest}")))
                .unwrap_or_else(|| segment.to_owned())
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// The old rows' segments with a value inside them: a lock after N wrong codes, an
/// operator `name (role)`, a queued activation mail, an import count, a code check with its
/// id, the policy line.
fn legacy_shaped_ja(t: &'static Texts, segment: &str) -> Option<String> {
    if let Some(n) = segment
        .strip_prefix("locked after ")
        .and_then(|rest| rest.strip_suffix(" consecutive wrong codes"))
    {
        return Some(format!("{n} 回続けて誤ったため利用停止"));
    }
    if let Some((name, role)) = segment
        .strip_suffix(')')
        .and_then(|rest| rest.rsplit_once(" ("))
        && ["admin", "helpdesk", "auditor"].contains(&role)
    {
        return Some(format!("{name}（{}）", super::role(t, role)));
    }
    if let Some(rest) = segment.strip_prefix("e-mail (")
        && let Some((language, to)) = rest.split_once(") queued to ")
    {
        return Some(format!("ご案内メール（{language}）を {to} に送信予定"));
    }
    if let Some(rest) = segment.strip_prefix("imported ")
        && let Some((n, of)) = rest.split_once(" of ")
    {
        return Some(format!("{of} 件中 {n} 件を取り込み"));
    }
    if let Some((outcome, id)) = segment.split_once(" id=")
        && let Some(ja) = outcome_ja(outcome)
    {
        return Some(format!("{ja} id={id}"));
    }
    if segment.starts_with("digits ") {
        const POLICY_WORDS_JA: [(&str, &str); 12] = [
            ("digits", "桁数"),
            ("period", "周期"),
            ("window", "許容ずれ"),
            ("max-failures", "ロックまでの誤り回数"),
            ("cooldown", "待機期間"),
            ("enrollment-ttl", "利用開始パスワードの有効期間"),
            ("tokens-per-user", "トークン数"),
            ("shared-tokens", "共有"),
            ("night-cutoff", "夜間の待機延長"),
            ("default", "既定"),
            ("true", "あり"),
            ("false", "なし"),
        ];
        let words = segment.split(' ').map(|w| {
            POLICY_WORDS_JA
                .iter()
                .find(|(en, _)| *en == w)
                .map_or(w, |(_, ja)| ja)
        });
        return Some(words.collect::<Vec<_>>().join(" "));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::{EN, JA};
    use super::*;

    /// Rows from before the typed details, in an upgraded bank's database, still read in
    /// Japanese (the forms the free-text renderer knew).
    #[test]
    fn old_free_text_rows_still_read_in_japanese() {
        for (old, ja) in [
            (
                "locked after 5 consecutive wrong codes",
                "5 回続けて誤ったため利用停止",
            ),
            ("sato@shinkin (helpdesk)", "sato@shinkin（ヘルプデスク）"),
            (
                "e-mail (ja) queued to t***@example.jp",
                "ご案内メール（ja）を t***@example.jp に送信予定",
            ),
            ("imported 3 of 4", "4 件中 3 件を取り込み"),
            ("ok id=abc", "正しいコード id=abc"),
            (
                "digits default period default window 1 shared-tokens false",
                "桁数 既定 周期 既定 許容ずれ 1 共有 なし",
            ),
            (
                "by the help desk; unbound SKTS12345678",
                "ヘルプデスクによる；解除したトークン SKTS12345678",
            ),
        ] {
            assert_eq!(audit_detail(&JA, old), ja, "{old}");
            assert_eq!(audit_detail(&EN, old), old);
        }
    }

    /// How many variants [`Detail`] has: [`variant`] numbers them, so that a new one does
    /// not compile here until it is counted, and then needs a case below.
    const VARIANTS: usize = 29;

    fn variant(detail: &Detail) -> usize {
        match detail {
            Detail::TransferCheck { .. } => 0,
            Detail::TransactionCreated { .. } => 1,
            Detail::Stopped { .. } => 2,
            Detail::Replaced { .. } => 3,
            Detail::MailSent { .. } => 4,
            Detail::MailDeferred { .. } => 5,
            Detail::MailFailed { .. } => 6,
            Detail::CooldownEnded { .. } => 7,
            Detail::ApiKeyRotated { .. } => 8,
            Detail::EnrollmentIssued { .. } => 9,
            Detail::PolicyChanged { .. } => 10,
            Detail::OperatorAdded { .. } => 11,
            Detail::OperatorDisabled { .. } => 12,
            Detail::OperatorPasswordReset { .. } => 13,
            Detail::UnlockedByPasswordReset => 14,
            Detail::SignIn { .. } => 15,
            Detail::SignInFailed { .. } => 16,
            Detail::LockedWhileEnrolling => 17,
            Detail::ActivationStarted { .. } => 18,
            Detail::EnrollmentLocked => 19,
            Detail::WrongStartPassword => 20,
            Detail::PendingConfirmation => 21,
            Detail::TokensImported { .. } => 22,
            Detail::TokensProvisioned { .. } => 23,
            Detail::UserLocked { .. } => 24,
            Detail::TokenLocked { .. } => 25,
            Detail::TokenRevoked { .. } => 26,
            Detail::ServiceAdded { .. } => 27,
            Detail::ServiceMailSet { .. } => 28,
        }
    }

    /// The values the cases carry (IDs, serials, names, addresses, times, an SMTP answer, a
    /// download URL) and the technical terms a Japanese detail keeps (Message-ID, and the
    /// mail's own ダウンロードURL): all a Japanese detail may hold in Latin letters.
    const AS_THEY_ARE: [&str; 22] = [
        "Message-ID",
        "https://apps.example/otp",
        "https://bank.example/app",
        "URL",
        "******7890",
        "a***@bank.example",
        "t***@example.co.jp",
        "<m1@x>",
        "451 busy",
        "550 no",
        "2026-12-07T10:00:00Z",
        "192.0.2.77",
        "jiro@bank-a",
        "hanako",
        "alice",
        "bob",
        "SKTS1",
        "SKTS2",
        "tx1",
        "ab12",
        "Bank A",
        "Demo Bank",
    ];

    /// Every variant (every value of its enums), with its text as the bank API shows it
    /// (the free text its writer stored before) and its Japanese.
    fn cases() -> Vec<(Detail, &'static str, &'static str)> {
        let mut cases = vec![
            (
                Detail::TransferCheck {
                    outcome: "invalid".into(),
                    id: "tx1".into(),
                },
                "invalid id=tx1",
                "誤ったコード 取引 tx1",
            ),
            (
                Detail::TransactionCreated {
                    id: "tx1".into(),
                    digest: "ab12".into(),
                    account: "******7890".into(),
                    amount: 50_000,
                    currency: "JPY".into(),
                },
                "id=tx1 digest=ab12 account=******7890 amount=50000 JPY",
                "取引 tx1：振込先口座 ******7890、金額 50,000円（ダイジェスト ab12）",
            ),
            (
                Detail::Stopped {
                    help_desk: true,
                    unbound: vec!["SKTS1".into(), "SKTS2".into()],
                },
                "by the help desk; unbound SKTS1, SKTS2",
                "ヘルプデスクによる；解除したトークン SKTS1, SKTS2",
            ),
            (
                Detail::Stopped {
                    help_desk: false,
                    unbound: vec!["SKTS1".into()],
                },
                "unbound SKTS1",
                "解除したトークン SKTS1",
            ),
            (
                Detail::Replaced {
                    old_serial: "SKTS1".into(),
                },
                "replaces SKTS1",
                "SKTS1 からの機種変更",
            ),
            (
                Detail::MailSent {
                    to: "a***@bank.example".into(),
                    message_id: "<m1@x>".into(),
                    attempt: 1,
                },
                "to a***@bank.example, Message-ID <m1@x>, attempt 1",
                "a***@bank.example に送信済み（1 回目、Message-ID <m1@x>）",
            ),
            (
                Detail::MailDeferred {
                    to: "a***@bank.example".into(),
                    attempt: 2,
                    error: "451 busy".into(),
                    next_at: "2026-12-07T10:00:00Z".into(),
                },
                "to a***@bank.example, attempt 2 failed: 451 busy; next attempt at \
                 2026-12-07T10:00:00Z",
                "a***@bank.example への 2 回目の送信に失敗：451 busy。次回 2026-12-07T10:00:00Z",
            ),
            (
                Detail::MailFailed {
                    to: "a***@bank.example".into(),
                    attempt: 3,
                    error: "550 no".into(),
                },
                "to a***@bank.example, given up at attempt 3: 550 no",
                "a***@bank.example への送信を 3 回目で断念：550 no",
            ),
            (
                Detail::CooldownEnded { help_desk: true },
                "by the help desk",
                "ヘルプデスクによる",
            ),
            (
                Detail::CooldownEnded { help_desk: false },
                "by the bank",
                "銀行による",
            ),
            (
                Detail::ApiKeyRotated {
                    from: KeySource::Console,
                },
                "from the console",
                "ヘルプデスク画面から",
            ),
            (
                Detail::ApiKeyRotated {
                    from: KeySource::CommandLine,
                },
                "from the command line",
                "サーバー管理コマンドから",
            ),
            (
                Detail::ApiKeyRotated {
                    from: KeySource::Demo,
                },
                "the demo's key, kept in its data directory",
                "デモのデータディレクトリに保存した鍵",
            ),
            (
                Detail::ServiceAdded {
                    name: "Bank A".into(),
                    from: KeySource::CommandLine,
                },
                "Bank A; from the command line",
                "Bank A（サーバー管理コマンドから）",
            ),
            (
                Detail::ServiceAdded {
                    name: "Demo Bank".into(),
                    from: KeySource::Demo,
                },
                "Demo Bank; the demo's key, kept in its data directory",
                "Demo Bank（デモのデータディレクトリに保存した鍵）",
            ),
            (
                Detail::ServiceMailSet {
                    download_url: "https://apps.example/otp".into(),
                    own_ja: true,
                    own_en: false,
                },
                "download URL https://apps.example/otp; ja: own template, en: built-in template",
                "ダウンロードURL https://apps.example/otp；日本語 独自テンプレート、英語 標準テンプレート",
            ),
            (
                Detail::ServiceMailSet {
                    download_url: "https://bank.example/app".into(),
                    own_ja: false,
                    own_en: true,
                },
                "download URL https://bank.example/app; ja: built-in template, en: own template",
                "ダウンロードURL https://bank.example/app；日本語 標準テンプレート、英語 独自テンプレート",
            ),
            (
                Detail::EnrollmentIssued {
                    expires: "2026-12-07T10:00:00Z".into(),
                    mail: None,
                },
                "expires 2026-12-07T10:00:00Z",
                "有効期限 2026-12-07T10:00:00Z",
            ),
            (
                Detail::EnrollmentIssued {
                    expires: "2026-12-07T10:00:00Z".into(),
                    mail: Some(QueuedMail {
                        language: "ja".into(),
                        to: "t***@example.co.jp".into(),
                    }),
                },
                "expires 2026-12-07T10:00:00Z; e-mail (ja) queued to t***@example.co.jp",
                "有効期限 2026-12-07T10:00:00Z；ご案内メール（日本語）を t***@example.co.jp \
                 に送信予定",
            ),
            (
                Detail::PolicyChanged {
                    digits: None,
                    period_secs: None,
                    window: 1,
                    max_failures: 5,
                    cooldown_secs: 1800,
                    enrollment_ttl_secs: 86_400,
                    tokens_per_user: 1,
                    shared_tokens: false,
                },
                "digits default period default window 1 max-failures 5 cooldown 1800s \
                 enrollment-ttl 86400s tokens-per-user 1 shared-tokens false",
                "桁数 既定、周期 既定、許容ずれ 1 ステップ、ロックまでの誤り回数 5 回、\
                 待機期間 30分、利用開始パスワードの有効期間 1日、トークン数 1、共有 なし",
            ),
            (
                Detail::PolicyChanged {
                    digits: Some(8),
                    period_secs: Some(30),
                    window: 2,
                    max_failures: 10,
                    cooldown_secs: 0,
                    enrollment_ttl_secs: 7200,
                    tokens_per_user: 3,
                    shared_tokens: true,
                },
                "digits 8 period 30s window 2 max-failures 10 cooldown 0s enrollment-ttl 7200s \
                 tokens-per-user 3 shared-tokens true",
                "桁数 8桁、周期 30秒、許容ずれ 2 ステップ、ロックまでの誤り回数 10 回、\
                 待機期間 0秒、利用開始パスワードの有効期間 2時間、トークン数 3、共有 あり",
            ),
            (
                Detail::OperatorDisabled {
                    name: "hanako".into(),
                },
                "hanako: disabled",
                "hanako：無効",
            ),
            (
                Detail::OperatorPasswordReset {
                    name: "jiro@bank-a".into(),
                },
                "jiro@bank-a: password reset; lockout cleared",
                "jiro@bank-a：パスワード再発行、ロック解除",
            ),
            (
                Detail::UnlockedByPasswordReset,
                "password reset",
                "パスワード再発行によるロック解除",
            ),
            (
                Detail::LockedWhileEnrolling,
                "locked while enrolling",
                "トークンの登録中にロック",
            ),
            (
                Detail::ActivationStarted {
                    from: "192.0.2.77".into(),
                },
                "from 192.0.2.77",
                "接続元 192.0.2.77",
            ),
            (
                Detail::EnrollmentLocked,
                "locked",
                "利用開始パスワードの誤りが続いたためロック中",
            ),
            (
                Detail::WrongStartPassword,
                "wrong start password",
                "利用開始パスワードの誤り",
            ),
            (
                Detail::PendingConfirmation,
                "token pending confirmation",
                "初回確認待ちのトークン",
            ),
            (
                Detail::TokensImported {
                    packages: 1000,
                    imported: 998,
                    of: 1000,
                },
                "1000 key packages in the file; imported 998 of 1000",
                "ファイル内の鍵 1000 件、1000 件中 998 件を取り込み",
            ),
            (
                Detail::TokensProvisioned { count: 4 },
                "4 provisioned since the last summary",
                "前回の集計以降 4 件",
            ),
            (
                Detail::UserLocked { after: 5 },
                "locked after 5 consecutive wrong codes",
                "5 回続けて誤ったため利用停止",
            ),
            (
                Detail::TokenLocked { after: 5 },
                "locked after 5 wrong registration codes",
                "登録時のコードを 5 回誤ったためロック",
            ),
            (
                Detail::TokenRevoked {
                    users: vec!["alice".into(), "bob".into()],
                    enrollments_ended: 1,
                },
                "users: alice, bob; enrollments ended: 1",
                "利用者 alice, bob；終了した利用開始登録 1 件",
            ),
            (
                Detail::TokenRevoked {
                    users: Vec::new(),
                    enrollments_ended: 0,
                },
                "users: ; enrollments ended: 0",
                "利用者 なし；終了した利用開始登録 0 件",
            ),
        ];
        for (role, english, ja) in [
            (
                "helpdesk",
                "jiro@bank-a (helpdesk)",
                "jiro@bank-a（ヘルプデスク）",
            ),
            ("admin", "jiro@bank-a (admin)", "jiro@bank-a（管理者）"),
            ("auditor", "jiro@bank-a (auditor)", "jiro@bank-a（監査）"),
            (
                "superuser",
                "jiro@bank-a (superuser)",
                "jiro@bank-a（スーパーユーザー）",
            ),
        ] {
            let detail = Detail::OperatorAdded {
                name: "jiro@bank-a".into(),
                role: role.into(),
            };
            cases.push((detail, english, ja));
        }
        for (step, english, ja) in [
            (
                SignInStep::EnrollingOwnToken,
                "password; enrolling own token",
                "パスワードは正しい；本人のトークンを登録中",
            ),
            (
                SignInStep::PasswordAndCode,
                "password and code",
                "パスワードとワンタイムパスワード",
            ),
            (
                SignInStep::OwnTokenConfirmed,
                "own token confirmed",
                "本人のトークンを確認",
            ),
        ] {
            cases.push((Detail::SignIn { step }, english, ja));
        }
        for (failure, english, ja) in [
            (
                SignInFailure::UnknownName,
                "unknown name",
                "登録のないオペレーター名",
            ),
            (
                SignInFailure::WrongPassword,
                "wrong password",
                "パスワードの誤り",
            ),
            (
                SignInFailure::WrongPasswordDisabled,
                "wrong password; disabled",
                "パスワードの誤り；無効",
            ),
            (
                SignInFailure::WrongPasswordLocked,
                "wrong password; temporarily locked",
                "パスワードの誤り；一時ロック中",
            ),
            (
                SignInFailure::Disabled,
                "disabled",
                "パスワードは正しい；無効",
            ),
            (
                SignInFailure::RightPasswordLocked,
                "right password; temporarily locked",
                "パスワードは正しい；一時ロック中",
            ),
            (SignInFailure::Locked, "locked", "ロック中"),
            (
                SignInFailure::WrongCode,
                "wrong code",
                "ワンタイムパスワードの誤り",
            ),
            (
                SignInFailure::WrongFirstCode,
                "wrong first code of own token",
                "本人のトークンの初回コードの誤り",
            ),
        ] {
            cases.push((Detail::SignInFailed { failure }, english, ja));
        }
        cases
    }

    #[test]
    fn every_detail_reads_in_japanese_from_its_fields_and_in_english_as_before() {
        let mut seen = [false; VARIANTS];
        for (detail, english, ja) in cases() {
            seen[variant(&detail)] = true;
            let stored = String::from(detail.clone());
            assert_eq!(Detail::parse(&stored).as_ref(), Some(&detail), "{stored}");
            // The bank API, the CSV and English pages: the free text it replaced.
            assert_eq!(detail.english(), english);
            assert_eq!(softtoken_store::audit::english(&stored), english);
            assert_eq!(audit_detail(&EN, &stored), english);
            // Japanese pages: the catalogue's words, the values as they are, and no
            // English word left.
            let worded = audit_detail(&JA, &stored);
            assert_eq!(worded, ja, "{stored}");
            let mut rest = worded.clone();
            for value in AS_THEY_ARE {
                rest = rest.replace(value, "");
            }
            assert!(
                !rest.chars().any(|c| c.is_ascii_alphabetic()),
                "English left in {worded:?} ({stored})"
            );
        }
        let missing: Vec<usize> = (0..VARIANTS).filter(|&i| !seen[i]).collect();
        assert!(missing.is_empty(), "variants without a case: {missing:?}");
    }

    #[test]
    fn outcome_names_are_catalogue_keys() {
        assert_eq!(audit_detail(&JA, "ok"), "正しいコード");
        assert_eq!(audit_detail(&JA, "wrong_length"), "桁数の誤り");
        assert_eq!(audit_detail(&EN, "ok"), "ok");
        assert_eq!(audit_detail(&JA, ""), "");
    }

    #[test]
    fn rows_from_before_typed_details_keep_a_minimal_japanese() {
        assert_eq!(
            audit_detail(&JA, "by the help desk; unbound SKTS12345678, SKTS87654321"),
            "ヘルプデスクによる；解除したトークン SKTS12345678, SKTS87654321"
        );
        assert_eq!(
            audit_detail(&JA, "wrong password; temporarily locked"),
            "パスワードの誤り；一時ロック中"
        );
        assert_eq!(audit_detail(&JA, "from 192.0.2.7"), "接続元 192.0.2.7");
        assert_eq!(
            audit_detail(&JA, "users: alice; enrollments ended: 1"),
            "利用者 alice；終了した利用開始登録 1"
        );
        // Anything else is shown as written; English pages show old rows as they are.
        assert_eq!(audit_detail(&JA, "soak-helpdesk"), "soak-helpdesk");
        assert_eq!(audit_detail(&EN, "from 192.0.2.7"), "from 192.0.2.7");
    }

    #[test]
    fn every_audit_kind_has_japanese_words() {
        for kind in softtoken_store::audit::AuditKind::ALL {
            let ja = audit_kind(&JA, kind.as_str());
            assert_ne!(ja, kind.as_str(), "{} has no Japanese", kind.as_str());
            assert_eq!(audit_kind(&EN, kind.as_str()), kind.as_str());
        }
    }

    #[test]
    fn amounts_and_durations_read_as_people_write_them() {
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(duration_ja(90), "90秒");
        assert_eq!(duration_ja(604_800), "7日");
    }
}
