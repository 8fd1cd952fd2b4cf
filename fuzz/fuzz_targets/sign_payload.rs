//! The transfer challenge (取引確認) from a scanned QR code (`softtoken://sign?v=1&…`) and
//! the digits typed in manual mode: never a panic; a challenge that parses survives
//! to_payload ∘ from_payload, and everything the app shows of it can be computed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softtoken_protocol::transaction::{Challenge, ChallengeNumber, ManualDigits};

const SEED: &[u8] = b"12345678901234567890";

fuzz_target!(|text: &str| {
    if let Ok(challenge) = Challenge::from_payload(text) {
        let payload = challenge.to_payload();
        assert_eq!(
            Challenge::from_payload(&payload).as_ref(),
            Ok(&challenge),
            "{payload}"
        );
        let details = &challenge.details;
        let _ = details.display_amount();
        let _ = details.masked_account();
        // A challenge number as the server would draw it (the smallest and largest too).
        for n in [100_000, 482_913, 999_999] {
            let number = ChallengeNumber::new(n).expect("a six-digit number");
            let manual = details.manual_digits(number);
            assert_eq!(ManualDigits::parse(manual.as_str()).as_ref(), Ok(&manual));
            assert_eq!(
                ManualDigits::parse(&manual.grouped()).as_ref(),
                Ok(&manual)
            );
        }
        let _ = challenge.response(SEED);
    }
    if let Ok(digits) = ManualDigits::parse(text) {
        let _ = (digits.challenge_number(), digits.amount(), digits.account_tail());
        let _ = digits.response(SEED);
    }
});
