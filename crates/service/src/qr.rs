//! The activation URI an enrollment hands to the customer, and its QR code.
//!
//! `softtoken://activate?server=<URL>&service=SID&user=UID`: what the app needs to
//! start an activation, never the start password.

use qrcode::QrCode;
use qrcode::render::svg;
use softtoken_protocol::{ServiceId, UserId};

/// The activation URI for `service` and `user` on the server at `server_url`.
pub fn activation_uri(server_url: &str, service: &ServiceId, user: &UserId) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("server", server_url)
        .append_pair("service", service.as_str())
        .append_pair("user", user.as_str())
        .finish();
    format!("softtoken://activate?{query}")
}

/// `text` as a QR code in SVG, or `None` if it is too long for a QR code.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_escapes_the_server_url() {
        let uri = activation_uri(
            "https://bank.example:8443/otp",
            &ServiceId::new("shinkin").unwrap(),
            &UserId::new("alice").unwrap(),
        );
        assert_eq!(
            uri,
            "softtoken://activate?server=https%3A%2F%2Fbank.example%3A8443%2Fotp&service=shinkin&user=alice"
        );
        let svg = svg(&uri).unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
    }
}
