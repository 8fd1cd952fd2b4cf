//! Property tests of the serial format (DESIGN.md §3).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use proptest::prelude::*;
use softtoken_protocol::serial::{ALPHABET, Serial, SerialError};

fn any_serial() -> impl Strategy<Value = Serial> {
    // Build from the raw symbols so proptest can shrink; parse() recomputes nothing we trust.
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

proptest! {
    #[test]
    fn round_trip_through_display_and_compact(s in any_serial()) {
        prop_assert_eq!(Serial::parse(&s.to_string()), Ok(s.clone()));
        prop_assert_eq!(Serial::parse(s.as_str()), Ok(s.clone()));
        prop_assert_eq!(Serial::parse(&s.as_str().to_lowercase()), Ok(s.clone()));
        let json = serde_json_like(&s);
        prop_assert_eq!(Serial::parse(&json), Ok(s));
    }

    /// normalise ∘ format: the serial as a person might type it back (any case, any
    /// grouping with spaces or hyphens, `O` for `0`, `I` or `L` for `1`, blanks around)
    /// parses to the serial itself.
    #[test]
    fn any_typed_form_normalises_back(
        s in any_serial(),
        forms in proptest::collection::vec((any::<bool>(), 0u8..4, 0u8..3), 12),
        pad in "[ \t]{0,2}",
    ) {
        let mut typed = pad.clone();
        for (c, (lower, sep, confusable)) in s.as_str().chars().zip(forms) {
            let c = match (c, confusable) {
                ('0', 1 | 2) => 'O',
                ('1', 1) => 'I',
                ('1', 2) => 'L',
                (c, _) => c,
            };
            typed.push(if lower { c.to_ascii_lowercase() } else { c });
            match sep {
                1 => typed.push(' '),
                2 => typed.push('-'),
                _ => {}
            }
        }
        typed.push_str(&pad);
        prop_assert_eq!(Serial::parse(&typed), Ok(s));
    }

    #[test]
    fn every_single_substitution_is_rejected(s in any_serial()) {
        let chars: Vec<char> = s.as_str().chars().collect();
        for pos in 4..12 {
            for &sym in ALPHABET.iter() {
                let sym = char::from(sym);
                if sym == chars[pos] { continue; }
                let mut changed = chars.clone();
                changed[pos] = sym;
                let text: String = changed.into_iter().collect();
                prop_assert_eq!(Serial::parse(&text), Err(SerialError::Check), "{}", text);
            }
        }
    }

    /// Luhn mod 32 catches every adjacent transposition of two different symbols
    /// except a swap of `0` and `Z` (values 0 and 31).
    #[test]
    fn adjacent_transpositions_are_caught_except_zero_and_z(s in any_serial()) {
        let chars: Vec<char> = s.as_str().chars().collect();
        for pos in 4..11 {
            let (a, b) = (chars[pos], chars[pos + 1]);
            if a == b { continue; }
            let mut swapped = chars.clone();
            swapped.swap(pos, pos + 1);
            let text: String = swapped.into_iter().collect();
            let undetectable = matches!((a, b), ('0', 'Z') | ('Z', '0'));
            prop_assert_eq!(Serial::parse(&text).is_ok(), undetectable, "{}", text);
        }
    }

    #[test]
    fn parsing_never_panics(text in ".{0,40}") {
        let _ = Serial::parse(&text);
    }

    #[test]
    fn parsing_never_panics_on_near_serials(text in "[ sSkKtT0-9A-Za-z\\-]{0,20}") {
        if let Ok(s) = Serial::parse(&text) {
            prop_assert_eq!(s.as_str().len(), 12);
        }
    }
}

/// The serial as a person might type it: lower case, hyphens and spaces between groups.
fn serde_json_like(s: &Serial) -> String {
    let c = s.as_str().to_lowercase();
    format!("  {}-{} {}  ", &c[..4], &c[4..8], &c[8..])
}

/// Exhaustive over symbol pairs: the transposition statement holds for every pair, not just sampled ones.
#[test]
fn transposition_statement_holds_for_every_pair() {
    for (a, sa) in ALPHABET.iter().map(|&c| char::from(c)).enumerate() {
        for (b, sb) in ALPHABET.iter().map(|&c| char::from(c)).enumerate() {
            if a == b {
                continue;
            }
            // Pick the check symbol for `..ab`, then see whether `..ba` still passes it.
            let valid = ALPHABET
                .iter()
                .map(|&c| format!("SKTS00000{sa}{sb}{}", char::from(c)))
                .find(|t| Serial::parse(t).is_ok())
                .unwrap();
            let check = &valid[11..];
            let undetected = Serial::parse(&format!("SKTS00000{sb}{sa}{check}")).is_ok();
            assert_eq!(undetected, a.min(b) == 0 && a.max(b) == 31, "{sa} {sb}");
        }
    }
}
