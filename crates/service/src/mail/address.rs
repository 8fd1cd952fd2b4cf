//! A customer's e-mail address: checked as it arrives, masked wherever it is shown.

use std::fmt;

/// The longest address accepted (RFC 5321's limit on a forward path, less its brackets).
pub const MAX_ADDRESS_LEN: usize = 254;

/// A checked recipient address (`local@domain`, no display name). Its `Debug` and
/// `Display` show it masked; [`EmailAddress::as_str`] is for the SMTP envelope only.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress(lettre::Address);

impl EmailAddress {
    /// Checks `text` (surrounding spaces ignored): an error in words, naming nothing of the
    /// address itself, which the caller's message names as the field `email`.
    ///
    /// Only what the relay takes and delivers is accepted (issue 22, item 7): a local part
    /// of plain ASCII atoms (no quoted strings such as `"a\"b"`, which lettre parses but
    /// cannot put in an envelope; no non-ASCII, since whether the relay offers SMTPUTF8 is
    /// not known when the enrollment is made), and a domain that IDNA (UTS-46) turns into
    /// ASCII, which is what is stored and sent (`例え.jp` → `xn--r8jz45g.jp`). UTS-46's
    /// mapping is applied to the domain rather than refused: a fullwidth `ｅｘａｍｐｌｅ.jp`
    /// typed through a Japanese IME is the same DNS name to every resolver, so normalising
    /// delivers to the mailbox the clerk meant. Invisible characters (zero-width, bidi,
    /// control) are refused before the mapping, which would silently drop some of them.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is empty".into());
        }
        if text.len() > MAX_ADDRESS_LEN {
            return Err(format!("is longer than {MAX_ADDRESS_LEN} characters"));
        }
        if text.chars().any(is_invisible) {
            return Err(
                "contains an invisible or control character (zero-width space, line break…)".into(),
            );
        }
        if text.contains(['<', '>', ',', ';', ' ']) {
            return Err("must be one bare address like name@example.co.jp".into());
        }
        let Some((local, domain)) = text.rsplit_once('@') else {
            return Err("is not an e-mail address like name@example.co.jp".into());
        };
        check_local_part(local)?;
        let domain = ascii_domain(domain)?;
        let address = lettre::Address::new(local, &domain)
            .map_err(|_| "is not an e-mail address like name@example.co.jp".to_owned())?;
        if AsRef::<str>::as_ref(&address).len() > MAX_ADDRESS_LEN {
            return Err(format!(
                "is longer than {MAX_ADDRESS_LEN} characters once its domain is in ASCII"
            ));
        }
        Ok(EmailAddress(address))
    }

    /// The address, for the message and its envelope.
    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    /// The address as lettre takes it.
    pub fn address(&self) -> &lettre::Address {
        &self.0
    }

    /// The address as the audit trail and the log show it.
    pub fn masked(&self) -> String {
        mask(self.as_str())
    }
}

/// Characters that show as nothing or move text about: a clerk cannot see them in the
/// address, and no relay delivers to them.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
        )
}

/// RFC 5322 `atext`: what a local part's atoms are made of.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// A local part the relay takes without SMTPUTF8: dot-separated ASCII atoms, 1–64 octets.
fn check_local_part(local: &str) -> Result<(), String> {
    if local.is_empty() {
        return Err("has nothing before the @".into());
    }
    if !local.is_ascii() {
        return Err(
            "must have only ASCII letters, digits and .!#$%&'*+-/=?^_`{|}~ before the @ \
             (addresses in other scripts cannot be sent by this server)"
                .into(),
        );
    }
    if local.starts_with('"') || local.contains(['"', '\\', '(', ')', '[', ']', ':', '@']) {
        return Err("must not have quotes or brackets before the @".into());
    }
    if local.len() > 64 {
        return Err("has more than 64 characters before the @".into());
    }
    if local
        .split('.')
        .any(|atom| atom.is_empty() || !atom.chars().all(is_atext))
    {
        return Err(
            "must have only letters, digits and .!#$%&'*+-/=?^_`{|}~ before the @, \
             without a leading, trailing or double dot"
                .into(),
        );
    }
    Ok(())
}

/// The domain in ASCII (IDNA, UTS-46 with the DNS's length and hostname rules): what the
/// envelope carries. A domain without a dot (`localhost`) or an address literal cannot be a
/// customer's mailbox.
fn ascii_domain(domain: &str) -> Result<String, String> {
    if domain.is_empty() {
        return Err("has no domain after the @".into());
    }
    if domain.starts_with('[') {
        return Err("must have an internet domain, like name@example.co.jp".into());
    }
    let ascii = idna::domain_to_ascii_strict(domain)
        .map_err(|_| "has a domain that is not a valid internet domain name (IDNA)".to_owned())?;
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return Err("must have an internet domain, like name@example.co.jp".into());
    }
    let hostname_label = |l: &&str| {
        l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let top = labels.last().copied().unwrap_or_default();
    if !labels.iter().all(hostname_label) || top.chars().all(|c| c.is_ascii_digit()) {
        return Err("has a domain that is not a valid internet domain name".into());
    }
    Ok(ascii)
}

/// `alice@example.co.jp` → `a***@example.co.jp`: enough for an operator to tell which
/// mailbox provider answered, not enough to learn whose mail it was.
pub fn mask(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

impl<'de> serde::Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        EmailAddress::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.masked())
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_addresses_are_kept_and_shown_masked() {
        let a = EmailAddress::parse(" taro.yamada+otp@example.co.jp ").unwrap();
        assert_eq!(a.as_str(), "taro.yamada+otp@example.co.jp");
        assert_eq!(a.masked(), "t***@example.co.jp");
        assert_eq!(format!("{a:?}"), "EmailAddress(t***@example.co.jp)");
        assert_eq!(a.to_string(), "t***@example.co.jp");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "Alice <alice@example.com>",
            "a@example.com, b@example.com",
            "alice@example.com\r\nBcc: x@example.com",
            "alice@[127.0.0.1]",
            &format!("{}@example.com", "a".repeat(250)),
            // Issue 22, item 7: what lettre parses but no relay delivers.
            "\"a\\\"b\"@example.com",
            "\"ab\"@example.com",
            "a..b@example.com",
            ".a@example.com",
            "taro@exa\u{200B}mple.com",
            "ta\u{200B}ro@example.com",
            "taro@example.com\u{FEFF}x",
            "taro@exam\u{202E}ple.com",
            "tarō@example.com",
            "山田@example.co.jp",
            "taro@-example.com",
            "taro@exa_mple.com",
            "taro@example.123",
            "taro@xn--zz.jp",
            &format!("a@{}.com", "b".repeat(64)),
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn an_international_domain_is_kept_in_ascii() {
        let a = EmailAddress::parse("taro@例え.jp").unwrap();
        assert_eq!(a.as_str(), "taro@xn--r8jz45g.jp");
        // Fullwidth letters and dot map (UTS-46) to the name every resolver looks up.
        let a = EmailAddress::parse("taro@ｅｘａｍｐｌｅ．ｃｏ．ｊｐ").unwrap();
        assert_eq!(a.as_str(), "taro@example.co.jp");
        let a = EmailAddress::parse("Taro@Example.CO.JP").unwrap();
        assert_eq!(a.as_str(), "Taro@example.co.jp");
    }
}
