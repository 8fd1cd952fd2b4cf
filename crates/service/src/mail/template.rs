//! The activation e-mail's words: a subject and a body per language, with a fixed set of
//! placeholders filled in when a mail is queued.
//!
//! A template is plain text with `{name}` placeholders and `{{`/`}}` for literal braces:
//! no conditions, loops or expressions, so a service's template can do nothing but place
//! the values below. It is checked when it is set (an unknown placeholder or a stray brace
//! is refused, naming it), so rendering never fails. The start password has no
//! placeholder: no template can put it into a mail.

use std::fmt;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The language of an activation e-mail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Japanese (the default).
    #[default]
    Ja,
    /// English.
    En,
}

impl Language {
    /// Both languages.
    pub const ALL: [Language; 2] = [Language::Ja, Language::En];

    /// `ja` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Ja => "ja",
            Language::En => "en",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 6] = [
    "service_id",
    "service_name",
    "user_id",
    "download_url",
    "activation_link",
    "expires_at",
];

/// Placeholders every body must hold: without them the customer cannot set the app up
/// (the guides' mail names サービスID, ユーザID and the download URL; the link starts the
/// set-up on a phone that has the app).
pub const REQUIRED_IN_BODY: [&str; 4] =
    ["service_id", "user_id", "download_url", "activation_link"];

/// The longest subject template, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The longest body template, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{name}` that is not one of [`PLACEHOLDERS`].
    #[error("unknown placeholder {{{0}}}; the placeholders are {list}", list = placeholder_list())]
    UnknownPlaceholder(String),
    /// A `{` without its `}` (or the reverse); literal braces are written `{{` and `}}`.
    #[error("a lone '{0}' at character {1}; write a literal brace as '{0}{0}'")]
    StrayBrace(char, usize),
    /// A body lacks a placeholder it must have.
    #[error("the body must contain {{{0}}}")]
    Missing(&'static str),
    /// A subject with a line break (it would end the header).
    #[error("the subject must be one line")]
    MultilineSubject,
    /// Empty, or longer than allowed.
    #[error("{0}")]
    Size(String),
}

fn placeholder_list() -> String {
    PLACEHOLDERS
        .iter()
        .map(|p| format!("{{{p}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Brace(char),
    Value(&'a str),
}

/// Splits a template into text and placeholders, refusing what is not one of ours.
fn parse(template: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest = template;
    let mut offset = 0;
    while let Some(at) = rest.find(['{', '}']) {
        if at > 0 {
            pieces.push(Piece::Text(&rest[..at]));
        }
        let brace = rest[at..].chars().next().unwrap_or('{');
        let position = template[..offset + at].chars().count() + 1;
        let after = &rest[at + 1..];
        if after.starts_with(brace) {
            pieces.push(Piece::Brace(brace));
            offset += at + 2;
            rest = &after[1..];
            continue;
        }
        if brace == '}' {
            return Err(TemplateError::StrayBrace('}', position));
        }
        let Some(end) = after
            .find(['}', '{'])
            .filter(|&e| after[e..].starts_with('}'))
        else {
            return Err(TemplateError::StrayBrace('{', position));
        };
        let name = &after[..end];
        if !PLACEHOLDERS.contains(&name) {
            return Err(TemplateError::UnknownPlaceholder(name.to_owned()));
        }
        pieces.push(Piece::Value(name));
        offset += at + 1 + end + 1;
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// A checked subject and body template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    subject: String,
    body: String,
}

impl Template {
    /// Checks a subject and a body (line endings made `\n`).
    pub fn new(subject: &str, body: &str) -> Result<Self, TemplateError> {
        let subject = subject.trim();
        if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS {
            return Err(TemplateError::Size(format!(
                "the subject must be 1 to {MAX_SUBJECT_CHARS} characters"
            )));
        }
        if subject.contains(['\r', '\n']) {
            return Err(TemplateError::MultilineSubject);
        }
        parse(subject)?;
        let body = body.replace("\r\n", "\n").replace('\r', "\n");
        if body.trim().is_empty() || body.len() > MAX_BODY_BYTES {
            return Err(TemplateError::Size(format!(
                "the body must be 1 to {MAX_BODY_BYTES} bytes"
            )));
        }
        let pieces = parse(&body)?;
        for required in REQUIRED_IN_BODY {
            if !pieces.contains(&Piece::Value(required)) {
                return Err(TemplateError::Missing(required));
            }
        }
        Ok(Template {
            subject: subject.to_owned(),
            body,
        })
    }

    /// The built-in template of `language`.
    pub fn builtin(language: Language) -> Self {
        let (subject, body) = match language {
            Language::Ja => (DEFAULT_SUBJECT_JA, DEFAULT_BODY_JA),
            Language::En => (DEFAULT_SUBJECT_EN, DEFAULT_BODY_EN),
        };
        Template {
            subject: subject.to_owned(),
            body: body.to_owned(),
        }
    }

    /// The subject template as given.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The body template as given.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The subject and body with `values` filled in.
    pub fn render(&self, values: &Values<'_>) -> (String, String) {
        // Values come from checked sources (IDs, a checked URL), but a service name is free
        // text: a line break must not reach the header.
        let subject = fill(&self.subject, values).replace(['\r', '\n'], " ");
        (subject, fill(&self.body, values))
    }
}

fn fill(template: &str, values: &Values<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    // Checked at construction; a template that no longer parses renders as written.
    let Ok(pieces) = parse(template) else {
        return template.to_owned();
    };
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Brace(brace) => out.push(brace),
            Piece::Value(name) => out.push_str(&values.get(name)),
        }
    }
    out
}

/// What a mail's placeholders stand for.
#[derive(Debug, Clone)]
pub struct Values<'a> {
    /// サービスID.
    pub service_id: &'a str,
    /// The bank's display name.
    pub service_name: &'a str,
    /// ユーザID.
    pub user_id: &'a str,
    /// Where to get the app.
    pub download_url: &'a str,
    /// The enrollment's activation URI (`softtoken://activate?…`).
    pub activation_link: &'a str,
    /// When the enrollment expires (Unix ms).
    pub expires_at_ms: i64,
    /// The mail's language, for the date.
    pub language: Language,
}

impl Values<'_> {
    fn get(&self, name: &str) -> String {
        match name {
            "service_id" => self.service_id.to_owned(),
            "service_name" => self.service_name.to_owned(),
            "user_id" => self.user_id.to_owned(),
            "download_url" => self.download_url.to_owned(),
            "activation_link" => self.activation_link.to_owned(),
            "expires_at" => expiry_text(self.expires_at_ms, self.language),
            _ => String::new(),
        }
    }
}

