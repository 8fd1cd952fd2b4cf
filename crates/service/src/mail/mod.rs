//! The activation e-mail (けんしん's guide: the bank enters the customer's address, and the
//! customer receives サービスID, ユーザID and the app's download URL).
//!
//! An enrollment given an `email` renders its mail from the service's template
//! ([`template`]) and writes it to the outbox in the same commit as the enrollment, so a
//! mail exists exactly when its enrollment does. The [`sender`] (one per server instance,
//! started by `serve`) claims due mails, hands them to the SMTP server ([`smtp`], lettre)
//! and records each outcome with an audit event, the address masked ([`address`]).

pub mod address;
pub mod sender;
pub mod smtp;
pub mod template;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::store::{MailId, NewMail, Service, ServiceMail};
use address::EmailAddress;
use smtp::{Smtp, SmtpUrl};
use template::{Language, Template, Values};

/// What a server that sends mail holds: the SMTP transport and the bell that wakes its
/// sender when a mail is queued.
#[derive(Debug)]
pub struct Mailer {
    smtp: Smtp,
    wake: Notify,
}

impl Mailer {
    /// A mailer for `--smtp-url` and `--mail-from`: both or neither (`None`: this server
    /// sends no mail). Nothing is connected until a mail is due.
    pub fn from_flags(
        smtp_url: Option<&SmtpUrl>,
        mail_from: Option<&str>,
    ) -> Result<Option<Arc<Self>>, String> {
        match (smtp_url, mail_from) {
            (None, None) => Ok(None),
            (Some(url), Some(from)) => Ok(Some(Arc::new(Mailer::new(Smtp::new(url, from)?)))),
            (Some(_), None) => {
                Err("--smtp-url needs --mail-from, the address mails come from".into())
            }
            (None, Some(_)) => {
                Err("--mail-from needs --smtp-url, the server mails go through".into())
            }
        }
    }

    /// A mailer over `smtp`.
    pub fn new(smtp: Smtp) -> Self {
        Mailer {
            smtp,
            wake: Notify::new(),
        }
    }

    /// The SMTP side.
    pub fn smtp(&self) -> &Smtp {
        &self.smtp
    }

    /// Tells the sender a mail was queued. A wake while it is busy is kept, not lost.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits for [`Mailer::wake`].
    pub async fn woken(&self) {
        self.wake.notified().await;
    }
}

/// The template a service's mail uses in `language`: its own if it set one (and it still
/// passes the checks), else the built-in one.
pub fn template_for(settings: &ServiceMail, language: Language) -> Template {
    let own = match language {
        Language::Ja => settings.ja.as_ref(),
        Language::En => settings.en.as_ref(),
    };
    match own.map(|t| Template::new(&t.subject, &t.body)) {
        Some(Ok(template)) => template,
        Some(Err(e)) => {
            tracing::warn!(service = %settings.service_id, %language, error = %e,
                "the service's stored mail template no longer passes its checks; using the built-in one");
            Template::builtin(language)
        }
        None => Template::builtin(language),
    }
}

/// The activation e-mail of an enrollment, rendered for the outbox.
pub struct Activation<'a> {
    /// The service (its ID and display name).
    pub service: &'a Service,
    /// Its mail settings.
    pub settings: &'a ServiceMail,
    /// ユーザID.
    pub user_id: &'a str,
    /// When the enrollment expires (Unix ms).
    pub expires_at_ms: i64,
    /// The mail's language.
    pub language: Language,
}

impl Activation<'_> {
    /// The mail to queue for `to`, linking to the enrollment's `activation_uri`.
    pub fn compose(&self, to: &EmailAddress, activation_uri: &str) -> NewMail {
        let template = template_for(self.settings, self.language);
        let (subject, body) = template.render(&Values {
            service_id: self.service.id.as_str(),
            service_name: &self.service.name,
            user_id: self.user_id,
            download_url: &self.settings.download_url,
            activation_link: activation_uri,
            expires_at_ms: self.expires_at_ms,
            language: self.language,
        });
        NewMail {
            id: MailId::generate(),
            recipient: to.as_str().to_owned(),
            subject,
            body,
        }
    }
}

/// Checks a download URL a service gives: `https://` (or `http://`) with a host, one line.
pub fn check_download_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.chars().any(char::is_control) || text.contains(' ') {
        return Err("must be one URL, without spaces or line breaks".into());
    }
    let url = url::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err("must be an https:// URL with a host".into());
    }
    if text.len() > 2048 {
        return Err("is longer than 2048 characters".into());
    }
    Ok(text.to_owned())
}
