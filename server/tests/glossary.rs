//! One glossary for every surface (issue 25 item 2): the words `docs/glossary.toml` gives
//! for a token's and a user's states are the ones the desktop token, the help-desk console,
//! the activation mail and the apps show, and no retired word for them is left anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use softtoken_server::console::text::{self, JA};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The glossary: state key → Japanese word; and the retired words.
fn glossary() -> (HashMap<String, String>, Vec<String>) {
    let doc: toml::Value = toml::from_str(&read("docs/glossary.toml")).unwrap();
    let terms = doc["term"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["key"].as_str().unwrap().to_owned(),
                t["ja"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let retired = doc["retired"]["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect();
    (terms, retired)
}

/// The surfaces' Japanese texts, by name.
const SURFACES: [&str; 7] = [
    "crates/cli/src/msg.rs",
    "crates/cli/src/help_ja.rs",
    "server/src/console/text.rs",
    "server/src/console/text/audit.rs",
    "crates/service/src/mail/template.rs",
    "android/app/src/main/res/values/strings.xml",
    "ios/App/Resources/ja.lproj/Localizable.strings",
];

/// `name`'s value in an iOS `.strings` file.
fn ios_string(file: &str, name: &str) -> String {
    let prefix = format!("\"{name}\" = \"");
    let line = file
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("iOS has no {name}"));
    line[prefix.len()..line.len() - 2].to_owned()
}

/// `name`'s value in an Android `strings.xml`.
fn android_string(file: &str, name: &str) -> String {
    let open = format!("<string name=\"{name}\">");
    let at = file
        .find(&open)
        .unwrap_or_else(|| panic!("Android has no {name}"));
    let rest = &file[at + open.len()..];
    rest[..rest.find("</string>").unwrap()].to_owned()
}

#[test]
fn the_console_uses_the_glossarys_words() {
    let (words, _) = glossary();
    for key in ["active", "pending", "revoked", "stopped"] {
        assert_eq!(
            text::token_state(&JA, key),
            words[key],
            "console state {key}"
        );
    }
    assert_eq!(JA.user_locked, words["locked"]);
    assert_eq!(JA.unlock, words["unlock"]);
    assert_eq!(JA.revoke, words["revoked"]);
    assert_eq!(JA.stop, words["stopped"]);
    for (kind, key) in [
        ("user_locked", "locked"),
        ("user_unlocked", "unlock"),
        ("token_revoked", "revoked"),
        ("otp_stopped", "stopped"),
        ("token_replaced", "replaced"),
    ] {
        assert_eq!(text::audit_kind(&JA, kind), words[key], "audit kind {kind}");
    }
}

#[test]
fn the_desktop_token_uses_the_glossarys_words() {
    let (words, _) = glossary();
    let msg = read("crates/cli/src/msg.rs");
    for key in ["active", "pending", "revoked", "stopped"] {
        let pair = format!("(\"{key}\", \"{}\")", words[key]);
        assert!(msg.contains(&pair), "the CLI's {key} is not {pair}");
    }
    let replaced = format!("(\"replaced\", \"{}", words["replaced"]);
    assert!(
        msg.contains(&replaced),
        "the CLI's replaced is not {replaced}…"
    );
}

#[test]
fn the_apps_use_the_glossarys_words() {
    let (words, _) = glossary();
    let ios = read("ios/App/Resources/ja.lproj/Localizable.strings");
    let android = read("android/app/src/main/res/values/strings.xml");
    for key in ["active", "pending", "revoked", "stopped"] {
        let name = format!("label_status_{key}");
        assert_eq!(ios_string(&ios, &name), words[key], "iOS {name}");
        assert_eq!(
            android_string(&android, &name),
            words[key],
            "Android {name}"
        );
    }
    assert!(ios_string(&ios, "label_status_replaced").starts_with(&words["replaced"]));
    assert!(android_string(&android, "label_status_replaced").starts_with(&words["replaced"]));
}

#[test]
fn no_surface_keeps_a_retired_word() {
    let (_, retired) = glossary();
    for surface in SURFACES {
        let text = read(surface);
        for word in &retired {
            assert!(!text.contains(word.as_str()), "{surface} still says {word}");
        }
    }
}

#[test]
fn the_stop_is_never_called_a_lockout() {
    // 利用停止 is the lockout (wrong codes), which 利用停止解除 ends: a stopped token called
    // 利用停止 reads as if the console's unlock could undo the stop.
    let (words, _) = glossary();
    let locked = &words["locked"];
    let msg = read("crates/cli/src/msg.rs");
    assert!(!msg.contains(&format!("(\"stopped\", \"{locked}\")")));
    assert_ne!(text::token_state(&JA, "stopped"), locked.as_str());
    let ios = read("ios/App/Resources/ja.lproj/Localizable.strings");
    assert_ne!(ios_string(&ios, "label_status_stopped"), *locked);
}
