#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Bad and hostile documents: each is refused with its own error, and no input
//! makes the reader panic or read anything outside the document.

use proptest::prelude::*;
use softtoken_pskc::{KeySource, MAX_DOCUMENT_BYTES, PskcError, parse};
use zeroize::Zeroizing;

const PLAIN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
  <KeyPackage>
    <DeviceInfo><SerialNo>HW-1</SerialNo></DeviceInfo>
    <Key Id="1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">
      <AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL"/></AlgorithmParameters>
      <Data>
        <Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>
        <TimeInterval><PlainValue>30</PlainValue></TimeInterval>
      </Data>
    </Key>
  </KeyPackage>
</KeyContainer>"#;

fn none(doc: &str) -> Result<softtoken_pskc::Import, PskcError> {
    parse(doc.as_bytes(), &KeySource::None)
}

#[test]
fn the_baseline_document_imports() {
    assert_eq!(none(PLAIN).unwrap().keys.len(), 1);
}

#[test]
fn external_entity_is_refused_and_nothing_is_read() {
    let xxe = PLAIN.replace(
        "<KeyContainer",
        "<!DOCTYPE KeyContainer [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<KeyContainer",
    );
    let xxe = xxe.replace("HW-1", "&xxe;");
    let err = none(&xxe).unwrap_err();
    assert_eq!(err, PskcError::Dtd);
    assert_eq!(err.code(), "invalid_pskc");
}

#[test]
fn any_doctype_is_refused() {
    for doctype in [
        "<!DOCTYPE KeyContainer>",
        "<!DOCTYPE KeyContainer SYSTEM \"http://127.0.0.1/pskc.dtd\">",
        "<!DOCTYPE lol [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>",
    ] {
        let doc = PLAIN.replace("<KeyContainer", &format!("{doctype}\n<KeyContainer"));
        assert_eq!(none(&doc), Err(PskcError::Dtd), "{doctype}");
    }
}

#[test]
fn malformed_xml_is_refused() {
    let err = none(&PLAIN[..PLAIN.len() - 20]).unwrap_err();
    assert!(matches!(err, PskcError::Xml(_)), "{err}");
    assert!(matches!(none("not xml at all"), Err(PskcError::Xml(_))));
    assert!(matches!(none(""), Err(PskcError::Xml(_))));
}

#[test]
fn wrong_namespace_or_root_is_refused() {
    let other = PLAIN.replace(
        "urn:ietf:params:xml:ns:keyprov:pskc\"",
        "urn:example:pskc\"",
    );
    assert_eq!(
        none(&other),
        Err(PskcError::NotPskc {
            found: "{urn:example:pskc}KeyContainer".into()
        })
    );
    assert!(matches!(none("<html/>"), Err(PskcError::NotPskc { .. })));
}

#[test]
fn other_versions_are_refused() {
    assert_eq!(
        none(&PLAIN.replace("Version=\"1.0\"", "Version=\"2.0\"")),
        Err(PskcError::Version("2.0".into()))
    );
    assert!(matches!(
        none(&PLAIN.replace("Version=\"1.0\"", "")),
        Err(PskcError::Missing {
            what: "Version attribute",
            ..
        })
    ));
}

#[test]
fn bad_base64_is_refused() {
    let doc = PLAIN.replace("MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=", "MTIz*DU2");
    let err = none(&doc).unwrap_err();
    assert!(
        matches!(&err, PskcError::Invalid { what: "Secret PlainValue", at, .. }
            if at.contains("KeyPackage 1") && at.contains("HW-1")),
        "{err}"
    );
}

#[test]
fn bad_integers_are_refused() {
    let doc = PLAIN.replace(
        "<PlainValue>30</PlainValue>",
        "<PlainValue>thirty</PlainValue>",
    );
    assert!(matches!(
        none(&doc),
        Err(PskcError::Invalid {
            what: "PlainValue",
            ..
        })
    ));
    let doc = PLAIN.replace("Length=\"6\"", "Length=\"six\"");
    assert!(matches!(
        none(&doc),
        Err(PskcError::Invalid { what: "Length", .. })
    ));
}

