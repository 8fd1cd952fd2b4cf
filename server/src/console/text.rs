//! The console's words, Japanese first (the customer guides' terms: ワンタイムパスワード,
//! シリアル番号, トークン失効, 利用停止解除, 利用中止, 利用開始パスワード, 再発行) and English.

use axum::http::{HeaderMap, header};

mod audit;

pub use audit::{AUDIT_KINDS_JA, audit_detail, audit_kind};

/// Every label of the console in one language.
#[derive(Debug)]
#[allow(missing_docs)] // each field is the label its name says
pub struct Texts {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub other_lang_name: &'static str,
    pub title: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub name: &'static str,
    pub password: &'static str,
    pub otp: &'static str,
    pub otp_hint: &'static str,
    pub users: &'static str,
    pub audit: &'static str,
    pub services: &'static str,
    pub service: &'static str,
    pub pick_service: &'static str,
    pub api_key: &'static str,
    pub operators: &'static str,
    pub search: &'static str,
    pub search_hint: &'static str,
    pub user_id: &'static str,
    pub serial: &'static str,
    pub state: &'static str,
    pub created: &'static str,
    pub activated: &'static str,
    pub last_used: &'static str,
    pub drift: &'static str,
    pub failures: &'static str,
    pub locked: &'static str,
    pub cooldown_until: &'static str,
    pub new_token_after: &'static str,
    pub enrollment: &'static str,
    pub expires: &'static str,
    pub attempts_left: &'static str,
    pub tokens: &'static str,
    pub no_tokens: &'static str,
    pub unlock: &'static str,
    pub revoke: &'static str,
    pub stop: &'static str,
    pub stop_hint: &'static str,
    pub end_cooldown: &'static str,
    pub issue: &'static str,
    pub issue_hint: &'static str,
    pub start_password: &'static str,
    pub start_password_hint: &'static str,
    pub ttl_hours: &'static str,
    pub email: &'static str,
    pub register: &'static str,
    pub activation_uri: &'static str,
    pub shown_once: &'static str,
    pub email_queued: &'static str,
    pub back_to_user: &'static str,
    pub next: &'static str,
    pub prev: &'static str,
    pub at: &'static str,
    pub kind: &'static str,
    pub operator: &'static str,
    pub detail: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub filter: &'static str,
    pub csv: &'static str,
    pub nothing: &'static str,
    pub user_audit: &'static str,
    pub enroll_title: &'static str,
    pub enroll_steps: &'static str,
    pub confirm: &'static str,
    pub reissue: &'static str,
    pub tries_left: &'static str,
    pub err_sign_in: &'static str,
    pub err_locked: &'static str,
    pub err_code_needed: &'static str,
    pub err_csrf: &'static str,
    /// The page shown while the database is out of reach (503).
    pub err_unavailable: &'static str,
    pub err_forbidden: &'static str,
    pub err_not_found: &'static str,
    pub err_refused: &'static str,
    pub notice_unlocked: &'static str,
    pub notice_revoked: &'static str,
    pub notice_stopped: &'static str,
    pub notice_registered: &'static str,
    pub notice_cooldown_ended: &'static str,
    pub rotate: &'static str,
    pub rotate_hint: &'static str,
    pub new_api_key: &'static str,
    pub role: &'static str,
    pub disabled: &'static str,
    pub active: &'static str,
    pub policy: &'static str,
    pub policy_hint: &'static str,
    pub digits: &'static str,
    pub period: &'static str,
    pub default_value: &'static str,
    pub window: &'static str,
    pub max_failures: &'static str,
    pub cooldown: &'static str,
    pub enrollment_ttl: &'static str,
    pub duration_hint: &'static str,
    pub tokens_per_user: &'static str,
    pub shared_tokens: &'static str,
    pub save: &'static str,
    pub notice_policy: &'static str,
    pub import: &'static str,
    pub import_hint: &'static str,
    pub pskc: &'static str,
    pub pskc_password: &'static str,
    pub pskc_key: &'static str,
    pub import_submit: &'static str,
    pub imported: &'static str,
    pub skipped: &'static str,
    pub reason: &'static str,
    pub add_operator: &'static str,
    pub add_operator_hint: &'static str,
    pub disable: &'static str,
    pub reset_password: &'static str,
    pub new_password: &'static str,
    pub notice_operator_disabled: &'static str,
    pub role_helpdesk: &'static str,
    pub role_admin: &'static str,
    pub role_auditor: &'static str,
    pub err_locked_until: &'static str,
    pub err_sign_in_limited: &'static str,
    /// A policy setting outside its range: `{label}`, `{field}` and `{range}` are filled in.
    pub policy_range: &'static str,
    /// A policy setting that is none of its choices (same placeholders).
    pub policy_one_of: &'static str,
    /// Joins a list of choices (`6 or 8`).
    pub or: &'static str,
    pub mails: &'static str,
    pub mail_to: &'static str,
    pub mail_attempts: &'static str,
    pub mail_pending: &'static str,
    pub mail_sent: &'static str,
    pub mail_failed: &'static str,
    pub mail_reason_refused: &'static str,
    pub mail_reason_attempts: &'static str,
    pub mail_reason_expired: &'static str,
    pub mail_reason_later: &'static str,
    pub state_active: &'static str,
    pub state_pending: &'static str,
    pub state_revoked: &'static str,
    pub state_stopped: &'static str,
    pub state_unassigned: &'static str,
    pub user_locked: &'static str,
    pub role_superuser: &'static str,
    pub by_bank: &'static str,
    /// The cool-down on the user page: `{time}` (wall clock) and `{n}` (minutes, rounded up).
    pub cooldown_wait: &'static str,
    pub stopped_tokens: &'static str,
    pub stopped_at: &'static str,
    pub stopped_by: &'static str,
    pub confirm_title: &'static str,
    /// What トークン失効 does (`{serial}`).
    pub confirm_revoke: &'static str,
    /// What 利用中止 does (`{serials}`).
    pub confirm_stop: &'static str,
    /// Re-issuing over an open activation (`{time}`).
    pub confirm_reissue: &'static str,
    /// The wait a revocation starts: `{time}`, `{cooldown}`.
    pub confirm_wait: &'static str,
    /// The night cut-off's part of the wait: `{window}`, `{zone}`.
    pub confirm_night: &'static str,
    pub confirm_no_wait: &'static str,
    pub confirm_sees_revoke: &'static str,
    pub confirm_sees_stop: &'static str,
    pub confirm_sees_reissue: &'static str,
    pub confirm_retype_start_password: &'static str,
    pub cancel: &'static str,
    pub night_cutoff: &'static str,
    pub night_cutoff_hint: &'static str,
    pub night_zone: &'static str,
    pub enroll_keep_open: &'static str,
    pub err_cooldown: &'static str,
    /// A night cut-off the form could not read: `{label}` is filled in.
    pub night_cutoff_invalid: &'static str,
}

