//! The vault's decrypted token list (JSON). The AES-GCM tag keeps the fuzzer's bytes from
//! ever reaching it through the file, so it is fuzzed on its own: never a panic, and what
//! decodes encodes back to the same tokens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softtoken_core::vault::format::{decode_tokens, encode_tokens};

fuzz_target!(|data: &[u8]| {
    if let Ok(tokens) = decode_tokens(data) {
        let again = decode_tokens(&encode_tokens(&tokens)).expect("encoded tokens decode");
        assert_eq!(again, tokens);
    }
});
