//! OCRA (RFC 6287) suites and questions: `suite\nquestion\npassword-or-session`. A suite
//! comes from configuration and PSKC files, a question from a bank's challenge or what a
//! customer typed. Never a panic; a suite that parses prints as itself and answers with
//! its number of digits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softtoken_protocol::ocra::{self, Inputs, Suite};

fuzz_target!(|text: &str| {
    let mut lines = text.splitn(3, '\n');
    let suite_text = lines.next().unwrap_or_default();
    let question = lines.next().unwrap_or_default();
    let extra = lines.next().unwrap_or_default().as_bytes();
    let Ok(suite) = suite_text.parse::<Suite>() else {
        return;
    };
    assert_eq!(suite.to_string(), suite_text);
    let inputs = Inputs {
        counter: suite.has_counter().then_some(7),
        question,
        password: Some(extra),
        session: Some(extra),
        unix_time: suite.time_step().map(|_| 1_700_000_000),
    };
    // The inputs the suite does not name are refused rather than ignored: try both ways.
    let _ = ocra::response(&suite, b"12345678901234567890", &inputs);
    let minimal = Inputs {
        password: None,
        session: None,
        ..inputs
    };
    if let Ok(code) = ocra::response(&suite, b"12345678901234567890", &minimal) {
        let digits = suite.digits() as usize;
        let want = if digits == 0 {
            code.as_str().len()
        } else {
            digits
        };
        assert_eq!(code.as_str().len(), want);
    }
});
