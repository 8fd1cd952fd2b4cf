//! The main job as README runs it: `softtoken-server demo` (issue 25 item 10). A restart on
//! the same data directory keeps the API key the second terminal exported, the key is kept
//! private (0600), and the printed first step shows the enrollment without its QR SVG.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running demo: the process, its URL and the API key it printed.
struct Demo {
    child: Child,
    url: String,
    key: String,
    printed: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the demo on a free port and reads its instructions up to the `export KEY=` line.
fn start(data: &Path) -> Demo {
    let mut child = Command::new(env!("CARGO_BIN_EXE_softtoken-server"))
        .env_remove("SOFTTOKEN_MASTER_KEY")
        .env_remove("SOFTTOKEN_DATABASE_URL")
        .env_remove("RUST_LOG")
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let (mut url, mut key) = (None, None);
    while key.is_none() {
        let line = lines
            .next()
            .expect("the demo exited before printing its key")
            .unwrap();
        if let Some(rest) = line.strip_prefix("softtoken-server demo: serving ") {
            url = rest.split_whitespace().next().map(str::to_owned);
        }
        if let Some(k) = line.trim().strip_prefix("export KEY=") {
            key = Some(k.to_owned());
        }
        printed.push_str(&line);
        printed.push('\n');
    }
    // The rest of the instructions, which the demo prints at once.
    for line in lines.take_while(|l| l.as_ref().is_ok_and(|l| !l.contains("openapi.json"))) {
        printed.push_str(&line.unwrap());
        printed.push('\n');
    }
    Demo {
        child,
        url: url.expect("the demo printed no URL"),
        key: key.unwrap(),
        printed,
    }
}

/// The status of `GET /v1/services/demo/users/nobody` with `key`.
async fn status_with(url: &str, key: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{url}/v1/services/demo/users/nobody"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_restarted_demo_keeps_its_api_key() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(dir.path());
    assert!(first.key.starts_with("stk_"), "{}", first.key);
    // The key works (404: no such user, not 401), a made-up one does not.
    assert_eq!(status_with(&first.url, &first.key).await, 404);
    assert_eq!(status_with(&first.url, "stk_not-the-key").await, 401);
    let kept = dir.path().join("demo-api-key");
    assert_eq!(std::fs::read_to_string(&kept).unwrap().trim(), first.key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kept).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The first step leaves the 10 kB QR SVG out of the terminal.
    assert!(
        first.printed.contains("| jq 'del(.qr_svg)'"),
        "{}",
        first.printed
    );
    let first_key = first.key.clone();
    drop(first);

    let second = start(dir.path());
    assert_eq!(
        second.key, first_key,
        "a restart must keep the exported key"
    );
    assert_eq!(status_with(&second.url, &second.key).await, 404);
}

#[tokio::test]
async fn a_damaged_key_file_is_reported_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("demo-api-key"), "not a key\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_softtoken-server"))
        .env_remove("SOFTTOKEN_MASTER_KEY")
        .env_remove("SOFTTOKEN_DATABASE_URL")
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("demo-api-key"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("demo-api-key")).unwrap(),
        "not a key\n"
    );
}
