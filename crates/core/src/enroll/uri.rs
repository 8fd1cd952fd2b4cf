//! The activation URI a bank's enrollment carries (also as a QR code):
//! `softtoken://activate?server=<https URL>&service=<service ID>&user=<user ID>`.
//! It never holds the start password.

use softtoken_protocol::{ServiceId, UserId};
use url::Url;

use super::error::EnrollError;
use super::server_url::ServerUrl;

/// What an activation URI says: where to activate, and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationTarget {
    /// The activation server.
    pub server: ServerUrl,
    /// The bank's service.
    pub service: ServiceId,
    /// The customer's user ID at that service.
    pub user: UserId,
}

impl ActivationTarget {
    /// Parses an activation URI. Each parameter must appear exactly once; unknown
    /// parameters (a start password above all) are refused rather than ignored.
    pub fn from_uri(text: &str) -> Result<Self, EnrollError> {
        let bad = |reason: String| EnrollError::BadUri(reason);
        let url = Url::parse(text.trim()).map_err(|e| bad(format!("not a URI: {e}")))?;
        if url.scheme() != "softtoken" {
            return Err(bad(format!(
                "expected softtoken://activate?…, found the scheme {}:",
                url.scheme()
            )));
        }
        if url.host_str() != Some("activate") || !matches!(url.path(), "" | "/") {
            return Err(bad("expected softtoken://activate?…".into()));
        }
        let (mut server, mut service, mut user) = (None, None, None);
        for (key, value) in url.query_pairs() {
            let slot = match key.as_ref() {
                "server" => &mut server,
                "service" => &mut service,
                "user" => &mut user,
                other => return Err(bad(format!("unexpected parameter {other:?}"))),
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(bad(format!("parameter {key:?} appears twice")));
            }
        }
        let missing = |name: &str| bad(format!("the parameter {name:?} is missing"));
        let server = ServerUrl::parse(&server.ok_or_else(|| missing("server"))?)?;
        let service = ServiceId::new(service.ok_or_else(|| missing("service"))?)
            .map_err(|e| bad(format!("service: {e}")))?;
        let user = UserId::new(user.ok_or_else(|| missing("user"))?)
            .map_err(|e| bad(format!("user: {e}")))?;
        Ok(ActivationTarget {
            server,
            service,
            user,
        })
    }

    /// The URI for this target (what a bank would put in its QR code).
    pub fn to_uri(&self) -> String {
        let mut url = Url::parse("softtoken://activate")
            .unwrap_or_else(|_| unreachable!("a constant, valid URI"));
        url.query_pairs_mut()
            .append_pair("server", self.server.as_str())
            .append_pair("service", self.service.as_str())
            .append_pair("user", self.user.as_str());
        url.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_a_bank_issues() {
        let t = ActivationTarget::from_uri(
            "softtoken://activate?server=https%3A%2F%2Fotp.bank.example&service=shinkin&user=yamada.taro",
        )
        .unwrap();
        assert_eq!(t.server.as_str(), "https://otp.bank.example");
        assert_eq!(t.service.as_str(), "shinkin");
        assert_eq!(t.user.as_str(), "yamada.taro");
        assert_eq!(ActivationTarget::from_uri(&t.to_uri()).unwrap(), t);
        // Unencoded server URLs, as some QR generators write them, work too.
        let t2 = ActivationTarget::from_uri(
            "softtoken://activate?server=http://127.0.0.1:8080&service=s&user=u",
        )
        .unwrap();
        assert_eq!(t2.server.as_str(), "http://127.0.0.1:8080");
    }

    #[test]
    fn refuses_anything_else() {
        for text in [
            "",
            "https://bank.example/activate?server=https://x&service=s&user=u",
            "softtoken://provision?server=https://x&service=s&user=u",
            "softtoken://activate/extra?server=https://x&service=s&user=u",
            "softtoken://activate?service=s&user=u",
            "softtoken://activate?server=https://x&user=u",
            "softtoken://activate?server=https://x&service=s",
            "softtoken://activate?server=https://x&service=s&user=u&user=v",
            "softtoken://activate?server=https://x&service=s&user=u&password=1234",
            "softtoken://activate?server=https://x&service=s%2Fx&user=u",
            "softtoken://activate?server=https://x&service=s&user=",
        ] {
            assert!(
                matches!(
                    ActivationTarget::from_uri(text),
                    Err(EnrollError::BadUri(_))
                ),
                "{text}"
            );
        }
        assert!(matches!(
            ActivationTarget::from_uri(
                "softtoken://activate?server=http://bank.example&service=s&user=u"
            ),
            Err(EnrollError::BadServerUrl { .. })
        ));
    }
}
