//! End-to-end tests of the `softtoken` binary's stateless commands.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use std::collections::HashSet;
use std::process::{Command, Output};

fn softtoken(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_softtoken"))
        .args(args)
        .output()
        .expect("run softtoken")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim_end().to_string()
}

#[test]
fn otp_prints_only_the_code() {
    // RFC 6238 Appendix B, SHA-1, 8 digits at 59 s.
    let o = softtoken(&[
        "otp",
        "--secret",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "--digits",
        "8",
        "--time",
        "59",
    ]);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout), "94287082\n");
    assert!(o.stderr.is_empty());
}

#[test]
fn otp_rejects_bad_input_with_status_2() {
    for args in [
        &["otp", "--secret", "not base32!"][..],
        &["otp", "--secret", "GEZDGNBV", "--digits", "7"],
        &["otp", "--secret", "GEZDGNBV", "--period", "5"],
        &["otp", "--secret", "GEZDGNBV", "--algorithm", "md5"],
        &["otp", "--secret", ""],
        &["otp", "--secret", "GEZDGNBV", "--time", "-1"],
    ] {
        let o = softtoken(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.is_empty() && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

/// RFC 6287 Appendix C keys: "1234567890" repeated to 20, 32 and 64 bytes, in hex.
fn rfc6287_key(len: usize) -> String {
    b"1234567890"
        .iter()
        .cycle()
        .take(len)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn ocra_prints_the_rfc6287_responses_and_nothing_else() {
    let (k20, k32, k64) = (rfc6287_key(20), rfc6287_key(32), rfc6287_key(64));
    // One vector of each Appendix C kind through the binary (the protocol crate has all).
    let t1m = (0x132d0b6u64 * 60).to_string();
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "--suite",
                "OCRA-1:HOTP-SHA1-6:QN08",
                "--key",
                &k20,
                "--question",
                "11111111",
            ],
            "243178",
        ),
        (
            &[
                "--suite",
                "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1",
                "--key",
                &k32,
                "--counter",
                "9",
                "--question",
                "12345678",
                "--password",
                "1234",
            ],
            "08522129",
        ),
        (
            &[
                "--suite",
                "OCRA-1:HOTP-SHA512-8:QN08-T1M",
                "--key",
                &k64,
                "--question",
                "44444444",
                "--time",
                &t1m,
            ],
            "36209546",
        ),
        (
            &[
                "--suite",
                "OCRA-1:HOTP-SHA256-8:QA08",
                "--key",
                &k32,
                "--question",
                "SRV11114CLI22224",
            ],
            "28934924",
        ),
        (
            &[
                "--suite",
                "OCRA-1:HOTP-SHA512-8:QA08-PSHA1",
                "--key",
                &k64,
                "--question",
                "SRV11110CLI22220",
                "--password",
                "1234",
            ],
            "18806276",
        ),
        (
            &[
                "--suite",
                "OCRA-1:HOTP-SHA512-8:QA10-T1M",
                "--key",
                &k64,
                "--question",
                "SIG1400000",
                "--time",
                &t1m,
            ],
            "65360607",
        ),
    ];
    for (args, want) in cases {
        let o = softtoken(&[&["ocra"][..], args].concat());
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            format!("{want}\n"),
            "{args:?}"
        );
        assert!(o.stderr.is_empty());
    }
}

#[test]
fn ocra_rejects_bad_input_with_status_2() {
    let k20 = rfc6287_key(20);
    for args in [
        &[
            "ocra",
            "--suite",
            "OCRA-1:HOTP-MD5-6:QN08",
            "--key",
            &k20,
            "--question",
            "1",
        ][..],
        &[
            "ocra",
            "--suite",
            "OCRA-1:HOTP-SHA1-6:QN08",
            "--key",
            "zz",
            "--question",
            "1",
        ],
        &[
            "ocra",
            "--suite",
            "OCRA-1:HOTP-SHA1-6:QN08",
            "--key",
            &k20,
            "--question",
            "12ab",
        ],
        &[
            "ocra",
            "--suite",
            "OCRA-1:HOTP-SHA1-6:C-QN08",
            "--key",
            &k20,
            "--question",
            "1",
        ],
        &[
            "ocra",
            "--suite",
            "OCRA-1:HOTP-SHA1-6:QN08",
            "--key",
            &k20,
            "--question",
            "1",
            "--time",
            "5",
        ],
    ] {
        let o = softtoken(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).starts_with("softtoken: "),
            "{args:?}"
        );
    }
}

#[test]
fn sign_refuses_a_malformed_challenge_before_opening_the_vault() {
    for args in [
        &["sign", "--challenge", "https://evil.example/?v=1"][..],
        &["sign", "--challenge", "softtoken://sign?v=2"],
        &["sign", "--digits-typed", "12ab"],
        // The old form (amount, then 8 account digits) is too short: no challenge number.
        &["sign", "--digits-typed", "701234567"],
        // A challenge number never starts with a zero.
        &["sign", "--digits-typed", "012345 456789 50000"],
    ] {
        let o = softtoken(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn ten_thousand_serials_are_distinct_well_formed_and_checked() {
    let mut seen = HashSet::new();
    for _ in 0..10_000 {
        let o = softtoken(&["serial", "new"]);
        assert!(o.status.success());
        let s = stdout(&o);
        assert_eq!(s.len(), 12, "{s}");
        assert!(s.starts_with("SKTS"), "{s}");
        assert!(
            s[4..]
                .bytes()
                .all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b)),
            "{s}"
        );
        assert!(luhn_mod32_valid(&s[4..]), "{s}");
        assert!(seen.insert(s), "duplicate serial");
    }
}

#[test]
fn serial_check_normalises_and_rejects_each_substitution() {
    let serial = stdout(&softtoken(&["serial", "new"]));
    let typed = format!("{}-{} {}", &serial[..4], &serial[4..8], &serial[8..]).to_lowercase();
    let o = softtoken(&["serial", "check", &typed]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), serial);

    let alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    for pos in 4..12 {
        let current = serial.as_bytes()[pos] as char;
        let replacement = alphabet.chars().find(|&c| c != current).unwrap();
        let mut changed = serial.clone();
        changed.replace_range(pos..pos + 1, &replacement.to_string());
        let o = softtoken(&["serial", "check", &changed]);
        assert_eq!(o.status.code(), Some(1), "{changed}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("check symbol"),
            "{changed}"
        );
    }
}

#[test]
fn serial_check_names_the_problem() {
    for (text, says) in [
        ("ABCD12345678", "starts with SKTS"),
        ("SKTS123", "12 characters"),
        ("SKTS1234567U", "'U' at position 12"),
    ] {
        let o = softtoken(&["serial", "check", text]);
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{text}: {err}");
    }
}

/// An independent Luhn mod 32 check (the textbook validation walk), not the crate's own code.
fn luhn_mod32_valid(symbols: &str) -> bool {
    let alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut factor = 1;
    let mut sum = 0;
    for c in symbols.chars().rev() {
        let v = alphabet.find(c).unwrap() as u32;
        let addend = factor * v;
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / 32 + addend % 32;
    }
    sum % 32 == 0
}