/// 日本語.
pub static JA: Texts = Texts {
    lang: "ja",
    other_lang: "en",
    other_lang_name: "English",
    title: "softtoken ヘルプデスク",
    sign_in: "サインイン",
    sign_out: "サインアウト",
    name: "オペレーター名",
    password: "パスワード",
    otp: "ワンタイムパスワード",
    otp_hint: "ご自身の softtoken トークンに表示されたワンタイムパスワード（初回は空欄）",
    users: "利用者",
    audit: "監査ログ",
    services: "サービス",
    service: "サービス",
    pick_service: "このサービスを操作",
    api_key: "APIキー",
    operators: "オペレーター",
    search: "検索",
    search_hint: "ユーザIDまたはシリアル番号（部分一致）",
    user_id: "ユーザID",
    serial: "シリアル番号",
    state: "状態",
    created: "作成",
    activated: "利用開始",
    last_used: "最終利用",
    drift: "時刻ずれ（ステップ）",
    failures: "連続誤り回数",
    locked: "ロック中",
    cooldown_until: "再発行可能日時",
    new_token_after: "この日時以降に新しいトークンを発行できます",
    enrollment: "未使用の利用開始登録",
    expires: "有効期限",
    attempts_left: "残り試行回数",
    tokens: "トークン",
    no_tokens: "トークンはありません",
    unlock: "利用停止解除",
    revoke: "トークン失効",
    stop: "利用中止",
    stop_hint: "書面でのお申し出により、ワンタイムパスワードなしで利用中止します",
    end_cooldown: "待機期間を終了",
    issue: "利用開始パスワードを発行（再発行）",
    issue_hint: "新しい利用者にも、既存の利用者の再発行にも使います",
    start_password: "利用開始パスワード",
    start_password_hint: "お客さまが決めたもの。空欄なら自動生成して一度だけ表示します",
    ttl_hours: "有効時間（時間、空欄はサービスの既定）",
    email: "メールアドレス（任意）",
    register: "シリアル番号を登録",
    activation_uri: "利用開始URI",
    shown_once: "この画面でのみ表示します。控えたらこの画面を閉じてください",
    email_queued: "利用開始のご案内メールを送信します（利用開始パスワードはメールに含まれません）",
    back_to_user: "利用者の画面へ",
    next: "次へ",
    prev: "前へ",
    at: "日時",
    kind: "種別",
    operator: "オペレーター",
    detail: "詳細",
    from: "開始日（UTC）",
    to: "終了日（UTC）",
    filter: "絞り込み",
    csv: "CSV で書き出す",
    nothing: "該当するものはありません",
    user_audit: "この利用者の監査ログ",
    enroll_title: "ご自身のトークンの登録",
    enroll_steps: "ご自身の softtoken アプリで QR コードを読み取るか利用開始URIを開き、利用開始パスワードを入力してください。アプリに表示されたワンタイムパスワードをこの画面の下の欄に入力すると、ご自身のトークンの登録が完了します。",
    confirm: "登録を完了",
    reissue: "利用開始パスワードを再発行",
    tries_left: "残り試行回数",
    err_sign_in: "オペレーター名、パスワードまたはワンタイムパスワードが違います。誤りが続くとロックされます（解除は管理者に依頼してください）",
    err_locked: "誤りが続いたためロックされています。管理者に解除を依頼してください",
    err_code_needed: "ワンタイムパスワードを入力してください",
    err_csrf: "フォームの有効期限が切れました。画面を開き直してください",
    err_unavailable: "一時的に利用できません。何も変更されていません。しばらくしてからもう一度お試しください",
    err_forbidden: "この操作の権限がありません",
    err_not_found: "見つかりません",
    err_refused: "この操作はできません",
    notice_unlocked: "利用停止を解除しました",
    notice_revoked: "トークンを失効させました",
    notice_stopped: "利用を中止しました",
    notice_registered: "トークンを登録しました",
    notice_cooldown_ended: "待機期間を終了しました",
    rotate: "APIキーを再発行",
    rotate_hint: "古いキーはすぐに使えなくなります。新しいキーは一度だけ表示します",
    new_api_key: "新しいAPIキー",
    role: "役割",
    disabled: "無効",
    active: "有効",
    policy: "ポリシー",
    policy_hint: "変更はすぐに反映されます（他のサーバーでは数秒以内）。発行済みのトークンの桁数・周期は変わりません",
    digits: "桁数",
    period: "周期（秒）",
    default_value: "既定",
    window: "許容ずれ（ステップ）",
    max_failures: "ロックまでの誤り回数",
    cooldown: "トークン失効後の待機期間",
    enrollment_ttl: "利用開始パスワードの有効期間",
    duration_hint: "例: 30m, 24h, 7d",
    tokens_per_user: "1利用者あたりのトークン数",
    shared_tokens: "トークンの共有（法人）",
    save: "保存",
    notice_policy: "ポリシーを保存しました",
    import: "PSKC取り込み",
    import_hint: "ハードウェアトークンのPSKCファイル（XML、8 MiBまで）を選んでください",
    pskc: "PSKCファイル（XML）",
    pskc_password: "ファイルのパスワード",
    pskc_key: "事前共有鍵（16進）",
    import_submit: "取り込む",
    imported: "取り込んだトークン",
    skipped: "取り込まなかったトークン",
    reason: "理由",
    add_operator: "オペレーターを追加",
    add_operator_hint: "パスワードは自動生成し、一度だけ表示します。初回サインイン時に本人のトークンを登録します",
    disable: "無効にする",
    reset_password: "パスワード再発行",
    new_password: "新しいパスワード",
    notice_operator_disabled: "オペレーターを無効にしました",
    role_helpdesk: "ヘルプデスク",
    role_admin: "管理者",
    role_auditor: "監査",
    err_locked_until: "誤りが続いたため {time} までロックされています。{time} 以降にもう一度お試しください",
    err_sign_in_limited: "サインインの試行が多すぎます。{n} 秒後にもう一度お試しください",
    policy_range: "{label}（{field}）は {range} の範囲で指定してください",
    policy_one_of: "{label}（{field}）は {range} のいずれかを指定してください",
    or: "または",
    mails: "利用開始のご案内メール",
    mail_to: "宛先",
    mail_attempts: "送信回数",
    mail_pending: "送信待ち",
    mail_sent: "送信済み",
    mail_failed: "送信できませんでした",
    mail_reason_refused: "宛先のメールサーバーが受け取りを拒否しました。お客さまにメールアドレスをご確認のうえ、再発行してください",
    mail_reason_attempts: "再送を繰り返しましたが、メールサーバーが受け取りませんでした。メールアドレスとメールサーバーをご確認ください",
    mail_reason_expired: "利用開始パスワードの有効期限までに送信できませんでした",
    mail_reason_later: "メールサーバーから後で再送するよう応答がありました。自動的に再送します",
    state_active: "利用中",
    state_pending: "登録手続き中",
    state_revoked: "トークン失効",
    state_stopped: "利用中止",
    state_unassigned: "未登録",
    user_locked: "利用停止",
    role_superuser: "スーパーユーザー",
    by_bank: "銀行（API）",
    cooldown_wait: "新しいトークンを発行できるのは {time} 以降（あと {n} 分）",
    stopped_tokens: "利用中止したトークン",
    stopped_at: "利用中止日時",
    stopped_by: "操作者",
    confirm_title: "操作の確認",
    confirm_revoke: "シリアル番号 {serial} のトークンを失効させます（トークン失効）。このトークンのワンタイムパスワードはすぐに使えなくなり、元に戻せません。",
    confirm_stop: "この利用者のすべてのトークン（{serials}）の利用を中止します（利用中止）。ワンタイムパスワードはすぐに使えなくなり、元に戻せません。",
    confirm_reissue: "この利用者には未使用の利用開始登録があります（有効期限 {time}）。再発行すると、前の利用開始パスワードとQRコードは使えなくなります。",
    confirm_wait: "新しいトークンを発行できるのは {time} 以降です（待機期間 {cooldown}）。",
    confirm_night: "夜間（{window}、{zone}）の操作のため、待機期間は夜間の終わりまで延びます。",
    confirm_no_wait: "新しいトークンはすぐに発行できます。",
    confirm_sees_revoke: "お客さまのアプリには「トークン失効」と表示され、ワンタイムパスワードは表示されなくなります。",
    confirm_sees_stop: "お客さまのアプリには「利用中止」と表示され、ワンタイムパスワードは表示されなくなります。",
    confirm_sees_reissue: "お客さまは新しい利用開始パスワード（またはQRコード）で利用開始します。前のものは使えません。",
    confirm_retype_start_password: "お客さまが決めた利用開始パスワードをもう一度入力してください",
    cancel: "やめる",
    night_cutoff: "夜間の待機延長（時間帯）",
    night_cutoff_hint: "例: 20:50-08:10。空欄なら延長しません",
    night_zone: "タイムゾーン",
    enroll_keep_open: "利用開始パスワードはこの画面でのみ表示します。この画面を開いたまま、アプリに表示されたワンタイムパスワードを下の欄に入力してください。",
    err_cooldown: "待機期間中のため新しいトークンを発行できません",
    night_cutoff_invalid: "{label}（night_cutoff）は 20:50-08:10 のように HH:MM-HH:MM（24時間制）で、タイムゾーンは Asia/Tokyo のように指定してください",
};

