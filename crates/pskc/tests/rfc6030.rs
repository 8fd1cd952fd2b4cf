#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The examples of RFC 6030 itself (Figures 2–8 and 10), as shipped in
//! python-pskc's test suite.

use softtoken_protocol::otp::hotp;
use softtoken_protocol::{Algorithm, Digits};
use softtoken_pskc::{KeySource, OtpKind, PskcError, SkipReason, parse};
use zeroize::Zeroizing;

fn figure(n: u32) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/rfc6030/figure{n}.pskcxml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).unwrap()
}

fn psk(hex_key: &str) -> KeySource {
    KeySource::PreSharedKey(Zeroizing::new(hex::decode(hex_key).unwrap()))
}

fn password(p: &str) -> KeySource {
    KeySource::Password(Zeroizing::new(p.to_string()))
}

/// The RFC 4226 Appendix D secret, which every RFC 6030 example carries.
const RFC4226_SECRET: &[u8] = b"12345678901234567890";

#[test]
fn figure2_plain_key_without_serial_is_skipped() {
    let import = parse(&figure(2), &KeySource::None).unwrap();
    assert!(import.keys.is_empty());
    assert_eq!(import.skipped.len(), 1);
    assert_eq!(import.skipped[0].reason, SkipReason::NoSerial);
    assert_eq!(import.id.as_deref(), Some("exampleID1"));
}

#[test]
fn figure3_plain_hotp_with_device_info() {
    let import = parse(&figure(3), &KeySource::None).unwrap();
    assert!(import.skipped.is_empty());
    let [key] = import.keys.as_slice() else {
        panic!("{import:?}")
    };
    assert_eq!(key.serial, "987654321");
    assert_eq!(key.manufacturer.as_deref(), Some("Manufacturer"));
    assert_eq!(key.key_id.as_deref(), Some("12345678"));
    assert_eq!(key.issuer.as_deref(), Some("Issuer"));
    assert_eq!(key.algorithm, Algorithm::Sha1);
    assert_eq!(key.digits, Digits::Eight);
    assert_eq!(key.kind, OtpKind::Hotp { counter: 0 });
    assert_eq!(key.secret.expose(), RFC4226_SECRET);
    // RFC 4226 Appendix D, count 0, read to 8 digits.
    assert_eq!(
        hotp(key.secret.expose(), key.algorithm, key.digits, 0).as_str(),
        "84755224"
    );
}

#[test]
fn figure4_key_without_secret_is_skipped() {
    let import = parse(&figure(4), &KeySource::None).unwrap();
    assert!(import.keys.is_empty());
    assert_eq!(import.skipped[0].reason, SkipReason::NoSecret);
    assert_eq!(import.skipped[0].serial.as_deref(), Some("987654321"));
}

#[test]
fn figure5_pin_key_of_the_same_device_is_skipped() {
    let import = parse(&figure(5), &KeySource::None).unwrap();
    assert_eq!(import.keys.len(), 1);
    assert_eq!(import.keys[0].secret.expose(), RFC4226_SECRET);
    assert_eq!(import.skipped.len(), 1);
    assert_eq!(import.skipped[0].package, 2);
    assert_eq!(
        import.skipped[0].reason,
        SkipReason::Algorithm("urn:ietf:params:xml:ns:keyprov:pskc:pin".into())
    );
}

#[test]
fn figure6_pre_shared_aes128_cbc_with_mac() {
    let import = parse(&figure(6), &psk("12345678901234567890123456789012")).unwrap();
    let [key] = import.keys.as_slice() else {
        panic!("{import:?}")
    };
    assert_eq!(key.serial, "987654321");
    assert_eq!(key.secret.expose(), RFC4226_SECRET);
    assert_eq!(key.digits, Digits::Eight);
    assert_eq!(key.kind, OtpKind::Hotp { counter: 0 });
}

#[test]
fn figure6_needs_the_right_pre_shared_key() {
    assert!(matches!(
        parse(&figure(6), &KeySource::None),
        Err(PskcError::KeyNeeded(_))
    ));
    assert_eq!(
        parse(&figure(6), &psk("12345678901234567890123456789013")),
        Err(PskcError::WrongKey)
    );
    assert!(matches!(
        parse(&figure(6), &password("12345678901234567890123456789012")),
        Err(PskcError::WrongKeyKind(_))
    ));
    assert_eq!(
        parse(
            &figure(6),
            &psk("1234567890123456789012345678901234567890123456789012345678901234")
        ),
        Err(PskcError::KeyLength {
            got: 32,
            needed: 16,
            algorithm: "aes128-cbc"
        })
    );
}

#[test]
fn figure7_pbkdf2_password() {
    let import = parse(&figure(7), &password("qwerty")).unwrap();
    let [key] = import.keys.as_slice() else {
        panic!("{import:?}")
    };
    assert_eq!(key.manufacturer.as_deref(), Some("TokenVendorAcme"));
    assert_eq!(key.secret.expose(), RFC4226_SECRET);
    assert_eq!(key.digits, Digits::Eight);
}

#[test]
fn figure7_wrong_password_is_refused() {
    assert_eq!(
        parse(&figure(7), &password("qwertz")),
        Err(PskcError::WrongKey)
    );
    assert!(matches!(
        parse(&figure(7), &psk("651e63cd57008476af1ff6422cd02e41")),
        Err(PskcError::WrongKeyKind(_))
    ));
}

#[test]
fn figure8_asymmetric_key_transport_is_unsupported() {
    let err = parse(&figure(8), &KeySource::None).unwrap_err();
    assert!(
        matches!(
            err,
            PskcError::Unsupported {
                what: "key transport",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn figure10_bulk_file_keeps_the_first_of_a_repeated_serial() {
    let import = parse(&figure(10), &KeySource::None).unwrap();
    let serials: Vec<_> = import.keys.iter().map(|k| k.serial.as_str()).collect();
    assert_eq!(serials, ["654321", "123456", "9999999"]);
    assert_eq!(import.skipped.len(), 1);
    assert_eq!(import.skipped[0].package, 4);
    assert_eq!(import.skipped[0].reason, SkipReason::DuplicateSerial);
}

#[test]
fn imported_keys_never_print_their_secret() {
    let import = parse(&figure(3), &KeySource::None).unwrap();
    let shown = format!("{import:?}");
    assert!(!shown.contains("49, 50, 51"), "{shown}");
    assert!(!shown.contains("1234567890"), "{shown}");
    assert!(shown.contains("Seed([REDACTED; 20 bytes])"), "{shown}");
}
