//! The activation URI from a scanned QR code or a tapped link
//! (`softtoken://activate?server=…&service=…&user=…`): never a panic, and what parses
//! builds back into a URI that parses to the same target.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softtoken_core::{ActivationTarget, ServerUrl};

fuzz_target!(|text: &str| {
    if let Ok(target) = ActivationTarget::from_uri(text) {
        let again = ActivationTarget::from_uri(&target.to_uri());
        assert_eq!(again.as_ref().ok(), Some(&target), "{}", target.to_uri());
    }
    // The server URL on its own (typed in the CLI's `--server`).
    let _ = ServerUrl::parse(text);
});
