//! The SMTP side: the server's URL (a secret), the sender address, the message as it goes
//! out, and what an SMTP failure means for the mail.

use std::fmt;
use std::time::{Duration, SystemTime};

use lettre::message::{Mailbox, Message, SinglePart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Tokio1Executor};
use zeroize::Zeroizing;

use crate::store::OutboxMail;

/// How long one SMTP conversation may take. Well inside the outbox's lease, so a mail
/// being sent is never claimed by another sender meanwhile.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(60);

/// An SMTP server URL in lettre's form (`smtp://host:port` without TLS,
/// `smtp://host:587?tls=required` for STARTTLS, `smtps://host:465` for implicit TLS,
/// `smtp://user:password@host…` to authenticate). It may hold a password: wiped on drop,
/// and shown only with the password masked.
#[derive(Clone)]
pub struct SmtpUrl(Zeroizing<String>);

impl From<String> for SmtpUrl {
    fn from(text: String) -> Self {
        SmtpUrl(Zeroizing::new(text))
    }
}

impl SmtpUrl {
    /// The URL with its password (if any) replaced by `***`; what logs and
    /// `config check` may show.
    pub fn masked(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut url) => {
                if url.password().is_some() {
                    let _ = url.set_password(Some("***"));
                }
                url.to_string()
            }
            Err(_) => "(not a URL)".to_owned(),
        }
    }

    /// Checks the URL's form; the error never repeats the URL (it may hold a password).
    fn check(&self) -> Result<(), String> {
        let url = url::Url::parse(&self.0).map_err(|e| format!("--smtp-url: not a URL ({e})"))?;
        if !matches!(url.scheme(), "smtp" | "smtps") {
            return Err(format!(
                "--smtp-url: the scheme must be smtp:// or smtps://, not {}://",
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("--smtp-url: the URL names no host".into());
        }
        let mut tls_required = url.scheme() == "smtps";
        for (key, value) in url.query_pairs() {
            tls_required |= &*key == "tls" && &*value == "required";
            match (&*key, &*value) {
                ("tls", "required" | "opportunistic") if url.scheme() == "smtp" => {}
                ("tls", other) => {
                    return Err(format!(
                        "--smtp-url: tls={other} is not understood; use smtp://…?tls=required \
                         (STARTTLS), smtps://… (TLS from the start) or plain smtp:// (no TLS)"
                    ));
                }
                (other, _) => {
                    return Err(format!(
                        "--smtp-url: unknown parameter '{other}' (only tls=)"
                    ));
                }
            }
        }
        // A password sent without TLS can be read by anyone on the way; only a relay on this
        // machine may take one in the clear (opportunistic STARTTLS falls back to it too).
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            // smtp:// is not a "special" scheme to the URL standard: its IPv4 hosts come
            // back as names.
            Some(url::Host::Domain(name)) => {
                name.eq_ignore_ascii_case("localhost")
                    || name
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            None => false,
        };
        if url.password().is_some() && !tls_required && !loopback {
            return Err(
                "--smtp-url: a password would cross the network unencrypted; use \
                 smtp://…?tls=required (STARTTLS) or smtps://… (TLS from the start)"
                    .into(),
            );
        }
        Ok(())
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpUrl({})", self.masked())
    }
}

impl fmt::Display for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// What became of one attempt to hand a mail to the SMTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The server took it (250 after DATA).
    Accepted,
    /// It may work later (no connection, a timeout, a 4xx, an authentication problem of
    /// ours): try again.
    Transient(String),
    /// The server refused this mail for good (a 5xx about it): do not try again.
    Permanent(String),
}

/// The SMTP transport and the address mails come from.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    url: SmtpUrl,
}

