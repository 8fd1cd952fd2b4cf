//! `--help` in Japanese: the command tree's descriptions, argument help and clap's own
//! headings, replaced from one table when the language is Japanese. The English help stays
//! in the doc comments (clap's derive reads them); this table holds only the Japanese.
//! A test walks the whole tree, so a new command or option without its Japanese fails.

use clap::Command;

/// Japanese descriptions of commands, by path (`""` is `softtoken` itself).
const ABOUT: &[(&str, &str)] = &[
    (
        "",
        "softtoken: インターネットバンキングのワンタイムパスワード",
    ),
    (
        "otp",
        "base32 の秘密鍵の TOTP コードを表示します（相互運用・確認用。何も保存しません）",
    ),
    ("serial", "シリアル番号を作成・確認します"),
    (
        "serial new",
        "新しいシリアル番号を表示します（12文字、空白なし）",
    ),
    (
        "serial check",
        "シリアル番号を正規化して表示します。誤りがあればどこが違うかを示します",
    ),
    ("list", "保管庫のトークンを一覧表示します"),
    (
        "show",
        "現在のワンタイムパスワードを表示します（残り時間つきで更新、Ctrl-C で終了。--once、--json も可）",
    ),
    ("lock", "アプリロック（暗証番号）の設定・変更・解除をします"),
    ("lock set", "アプリロックを設定します（暗証番号を2回入力）"),
    (
        "lock change",
        "暗証番号を変更します（現在の暗証番号、新しい暗証番号の順）",
    ),
    ("lock off", "アプリロックを解除します（暗証番号を入力）"),
    (
        "help",
        "このメッセージ、または指定したコマンドのヘルプを表示します",
    ),
    ("delete", "トークンを1つ保管庫から削除します"),
    (
        "wipe",
        "すべてのトークン、暗証番号、鍵を削除します（暗証番号を忘れたときはこちら）",
    ),
    (
        "activate",
        "銀行から受け取った利用開始パスワードでトークンを利用開始します",
    ),
    (
        "provision",
        "インターネットバンキングにシリアル番号とワンタイムパスワードで登録するトークンを作成します",
    ),
    ("sync-time", "各サーバーとの時刻のずれを更新します"),
    (
        "refresh",
        "各トークンの状態（利用中、トークン失効など）を銀行に確認し、時刻のずれも更新します",
    ),
    (
        "sign",
        "取引確認: 銀行のQRコードの内容、または画面の数字から、その取引を確認するワンタイムパスワードを表示します",
    ),
    (
        "ocra",
        "OCRA（RFC 6287）の応答を表示します（相互運用・確認用。何も保存しません）",
    ),
];

/// Japanese help of arguments, by argument ID (the same option means the same everywhere).
const ARGS: &[(&str, &str)] = &[
    (
        "lang",
        "表示する言語: ja（日本語）または en（英語）。省略時は LC_ALL / LC_MESSAGES / LANG から（ja_JP.UTF-8 なら日本語）",
    ),
    (
        "secret",
        "base32（RFC 4648）の秘密鍵。パディングの有無、大文字小文字、空白は問いません",
    ),
    ("algorithm", "HMAC のハッシュ関数: sha1、sha256、sha512"),
    ("digits", "桁数: 6 または 8"),
    ("period", "時間間隔（秒、10～300）"),
    ("time", "計算する時刻（Unix 秒。省略時は現在）"),
    (
        "text",
        "入力されたシリアル番号（空白、ハイフン、小文字も可）",
    ),
    ("json", "表の代わりに JSON で出力します"),
    (
        "pin_stdin",
        "暗証番号を端末ではなく標準入力から1行ずつ読みます（設定・変更では確認のためもう1行）",
    ),
    (
        "offline",
        "先にトークンの状態を銀行に確認しません（通信なし。SOFTTOKEN_OFFLINE=1 と同じ）",
    ),
    (
        "ca_file",
        "組み込みの認証局に加えて信頼する CA 証明書の PEM ファイル（銀行独自の CA、テスト用サーバーの CA）。利用開始したサーバーには以後も使われます",
    ),
    (
        "serial",
        "対象のトークンのシリアル番号（空白、ハイフン、小文字も可）",
    ),
    ("once", "毎秒更新せず、一度だけ表示して終了します"),
    ("yes", "確認せずに実行します"),
    ("server", "銀行の利用開始サーバー（https://…）"),
    ("service", "銀行から案内されたサービスID"),
    ("user", "銀行から案内されたユーザID"),
    (
        "uri",
        "銀行のQRコードの利用開始URI（softtoken://activate?…）",
    ),
    (
        "password_stdin",
        "利用開始パスワードを端末ではなく標準入力から1行で読みます",
    ),
    (
        "challenge",
        "銀行のQRコードの取引確認の内容（softtoken://sign?v=1&…）",
    ),
    (
        "digits_typed",
        "手入力: 銀行の画面の数字（manual_digits）をそのまま。確認番号6桁、振込先口座番号の下6桁、金額の順（空白・ハイフン可）",
    ),
    ("suite", "OCRA スイート（例: OCRA-1:HOTP-SHA1-6:QN08）"),
    ("key", "16進数の鍵"),
    ("counter", "スイートにカウンタ C があるときの値"),
    (
        "question",
        "質問。スイートの形式で（QN は10進、QA は文字列、QH は16進）",
    ),
    (
        "password",
        "スイートに P があるときの PIN（スイートの指定どおりにハッシュします）",
    ),
    ("session", "スイートに S があるときのセッション情報（16進）"),
    ("help", "ヘルプを表示します"),
    ("version", "バージョンを表示します"),
];

