//! Serial numbers as people type them (CLI, apps, the bank API, PSKC imports): never a
//! panic, and whatever parses is normalised: it parses back to itself from both forms.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softtoken_protocol::Serial;

fuzz_target!(|text: &str| {
    if let Ok(serial) = Serial::parse(text) {
        assert_eq!(Serial::parse(serial.as_str()).as_ref(), Ok(&serial));
        assert_eq!(Serial::parse(&serial.grouped()).as_ref(), Ok(&serial));
        assert_eq!(serial.as_str().len(), softtoken_protocol::serial::LEN);
    }
    // The same text as a JSON string, the way the API and the vault read serials.
    let _ = serde_json::from_value::<Serial>(serde_json::Value::String(text.to_owned()));
});
