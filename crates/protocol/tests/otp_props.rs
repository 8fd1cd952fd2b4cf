//! Property tests of the OTP algorithm.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use proptest::prelude::*;
use softtoken_protocol::otp::{Algorithm, OtpParams, totp};

fn any_algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Sha1),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512)
    ]
}

proptest! {
    #[test]
    fn codes_are_exactly_digits_long(
        secret in proptest::collection::vec(any::<u8>(), 1..80),
        algorithm in any_algorithm(),
        digits in prop_oneof![Just(6u32), Just(8u32)],
        period in 10u64..=300,
        t in any::<u64>(),
    ) {
        let params = OtpParams::new(algorithm, digits, period).unwrap();
        let code = totp(&secret, &params, t);
        prop_assert_eq!(code.as_str().len(), digits as usize);
        prop_assert!(code.as_str().bytes().all(|b| b.is_ascii_digit()));
        // Same step, same code: the step, not the second, is what is hashed.
        let start = t - t % period;
        let again = totp(&secret, &params, start);
        prop_assert_eq!(again.as_str(), code.as_str());
    }
}