/// English.
pub static EN: Texts = Texts {
    lang: "en",
    other_lang: "ja",
    other_lang_name: "日本語",
    title: "softtoken help desk",
    sign_in: "Sign in",
    sign_out: "Sign out",
    name: "Operator name",
    password: "Password",
    otp: "One-time password",
    otp_hint: "The code your own softtoken token shows (empty at the first sign-in)",
    users: "Users",
    audit: "Audit trail",
    services: "Services",
    service: "Service",
    pick_service: "Work on this service",
    api_key: "API key",
    operators: "Operators",
    search: "Search",
    search_hint: "User ID or serial (partial match)",
    user_id: "User ID",
    serial: "Serial",
    state: "State",
    created: "Created",
    activated: "Activated",
    last_used: "Last used",
    drift: "Drift (steps)",
    failures: "Consecutive failures",
    locked: "Locked",
    cooldown_until: "New token possible from",
    new_token_after: "A new token may be issued from then on",
    enrollment: "Unused enrollment",
    expires: "Expires",
    attempts_left: "Tries left",
    tokens: "Tokens",
    no_tokens: "No tokens",
    unlock: "Unlock",
    revoke: "Revoke token",
    stop: "Stop OTP",
    stop_hint: "On the customer's written request: stops OTP without a code",
    end_cooldown: "End cool-down",
    issue: "Issue an activation (re-issue)",
    issue_hint: "For a new user or to re-issue an existing user's token",
    start_password: "Start password",
    start_password_hint: "The one the customer chose; leave empty to generate one, shown once",
    ttl_hours: "Lifetime in hours (empty: the service's default)",
    email: "E-mail address (optional)",
    register: "Register serial",
    activation_uri: "Activation URI",
    shown_once: "Shown on this page only. Close it once noted",
    email_queued: "The activation e-mail is on its way (it never holds the start password)",
    back_to_user: "Back to the user",
    next: "Next",
    prev: "Previous",
    at: "At",
    kind: "Kind",
    operator: "Operator",
    detail: "Detail",
    from: "From (UTC date)",
    to: "To (UTC date)",
    filter: "Filter",
    csv: "Export CSV",
    nothing: "Nothing found",
    user_audit: "This user's audit trail",
    enroll_title: "Enrol your own token",
    enroll_steps: "Scan the QR code or open the activation URI with your softtoken app and enter the start password. Then type the code the app shows into the field below on this page to finish your token.",
    confirm: "Finish",
    reissue: "Issue a new start password",
    tries_left: "Tries left",
    err_sign_in: "Wrong operator name, password or one-time password. Too many wrong tries lock the operator (an administrator unlocks)",
    err_locked: "Locked after too many wrong tries. Ask an administrator to unlock",
    err_code_needed: "Enter the one-time password",
    err_csrf: "The form expired. Open the page again",
    err_unavailable: "Temporarily unavailable. Nothing was changed. Please try again in a moment",
    err_forbidden: "You may not do this",
    err_not_found: "Not found",
    err_refused: "Refused",
    notice_unlocked: "Unlocked",
    notice_revoked: "Token revoked",
    notice_stopped: "OTP stopped",
    notice_registered: "Token registered",
    notice_cooldown_ended: "Cool-down ended",
    rotate: "Replace the API key",
    rotate_hint: "The old key stops working at once. The new key is shown once",
    new_api_key: "New API key",
    role: "Role",
    disabled: "Disabled",
    active: "Active",
    policy: "Policy",
    policy_hint: "Changes apply at once (on other server instances within seconds). Tokens already issued keep their digits and period",
    digits: "Digits",
    period: "Period (s)",
    default_value: "Default",
    window: "Window (steps)",
    max_failures: "Wrong codes before lock",
    cooldown: "Cool-down after a revocation",
    enrollment_ttl: "Activation lifetime",
    duration_hint: "e.g. 30m, 24h, 7d",
    tokens_per_user: "Tokens per user",
    shared_tokens: "Shared tokens (companies)",
    save: "Save",
    notice_policy: "Policy saved",
    import: "PSKC import",
    import_hint: "Choose the hardware tokens' PSKC file (XML, up to 8 MiB)",
    pskc: "PSKC file (XML)",
    pskc_password: "File password",
    pskc_key: "Pre-shared key (hex)",
    import_submit: "Import",
    imported: "Tokens imported",
    skipped: "Tokens skipped",
    reason: "Reason",
    add_operator: "Add an operator",
    add_operator_hint: "The password is generated and shown once. The operator enrols their own token at first sign-in",
    disable: "Disable",
    reset_password: "Reset password",
    new_password: "New password",
    notice_operator_disabled: "Operator disabled",
    role_helpdesk: "Help desk",
    role_admin: "Administrator",
    role_auditor: "Auditor",
    err_locked_until: "Locked after too many wrong tries until {time}. Try again after {time}",
    err_sign_in_limited: "Too many sign-in attempts. Try again in {n} s",
    policy_range: "{label} ({field}) must be {range} (inclusive)",
    policy_one_of: "{label} ({field}) must be {range}",
    or: "or",
    mails: "Activation e-mails",
    mail_to: "To",
    mail_attempts: "Attempts",
    mail_pending: "Waiting to be sent",
    mail_sent: "Sent",
    mail_failed: "Could not be sent",
    mail_reason_refused: "The recipient's mail server refused the address; check it with the customer and issue again",
    mail_reason_attempts: "The mail server did not take it after repeated attempts; check the address and the mail server",
    mail_reason_expired: "Not sent before the start password expired",
    mail_reason_later: "The mail server asked to try later; it will be sent again",
    state_active: "In use",
    state_pending: "Activation pending",
    state_revoked: "Revoked",
    state_stopped: "Stopped",
    state_unassigned: "Not registered",
    user_locked: "Locked",
    role_superuser: "Superuser",
    by_bank: "The bank (API)",
    cooldown_wait: "A new token may be issued from {time} (in {n} min)",
    stopped_tokens: "Stopped tokens",
    stopped_at: "Stopped at",
    stopped_by: "By",
    confirm_title: "Confirm",
    confirm_revoke: "Token {serial} will be revoked. Its codes stop working at once; this cannot be undone.",
    confirm_stop: "Every token of this user ({serials}) will be stopped. Their codes stop working at once; this cannot be undone.",
    confirm_reissue: "This user has an unused activation (expires {time}). Issuing again makes the previous start password and QR code unusable.",
    confirm_wait: "A new token may be issued from {time} (cool-down {cooldown}).",
    confirm_night: "Done at night ({window}, {zone}), the cool-down lasts until the night ends.",
    confirm_no_wait: "A new token may be issued at once.",
    confirm_sees_revoke: "The customer's app shows the token as revoked and no more codes.",
    confirm_sees_stop: "The customer's app shows the token as stopped and no more codes.",
    confirm_sees_reissue: "The customer activates with the new start password (or QR code); the previous one no longer works.",
    confirm_retype_start_password: "Type the customer's start password again",
    cancel: "Cancel",
    night_cutoff: "Night cut-off (window)",
    night_cutoff_hint: "e.g. 20:50-08:10; empty: none",
    night_zone: "Time zone",
    enroll_keep_open: "The start password is shown on this page only. Keep this page open and type the code your app shows below.",
    err_cooldown: "No new token during the cool-down",
    night_cutoff_invalid: "{label} (night_cutoff) must be a window like 20:50-08:10 (HH:MM-HH:MM, 24-hour) in a zone like Asia/Tokyo",
};

