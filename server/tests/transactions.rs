//! 取引確認 (issue 15): the bank creates a transfer challenge, the customer's token signs
//! it, the bank verifies it once. Two server instances share one database, on SQLite and
//! (when `SOFTTOKEN_TEST_POSTGRES_URL` is set) PostgreSQL, in the same run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use softtoken_protocol::otp::totp;
use softtoken_protocol::transaction::{
    Challenge, MANUAL_SUITE, ManualDigits, TransferDetails, transaction_key,
};
use softtoken_protocol::{OtpParams, UserId};
use softtoken_store::audit::AuditKind;
use softtoken_store::policy::Policy;
use softtoken_store::{NewAuditEvent, Transaction};
use support::{API_KEY, Cluster, SERVICE, backends, get, post};

fn transfer(account: &str, name: &str, amount: u64) -> Value {
    json!({"payee_account": account, "payee_name": name, "amount": amount, "currency": "JPY"})
}

async fn create(cluster: &Cluster, user: &str, body: &Value) -> Value {
    let uri = format!("/v1/services/{SERVICE}/users/{user}/transactions");
    let (status, body) = post(&cluster.a, &uri, Some(API_KEY), body).await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn verify(cluster: &Cluster, i: usize, user: &str, id: &str, otp: &str) -> Value {
    let uri = format!("/v1/services/{SERVICE}/users/{user}/transactions/{id}/verify");
    let (status, body) = post(
        cluster.instance(i),
        &uri,
        Some(API_KEY),
        &json!({"otp": otp}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// An 8-digit transfer code that is not `right`.
fn another_code(right: &str) -> &'static str {
    if right == "00000000" {
        "00000001"
    } else {
        "00000000"
    }
}

/// What the customer's token does with a scanned payload.
fn sign(payload: &str, seed: &[u8]) -> String {
    Challenge::from_payload(payload)
        .unwrap()
        .response(seed)
        .to_string()
}

#[tokio::test]
async fn a_transfer_code_confirms_one_transfer_once() {
    for backend in backends() {
        let cluster = Cluster::start(&backend, Policy::default()).await;
        let alice = UserId::new("alice").unwrap();
        let (_serial, seed) = cluster.active_token(&alice).await;

        // The bank's challenge: QR payload, SVG, manual digits, 5 minutes.
        let tx = create(
            &cluster,
            "alice",
            &transfer("0012-3456789", "ヤマダ タロウ", 50_000),
        )
        .await;
        let payload = tx["payload"].as_str().unwrap();
        assert!(
            payload.starts_with("softtoken://sign?v=1&service=bank-test&id="),
            "{tx}"
        );
        assert!(tx["qr_svg"].as_str().unwrap().contains("<svg"));
        // The manual digits: this challenge's number, the account's last 6 digits, the amount.
        let digits = tx["manual_digits"].as_str().unwrap();
        assert_eq!(digits.len(), 6 + 6 + 5, "{tx}");
        assert!(
            digits.ends_with("45678950000") && !digits.starts_with('0'),
            "{tx}"
        );
        assert_eq!(
            tx["manual_digits_grouped"],
            format!("{} 456789 50000", &digits[..6])
        );
        assert_eq!(tx["manual_suite"], "OCRA-1:HOTP-SHA256-8:QN24");
        assert_eq!(tx["masked_account"], "*******6789");
        assert_eq!(tx["display_amount"], "50,000 JPY");
        assert_eq!(tx["suite"], "OCRA-1:HOTP-SHA256-8:QH64");
        let id = tx["id"].as_str().unwrap();

        // The token shows what it signs, then the code.
        let shown = Challenge::from_payload(payload).unwrap();
        assert_eq!(shown.details.payee_name(), "ヤマダ タロウ");
        assert_eq!(shown.details.amount(), 50_000);
        let code = sign(payload, &seed);

        // The same code for a changed amount or payee is refused, and counted.
        let more = create(
            &cluster,
            "alice",
            &transfer("0012-3456789", "ヤマダ タロウ", 50_001),
        )
        .await;
        let other = create(&cluster, "alice", &transfer("0099-9999999", "サギ", 50_000)).await;
        let v = verify(&cluster, 0, "alice", more["id"].as_str().unwrap(), &code).await;
        assert_eq!(
            (v["valid"].clone(), v["reason"].clone()),
            (json!(false), json!("invalid"))
        );
        assert_eq!(v["failures"], 1);
        let v = verify(&cluster, 1, "alice", other["id"].as_str().unwrap(), &code).await;
        assert_eq!(v["reason"], "invalid");
        assert_eq!(v["failures"], 2);

        // A phished login code (TOTP of the same token, now) is useless for the transfer:
        // six digits where a transfer code has eight (audited, not counted: it cannot be right).
        let now_secs = u64::try_from(cluster.now() / 1000).unwrap();
        let params = OtpParams::REGISTRATION;
        let phished = totp(&seed, &params, now_secs).to_string();
        let v = verify(&cluster, 0, "alice", id, &phished).await;
        assert_eq!(
            (v["reason"].as_str(), v["digits"].as_u64()),
            (Some("wrong_length"), Some(8))
        );
        assert_eq!(v["failures"], 2);

        // The right code is accepted once, on either instance; a success clears failures.
        let v = verify(&cluster, 1, "alice", id, &code).await;
        assert_eq!(
            (v["valid"].clone(), v["reason"].clone()),
            (json!(true), json!("ok")),
            "{v}"
        );
        assert_eq!(v["failures"], 0);
        let v = verify(&cluster, 0, "alice", id, &code).await;
        assert_eq!(
            (v["valid"].clone(), v["reason"].clone()),
            (json!(false), json!("reused"))
        );

        // Manual mode: the digits typed from the screen give a code the bank accepts.
        let typed = create(&cluster, "alice", &transfer("1234567", "スズキ", 7)).await;
        let grouped = typed["manual_digits_grouped"].as_str().unwrap();
        assert!(grouped.ends_with(" 234567 7"), "{typed}");
        let manual = ManualDigits::parse(grouped)
            .unwrap()
            .response(&seed)
            .to_string();
        let v = verify(&cluster, 1, "alice", typed["id"].as_str().unwrap(), &manual).await;
        assert_eq!(v["reason"], "ok", "{v}");

        // Two instances racing with the right code: exactly one accepts it.
        let race = create(&cluster, "alice", &transfer("12345678", "タナカ", 1_000)).await;
        let race_id = race["id"].as_str().unwrap();
        let race_code = sign(race["payload"].as_str().unwrap(), &seed);
        let (x, y) = tokio::join!(
            verify(&cluster, 0, "alice", race_id, &race_code),
            verify(&cluster, 1, "alice", race_id, &race_code)
        );
        let mut reasons = [x["reason"].as_str().unwrap(), y["reason"].as_str().unwrap()];
        reasons.sort_unstable();
        assert_eq!(reasons, ["ok", "reused"]);

        // An expired challenge is refused even with the right code, without counting it.
        let late = create(&cluster, "alice", &transfer("12345678", "タナカ", 2_000)).await;
        let late_code = sign(late["payload"].as_str().unwrap(), &seed);
        let failures_before = verify(&cluster, 0, "alice", race_id, &race_code).await["failures"]
            .as_u64()
            .unwrap();
        cluster.clock.advance_ms(300_000);
        let v = verify(
            &cluster,
            1,
            "alice",
            late["id"].as_str().unwrap(),
            &late_code,
        )
        .await;
        assert_eq!(v["reason"], "expired", "{v}");
        assert_eq!(v["failures"].as_u64().unwrap(), failures_before);

        // The audit trail has the digest and the masked account, never the account.
        let (status, audit) = get(
            &cluster.a,
            &format!("/v1/services/{SERVICE}/audit?limit=1000"),
            API_KEY,
        )
        .await;
        assert_eq!(status, 200, "{audit}");
        let text = audit.to_string();
        assert!(text.contains("transaction_created"), "{text}");
        // Refused checks name their challenge too: the race's loser and the late one.
        assert!(text.contains(&format!("reused id={race_id}")), "{text}");
        let late_id = late["id"].as_str().unwrap();
        assert!(text.contains(&format!("expired id={late_id}")), "{text}");
        assert!(text.contains(&format!("digest={}", tx["digest"].as_str().unwrap())));
        assert!(text.contains("*******6789"));
        assert!(!text.contains("00123456789") && !text.contains("0012-3456789"));

        cluster.finish().await;
    }
}

#[tokio::test]
async fn wrong_transfer_codes_lock_the_user_for_verify_too() {
    for backend in backends() {
        let cluster = Cluster::start(&backend, Policy::default()).await;
        let bob = UserId::new("bob").unwrap();
        let (_serial, seed) = cluster.active_token(&bob).await;
        let tx = create(&cluster, "bob", &transfer("12345678", "サギ", 900_000)).await;
        let id = tx["id"].as_str().unwrap();
        let right = sign(tx["payload"].as_str().unwrap(), &seed);
        let wrong = another_code(&right);
        for i in 1..=5u64 {
            let v = verify(&cluster, i as usize, "bob", id, wrong).await;
            assert_eq!(v["failures"].as_u64().unwrap(), i, "{v}");
        }
        // Locked: the right transfer code, and the login verify, are both refused.
        let v = verify(&cluster, 0, "bob", id, &right).await;
        assert_eq!(v["reason"], "locked", "{v}");
        let now_secs = u64::try_from(cluster.now() / 1000).unwrap();
        let params = OtpParams::REGISTRATION;
        let login = totp(&seed, &params, now_secs).to_string();
        let uri = format!("/v1/services/{SERVICE}/users/bob/verify");
        let (status, v) = post(&cluster.b, &uri, Some(API_KEY), &json!({"otp": login})).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["reason"], "locked", "{v}");
        cluster.finish().await;
    }
}

#[tokio::test]
async fn malformed_challenges_are_4xx_naming_the_field() {
    for backend in backends() {
        let cluster = Cluster::start(&backend, Policy::default()).await;
        let carol = UserId::new("carol").unwrap();
        let (serial, _) = cluster.active_token(&carol).await;
        let uri = format!("/v1/services/{SERVICE}/users/carol/transactions");
        for (body, field) in [
            (transfer("", "A", 1), "payee_account"),
            (transfer("1234", "", 1), "payee_name"),
            (transfer("1234", "A", 0), "amount"),
            (
                json!({"payee_account": "1", "payee_name": "A", "amount": "lots", "currency": "JPY"}),
                "amount",
            ),
            (
                json!({"payee_account": "1", "payee_name": "A", "amount": 5, "currency": "JPYEN"}),
                "currency",
            ),
            (
                json!({"payee_account": "1", "payee_name": "A", "amount": 5, "currency": "JPY", "ttl_seconds": 5}),
                "ttl_seconds",
            ),
        ] {
            let (status, problem) = post(&cluster.a, &uri, Some(API_KEY), &body).await;
            assert!(status.is_client_error(), "{body}: {status} {problem}");
            assert!(
                problem["detail"].as_str().unwrap().contains(field),
                "{field}: {problem}"
            );
        }
        // No such user or challenge: 404.
        let (status, _) = post(
            &cluster.a,
            &format!("/v1/services/{SERVICE}/users/nobody/transactions"),
            Some(API_KEY),
            &transfer("1234", "A", 1),
        )
        .await;
        assert_eq!(status, 404);
        let (status, _) = post(
            &cluster.b,
            &format!("{uri}/nope/verify"),
            Some(API_KEY),
            &json!({"otp": "12345678"}),
        )
        .await;
        assert_eq!(status, 404);
        // A user whose token is revoked: no_token, not counted.
        let tx = create(&cluster, "carol", &transfer("1234", "A", 1)).await;
        let revoke = format!("/v1/services/{SERVICE}/tokens/{}/revoke", serial.as_str());
        let (status, body) = post(&cluster.a, &revoke, Some(API_KEY), &json!({})).await;
        assert!(status.is_success(), "{body}");
        let v = verify(&cluster, 1, "carol", tx["id"].as_str().unwrap(), "12345678").await;
        assert_eq!(
            (v["reason"].clone(), v["failures"].clone()),
            (json!("no_token"), json!(0)),
            "{v}"
        );
        cluster.finish().await;
    }
}

/// A code of another length than the token's (six digits for a transfer's eight, eight for
/// a six-digit login token) is answered `wrong_length` with the digits expected, on every
/// route that takes a code, and never counts toward the lockout, however often and
/// between real failures; the audit trail keeps each one.
#[tokio::test]
async fn a_code_of_the_wrong_length_names_the_digits_and_is_not_counted() {
    for backend in backends() {
        let cluster = Cluster::start(&backend, Policy::default()).await;
        let carol = UserId::new("carol").unwrap();
        let (_serial, seed) = cluster.active_token(&carol).await;
        let tx = create(
            &cluster,
            "carol",
            &transfer("0012-3456789", "ヤマダ", 12_000),
        )
        .await;
        let id = tx["id"].as_str().unwrap();
        let right = sign(tx["payload"].as_str().unwrap(), &seed);
        let wrong = another_code(&right);

        // Six digits typed for the transfer's eight, more times than the lockout allows.
        for i in 0..6 {
            let v = verify(&cluster, i, "carol", id, &right[..6]).await;
            assert_eq!(v["reason"], "wrong_length", "{v}");
            assert_eq!(v["digits"], 8, "{v}");
            assert_eq!(v["failures"], 0, "{v}");
            assert_eq!(v["remaining_attempts"], 5, "{v}");
        }
        // A real failure counts; a wrong length after it leaves the count where it was.
        let v = verify(&cluster, 0, "carol", id, wrong).await;
        assert_eq!(
            (v["reason"].as_str(), v["failures"].as_u64()),
            (Some("invalid"), Some(1))
        );
        let v = verify(&cluster, 1, "carol", id, "1234567").await;
        assert_eq!(v["reason"], "wrong_length", "{v}");
        assert_eq!(
            (v["failures"].as_u64(), v["remaining_attempts"].as_u64()),
            (Some(1), Some(4))
        );

        // The login token has six digits: eight are refused the same way by verify.
        let login_uri = format!("/v1/services/{SERVICE}/users/carol/verify");
        let (status, v) = post(
            &cluster.b,
            &login_uri,
            Some(API_KEY),
            &json!({"otp": "12345678"}),
        )
        .await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(
            (v["reason"].as_str(), v["digits"].as_u64()),
            (Some("wrong_length"), Some(6))
        );
        assert_eq!(v["failures"], 1, "{v}");
        // ... and by stop (a proof of possession), as a 422 that names the field and digits.
        let stop_uri = format!("/v1/services/{SERVICE}/users/carol/stop");
        let (status, v) = post(
            &cluster.a,
            &stop_uri,
            Some(API_KEY),
            &json!({"otp": "12345678"}),
        )
        .await;
        assert_eq!(status, 422, "{v}");
        assert_eq!(v["code"], "wrong_length", "{v}");
        assert_eq!(
            (v["digits"].as_u64(), v["attempts_left"].as_u64()),
            (Some(6), Some(4))
        );
        assert!(v["detail"].as_str().unwrap().starts_with("otp: "), "{v}");

        // Nothing was counted: the right transfer code is still accepted, once.
        let v = verify(&cluster, 1, "carol", id, &right).await;
        assert_eq!(v["reason"], "ok", "{v}");
        assert_eq!(v.get("digits"), None, "{v}");

        let (status, audit) = get(
            &cluster.a,
            &format!("/v1/services/{SERVICE}/audit?limit=1000"),
            API_KEY,
        )
        .await;
        assert_eq!(status, 200, "{audit}");
        let wrong_lengths = |kind: &str, detail: &str| {
            audit["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == kind && e["detail"] == detail)
                .count()
        };
        // A transfer's rows name its challenge, refusals included.
        let transfer_detail = format!("wrong_length id={id}");
        assert_eq!(wrong_lengths("transaction", &transfer_detail), 7, "{audit}");
        assert_eq!(wrong_lengths("verify", "wrong_length"), 1, "{audit}");
        assert_eq!(wrong_lengths("possession", "wrong_length"), 1, "{audit}");
        cluster.finish().await;
    }
}

/// What the customer's token does with the digits typed from the bank's screen.
fn sign_typed(typed: &str, seed: &[u8]) -> String {
    ManualDigits::parse(typed)
        .unwrap()
        .response(seed)
        .to_string()
}

/// The manual code for `digits` by the `oath` package's OCRA (PyPI), an independent RFC 6287
/// implementation, under the transaction key of `seed`.
fn python_oath_manual(digits: &str, seed: &[u8]) -> String {
    let key = hex::encode(transaction_key(seed).as_slice());
    let script = format!(
        "import binascii, oath._ocra as o\n\
         print(o.str2ocrasuite('{MANUAL_SUITE}')(binascii.unhexlify('{key}'), Q='{digits}'))"
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3: {e}; scripts/setup.sh installs oath"));
    assert!(
        out.status.success(),
        "python3 oath failed (pip install oath==1.4.4, as scripts/setup.sh does): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Issue 22 item 1: a code typed in manual mode is bound to its challenge. The bank's
/// reproduction: transfer E (GB33BUKB20201555555555, 12,345 JPY) and transfer F
/// (DE89370400440555555555, 12,345 JPY) share amount and account tail; E's manual code
/// must not confirm F, nor a later challenge with E's exact details; it confirms E once
/// (then `reused`) and dies with E.
#[tokio::test]
async fn a_manual_code_confirms_its_own_challenge_only_once() {
    let e_account = "GB33BUKB20201555555555";
    let f_account = "DE89370400440555555555";
    for backend in backends() {
        let cluster = Cluster::start(&backend, Policy::default()).await;
        let dave = UserId::new("dave").unwrap();
        let (_serial, seed) = cluster.active_token(&dave).await;

        let e = create(&cluster, "dave", &transfer(e_account, "E Ltd", 12_345)).await;
        let f = create(&cluster, "dave", &transfer(f_account, "F GmbH", 12_345)).await;
        let e_digits = e["manual_digits"].as_str().unwrap();
        let f_digits = f["manual_digits"].as_str().unwrap();
        // What the customer types: at most 24 digits, the same tail and amount for both, and
        // a challenge number of E's own (so the digits, and the codes, differ).
        for (tx, digits) in [(&e, e_digits), (&f, f_digits)] {
            assert!((13..=24).contains(&digits.len()), "{tx}");
            assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{tx}");
            assert_eq!(&digits[6..], "55555512345", "{tx}");
            assert_eq!(
                ManualDigits::parse(tx["manual_digits_grouped"].as_str().unwrap())
                    .unwrap()
                    .as_str(),
                digits
            );
        }
        assert_ne!(e_digits[..6], f_digits[..6]);
        let e_code = sign_typed(e_digits, &seed);
        // Bit-exact with an independent OCRA (QN24 over exactly the digits shown).
        assert_eq!(e_code, python_oath_manual(e_digits, &seed));
        assert_eq!(
            sign_typed(f_digits, &seed),
            python_oath_manual(f_digits, &seed)
        );

        // E's manual code on F (same amount, same account tail): refused, and counted.
        let f_id = f["id"].as_str().unwrap();
        let v = verify(&cluster, 0, "dave", f_id, &e_code).await;
        assert_eq!(
            (
                v["valid"].clone(),
                v["reason"].clone(),
                v["failures"].clone()
            ),
            (json!(false), json!("invalid"), json!(1)),
            "{v}"
        );

        // A later challenge with E's exact details: E's code is refused there too.
        let e_again = create(&cluster, "dave", &transfer(e_account, "E Ltd", 12_345)).await;
        assert_ne!(e_again["manual_digits"], e["manual_digits"]);
        let v = verify(
            &cluster,
            1,
            "dave",
            e_again["id"].as_str().unwrap(),
            &e_code,
        )
        .await;
        assert_eq!(
            (v["reason"].clone(), v["failures"].clone()),
            (json!("invalid"), json!(2))
        );

        // On E itself: accepted once, on either instance, then `reused`.
        let e_id = e["id"].as_str().unwrap();
        let v = verify(&cluster, 0, "dave", e_id, &e_code).await;
        assert_eq!(
            (v["valid"].clone(), v["reason"].clone()),
            (json!(true), json!("ok")),
            "{v}"
        );
        let v = verify(&cluster, 1, "dave", e_id, &e_code).await;
        assert_eq!(v["reason"], "reused", "{v}");
        // Used on E, it still confirms nothing else.
        let v = verify(&cluster, 0, "dave", f_id, &e_code).await;
        assert_eq!(v["reason"], "invalid", "{v}");
        // F's own manual code still confirms F.
        let v = verify(&cluster, 1, "dave", f_id, &sign_typed(f_digits, &seed)).await;
        assert_eq!(v["reason"], "ok", "{v}");

        // The code dies with its challenge: once expired, the right manual code is refused.
        let g = create(&cluster, "dave", &transfer(e_account, "E Ltd", 12_345)).await;
        let g_code = sign_typed(g["manual_digits"].as_str().unwrap(), &seed);
        cluster.clock.advance_ms(300_000);
        let v = verify(&cluster, 0, "dave", g["id"].as_str().unwrap(), &g_code).await;
        assert_eq!(v["reason"], "expired", "{v}");
        cluster.finish().await;
    }
}

/// The store refuses a second challenge of a user with the same manual question (the
/// server then draws another number), atomically on both backends; other users and
/// challenges stored before manual questions (none) are unaffected. A pre-0010 challenge
/// accepts its scanned code only.
#[tokio::test]
async fn manual_questions_are_unique_per_user_and_old_challenges_refuse_manual_codes() {
    for backend in backends() {
        let cluster = Cluster::start(&backend, Policy::default()).await;
        let erin = UserId::new("erin").unwrap();
        let frank = UserId::new("frank").unwrap();
        let (_serial, seed) = cluster.active_token(&erin).await;
        cluster.active_token(&frank).await;
        let now = cluster.now();
        let details = TransferDetails::new("12345678", "タナカ", 5_000, "JPY").unwrap();
        let stored = |id: &str, user: &UserId, manual: Option<&str>| {
            let challenge = Challenge::new(cluster.service.clone(), id, details.clone()).unwrap();
            Transaction {
                id: id.into(),
                service_id: cluster.service.clone(),
                user_id: user.clone(),
                question: challenge.question(),
                manual_question: manual.map(str::to_string),
                masked_account: details.masked_account(),
                created_at: now,
                expires_at: now + 300_000,
                used_at: None,
            }
        };
        let event = |user: &UserId| {
            NewAuditEvent::new(&cluster.service, AuditKind::TransactionCreated, "test").user(user)
        };
        let q = "1234563456785000";
        assert!(
            cluster
                .store_a
                .create_transaction(&stored("t1", &erin, Some(q)), &event(&erin), now)
                .await
                .unwrap()
        );
        // The same question for the same user: refused, nothing written (on either instance).
        assert!(
            !cluster
                .store_b
                .create_transaction(&stored("t2", &erin, Some(q)), &event(&erin), now)
                .await
                .unwrap()
        );
        assert!(
            cluster
                .store_a
                .transaction(&cluster.service, &erin, "t2")
                .await
                .unwrap()
                .is_none()
        );
        // Another user may have it; another number is fine for the same user.
        assert!(
            cluster
                .store_a
                .create_transaction(&stored("t3", &frank, Some(q)), &event(&frank), now)
                .await
                .unwrap()
        );
        assert!(
            cluster
                .store_b
                .create_transaction(
                    &stored("t4", &erin, Some("1234573456785000")),
                    &event(&erin),
                    now
                )
                .await
                .unwrap()
        );
        // Challenges from before migration 0010 have no manual question; any number of them.
        for id in ["old1", "old2"] {
            assert!(
                cluster
                    .store_a
                    .create_transaction(&stored(id, &erin, None), &event(&erin), now)
                    .await
                    .unwrap()
            );
        }
        // Such a challenge refuses every manual code, and accepts its scanned one.
        let old = Challenge::new(cluster.service.clone(), "old1", details.clone()).unwrap();
        let v = verify(&cluster, 0, "erin", "old1", &sign_typed(q, &seed)).await;
        assert_eq!(v["reason"], "invalid", "{v}");
        let v = verify(
            &cluster,
            1,
            "erin",
            "old1",
            &old.response(&seed).to_string(),
        )
        .await;
        assert_eq!(v["reason"], "ok", "{v}");
        cluster.finish().await;
    }
}

/// /openapi.json tells banks what the manual digits are and that they are per challenge.
#[tokio::test]
async fn openapi_describes_the_manual_digits() {
    let backend = backends().remove(0);
    let cluster = Cluster::start(&backend, Policy::default()).await;
    let (status, api) = get(&cluster.a, "/openapi.json", API_KEY).await;
    assert_eq!(status, 200, "{api}");
    let props = &api["components"]["schemas"]["TransactionResponse"]["properties"];
    let manual = props["manual_digits"]["description"].as_str().unwrap();
    assert!(
        manual.contains("challenge number") && manual.contains("13 to 24"),
        "{manual}"
    );
    let grouped = props["manual_digits_grouped"]["description"]
        .as_str()
        .unwrap();
    assert!(grouped.contains("three"), "{grouped}");
    assert!(
        props["manual_suite"]["description"]
            .as_str()
            .unwrap()
            .contains("QN24")
    );
    cluster.finish().await;
}
