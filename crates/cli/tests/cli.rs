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