#[test]
fn a_data_element_without_a_value_is_refused() {
    let doc = PLAIN.replace("<PlainValue>30</PlainValue>", "");
    assert!(matches!(none(&doc), Err(PskcError::Missing { .. })));
}

#[test]
fn repeated_keys_or_values_are_refused_not_ignored() {
    let key_start = PLAIN.find("<Key ").unwrap();
    let key_end = PLAIN.find("</Key>").unwrap() + "</Key>".len();
    let two_keys = format!("{}{}", &PLAIN[..key_end], &PLAIN[key_start..]);
    let err = none(&two_keys).unwrap_err();
    assert!(
        matches!(&err, PskcError::Invalid { why, .. } if why == "more than one Key"),
        "{err}"
    );
    let secret = "<Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>";
    let two_secrets = PLAIN.replace(secret, &format!("{secret}{secret}"));
    let err = none(&two_secrets).unwrap_err();
    assert!(
        matches!(&err, PskcError::Invalid { what: "Data", .. }),
        "{err}"
    );
}

#[test]
fn non_utf8_and_oversize_documents_are_refused() {
    let mut bytes = PLAIN.as_bytes().to_vec();
    bytes[60] = 0xff;
    assert_eq!(parse(&bytes, &KeySource::None), Err(PskcError::NotUtf8));
    let mut big = PLAIN.as_bytes().to_vec();
    big.resize(MAX_DOCUMENT_BYTES + 1, b' ');
    assert_eq!(
        parse(&big, &KeySource::None),
        Err(PskcError::TooLarge {
            bytes: MAX_DOCUMENT_BYTES + 1,
            max: MAX_DOCUMENT_BYTES
        })
    );
}

#[test]
fn echoed_input_is_clipped() {
    let long = "X".repeat(10_000);
    let import = none(&PLAIN.replace("HW-1", &long)).unwrap();
    let skipped = &import.skipped[0];
    assert_eq!(skipped.reason, softtoken_pskc::SkipReason::BadSerial);
    assert_eq!(skipped.serial.as_ref().unwrap().chars().count(), 81);
    let err = none(&PLAIN.replace("Version=\"1.0\"", &format!("Version=\"{long}\""))).unwrap_err();
    assert!(err.to_string().len() < 200, "{err}");
}

const ENCRYPTED: &str = r#"<?xml version="1.0"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
    xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">
  MACMETHOD
  <KeyPackage>
    <DeviceInfo><SerialNo>HW-2</SerialNo></DeviceInfo>
    <Key Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">
      <AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL"/></AlgorithmParameters>
      <Data><Secret>
        <EncryptedValue>
          <xenc:EncryptionMethod Algorithm="ALGORITHM"/>
          <xenc:CipherData><xenc:CipherValue>AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv</xenc:CipherValue></xenc:CipherData>
        </EncryptedValue>
        <ValueMAC>Su+NvtQfmvfJzF6bmQiJqoLRExc=</ValueMAC>
      </Secret></Data>
    </Key>
  </KeyPackage>
</KeyContainer>"#;

fn encrypted(mac_method: &str, algorithm: &str) -> String {
    ENCRYPTED
        .replace("MACMETHOD", mac_method)
        .replace("ALGORITHM", algorithm)
}

fn rfc_psk() -> KeySource {
    KeySource::PreSharedKey(Zeroizing::new(
        hex::decode("12345678901234567890123456789012").unwrap(),
    ))
}

/// RFC 6030 Figure 6's MACMethod, whose MAC key matches the value above.
const FIGURE6_MAC: &str = r#"<MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
    <MACKey>
      <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
      <xenc:CipherData><xenc:CipherValue>ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRejN9vJa2BOlSaMrR7I5wSX</xenc:CipherValue></xenc:CipherData>
    </MACKey>
  </MACMethod>"#;
const AES128: &str = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";

#[test]
fn the_encrypted_baseline_imports() {
    let import = parse(encrypted(FIGURE6_MAC, AES128).as_bytes(), &rfc_psk()).unwrap();
    assert_eq!(import.keys[0].secret.expose(), b"12345678901234567890");
}

