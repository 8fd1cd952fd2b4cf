//! The configuration file through the real binary (issue 13, item 5): `config check` prints
//! every setting with its source and secrets masked; a bad file stops it with status 2 and
//! the line; `serve --config` listens where the file says; the shipped example is valid and
//! mentions every setting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary with none of the caller's SOFTTOKEN_ variables.
fn server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_softtoken-server"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SOFTTOKEN_") {
            command.env_remove(name);
        }
    }
    command
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// The line of `config check`'s output that sets (or leaves unset) `key`.
fn line<'a>(stdout: &'a str, key: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| {
            let l = l.trim_start_matches("# ");
            l.starts_with(&format!("{key} ")) || l.starts_with(&format!("{key}="))
        })
        .unwrap_or_else(|| panic!("no {key} in\n{stdout}"))
}

fn check(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    server()
        .args(["config", "check", "--config"])
        .arg(config)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn config_check_prints_every_setting_with_its_source_and_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "softtoken.toml",
        "# the bank's settings\n\
         listen = \"127.0.0.1:9443\"\n\
         database = \"postgres://otp:hunter2@db.bank.example/otp\"\n\
         app_rate_limit = 5\n\
         max_connections = 100\n\
         trusted_proxy = [\"10.0.0.0/8\"]\n",
    );
    let out = check(
        &config,
        &["--max-connections", "7"],
        &[("SOFTTOKEN_APP_RATE_LIMIT", "42")],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.starts_with(&format!(
            "# softtoken-server: configuration valid; file {} (flag)",
            config.display()
        )),
        "{stdout}"
    );
    let sourced = |key: &str, value: &str, source: &str| {
        let l = line(&stdout, key);
        assert!(l.starts_with(&format!("{key} = {value} ")), "{l}");
        assert!(l.ends_with(&format!("# {source}")), "{l}");
    };
    sourced("listen", "\"127.0.0.1:9443\"", "file, line 2");
    sourced("app_rate_limit", "42", "env SOFTTOKEN_APP_RATE_LIMIT");
    sourced("max_connections", "7", "flag");
    sourced("trusted_proxy", "[\"10.0.0.0/8\"]", "file, line 6");
    sourced("request_timeout", "\"60s\"", "default");
    sourced(
        "database",
        "\"postgres://otp:********@db.bank.example/otp\"",
        "file, line 3",
    );
    assert!(line(&stdout, "public_url").starts_with("# public_url"));
    assert!(!stdout.contains("hunter2"), "{stdout}");
    // Every flag of `serve` is there, nothing else.
    let help = text(&server().args(["serve", "--help"]).output().unwrap().stdout);
    for long in flags(&help) {
        if long != "config" && long != "help" {
            line(&stdout, &long.replace('-', "_"));
        }
    }
}

/// The long flags a `--help` text lists.
fn flags(help: &str) -> Vec<String> {
    help.split_whitespace()
        .filter_map(|w| w.strip_prefix("--"))
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_owned()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

#[test]
fn a_bad_file_stops_the_server_with_status_2_naming_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "bad.toml",
        "listen = \"127.0.0.1:0\"\nlisen = \"0.0.0.0:80\"\n",
    );
    for args in [&["config", "check"][..], &["serve"][..]] {
        let out = server()
            .args(args)
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "{}:2:1: unknown setting `lisen` (did you mean `listen`?)",
                config.display()
            )),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
    // A wrong value through the environment's SOFTTOKEN_CONFIG: the same status.
    let config = write(dir.path(), "wrong.toml", "max_connections = -1\n");
    let out = server()
        .args(["config", "check"])
        .env("SOFTTOKEN_CONFIG", &config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(":1:19: `max_connections` = \"-1\": invalid digit found in string; expected what --max-connections <MAX_CONNECTIONS> takes: Connections open at once"),
        "{stderr}"
    );
}

#[test]
fn the_shipped_example_is_valid_and_mentions_every_setting() {
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/softtoken-server.example.toml");
    let out = check(&example, &[], &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let source = std::fs::read_to_string(&example).unwrap();
    let mut missing = Vec::new();
    for l in stdout.lines().skip(1) {
        let key = l.trim_start_matches("# ").split([' ', '=']).next().unwrap();
        let documented = source.lines().any(|s| {
            let s = s.trim_start_matches("# ");
            s.starts_with(&format!("{key} = "))
        });
        if !documented {
            missing.push(key.to_owned());
        }
        // Whatever the example sets, it sets from the file.
        if !l.starts_with('#') {
            assert!(l.contains("# file, line "), "{l}");
        }
    }
    assert!(
        missing.is_empty(),
        "docs/softtoken-server.example.toml does not document {missing:?}: add each with a \
         comment (commented out if it has no sensible example value)"
    );
}

#[test]
fn the_readme_s_production_example_is_valid() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let section = &readme[readme.find("### Configuration file").unwrap()..];
    let block = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README's Configuration file section has a ```toml example");
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "production.toml", block);
    // The secrets the README says come from the environment.
    let env = [
        (
            "SOFTTOKEN_SMTP_URL",
            "smtp://otp:hunter2@mail.bank.example:587?tls=required",
        ),
        (
            "SOFTTOKEN_DATABASE_URL",
            "postgres://otp:hunter2@db.bank.example/otp",
        ),
    ];
    let out = check(&file, &[], &env);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for key in block.lines().filter_map(|l| l.split(" = ").next()) {
        if key.is_empty() {
            continue;
        }
        assert!(
            line(&stdout, key).contains("# file, line "),
            "{key}: {stdout}"
        );
    }
    assert!(!stdout.contains("hunter2"), "{stdout}");
}

#[test]
fn serve_listens_on_the_address_the_file_gives() {
    let dir = tempfile::tempdir().unwrap();
    // A port free a moment ago; the server must take exactly it, as the file says.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = write(
        dir.path(),
        "softtoken.toml",
        &format!(
            "listen = \"127.0.0.1:{port}\"\ndata_dir = {:?}\n[app]\nrate_limit = 0\n",
            dir.path().join("data").to_str().unwrap()
        ),
    );
    let mut child = server()
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(
        first.trim(),
        format!("softtoken-server listening on http://127.0.0.1:{port}")
    );
    // The line is printed once the port is bound: it answers now.
    let answer = reqwest::blocking::get(format!("http://127.0.0.1:{port}/v1/time")).unwrap();
    assert_eq!(answer.status(), 200);
    // The file's data directory, not the default one, holds the database and key.
    assert!(dir.path().join("data/softtoken.db").exists());
    child.kill().unwrap();
    child.wait().unwrap();
}
