//! Activation by start password (SPAKE2): the JSON bodies both sides read from the other,
//! and the SPAKE2 message bytes themselves. Never a panic, whatever the peer sends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softtoken_protocol::activation::{
    AppActivation, FinishRequest, FinishResponse, PasswordKey, StartRequest, StartResponse,
    server_respond,
};
use softtoken_protocol::{Problem, Serial, ServiceId, SessionKey, UserId};
use zeroize::Zeroizing;

fuzz_target!(|data: &[u8]| {
    // `w` from its bytes: PasswordKey::derive runs 100,000 PBKDF2 rounds per input.
    let w = PasswordKey::from_bytes([7; 32]);
    let (Ok(service), Ok(user)) = (ServiceId::new("bank"), UserId::new("alice")) else {
        return;
    };
    // The raw bytes as the app's SPAKE2 message (the server's side).
    let _ = server_respond(&w, &service, &user, data);
    // The server reads these bodies.
    if let Ok(request) = serde_json::from_slice::<StartRequest>(data) {
        let _ = server_respond(
            &w,
            &request.service_id,
            &request.user_id,
            &request.message.0,
        );
    }
    let _ = serde_json::from_slice::<FinishRequest>(data);
    let key = SessionKey::new(Zeroizing::new(vec![1; 32]), [2; 32]);
    let _ = key.check_app_confirmation(data);
    // The app reads these.
    if let Ok(response) = serde_json::from_slice::<StartResponse>(data) {
        let (app, _) = AppActivation::start(&w, service.clone(), user.clone());
        let _ = app.finish(&response);
    }
    if let Ok(response) = serde_json::from_slice::<FinishResponse>(data) {
        let serial = Serial::parse("SKTS00000000");
        if let Ok(serial) = serial {
            let _ = key.check_token_mac(&serial, &response.token, &response.mac.0);
        }
    }
    let _ = serde_json::from_slice::<Problem>(data);
    // A session kept between start and finish (the server stores it sealed).
    let _ = SessionKey::from_bytes(data);
});