impl fmt::Debug for Smtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Smtp")
            .field("url", &self.url)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Smtp {
    /// A transport to `url`, sending as `from` (`otp@bank.example` or
    /// `しんきん銀行 <otp@bank.example>`). Nothing is connected yet.
    pub fn new(url: &SmtpUrl, from: &str) -> Result<Self, String> {
        url.check()?;
        let from: Mailbox = from.trim().parse().map_err(|_| {
            format!("--mail-from {from}: not an address like otp@bank.example or 'Bank <otp@bank.example>'")
        })?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url.0)
            .map_err(|e| format!("--smtp-url {}: {e}", url.masked()))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Smtp {
            transport,
            from,
            url: url.clone(),
        })
    }

    /// Where mails go, password masked.
    pub fn url(&self) -> &SmtpUrl {
        &self.url
    }

    /// The sender address.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// The Message-ID of an outbox mail: the same however often it is sent, so that the
    /// rare second copy (a crash between the server's 250 and our record of it) is
    /// recognisable as the same message.
    pub fn message_id(&self, mail: &OutboxMail) -> String {
        format!("<{}.activation@{}>", mail.id, self.from.email.domain())
    }

    /// The message for an outbox mail: UTF-8 plain text, the subject RFC 2047-encoded,
    /// the body in base64 or quoted-printable as lettre finds shorter.
    pub fn message(&self, mail: &OutboxMail, date: SystemTime) -> Result<Message, String> {
        let to: lettre::Address = mail
            .recipient
            .parse()
            .map_err(|_| "the stored recipient is not an address".to_owned())?;
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(mail.subject.clone())
            .message_id(Some(self.message_id(mail)))
            .date(date)
            // A single part, so that lettre declares MIME-Version with its Content-Type.
            .singlepart(SinglePart::plain(mail.body.clone()))
            .map_err(|e| format!("the message cannot be built: {e}"))
    }

    /// Hands `message` to the SMTP server; `recipient` is masked in whatever error text
    /// comes back (servers like to quote the address they refuse).
    pub async fn send(&self, message: Message, recipient: &str) -> Delivery {
        match self.transport.send(message).await {
            Ok(_) => Delivery::Accepted,
            Err(e) => {
                let text = clean(&e.to_string(), recipient);
                if is_permanent_for_this_mail(&e) {
                    Delivery::Permanent(text)
                } else {
                    Delivery::Transient(text)
                }
            }
        }
    }
}

/// A 5xx is permanent for the mail, except the ones about our own authentication
/// (530 required, 534 mechanism too weak, 535 credentials refused, 538 encryption
/// required): those are the operator's to fix, and the mail should go once they are.
fn is_permanent_for_this_mail(e: &lettre::transport::smtp::Error) -> bool {
    if !e.is_permanent() {
        return false;
    }
    let code = e.status().map(|c| c.to_string());
    !matches!(code.as_deref(), Some("530" | "534" | "535" | "538"))
}

/// An SMTP error as the audit trail and the log may show it: the address masked, one
/// line, bounded.
fn clean(text: &str, recipient: &str) -> String {
    let masked = super::address::mask(recipient);
    let one_line: String = text
        .replace(recipient, &masked)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    one_line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_shown_without_its_password() {
        let url =
            SmtpUrl::from("smtp://otp%40bank:s3cret@mail.bank.example:587?tls=required".to_owned());
        assert_eq!(
            url.masked(),
            "smtp://otp%40bank:***@mail.bank.example:587?tls=required"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(!url.to_string().contains("s3cret"));
    }

    #[test]
    fn urls_and_senders_are_checked_without_repeating_the_password() {
        let from = "Bank <otp@bank.example>";
        for good in [
            "smtp://127.0.0.1:2525",
            "smtp://mail.bank.example:587?tls=required",
            "smtp://mail.bank.example:587?tls=opportunistic",
            "smtp://u:p@mail.bank.example:587?tls=required",
            "smtp://u:p@127.0.0.1:2525",
            "smtps://u:p@mail.bank.example",
        ] {
            Smtp::new(&SmtpUrl::from(good.to_owned()), from).unwrap();
        }
        for bad in [
            "http://u:s3cret@mail.bank.example",
            "smtp://u:s3cret@mail.bank.example?tls=maybe",
            "smtps://u:s3cret@mail.bank.example?tls=required",
            "smtp://u:s3cret@mail.bank.example?debug=1",
            // A password in the clear, or maybe in the clear, to another machine.
            "smtp://u:s3cret@mail.bank.example:25",
            "smtp://u:s3cret@mail.bank.example:587?tls=opportunistic",
            "mail.bank.example",
        ] {
            let e = Smtp::new(&SmtpUrl::from(bad.to_owned()), from).unwrap_err();
            assert!(e.starts_with("--smtp-url"), "{bad}: {e}");
            assert!(!e.contains("s3cret"), "{bad}: {e}");
        }
        let e = Smtp::new(
            &SmtpUrl::from("smtp://127.0.0.1:25".to_owned()),
            "not an address",
        )
        .unwrap_err();
        assert!(e.starts_with("--mail-from"), "{e}");
    }

    #[test]
    fn errors_do_not_carry_the_address() {
        let text = clean(
            "permanent error (550): 5.1.1 <taro@example.co.jp>: Recipient address rejected\r\n",
            "taro@example.co.jp",
        );
        assert_eq!(
            text,
            "permanent error (550): 5.1.1 <t***@example.co.jp>: Recipient address rejected  "
        );
    }
}