/// Japanese time (UTC+9, no daylight saving): the time a Japanese customer reads.
fn jst() -> FixedOffset {
    // Always in range; UTC rather than a panic were it not.
    FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| Utc.fix())
}

/// An expiry as a customer reads it: `2026年12月3日 10時00分` (Japan time) or
/// `3 December 2026, 10:00 (Japan time, UTC+9)`.
pub fn expiry_text(unix_ms: i64, language: Language) -> String {
    let Some(utc) = DateTime::from_timestamp_millis(unix_ms) else {
        return String::new();
    };
    let local = utc.with_timezone(&jst());
    match language {
        Language::Ja => local.format("%Y年%-m月%-d日 %H時%M分").to_string(),
        Language::En => local
            .format("%-d %B %Y, %H:%M (Japan time, UTC+9)")
            .to_string(),
    }
}

/// The built-in Japanese subject.
pub const DEFAULT_SUBJECT_JA: &str =
    "【{service_name}】ワンタイムパスワード（ソフトウェアトークン）利用開始のご案内";

/// The built-in Japanese body, in the words of the banks' own activation mails.
pub const DEFAULT_BODY_JA: &str = "\
いつも{service_name}をご利用いただきありがとうございます。

ワンタイムパスワード（ソフトウェアトークン）の利用開始手続きについてご案内いたします。
トークンアプリにサービスID、ユーザID、利用開始パスワードを入力し、トークンの設定を行ってください。

サービスID：{service_id}
ユーザID：{user_id}

利用開始パスワードは、お手続きの際にお客さまご自身で入力されたものです。
安全のため、このメールには記載しておりません。

トークンアプリをお持ちでない場合には、下記のURLよりダウンロードしてください。
ダウンロードURL：{download_url}

アプリをインストールしたスマートフォンでは、下記のリンクからも初期設定を始められます。
{activation_link}

お手続きの有効期限：{expires_at}
期限を過ぎた場合は、お手数ですが改めてお手続きをお願いいたします。

これからも{service_name}をよろしくお願いいたします。

本メールは送信専用のアドレスから送付しております。ご返信いただいても受付できません。
お心当たりのない場合は、このメールを破棄し、お取引店までご連絡ください。
";

/// The built-in English subject.
pub const DEFAULT_SUBJECT_EN: &str = "[{service_name}] Setting up your one-time password token";

/// The built-in English body.
pub const DEFAULT_BODY_EN: &str = "\
Thank you for banking with {service_name}.

You have applied to use one-time passwords with a software token. Enter the service ID,
the user ID and your start password in the token app to set it up.

Service ID: {service_id}
User ID: {user_id}

Your start password is the one you chose when you applied. For your security it is not
included in this e-mail.