/// The Japanese of an argument, if the table has it.
fn arg_help(id: &str, path: &str) -> Option<&'static str> {
    // Two commands use `--time` and `--serial` a little differently.
    match (path, id) {
        ("ocra", "time") => return Some("スイートに T があるときの時刻（Unix 秒）"),
        ("delete", "serial") => {
            return Some("削除するトークンのシリアル番号（空白、ハイフン、小文字も可）");
        }
        _ => {}
    }
    ARGS.iter().find(|(k, _)| *k == id).map(|(_, v)| *v)
}

/// `command` (at `path`) with its help in Japanese, and every subcommand's.
pub fn localise(command: Command) -> Command {
    localise_at(command, "")
}

fn localise_at(mut command: Command, path: &str) -> Command {
    // clap's own `help` subcommand sits under every command with subcommands.
    let key = if path.rsplit(' ').next() == Some("help") {
        "help"
    } else {
        path
    };
    if let Some((_, about)) = ABOUT.iter().find(|(p, _)| *p == key) {
        command = command.about(*about).long_about(None);
    }
    command = command
        .help_template("{about-with-newline}\n使い方: {usage}\n\n{all-args}{after-help}")
        .subcommand_help_heading("コマンド")
        .subcommand_value_name("コマンド")
        .next_help_heading("オプション");
    // clap adds --help and --version when it builds; build now so they can be translated.
    command.build();
    let ids: Vec<String> = command
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    for id in ids {
        let positional = command
            .get_arguments()
            .find(|a| a.get_id() == id.as_str())
            .is_some_and(|a| a.is_positional());
        if let Some(help) = arg_help(&id, path) {
            command = command.mut_arg(id.as_str(), |a| {
                let a = a.help(help).long_help(None).hide_possible_values(true);
                a.help_heading(if positional {
                    "引数"
                } else {
                    "オプション"
                })
            });
        }
    }
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        let sub_path = if path.is_empty() {
            name.clone()
        } else {
            format!("{path} {name}")
        };
        command = command.mut_subcommand(name.as_str(), |s| localise_at(s, &sub_path));
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every command and every argument of the tree has its Japanese (none left English).
    #[test]
    fn every_command_and_option_has_japanese_help() {
        fn walk(command: &Command, path: &str, missing: &mut Vec<String>) {
            if !ABOUT.iter().any(|(p, _)| *p == path) {
                missing.push(format!("about of `{path}`"));
            }
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if arg.is_hide_set() {
                    continue;
                }
                if arg_help(id, path).is_none() {
                    missing.push(format!("`{id}` of `{path}`"));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_name() == "help" {
                    continue;
                }
                let sub_path = if path.is_empty() {
                    sub.get_name().to_string()
                } else {
                    format!("{path} {}", sub.get_name())
                };
                walk(sub, &sub_path, missing);
            }
        }
        let mut command = crate::Cli::command();
        command.build();
        let mut missing = Vec::new();
        walk(&command, "", &mut missing);
        assert!(missing.is_empty(), "no Japanese for: {missing:?}");
    }

    #[test]
    fn the_japanese_help_reads_japanese() {
        let mut command = localise(crate::Cli::command());
        let help = command.render_help().to_string();
        assert!(help.contains("使い方:"), "{help}");
        assert!(help.contains("コマンド"), "{help}");
        assert!(help.contains("取引確認"), "{help}");
        assert!(!help.contains("Usage:"), "{help}");
        let mut sign = localise(crate::Cli::command())
            .find_subcommand_mut("sign")
            .cloned()
            .unwrap();
        let help = sign.render_help().to_string();
        assert!(help.contains("確認番号6桁"), "{help}");
        assert!(!help.contains("Read the PIN"), "{help}");
    }
}
