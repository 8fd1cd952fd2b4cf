//! OCRA, the OATH challenge-response algorithm (RFC 6287).
//!
//! A [`Suite`] is parsed from its text (`OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1`) once, so a
//! suite that exists is one this module can compute; [`response`] then builds the
//! DataInput message of RFC 6287 §5.1 and truncates its HMAC like HOTP. The transaction
//! signing built on it (details, QR payload, manual digits) is in [`crate::transaction`].

use std::fmt;
use std::str::FromStr;

use sha2::Digest;

use crate::otp::{self, Algorithm, Code};

/// The question field of the DataInput message is always this long (RFC 6287 §5.1).
const QUESTION_BYTES: usize = 128;

/// Why a suite or the inputs for it were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcraError {
    /// The suite is not `OCRA-1:HOTP-SHAx-t:DataInput`.
    #[error("an OCRA suite is 'OCRA-1:HOTP-SHA1|SHA256|SHA512-DIGITS:DATAINPUT', not '{0}'")]
    Suite(String),
    /// The truncation length is not 0 or 4 to 10.
    #[error("an OCRA suite's response has 0 (no truncation) or 4 to 10 digits, not '{0}'")]
    Digits(String),
    /// A DataInput part is unknown, repeated or out of order.
    #[error(
        "the suite's data input '{0}' is not [C-]Q{{A|N|H}}04..64[-PSHA1|PSHA256|PSHA512][-Snnn][-T<n>S|M|H]"
    )]
    DataInput(String),
    /// The suite needs an input that was not given.
    #[error("the suite requires a {0}")]
    Missing(&'static str),
    /// An input was given that the suite does not use.
    #[error("the suite takes no {0}")]
    Unexpected(&'static str),
    /// The question has characters its format does not allow, or is empty.
    #[error("the question must be {0}")]
    Question(&'static str),
    /// The question does not fit the 128-byte field.
    #[error("the question does not fit the 128-byte question field")]
    QuestionTooLong,
    /// The session information is longer than the suite's `Snnn`.
    #[error("the session information has more than the suite's {0} bytes")]
    SessionTooLong(u16),
}

/// How the question is written, and so how it becomes the 128-byte field (RFC 6287 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionFormat {
    /// `QA`: printable ASCII, its bytes, zero-padded on the right.
    Alphanumeric,
    /// `QN`: decimal digits, read as one number whose hexadecimal digits (no leading zeros)
    /// are packed left-aligned, zero-padded on the right.
    Numeric,
    /// `QH`: hexadecimal digits, packed left-aligned as written, zero-padded on the right.
    Hex,
}

/// A parsed OCRA suite.
#[derive(Clone, PartialEq, Eq)]
pub struct Suite {
    text: String,
    hash: Algorithm,
    digits: u32,
    counter: bool,
    question: QuestionFormat,
    question_len: u8,
    password: Option<Algorithm>,
    session_len: Option<u16>,
    time_step: Option<u64>,
}

impl fmt::Debug for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Suite({})", self.text)
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn hash_name(text: &str) -> Option<Algorithm> {
    match text {
        "SHA1" => Some(Algorithm::Sha1),
        "SHA256" => Some(Algorithm::Sha256),
        "SHA512" => Some(Algorithm::Sha512),
        _ => None,
    }
}

/// `text` as a number if it is 1 to `max_len` ASCII digits.
fn small_number(text: &str, max_len: usize) -> Option<u64> {
    if text.is_empty() || text.len() > max_len || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl FromStr for Suite {
    type Err = OcraError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad_suite = || OcraError::Suite(text.to_string());
        let mut parts = text.split(':');
        let (Some(version), Some(function), Some(data), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad_suite());
        };
        if version != "OCRA-1" {
            return Err(bad_suite());
        }
        // CryptoFunction: HOTP-SHAx-t.
        let mut f = function.split('-');
        let (Some("HOTP"), Some(hash), Some(digits), None) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            return Err(bad_suite());
        };
        let hash = hash_name(hash).ok_or_else(bad_suite)?;
        let digits = match small_number(digits, 2) {
            Some(n @ (0 | 4..=10)) if !digits.starts_with('0') || digits == "0" => n as u32,
            _ => return Err(OcraError::Digits(digits.to_string())),
        };

        // DataInput: [C-]QFxx[-PH][-Snnn][-TG], each part at most once and in this order.
        let bad_data = || OcraError::DataInput(data.to_string());
        let mut items = data.split('-').peekable();
        let counter = items.next_if_eq(&"C").is_some();
        let q = items.next().ok_or_else(bad_data)?;
        let question = match q.get(..2) {
            Some("QA") => QuestionFormat::Alphanumeric,
            Some("QN") => QuestionFormat::Numeric,
            Some("QH") => QuestionFormat::Hex,
            _ => return Err(bad_data()),
        };
        let question_len = match q.get(2..) {
            Some(n) if n.len() == 2 => match small_number(n, 2) {
                Some(n @ 4..=64) => n as u8,
                _ => return Err(bad_data()),
            },
            _ => return Err(bad_data()),
        };
        let mut password = None;
        if let Some(p) = items.next_if(|i| i.starts_with('P')) {
            password = Some(hash_name(&p[1..]).ok_or_else(bad_data)?);
        }
        let mut session_len = None;
        if let Some(s) = items.next_if(|i| i.starts_with('S')) {
            match (s.len(), small_number(&s[1..], 3)) {
                (4, Some(n @ 1..=512)) => session_len = Some(n as u16),
                _ => return Err(bad_data()),
            }
        }
        let mut time_step = None;
        if let Some(t) = items.next_if(|i| i.starts_with('T')) {
            let body = &t[1..];
            // The unit is the last character, not the last byte: a suite is outside input
            // and may end in a multi-byte character (splitting at a byte panicked).
            let (at, unit) = body.char_indices().next_back().ok_or_else(bad_data)?;
            let seconds = match (small_number(&body[..at], 2), unit) {
                (Some(n @ 1..=59), 'S') => n,
                (Some(n @ 1..=59), 'M') => n * 60,
                (Some(n @ 1..=48), 'H') => n * 3600,
                _ => return Err(bad_data()),
            };
            time_step = Some(seconds);
        }
        if items.next().is_some() {
            return Err(bad_data());
        }
        Ok(Suite {
            text: text.to_string(),
            hash,
            digits,
            counter,
            question,
            question_len,
            password,
            session_len,
            time_step,
        })
    }
}