If you do not have the token app yet, download it here:
{download_url}

On a phone with the app installed, this link also starts the set-up:
{activation_link}

This set-up expires on {expires_at}. After that, please apply again.

This e-mail was sent from an address that does not receive mail; replies cannot be
answered. If you did not apply, please delete this e-mail and contact your branch.
";

#[cfg(test)]
mod tests {
    use super::*;

    fn values(language: Language) -> Values<'static> {
        Values {
            service_id: "shinkin",
            service_name: "しんきん銀行",
            user_id: "alice",
            download_url: "https://apps.example/otp",
            activation_link: "softtoken://activate?server=https%3A%2F%2Fotp.example&service=shinkin&user=alice",
            // 2026-12-03T01:00:00Z = 10:00 in Japan.
            expires_at_ms: 1_796_259_600_000,
            language,
        }
    }

    #[test]
    fn the_builtins_are_valid_and_carry_everything() {
        for language in Language::ALL {
            let builtin = Template::builtin(language);
            assert_eq!(
                Template::new(builtin.subject(), builtin.body()).unwrap(),
                builtin
            );
            let (subject, body) = builtin.render(&values(language));
            assert!(subject.contains("しんきん銀行"), "{subject}");
            for needle in [
                "shinkin",
                "alice",
                "https://apps.example/otp",
                "softtoken://activate?server=",
            ] {
                assert!(
                    body.contains(needle),
                    "{language}: {needle} missing from {body}"
                );
            }
            assert!(!body.contains('{') && !body.contains('}'), "{body}");
        }
        let (_, ja) = Template::builtin(Language::Ja).render(&values(Language::Ja));
        assert!(ja.contains("サービスID：shinkin"));
        assert!(ja.contains("ユーザID：alice"));
        assert!(ja.contains("2026年12月3日 10時00分"), "{ja}");
        let (_, en) = Template::builtin(Language::En).render(&values(Language::En));
        assert!(en.contains("3 December 2026, 10:00 (Japan time"), "{en}");
    }

    #[test]
    fn unknown_placeholders_and_stray_braces_are_refused() {
        let body = "{service_id} {user_id} {download_url} {activation_link}";
        assert!(Template::new("x", body).is_ok());
        let e = Template::new("x", &format!("{body} {{start_password}}")).unwrap_err();
        assert_eq!(
            e,
            TemplateError::UnknownPlaceholder("start_password".into())
        );
        assert!(e.to_string().contains("{start_password}"), "{e}");
        assert!(e.to_string().contains("{activation_link}"), "{e}");
        let e = Template::new("hello {name}", body).unwrap_err();
        assert_eq!(e, TemplateError::UnknownPlaceholder("name".into()));
        assert_eq!(
            Template::new("a { b", body).unwrap_err(),
            TemplateError::StrayBrace('{', 3)
        );
        assert_eq!(
            Template::new("a } b", body).unwrap_err(),
            TemplateError::StrayBrace('}', 3)
        );
        assert!(matches!(
            Template::new("{ {user_id}", body).unwrap_err(),
            TemplateError::StrayBrace('{', 1)
        ));
        assert_eq!(
            Template::new("x", "{service_id} {user_id} {download_url}").unwrap_err(),
            TemplateError::Missing("activation_link")
        );
        assert_eq!(
            Template::new("two\nlines", body).unwrap_err(),
            TemplateError::MultilineSubject
        );
        assert!(matches!(
            Template::new("", body).unwrap_err(),
            TemplateError::Size(_)
        ));
    }

    #[test]
    fn doubled_braces_are_literal_and_values_are_not_templates() {
        let t = Template::new(
            "{{ {service_id} }}",
            "{{json}} {service_id} {user_id} {download_url} {activation_link}",
        )
        .unwrap();
        let mut v = values(Language::En);
        // A value that looks like a placeholder stays as it is.
        v.service_name = "{user_id}\r\nBcc: x@example.com";
        let (subject, body) = t.render(&v);
        assert_eq!(subject, "{ shinkin }");
        assert!(body.starts_with("{json} shinkin alice"), "{body}");
        let t = Template::new(
            "{service_name}",
            "{service_id} {user_id} {download_url} {activation_link}",
        )
        .unwrap();
        let (subject, _) = t.render(&v);
        assert_eq!(subject, "{user_id}  Bcc: x@example.com");
    }

    #[test]
    fn line_endings_become_newlines() {
        let t = Template::new(
            "s",
            "{service_id}\r\n{user_id}\r{download_url}\n{activation_link}",
        )
        .unwrap();
        assert_eq!(
            t.body(),
            "{service_id}\n{user_id}\n{download_url}\n{activation_link}"
        );
    }
}
