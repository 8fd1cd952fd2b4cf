//! Provisioning for registration mode (X25519): the request the server reads and the
//! answer the app reads. Never a panic, whatever key bytes arrive.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softtoken_protocol::provisioning::{
    AppProvisioning, ProvisioningRequest, ProvisioningResponse, server_respond,
};
use softtoken_protocol::{Serial, ServiceId};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = serde_json::from_slice::<ProvisioningRequest>(data) {
        // The server's pick of serial, as the route draws it.
        let _ = server_respond(&request, &Serial::generate());
    }
    if let Ok(response) = serde_json::from_slice::<ProvisioningResponse>(data) {
        let Ok(service) = ServiceId::new("bank") else {
            return;
        };
        let (app, _) = AppProvisioning::start(service);
        let _ = app.finish(&response);
    }
});