impl Suite {
    /// The HMAC hash function (`SHA1`, `SHA256`, `SHA512`).
    pub fn hash(&self) -> Algorithm {
        self.hash
    }

    /// The response length in digits; 0 means the whole HMAC, in lower-case hex.
    pub fn digits(&self) -> u32 {
        self.digits
    }

    /// The question's format.
    pub fn question_format(&self) -> QuestionFormat {
        self.question
    }

    /// The question length the suite names (`xx` of `QFxx`).
    pub fn question_len(&self) -> u8 {
        self.question_len
    }

    /// Whether the suite takes a counter (`C`).
    pub fn has_counter(&self) -> bool {
        self.counter
    }

    /// The time step in seconds, if the suite takes a time (`T`).
    pub fn time_step(&self) -> Option<u64> {
        self.time_step
    }
}

/// The inputs of one OCRA computation besides the key; what the suite does not name stays
/// `None` (giving it anyway is an error, so a caller cannot believe it was used).
#[derive(Default, Clone, Copy)]
pub struct Inputs<'a> {
    /// The counter `C`.
    pub counter: Option<u64>,
    /// The question, written in the suite's format.
    pub question: &'a str,
    /// The password (PIN) itself; it is hashed with the suite's `P` hash.
    pub password: Option<&'a [u8]>,
    /// The session information `S`, at most the suite's `nnn` bytes (zero-padded).
    pub session: Option<&'a [u8]>,
    /// The time in Unix seconds; the message holds the number of `T` steps since the epoch.
    pub unix_time: Option<u64>,
}

impl fmt::Debug for Inputs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inputs")
            .field("counter", &self.counter)
            .field("question", &self.question)
            .field("password", &self.password.map(|_| "***"))
            .field("session", &self.session.map(<[u8]>::len))
            .field("unix_time", &self.unix_time)
            .finish()
    }
}

fn expect<T>(name: &'static str, wanted: bool, value: Option<T>) -> Result<Option<T>, OcraError> {
    match (wanted, value) {
        (true, None) => Err(OcraError::Missing(name)),
        (false, Some(_)) => Err(OcraError::Unexpected(name)),
        (_, value) => Ok(value),
    }
}

