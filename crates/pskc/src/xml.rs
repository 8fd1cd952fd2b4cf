//! The XML layer: parsing with DTDs refused, namespaces, and small tree helpers.
//!
//! `roxmltree` is used rather than `quick-xml` because a PSKC document is read
//! as a tree (keys refer to the container's encryption and MAC settings), it
//! resolves namespace prefixes for us (vendors use `pskc:`, a default namespace,
//! or both), it is read-only and free of `unsafe` I/O, and it never loads
//! anything from outside the string it is given. Its DTD support is off by
//! default; we also refuse any `<!DOCTYPE`/`<!ENTITY` before parsing, so an XXE
//! document is rejected without an entity ever being looked at.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use roxmltree::{Document, Node, ParsingOptions};
use zeroize::Zeroizing;

use crate::PskcError;

/// The PSKC namespace (RFC 6030).
pub const PSKC: &str = "urn:ietf:params:xml:ns:keyprov:pskc";
/// XML Encryption 1.0.
pub const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
/// XML Encryption 1.1 (`DerivedKey`).
pub const XENC11: &str = "http://www.w3.org/2009/xmlenc11#";
/// XML Signature (`KeyName`, `X509Data`, `Signature`).
pub const DS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// A bound on the number of XML nodes, so hostile input cannot exhaust memory.
/// A 1,000-key file has about 40,000 nodes.
const NODES_LIMIT: u32 = 2_000_000;

/// Parses `text` as XML, refusing DTDs and entity declarations outright.
pub fn parse(text: &str) -> Result<Document<'_>, PskcError> {
    if text.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
        return Err(PskcError::Dtd);
    }
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: NODES_LIMIT,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => PskcError::Dtd,
        other => PskcError::Xml(other.to_string()),
    })
}

/// Whether `node` is the element `name` in namespace `ns`.
pub fn is(node: Node<'_, '_>, ns: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(ns)
}

/// The first child element `name` in namespace `ns`.
pub fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| is(*n, ns, name))
}

/// Every child element `name` in namespace `ns`.
pub fn children<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &'static str,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |n| is(*n, ns, name))
}

/// The first child element with local name `name`, whatever its namespace.
///
/// RFC 6030's own PBKDF2 example puts `Salt`, `IterationCount` and friends in
/// no namespace while other writers qualify them, so these are matched by name.
pub fn child_any_ns<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|n| n.is_element() && n.tag_name().name() == name)
}

/// The text content of an element (all its text children), trimmed.
pub fn text(node: Node<'_, '_>) -> String {
    let mut out = String::new();
    for t in node.children().filter(|n| n.is_text()) {
        out.push_str(t.text().unwrap_or_default());
    }
    out.trim().to_string()
}

/// `{namespace}name` of an element, for error messages.
pub fn qualified(node: Node<'_, '_>) -> String {
    match node.tag_name().namespace() {
        Some(ns) => clip(&format!("{{{ns}}}{}", node.tag_name().name())),
        None => clip(node.tag_name().name()),
    }
}

/// Decodes base64 that may be wrapped over several lines, as XML writers do.
/// Padding is optional: some vendors drop it.
pub fn base64(
    text: &str,
    at: impl FnOnce() -> String,
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>, PskcError> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !c.is_ascii_whitespace()).collect());
    if compact.is_empty() {
        return Err(PskcError::Invalid {
            at: at(),
            what,
            why: "empty base64 value".into(),
        });
    }
    LENIENT
        .decode(compact.as_bytes())
        .map(Zeroizing::new)
        .map_err(|e| PskcError::Invalid {
            at: at(),
            what,
            why: format!("not base64 ({e})"),
        })
}

/// Echoes input in a message or report, cut to 80 characters so a hostile
/// file cannot blow up an error response.
pub fn clip(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}