#[test]
fn without_a_mac_key_the_encryption_key_is_the_mac_key() {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let value = "AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv";
    let key = hex::decode("12345678901234567890123456789012").unwrap();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(
        &base64::engine::general_purpose::STANDARD
            .decode(value)
            .unwrap(),
    );
    let tag = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let method = r#"<MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1"/>"#;
    let doc = encrypted(method, AES128).replace("Su+NvtQfmvfJzF6bmQiJqoLRExc=", &tag);
    let import = parse(doc.as_bytes(), &rfc_psk()).unwrap();
    assert_eq!(import.keys[0].secret.expose(), b"12345678901234567890");
    // And Figure 6's MAC, made with its own MAC key, does not verify that way.
    let doc = encrypted(method, AES128);
    assert!(matches!(
        parse(doc.as_bytes(), &rfc_psk()),
        Err(PskcError::MacMismatch { .. })
    ));
}

#[test]
fn encrypted_values_without_a_mac_method_are_refused() {
    let err = parse(encrypted("", AES128).as_bytes(), &rfc_psk()).unwrap_err();
    assert!(matches!(err, PskcError::Missing { what, .. } if what.starts_with("MACMethod")));
}

#[test]
fn unknown_algorithms_are_refused() {
    let tripledes = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc";
    let err = parse(encrypted(FIGURE6_MAC, tripledes).as_bytes(), &rfc_psk()).unwrap_err();
    assert!(matches!(
        err,
        PskcError::Unsupported {
            what: "encryption algorithm",
            ..
        }
    ));
    let md5 = FIGURE6_MAC.replace(
        "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
        "http://www.w3.org/2001/04/xmldsig-more#hmac-md5",
    );
    let err = parse(encrypted(&md5, AES128).as_bytes(), &rfc_psk()).unwrap_err();
    assert!(matches!(
        err,
        PskcError::Unsupported {
            what: "MAC algorithm",
            ..
        }
    ));
}

#[test]
fn a_missing_encryption_method_is_refused() {
    let doc = encrypted(FIGURE6_MAC, AES128).replace(
        &format!("<xenc:EncryptionMethod Algorithm=\"{AES128}\"/>\n          <xenc:CipherData>"),
        "<xenc:CipherData>",
    );
    let err = parse(doc.as_bytes(), &rfc_psk()).unwrap_err();
    assert!(
        matches!(
            err,
            PskcError::Missing {
                what: "xenc:EncryptionMethod",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn absurd_pbkdf2_iteration_counts_are_refused_before_any_work() {
    let doc = format!(
        r#"<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
            xmlns:xenc11="http://www.w3.org/2009/xmlenc11#">
          <EncryptionKey><xenc11:DerivedKey>
            <xenc11:KeyDerivationMethod Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2">
              <PBKDF2-params><Salt><Specified>Ej7/PEpyEpw=</Specified></Salt>
                <IterationCount>{}</IterationCount><KeyLength>16</KeyLength></PBKDF2-params>
            </xenc11:KeyDerivationMethod>
          </xenc11:DerivedKey></EncryptionKey>
        </KeyContainer>"#,
        u32::MAX
    );
    let pw = KeySource::Password(Zeroizing::new("x".into()));
    let err = parse(doc.as_bytes(), &pw).unwrap_err();
    assert!(
        matches!(
            err,
            PskcError::Invalid {
                what: "PBKDF2 IterationCount",
                ..
            }
        ),
        "{err}"
    );
}

fn aes128_fixture() -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/totp-psk-aes128.pskcxml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Arbitrary bytes: an error or an import, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse(&bytes, &KeySource::None);
    }

    /// A real encrypted document with bytes changed or cut: never a panic, and
    /// never a key that differs from the original's.
    #[test]
    fn mutated_documents_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut doc = aes128_fixture();
        for (at, byte) in edits {
            let i = at.index(doc.len());
            doc[i] = byte;
        }
        if truncate {
            doc.truncate(cut.index(doc.len()));
        }
        let key = KeySource::PreSharedKey(Zeroizing::new((0x10..0x20).collect()));
        if let Ok(import) = parse(&doc, &key) {
            let original = parse(&aes128_fixture(), &key).unwrap();
            for got in &import.keys {
                let same = original.keys.iter().find(|k| k.serial == got.serial);
                if let Some(want) = same {
                    prop_assert_eq!(got.secret.expose(), want.secret.expose());
                }
            }
        }
    }
}