/// Hex digits (most significant first) of the decimal number `digits`, without leading zeros.
fn decimal_to_nibbles(digits: &str) -> Vec<u8> {
    // Little-endian base-16 digits, multiplied by ten and added to per decimal digit.
    let mut nibbles: Vec<u8> = vec![0];
    for d in digits.bytes() {
        let mut carry = u32::from(d - b'0');
        for n in nibbles.iter_mut() {
            let v = u32::from(*n) * 10 + carry;
            *n = (v & 0x0f) as u8;
            carry = v >> 4;
        }
        while carry > 0 {
            nibbles.push((carry & 0x0f) as u8);
            carry >>= 4;
        }
    }
    while nibbles.len() > 1 && nibbles.last() == Some(&0) {
        nibbles.pop();
    }
    nibbles.reverse();
    nibbles
}

/// The most significant decimal digits a numeric question can have and still fit the
/// 128-byte question field.
const MAX_NUMERIC_DIGITS: usize = 309;

/// The question as the 128-byte field of RFC 6287 §5.1.
fn question_field(
    format: QuestionFormat,
    question: &str,
) -> Result<[u8; QUESTION_BYTES], OcraError> {
    let mut field = [0u8; QUESTION_BYTES];
    let nibbles: Vec<u8> = match format {
        QuestionFormat::Alphanumeric => {
            if question.is_empty() || !question.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(OcraError::Question("printable ASCII without spaces"));
            }
            let bytes = question.as_bytes();
            if bytes.len() > QUESTION_BYTES {
                return Err(OcraError::QuestionTooLong);
            }
            field[..bytes.len()].copy_from_slice(bytes);
            return Ok(field);
        }
        QuestionFormat::Numeric => {
            if question.is_empty() || !question.bytes().all(|b| b.is_ascii_digit()) {
                return Err(OcraError::Question("decimal digits"));
            }
            // The conversion is quadratic in the digits: refuse what cannot fit the field
            // (16^256 < 10^309) before doing it, so a long question costs nothing.
            if question.trim_start_matches('0').len() > MAX_NUMERIC_DIGITS {
                return Err(OcraError::QuestionTooLong);
            }
            decimal_to_nibbles(question)
        }
        QuestionFormat::Hex => question
            .chars()
            .map(|c| c.to_digit(16).map(|d| d as u8))
            .collect::<Option<Vec<u8>>>()
            .filter(|n| !n.is_empty())
            .ok_or(OcraError::Question("hexadecimal digits"))?,
    };
    if nibbles.len() > 2 * QUESTION_BYTES {
        return Err(OcraError::QuestionTooLong);
    }
    for (i, n) in nibbles.iter().enumerate() {
        field[i / 2] |= if i % 2 == 0 { n << 4 } else { *n };
    }
    Ok(field)
}

fn digest(hash: Algorithm, data: &[u8]) -> Vec<u8> {
    match hash {
        Algorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
        Algorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
        Algorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
    }
}

