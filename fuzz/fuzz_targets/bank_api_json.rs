//! The JSON bodies of the bank API (and the app API the server reads), through the
//! server's own `parse_json` and the checks a handler makes before touching the store.
//! The first byte picks the body type. Never a panic; a refused body is a 400 or 422
//! problem, never a 5xx.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softtoken_protocol::activation::{FinishRequest, StartRequest, valid_start_password};
use softtoken_protocol::provisioning::ProvisioningRequest;
use softtoken_protocol::status::StatusRequest;
use softtoken_protocol::transaction::TransferDetails;
use softtoken_server::error::{ApiError, parse_json};
use softtoken_server::routes::enrollments::EnrollmentRequest;
use softtoken_server::routes::import::ImportRequest;
use softtoken_server::routes::tokens::{RegisterRequest, ReplaceRequest};
use softtoken_server::routes::transactions::TransactionRequest;
use softtoken_server::routes::users::OtpRequest;

fn refused<T>(result: Result<T, ApiError>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(e) => {
            let status = e.status.as_u16();
            assert!(status == 400 || status == 422, "{status} {e:?}");
            assert!(!e.detail.is_empty());
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match selector % 10 {
        0 => {
            if let Some(r) = refused(parse_json::<EnrollmentRequest>(body)) {
                let _ = valid_start_password(r.start_password.expose());
                let _ = r.email.map(|e| e.masked());
            }
        }
        1 => {
            let _ = refused(parse_json::<RegisterRequest>(body));
        }
        2 => {
            let _ = refused(parse_json::<ReplaceRequest>(body));
        }
        3 => {
            let _ = refused(parse_json::<OtpRequest>(body));
        }
        4 => {
            if let Some(r) = refused(parse_json::<TransactionRequest>(body)) {
                let _ =
                    TransferDetails::new(&r.payee_account, &r.payee_name, r.amount, &r.currency);
            }
        }
        5 => {
            let _ = refused(parse_json::<ImportRequest>(body));
        }
        6 => {
            let _ = refused(parse_json::<StartRequest>(body));
        }
        7 => {
            let _ = refused(parse_json::<FinishRequest>(body));
        }
        8 => {
            let _ = refused(parse_json::<ProvisioningRequest>(body));
        }
        _ => {
            let _ = refused(parse_json::<StatusRequest>(body));
        }
    }
});
