//! Round trips as properties (the fuzz targets find no crash in these parsers; these say
//! they also lose nothing): activation URI parse ∘ build, and vault open ∘ save, for
//! tokens with any text, any seed and any numbers in them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

use proptest::prelude::*;
use softtoken_core::protocol::otp::{Algorithm, OtpParams};
use softtoken_core::protocol::serial::ALPHABET;
use softtoken_core::protocol::{Serial, ServiceId, UserId};
use softtoken_core::vault::format::{decode_tokens, encode_tokens};
use softtoken_core::{ActivationTarget, Secret, ServerUrl, Token, TokenState};
use support::*;

fn any_server() -> impl Strategy<Value = ServerUrl> {
    (
        prop_oneof![
            "https://[a-z0-9]{1,12}(\\.[a-z0-9-]{1,8}){0,3}",
            "https://\\[::1\\]",
            "http://(localhost|127\\.0\\.0\\.1|\\[::1\\])",
        ],
        proptest::option::of(1u16..),
        // Path segments with characters a query value must escape.
        "(/[A-Za-z0-9._~!$&'()*+,;=:@%-]{1,10}){0,3}/?",
    )
        .prop_filter_map("a valid server URL", |(base, port, path)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            ServerUrl::parse(&format!("{base}{port}{path}")).ok()
        })
}

fn any_id() -> impl Strategy<Value = String> {
    // `.` and `..` are not IDs (they would be path segments in the API's URLs).
    "[A-Za-z0-9._-]{1,64}".prop_filter("an ID", |s| s != "." && s != "..")
}

fn any_serial() -> impl Strategy<Value = Serial> {
    proptest::collection::vec(0u8..32, 7).prop_map(|values| {
        let body: String = values
            .iter()
            .map(|&v| char::from(ALPHABET[v as usize]))
            .collect();
        (0u8..32)
            .map(|c| format!("SKTS{body}{}", char::from(ALPHABET[c as usize])))
            .find_map(|s| Serial::parse(&s).ok())
            .expect("exactly one check symbol fits")
    })
}

fn any_state() -> impl Strategy<Value = TokenState> {
    prop_oneof![
        Just(TokenState::Pending),
        Just(TokenState::Active),
        Just(TokenState::Revoked),
        Just(TokenState::Stopped),
        Just(TokenState::Replaced),
    ]
}

fn any_params() -> impl Strategy<Value = OtpParams> {
    (
        prop_oneof![
            Just(Algorithm::Sha1),
            Just(Algorithm::Sha256),
            Just(Algorithm::Sha512)
        ],
        prop_oneof![Just(6u32), Just(8)],
        prop_oneof![Just(30u64), Just(60)],
    )
        .prop_map(|(a, d, p)| OtpParams::new(a, d, p).unwrap())
}

fn any_token() -> impl Strategy<Value = Token> {
    (
        (any_serial(), ".{0,30}", any_id(), ".{0,30}", any_params()),
        (
            proptest::collection::vec(any::<u8>(), 1..=64),
            any_state(),
            any::<u64>(),
            ".{0,40}",
            any::<i64>(),
        ),
    )
        .prop_map(
            |(
                (serial, issuer, service, user_label, params),
                (seed, state, created_at, server_url, clock_offset_ms),
            )| Token {
                serial,
                issuer,
                service_id: ServiceId::new(service).unwrap(),
                user_label,
                params,
                secret: Secret::new(seed),
                state,
                created_at,
                server_url,
                clock_offset_ms,
            },
        )
}

/// Up to four tokens with distinct serials (the store refuses a second of the same serial).
fn any_tokens() -> impl Strategy<Value = Vec<Token>> {
    proptest::collection::vec(any_token(), 0..=4).prop_map(|mut tokens| {
        let mut seen = std::collections::HashSet::new();
        tokens.retain(|t| seen.insert(t.serial.clone()));
        tokens
    })
}

proptest! {
    /// parse ∘ build: the URI a bank builds for a target reads back as that target.
    #[test]
    fn activation_uri_round_trips(server in any_server(), service in any_id(), user in any_id()) {
        let target = ActivationTarget {
            server,
            service: ServiceId::new(service).unwrap(),
            user: UserId::new(user).unwrap(),
        };
        let uri = target.to_uri();
        prop_assert_eq!(ActivationTarget::from_uri(&uri).ok(), Some(target), "{}", uri);
    }

    /// The decrypted token list: decode ∘ encode is the identity, seeds included.
    #[test]
    fn token_list_round_trips(tokens in any_tokens()) {
        prop_assert_eq!(decode_tokens(&encode_tokens(&tokens)).unwrap(), tokens);
    }
}

proptest! {
    // Each case writes and reopens a vault file (and stretches a PIN): fewer cases.
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// open ∘ save: tokens saved in a vault (with or without the app lock) read back the
    /// same after reopening it, and give the same codes, so their seeds survived too.
    #[test]
    fn vault_round_trips(tokens in any_tokens(), pin in proptest::option::of("[0-9]{4,8}"), at in any::<i64>()) {
        let v = Vault::new();
        let mut store = v.open().unwrap();
        if let Some(pin) = &pin {
            store.set_pin(pin).unwrap();
        }
        for t in &tokens {
            store.add(t.clone()).unwrap();
        }
        let before = store.tokens().unwrap();
        drop(store);

        let mut reopened = v.open().unwrap();
        prop_assert_eq!(reopened.has_pin(), pin.is_some());
        if let Some(pin) = &pin {
            prop_assert!(reopened.is_locked());
            reopened.unlock(pin).unwrap();
        }
        prop_assert_eq!(reopened.tokens().unwrap(), before);
        for t in &tokens {
            prop_assert_eq!(reopened.code(&t.serial, at).unwrap().code, t.code_at(at).code);
        }
    }
}
