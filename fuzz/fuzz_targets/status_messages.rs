//! Token status: the MAC'd request the server reads and the MAC'd answer the app reads.
//! Never a panic, and a forged MAC never passes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softtoken_protocol::Serial;
use softtoken_protocol::status::{
    StatusKey, StatusRequest, StatusResponse, TokenStatus, time_in_window,
};
use softtoken_protocol::wire::B64;

fuzz_target!(|data: &[u8]| {
    let key = StatusKey::derive(b"12345678901234567890");
    if let Ok(request) = serde_json::from_slice::<StatusRequest>(data) {
        let expected = key.request_mac(&request.serial, request.unix_ms, &request.nonce.0);
        assert_eq!(
            key.check_request(&request).is_ok(),
            request.mac.0 == expected
        );
        let _ = time_in_window(request.unix_ms, i64::MAX);
        let _ = time_in_window(request.unix_ms, i64::MIN);
    }
    if let Ok(response) = serde_json::from_slice::<StatusResponse>(data) {
        let Ok(serial) = Serial::parse("SKTS00000000") else {
            return;
        };
        let request = key.request(&serial, 1_700_000_000_000, [9; 16]);
        let expected = key.response_mac(
            &serial,
            &request.nonce.0,
            response.state,
            response.server_unix_ms,
        );
        assert_eq!(
            key.check_response(&request, &response).is_ok(),
            response.mac.0 == expected
        );
        let _ = response.state == TokenStatus::Active;
    }
    let _ = serde_json::from_slice::<B64>(data);
});