/// A token state (`active`, `revoked`, …) in the catalogue's words (the glossary's, for
/// Japanese); an unknown one as it is.
pub fn token_state<'a>(t: &'static Texts, state: &'a str) -> &'a str {
    match state {
        "active" => t.state_active,
        "pending" => t.state_pending,
        "revoked" => t.state_revoked,
        "stopped" => t.state_stopped,
        "unassigned" => t.state_unassigned,
        other => other,
    }
}

/// An unused activation's state (`open`, `expired`, `locked`) in the catalogue's language.
pub fn enrollment_state<'a>(t: &'static Texts, state: &'a str) -> &'a str {
    match (t.lang, state) {
        ("ja", "open") => "未使用",
        ("ja", "expired") => "期限切れ",
        ("ja", "locked") => "利用開始パスワードの誤りが続いたためロック",
        _ => state,
    }
}

/// An operator role (`helpdesk`, …) in the catalogue's words.
pub fn role<'a>(t: &'static Texts, role: &'a str) -> &'a str {
    match role {
        "helpdesk" => t.role_helpdesk,
        "admin" => t.role_admin,
        "auditor" => t.role_auditor,
        "superuser" => t.role_superuser,
        other => other,
    }
}

/// The catalogue's words for a bank-API problem code the console's actions can meet; `None`
/// in English (the problem's own detail is English) and for a code without words here.
pub fn problem(t: &'static Texts, code: &str) -> Option<&'static str> {
    use softtoken_protocol::problem::codes;
    if t.lang != "ja" {
        return None;
    }
    Some(match code {
        codes::COOLDOWN => "トークン失効後の待機期間中のため、新しいトークンを発行できません",
        codes::TOKEN_EXISTS => "この利用者はサービスで認められた数のトークンをすでに利用しています",
        codes::LOCKED => "誤りが続いたため利用停止中です。先に利用停止解除をしてください",
        codes::TOKEN_LOCKED => "このトークンは誤りが続いたため登録がロックされています",
        codes::SERIAL_TAKEN => "このシリアル番号はすでに使われています",
        codes::INVALID_OTP => "ワンタイムパスワードが違います",
        codes::WRONG_LENGTH => "ワンタイムパスワードの桁数が違います",
        codes::NOT_FOUND => "該当する利用者またはトークンがありません",
        codes::MAIL_NOT_CONFIGURED => "このサービスではメールを送信できません",
        codes::CONFLICT => "現在の状態ではこの操作はできません",
        codes::PAYLOAD_TOO_LARGE => "PSKCファイル（pskc）が大きすぎます。8 MiBまでです",
        codes::UNAVAILABLE => {
            "データベースに一時的に接続できません。何も変更していません。少し待ってからやり直してください"
        }
        codes::RATE_LIMITED => "操作が多すぎます。少し待ってからやり直してください",
        codes::FORBIDDEN | codes::UNAUTHORIZED => "この操作の権限がありません",
        codes::INTERNAL => "サーバーで処理できませんでした。原因はサーバーのログにあります",
        codes::UNKNOWN_SERVICE => "該当するサービスがありません",
        codes::ENROLLMENT_NOT_FOUND => "有効な利用開始登録がありません",
        codes::PROVISIONING_FULL => "登録待ちのトークンが上限に達しています",
        _ => return None,
    })
}

/// The operator column's actor in the catalogue's language: the server's command line
/// (`softtoken-server operator`) by what it is; an operator's name as it is.
pub fn actor<'a>(t: &'static Texts, name: &'a str) -> &'a str {
    match (t.lang, name) {
        // The command line's actors: `operator …` and the other commands (`service add`,
        // `service rotate-key`, `service mail`).
        ("ja", "softtoken-server operator" | "softtoken-server") => "サーバー管理コマンド",
        _ => name,
    }
}

/// A PSKC token's skip reason (the import report) in the catalogue's language.
pub fn skip_reason(t: &'static Texts, reason: &str) -> String {
    if t.lang != "ja" {
        return reason.to_owned();
    }
    const EXACT: [(&str, &str); 10] = [
        ("the key package holds no Key", "鍵が含まれていません"),
        (
            "no DeviceInfo/SerialNo",
            "シリアル番号（DeviceInfo/SerialNo）がありません",
        ),
        (
            "serial is not 1 to 64 letters, digits or hyphens",
            "シリアル番号が英数字とハイフンの1〜64文字ではありません",
        ),
        (
            "serial starts with SKTS, which is reserved for softtoken's own tokens",
            "SKTS で始まるシリアル番号は softtoken 自身のトークン用です",
        ),
        (
            "serial appears earlier in this file",
            "同じシリアル番号がファイル内で重複しています",
        ),
        (
            "no AlgorithmParameters/ResponseFormat@Length",
            "桁数（ResponseFormat@Length）がありません",
        ),
        (
            "no Secret value in the file",
            "鍵の値（Secret）がありません",
        ),
        (
            "Policy/KeyUsage does not include OTP",
            "鍵の用途（KeyUsage）に OTP がありません",
        ),
        (
            "the serial is already on this server",
            "このシリアル番号はすでに登録されています",
        ),
        (
            "not a usable hardware serial",
            "ハードウェアトークンのシリアル番号として使えません",
        ),
    ];
    if let Some((_, ja)) = EXACT.iter().find(|(en, _)| *en == reason) {
        return (*ja).to_owned();
    }
    let prefixed: [(&str, &str); 6] = [
        (
            "HOTP tokens are not supported",
            "HOTP のトークンには対応していません（TOTP のみ）",
        ),
        (
            "algorithm suite ",
            "HMAC-SHA1/SHA256/SHA512 以外の方式には対応していません",
        ),
        ("algorithm ", "TOTP・HOTP 以外の方式には対応していません"),
        (
            "response encoding ",
            "10進数（DECIMAL）以外の表示には対応していません",
        ),
        ("codes of ", "この桁数には対応していません（6 または 8）"),
        (
            "a time interval of ",
            "この周期には対応していません（10〜300秒）",
        ),
    ];
    if let Some((_, ja)) = prefixed.iter().find(|(en, _)| reason.starts_with(en)) {
        return (*ja).to_owned();
    }
    if reason.starts_with("a secret of ") {
        return "鍵の長さに対応していません（16〜128バイト）".to_owned();
    }
    reason.to_owned()
}

/// A refused form field (`invalid_request`, whose detail starts with the field's name) in
/// the catalogue's language, naming the field; `None` in English, for a field without words
/// here, and for the policy's fields (the policy page words those itself).
pub fn field_refusal(t: &'static Texts, detail: &str) -> Option<String> {
    if t.lang != "ja" {
        return None;
    }
    let field: String = detail
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
        .collect();
    let words = match field.as_str() {
        "user_id" => "ユーザIDは英数字と . _ - の1〜64文字で指定してください",
        "ttl_hours" => "有効時間は時間単位の整数で指定してください",
        "ttl_seconds" => "有効時間がサービスで認められた範囲外です",
        "email" => "このメールアドレスには送信できません。アドレスをご確認ください",
        "serial" => "シリアル番号を確認してください",
        "otp" => "ワンタイムパスワードは6〜8桁の数字です",
        "start_password" => "利用開始パスワードは半角英数字・記号の4〜64文字で指定してください",
        "role" => "役割はヘルプデスク、管理者、監査のいずれかを選んでください",
        "name" if detail.contains("own account") => "ご自身のアカウントには使えません",
        "name" => "オペレーター名を確認してください",
        "pskc" if detail.contains("larger than") => "PSKCファイルが大きすぎます（8 MiBまで）",
        "pskc" if detail.contains("choose") => "PSKCファイルを選んでください",
        "pskc" => "PSKCファイルを読み取れませんでした",
        "password" | "preshared_key_hex" => {
            "PSKCファイルの鍵（パスワードまたは事前共有鍵）を確認してください"
        }
        _ => return None,
    };
    Some(format!("{words}（{field}）"))
}

/// The language of a request: `?lang=` wins, then the `console_lang` cookie, then
/// `Accept-Language` (English only if it comes before Japanese); Japanese by default.
pub fn pick(query_lang: Option<&str>, headers: &HeaderMap) -> &'static Texts {
    let chosen =
        query_lang.or_else(|| super::session::cookie(headers, super::session::LANG_COOKIE));
    match chosen {
        Some("en") => return &EN,
        Some("ja") => return &JA,
        _ => {}
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let first = accept
        .split(',')
        .map(|l| {
            l.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .find(|l| l.starts_with("en") || l.starts_with("ja"));
    match first.as_deref() {
        Some(l) if l.starts_with("en") => &EN,
        _ => &JA,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_first_then_what_the_request_asks() {
        let mut headers = HeaderMap::new();
        assert_eq!(pick(None, &headers).lang, "ja");
        assert_eq!(pick(Some("en"), &headers).lang, "en");
        headers.insert(
            header::ACCEPT_LANGUAGE,
            "en-US,en;q=0.9,ja;q=0.8".parse().unwrap(),
        );
        assert_eq!(pick(None, &headers).lang, "en");
        assert_eq!(pick(Some("ja"), &headers).lang, "ja");
        headers.insert(header::COOKIE, "console_lang=ja".parse().unwrap());
        assert_eq!(pick(None, &headers).lang, "ja");
    }

    #[test]
    fn the_command_lines_actors_are_named_in_japanese() {
        for cli in ["softtoken-server", "softtoken-server operator"] {
            assert_eq!(actor(&JA, cli), "サーバー管理コマンド");
            assert_eq!(actor(&EN, cli), cli);
        }
        assert_eq!(actor(&JA, "sato@shinkin"), "sato@shinkin");
    }

    #[test]
    fn a_skip_reason_is_worded_by_its_start() {
        assert_eq!(
            skip_reason(&JA, "codes of 7 digits are not supported (6 or 8)"),
            "この桁数には対応していません（6 または 8）"
        );
    }

    #[test]
    fn a_refused_field_is_worded_and_named() {
        assert_eq!(
            field_refusal(&JA, "otp: 6 to 8 digits").as_deref(),
            Some("ワンタイムパスワードは6〜8桁の数字です（otp）")
        );
        assert_eq!(field_refusal(&EN, "otp: 6 to 8 digits"), None);
        assert_eq!(field_refusal(&JA, "桁数（digits）は 6 または 8"), None);
    }
}