/// The OCRA response (RFC 6287 §5.2) of `key` for `inputs` under `suite`.
pub fn response(suite: &Suite, key: &[u8], inputs: &Inputs<'_>) -> Result<Code, OcraError> {
    let counter = expect("counter", suite.counter, inputs.counter)?;
    let password = expect("password", suite.password.is_some(), inputs.password)?;
    let session = expect(
        "session information",
        suite.session_len.is_some(),
        inputs.session,
    )?;
    let time = expect("time", suite.time_step.is_some(), inputs.unix_time)?;

    let mut msg = Vec::with_capacity(suite.text.len() + 1 + 8 + QUESTION_BYTES + 64 + 512 + 8);
    msg.extend_from_slice(suite.text.as_bytes());
    msg.push(0);
    if let Some(c) = counter {
        msg.extend_from_slice(&c.to_be_bytes());
    }
    msg.extend_from_slice(&question_field(suite.question, inputs.question)?);
    if let (Some(hash), Some(p)) = (suite.password, password) {
        msg.extend_from_slice(&digest(hash, p));
    }
    if let (Some(len), Some(s)) = (suite.session_len, session) {
        if s.len() > usize::from(len) {
            return Err(OcraError::SessionTooLong(len));
        }
        let mut field = vec![0u8; usize::from(len)];
        field[..s.len()].copy_from_slice(s);
        msg.extend_from_slice(&field);
    }
    if let (Some(step), Some(t)) = (suite.time_step, time) {
        msg.extend_from_slice(&(t / step).to_be_bytes());
    }

    let mac = otp::hmac(suite.hash, key, &msg);
    let text = if suite.digits == 0 {
        mac.iter().map(|b| format!("{b:02x}")).collect()
    } else {
        otp::truncate(&mac, suite.digits)
    };
    Ok(Code::from_computed(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6287 Appendix C keys: "1234567890" repeated to 20, 32 and 64 bytes.
    fn key(len: usize) -> Vec<u8> {
        b"1234567890".iter().copied().cycle().take(len).collect()
    }

    fn ocra(suite: &str, key: &[u8], inputs: Inputs<'_>) -> String {
        let suite: Suite = suite.parse().unwrap();
        response(&suite, key, &inputs).unwrap().as_str().to_string()
    }

    fn repeated(i: usize) -> String {
        i.to_string().repeat(8)
    }

    /// The RFC's T1M vectors use the time step 0x132d0b6 (minutes since the epoch).
    const RFC_TIME: u64 = 0x132d0b6 * 60;

    #[test]
    fn appendix_c1_one_way_sha1_qn08() {
        let want = [
            "237653", "243178", "653583", "740991", "608993", "388898", "816933", "224598",
            "750600", "294470",
        ];
        for (i, w) in want.iter().enumerate() {
            let q = repeated(i);
            let got = ocra(
                "OCRA-1:HOTP-SHA1-6:QN08",
                &key(20),
                Inputs {
                    question: &q,
                    ..Default::default()
                },
            );
            assert_eq!(got, *w, "question {q}");
        }
    }

    #[test]
    fn appendix_c1_one_way_sha256_counter_pin() {
        let want = [
            "65347737", "86775851", "78192410", "71565254", "10104329", "65983500", "70069104",
            "91771096", "75011558", "08522129",
        ];
        for (c, w) in want.iter().enumerate() {
            let inputs = Inputs {
                counter: Some(c as u64),
                question: "12345678",
                password: Some(b"1234"),
                ..Default::default()
            };
            assert_eq!(
                ocra("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", &key(32), inputs),
                *w,
                "counter {c}"
            );
        }
    }

    #[test]
    fn appendix_c1_one_way_sha256_pin() {
        let want = ["83238735", "01501458", "17957585", "86776967", "86807031"];
        for (i, w) in want.iter().enumerate() {
            let q = repeated(i);
            let inputs = Inputs {
                question: &q,
                password: Some(b"1234"),
                ..Default::default()
            };
            assert_eq!(
                ocra("OCRA-1:HOTP-SHA256-8:QN08-PSHA1", &key(32), inputs),
                *w,
                "question {q}"
            );
        }
    }

    #[test]
    fn appendix_c1_one_way_sha512_counter() {
        let want = [
            "07016083", "63947962", "70123924", "25341727", "33203315", "34205738", "44343969",
            "51946085", "20403879", "31409299",
        ];
        for (i, w) in want.iter().enumerate() {
            let q = repeated(i);
            let inputs = Inputs {
                counter: Some(i as u64),
                question: &q,
                ..Default::default()
            };
            assert_eq!(
                ocra("OCRA-1:HOTP-SHA512-8:C-QN08", &key(64), inputs),
                *w,
                "counter {i}"
            );
        }
    }

    #[test]
    fn appendix_c1_one_way_sha512_time() {
        let want = ["95209754", "55907591", "22048402", "24218844", "36209546"];
        for (i, w) in want.iter().enumerate() {
            let q = repeated(i);
            let inputs = Inputs {
                question: &q,
                unix_time: Some(RFC_TIME),
                ..Default::default()
            };
            assert_eq!(
                ocra("OCRA-1:HOTP-SHA512-8:QN08-T1M", &key(64), inputs),
                *w,
                "question {q}"
            );
            // Any second of the same minute is the same step.
            let inputs = Inputs {
                unix_time: Some(RFC_TIME + 59),
                ..inputs
            };
            assert_eq!(ocra("OCRA-1:HOTP-SHA512-8:QN08-T1M", &key(64), inputs), *w);
        }
    }

    const MUTUAL_SHA256: &[(&str, &str)] = &[
        ("CLI22220SRV11110", "28247970"),
        ("CLI22221SRV11111", "01984843"),
        ("CLI22222SRV11112", "65387857"),
        ("CLI22223SRV11113", "03351211"),
        ("CLI22224SRV11114", "83412541"),
        ("SRV11110CLI22220", "15510767"),
        ("SRV11111CLI22221", "90175646"),
        ("SRV11112CLI22222", "33777207"),
        ("SRV11113CLI22223", "95285278"),
        ("SRV11114CLI22224", "28934924"),
    ];

    #[test]
    fn appendix_c2_mutual_sha256_server_and_client() {
        for (q, w) in MUTUAL_SHA256 {
            let inputs = Inputs {
                question: q,
                ..Default::default()
            };
            assert_eq!(
                ocra("OCRA-1:HOTP-SHA256-8:QA08", &key(32), inputs),
                *w,
                "question {q}"
            );
        }
    }

    #[test]
    fn appendix_c2_mutual_sha512_server_and_client_with_pin() {
        let server = [
            ("CLI22220SRV11110", "79496648"),
            ("CLI22221SRV11111", "76831980"),
            ("CLI22222SRV11112", "12250499"),
            ("CLI22223SRV11113", "90856481"),
            ("CLI22224SRV11114", "12761449"),
        ];
        for (q, w) in server {
            let inputs = Inputs {
                question: q,
                ..Default::default()
            };
            assert_eq!(
                ocra("OCRA-1:HOTP-SHA512-8:QA08", &key(64), inputs),
                w,
                "question {q}"
            );
        }
        let client = [
            ("SRV11110CLI22220", "18806276"),
            ("SRV11111CLI22221", "70020315"),
            ("SRV11112CLI22222", "01600026"),
            ("SRV11113CLI22223", "18951020"),
            ("SRV11114CLI22224", "32528969"),
        ];
        for (q, w) in client {
            let inputs = Inputs {
                question: q,
                password: Some(b"1234"),
                ..Default::default()
            };
            assert_eq!(
                ocra("OCRA-1:HOTP-SHA512-8:QA08-PSHA1", &key(64), inputs),
                w,
                "question {q}"
            );
        }
    }

    #[test]
    fn appendix_c3_plain_signature() {
        let sha256 = [
            ("SIG10000", "53095496"),
            ("SIG11000", "04110475"),
            ("SIG12000", "31331128"),
            ("SIG13000", "76028668"),
            ("SIG14000", "46554205"),
        ];
        for (q, w) in sha256 {
            let inputs = Inputs {
                question: q,
                ..Default::default()
            };
            assert_eq!(
                ocra("OCRA-1:HOTP-SHA256-8:QA08", &key(32), inputs),
                w,
                "question {q}"
            );
        }
        let sha512_time = [
            ("SIG1000000", "77537423"),
            ("SIG1100000", "31970405"),
            ("SIG1200000", "10235557"),
            ("SIG1300000", "95213541"),
            ("SIG1400000", "65360607"),
        ];
        for (q, w) in sha512_time {
            let inputs = Inputs {
                question: q,
                unix_time: Some(RFC_TIME),
                ..Default::default()
            };
            assert_eq!(
                ocra("OCRA-1:HOTP-SHA512-8:QA10-T1M", &key(64), inputs),
                w,
                "question {q}"
            );
        }
    }

    #[test]
    fn suites_parse_their_parts() {
        let s: Suite = "OCRA-1:HOTP-SHA512-0:C-QH16-PSHA256-S064-T14H"
            .parse()
            .unwrap();
        assert_eq!(s.hash(), Algorithm::Sha512);
        assert_eq!(s.digits(), 0);
        assert!(s.has_counter());
        assert_eq!(s.question_format(), QuestionFormat::Hex);
        assert_eq!(s.question_len(), 16);
        assert_eq!(s.time_step(), Some(14 * 3600));
        assert_eq!(
            s.to_string(),
            "OCRA-1:HOTP-SHA512-0:C-QH16-PSHA256-S064-T14H"
        );
        let t: Suite = "OCRA-1:HOTP-SHA1-10:QN08-T30S".parse().unwrap();
        assert_eq!(t.time_step(), Some(30));
        assert_eq!(t.digits(), 10);
    }

    #[test]
    fn malformed_suites_are_refused_with_their_reason() {
        for bad in [
            "this_is_not_a_suite_string",
            "OCRA-2:HOTP-SHA1-6:QN08",
            "OCRA-1::QA08",
            "OCRA-1:::QA08",
            "OCRA-1:HOTP-SHA-6:QN08",
            "OCRA-1:HTOP-SHA1-6:QN08",
            "OCRA-1:HOTP-MD5-6:QN08",
            "OCRA-1:HOTP-SHA1-6:QN08:extra",
        ] {
            assert!(
                matches!(bad.parse::<Suite>(), Err(OcraError::Suite(_))),
                "{bad}"
            );
        }
        for bad in [
            "OCRA-1:HOTP-SHA1-1:QA08",
            "OCRA-1:HOTP-SHA1-11:QA08",
            "OCRA-1:HOTP-SHA1-a0:QN08",
            "OCRA-1:HOTP-SHA1-06:QN08",
        ] {
            assert!(
                matches!(bad.parse::<Suite>(), Err(OcraError::Digits(_))),
                "{bad}"
            );
        }
        for bad in [
            "OCRA-1:HOTP-SHA1-6:",
            "OCRA-1:HOTP-SHA1-6:C",
            "OCRA-1:HOTP-SHA1-6:C-",
            "OCRA-1:HOTP-SHA1-6:QX08",
            "OCRA-1:HOTP-SHA1-6:QA-08",
            "OCRA-1:HOTP-SHA1-6:QN03",
            "OCRA-1:HOTP-SHA1-6:QN65",
            "OCRA-1:HOTP-SHA1-6:QN8",
            "OCRA-1:HOTP-SHA1-6:QN08-T",
            "OCRA-1:HOTP-SHA1-6:QN08-T01X",
            "OCRA-1:HOTP-SHA1-6:QN08-T60S",
            "OCRA-1:HOTP-SHA1-6:QN08-T49H",
            "OCRA-1:HOTP-SHA1-6:QN08-PMD5",
            "OCRA-1:HOTP-SHA1-6:QN08-S64",
            "OCRA-1:HOTP-SHA1-6:QN08-S513",
            "OCRA-1:HOTP-SHA1-6:QH08-S028---",
            "OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1",
            "OCRA-1:HOTP-SHA1-6:QN08-C",
            "OCRA-1:HOTP-SHA1-6:C-C-QN08",
        ] {
            assert!(
                matches!(bad.parse::<Suite>(), Err(OcraError::DataInput(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn inputs_must_match_the_suite() {
        let k = key(32);
        let run = |suite: &str, inputs: Inputs<'_>| {
            response(&suite.parse().unwrap(), &k, &inputs).map(|c| c.as_str().to_string())
        };
        let q = Inputs {
            question: "1234",
            ..Default::default()
        };
        assert_eq!(
            run("OCRA-1:HOTP-SHA1-6:C-QN08", q),
            Err(OcraError::Missing("counter"))
        );
        assert_eq!(
            run("OCRA-1:HOTP-SHA1-6:QN08-T1M", q),
            Err(OcraError::Missing("time"))
        );
        assert_eq!(
            run("OCRA-1:HOTP-SHA1-6:QN08-PSHA1", q),
            Err(OcraError::Missing("password"))
        );
        assert_eq!(
            run("OCRA-1:HOTP-SHA1-6:QN08-S064", q),
            Err(OcraError::Missing("session information"))
        );
        assert_eq!(
            run(
                "OCRA-1:HOTP-SHA1-6:QN08",
                Inputs {
                    counter: Some(1),
                    ..q
                }
            ),
            Err(OcraError::Unexpected("counter"))
        );
        assert_eq!(
            run(
                "OCRA-1:HOTP-SHA1-6:QN08",
                Inputs {
                    unix_time: Some(1),
                    ..q
                }
            ),
            Err(OcraError::Unexpected("time"))
        );
        assert_eq!(
            run(
                "OCRA-1:HOTP-SHA1-6:QN08-S004",
                Inputs {
                    session: Some(b"12345"),
                    ..q
                }
            ),
            Err(OcraError::SessionTooLong(4))
        );
        assert!(
            run(
                "OCRA-1:HOTP-SHA1-6:QN08-S004",
                Inputs {
                    session: Some(b"1234"),
                    ..q
                }
            )
            .is_ok()
        );
        for (suite, bad) in [
            ("OCRA-1:HOTP-SHA1-6:QN08", "12a4"),
            ("OCRA-1:HOTP-SHA1-6:QN08", ""),
            ("OCRA-1:HOTP-SHA1-6:QH08", "xyz"),
            ("OCRA-1:HOTP-SHA1-6:QA08", "has space"),
        ] {
            let inputs = Inputs {
                question: bad,
                ..Default::default()
            };
            assert!(
                matches!(run(suite, inputs), Err(OcraError::Question(_))),
                "{suite} {bad}"
            );
        }
        let long = "A".repeat(129);
        let inputs = Inputs {
            question: &long,
            ..Default::default()
        };
        assert_eq!(
            run("OCRA-1:HOTP-SHA1-6:QA64", inputs),
            Err(OcraError::QuestionTooLong)
        );
        let long = "F".repeat(257);
        let inputs = Inputs {
            question: &long,
            ..Default::default()
        };
        assert_eq!(
            run("OCRA-1:HOTP-SHA1-6:QH64", inputs),
            Err(OcraError::QuestionTooLong)
        );
    }

    #[test]
    fn numeric_questions_end_at_the_field_not_at_the_clock() {
        // 10^308 < 2^1024 fits the 256 hex digits; 10^309 - 1 does not.
        let fits = format!("1{}", "0".repeat(308));
        assert!(question_field(QuestionFormat::Numeric, &fits).is_ok());
        let too_big = "9".repeat(309);
        assert_eq!(
            question_field(QuestionFormat::Numeric, &too_big),
            Err(OcraError::QuestionTooLong)
        );
        // A megabyte of digits is refused before the quadratic conversion.
        let huge = "9".repeat(1 << 20);
        assert_eq!(
            question_field(QuestionFormat::Numeric, &huge),
            Err(OcraError::QuestionTooLong)
        );
        // Leading zeros are not digits of the number.
        let padded = format!("{}1", "0".repeat(1 << 20));
        assert!(question_field(QuestionFormat::Numeric, &padded).is_ok());
    }

    #[test]
    fn numeric_questions_are_numbers_in_hex_left_aligned() {
        // 12345678 = 0xBC614E; 4095 = 0xFFF (an odd count of hex digits stays left-aligned).
        let f = question_field(QuestionFormat::Numeric, "12345678").unwrap();
        assert_eq!(&f[..4], &[0xbc, 0x61, 0x4e, 0]);
        let f = question_field(QuestionFormat::Numeric, "4095").unwrap();
        assert_eq!(&f[..3], &[0xff, 0xf0, 0]);
        // Leading zeros are not part of the number.
        assert_eq!(
            question_field(QuestionFormat::Numeric, "004095").unwrap(),
            question_field(QuestionFormat::Numeric, "4095").unwrap()
        );
        assert_eq!(decimal_to_nibbles("0"), vec![0]);
        assert_eq!(
            decimal_to_nibbles("18446744073709551616"),
            vec![1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        let f = question_field(QuestionFormat::Hex, "abc").unwrap();
        assert_eq!(&f[..3], &[0xab, 0xc0, 0]);
    }

    #[test]
    fn a_time_step_ending_in_a_multi_byte_character_is_refused_not_a_panic() {
        // Found by fuzzing (fuzz target `ocra`): the time step's unit was split off one
        // byte before the end, in the middle of a multi-byte character.
        for text in [
            "OCRA-1:HOTP-SHA1-6:QN08-T1é",
            "OCRA-1:HOTP-SHA1-6:QN08-T秒",
            "OCRA-1:HOTP-SHA1-6:QN08-T30秒",
            "OCRA-1:HOTP-SHA1-6:QN08-Té",
        ] {
            assert_eq!(
                text.parse::<Suite>(),
                Err(OcraError::DataInput(text[19..].to_string())),
                "{text}"
            );
        }
        // The units themselves still parse.
        assert_eq!(
            "OCRA-1:HOTP-SHA1-6:QN08-T30S"
                .parse::<Suite>()
                .map(|s| s.time_step()),
            Ok(Some(30))
        );
    }

    #[test]
    fn untruncated_suites_give_the_whole_hmac() {
        let inputs = Inputs {
            question: "00000000",
            ..Default::default()
        };
        let full = ocra("OCRA-1:HOTP-SHA256-0:QN08", &key(32), inputs);
        assert_eq!(full.len(), 64);
        assert!(full.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
