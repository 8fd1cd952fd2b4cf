//! `softtoken otp` against independent implementations: oathtool and pyotp.
//!
//! Both must be installed (`scripts/test.sh` installs them); a missing tool
//! fails the test rather than skipping it, so CI can never silently pass.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use std::process::Command;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn run(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot run {cmd:?}: {e}. Install oathtool (apt) and pyotp (pip): scripts/test.sh does"
        )
    });
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn softtoken(secret: &str, alg: &str, digits: u32, period: u64, t: u64) -> String {
    run(Command::new(env!("CARGO_BIN_EXE_softtoken")).args([
        "otp",
        "--secret",
        secret,
        "--algorithm",
        alg,
        "--digits",
        &digits.to_string(),
        "--period",
        &period.to_string(),
        "--time",
        &t.to_string(),
    ]))
}

fn oathtool(secret: &str, alg: &str, digits: u32, period: u64, t: u64) -> String {
    run(Command::new("oathtool").args([
        &format!("--totp={}", alg.to_uppercase()),
        "--base32",
        "--digits",
        &digits.to_string(),
        "--time-step-size",
        &format!("{period}s"),
        "--now",
        &format!("@{t}"),
        secret,
    ]))
}

fn pyotp(secret: &str, alg: &str, digits: u32, period: u64, t: u64) -> String {
    // pyotp's TOTP refuses periods over 120 s (NIST SP 800-63B); beyond that its HOTP
    // at the step counter is the same computation, still done independently of ours.
    let generator = if period <= 120 {
        format!(
            "pyotp.TOTP('{secret}', digits={digits}, digest=hashlib.{alg}, interval={period}).at({t})"
        )
    } else {
        format!(
            "pyotp.HOTP('{secret}', digits={digits}, digest=hashlib.{alg}).at({})",
            t / period
        )
    };
    run(Command::new("python3").args(["-c", &format!("import hashlib, pyotp; print({generator})")]))
}

#[test]
fn agrees_with_oathtool_and_pyotp() {
    let strategy = (
        proptest::collection::vec(proptest::sample::select(ALPHABET), 24..=104),
        prop_oneof![Just("sha1"), Just("sha256"), Just("sha512")],
        prop_oneof![Just(6u32), Just(8u32)],
        prop_oneof![Just(30u64), Just(60u64), 10u64..=300],
        // oathtool's date parser stops at year 9999.
        0u64..253_402_300_799,
    );
    let mut runner = TestRunner::new(Config {
        cases: 48,
        ..Config::default()
    });
    runner
        .run(&strategy, |(symbols, alg, digits, period, t)| {
            // Whole bytes only (pyotp rejects base32 whose bit count is not a multiple of 8),
            // and at least 15 bytes (pyotp refuses secrets under 112 bits).
            let len = symbols.len() - symbols.len() % 8;
            let secret = String::from_utf8(symbols[..len].to_vec()).unwrap();
            let ours = softtoken(&secret, alg, digits, period, t);
            prop_assert_eq!(&ours, &oathtool(&secret, alg, digits, period, t));
            prop_assert_eq!(&ours, &pyotp(&secret, alg, digits, period, t));
            Ok(())
        })
        .unwrap();
}
