//! Issue 22, item 6: a service's policy has bounds, and `service add` refuses a setting
//! outside them naming the option and its range, while the bounds' edges are taken.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use softtoken_protocol::ServiceId;

/// Runs `softtoken-server ARGS --database URL --data-dir DIR`: (success, stdout, stderr).
fn run(url: &str, data: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_softtoken-server"))
        .args(args)
        .args(["--database", url, "--data-dir"])
        .arg(data)
        .env_remove("SOFTTOKEN_MASTER_KEY")
        .env_remove("SOFTTOKEN_CONFIG")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn service_add_refuses_a_setting_out_of_bounds_and_takes_the_edges() {
    let (url, _dir, _) = common::database(true);
    let url = common::isolated(url).await;
    let data = tempfile::tempdir().unwrap();
    let add = |id: &str, extra: &[&str]| {
        let mut args = vec!["service", "add", "--id", id, "--name", "Bank"];
        args.extend_from_slice(extra);
        run(&url, data.path(), &args)
    };
    // The pen test's policy: a million wrong codes in a window of ten steps.
    let refusals: [(&[&str], &str); 9] = [
        (
            &["--max-failures", "1000000", "--window", "10"],
            "--max-failures must be 1–20",
        ),
        (&["--max-failures", "0"], "--max-failures must be 1–20"),
        (&["--window", "11"], "--window must be 0–10"),
        (&["--digits", "7"], "--digits must be 6 or 8"),
        (&["--period", "45"], "--period must be 30 or 60"),
        (
            &["--tokens-per-user", "0"],
            "--tokens-per-user must be 1–10",
        ),
        (&["--cooldown", "8d"], "--cooldown must be 0s–7d"),
        (
            &["--enrollment-ttl", "31d"],
            "--enrollment-ttl must be 1m–30d",
        ),
        (
            &["--unassigned-quota", "0"],
            "--unassigned-quota must be 1–1000000",
        ),
    ];
    for (i, (extra, said)) in refusals.iter().enumerate() {
        let (ok, _, stderr) = add(&format!("bad{i}"), extra);
        assert!(!ok, "{extra:?} was taken");
        assert!(stderr.contains(said), "{extra:?}: {stderr}");
    }
    let store = softtoken_store::connect(&url).await.unwrap();
    let stored = store.services().await.unwrap();
    assert!(
        !stored.iter().any(|s| s.id.as_str().starts_with("bad")),
        "nothing refused was stored"
    );

    // Both edges of every bound are taken and stored as given.
    let (ok, _, stderr) = add(
        "low",
        &[
            "--digits",
            "6",
            "--period",
            "30",
            "--window",
            "0",
            "--max-failures",
            "1",
            "--cooldown",
            "0s",
            "--enrollment-ttl",
            "1m",
            "--tokens-per-user",
            "1",
            "--unassigned-quota",
            "1",
        ],
    );
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = add(
        "high",
        &[
            "--digits",
            "8",
            "--period",
            "60",
            "--window",
            "10",
            "--max-failures",
            "20",
            "--cooldown",
            "7d",
            "--enrollment-ttl",
            "30d",
            "--tokens-per-user",
            "10",
            "--unassigned-quota",
            "1000000",
        ],
    );
    assert!(ok, "{stderr}");
    let low = store
        .service(&ServiceId::new("low").unwrap())
        .await
        .unwrap()
        .unwrap()
        .policy;
    assert_eq!((low.window, low.max_failures, low.cooldown_secs), (0, 1, 0));
    let high = store
        .service(&ServiceId::new("high").unwrap())
        .await
        .unwrap()
        .unwrap()
        .policy;
    assert_eq!(
        (
            high.window,
            high.max_failures,
            high.tokens_per_user,
            high.unassigned_quota
        ),
        (10, 20, 10, 1_000_000)
    );
    assert_eq!(high.period.map(|p| p.seconds()), Some(60));
}
