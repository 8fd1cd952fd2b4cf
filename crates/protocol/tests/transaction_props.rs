//! Property tests of the transfer challenge's QR payload (DESIGN.md §11): whatever valid
//! details a bank sends, the app reads back exactly the challenge the bank made.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use proptest::prelude::*;
use softtoken_protocol::ServiceId;
use softtoken_protocol::transaction::{Challenge, MAX_AMOUNT, TransferDetails};

fn any_challenge() -> impl Strategy<Value = Challenge> {
    (
        "[A-Za-z0-9._-]{1,64}",
        "[A-Za-z0-9_-]{1,64}",
        "[0-9]{1,8}[A-Z0-9 -]{0,24}",
        // Names in any script, with the characters a form encoding must escape.
        "[^\\p{Cc}]{1,70}",
        1..=MAX_AMOUNT,
        "[A-Za-z]{3}",
    )
        .prop_filter_map(
            "valid details",
            |(service, id, account, name, amount, currency)| {
                let details = TransferDetails::new(&account, &name, amount, &currency).ok()?;
                Challenge::new(ServiceId::new(service).ok()?, id, details).ok()
            },
        )
}

proptest! {
    /// to_payload ∘ from_payload is the identity, and the code it gives is the same.
    #[test]
    fn payload_round_trips(c in any_challenge()) {
        let payload = c.to_payload();
        let read = Challenge::from_payload(&payload);
        prop_assert_eq!(read.as_ref(), Ok(&c), "{}", payload);
        prop_assert_eq!(read.unwrap().response(b"seed"), c.response(b"seed"));
    }

    /// Reading a payload never panics, whatever follows the prefix.
    #[test]
    fn reading_never_panics(rest in ".{0,200}") {
        let _ = Challenge::from_payload(&format!("softtoken://sign?{rest}"));
    }
}
