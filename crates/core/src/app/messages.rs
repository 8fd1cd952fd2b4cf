//! Everything the app says to the customer, as keys with their Japanese and English text.
//!
//! The model only ever chooses a [`MessageKey`] and its arguments; the words live in one
//! table ([`MessageKey::template`]), the same as the apps' string resources
//! (`android/app/src/main/res/values*/strings.xml`, `ios/App/Resources/*.lproj`), which a
//! test keeps equal. The resource name is the key both apps' files use.

use std::fmt;

/// The language of the texts: Japanese first, English for the rest of the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// 日本語 (the default).
    #[default]
    Japanese,
    /// English.
    English,
}

macro_rules! define_messages {
    ($($name:ident = ($res:literal, $args:literal, $ja:literal, $en:literal),)*) => {
        /// A message the app shows; the variant names follow the apps' resource names.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum MessageKey {
            $(
                #[doc = $en]
                $name,
            )*
        }

        impl MessageKey {
            /// Every key, in the table's order.
            pub const ALL: &'static [MessageKey] = &[$(MessageKey::$name,)*];

            /// The string resource name both apps use (`error_wrong_pin`).
            pub fn resource_name(self) -> &'static str {
                match self { $(MessageKey::$name => $res,)* }
            }

            /// How many numbers the text takes (`%1$d`, `%2$d`).
            pub fn arg_count(self) -> usize {
                match self { $(MessageKey::$name => $args,)* }
            }

            /// The text with its placeholders, as in the Android resources (`%1$d`).
            pub fn template(self, language: Language) -> &'static str {
                match (self, language) {
                    $(
                        (MessageKey::$name, Language::Japanese) => $ja,
                        (MessageKey::$name, Language::English) => $en,
                    )*
                }
            }
        }
    };
}

include!("messages_table.rs");

/// A message key with its arguments.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    /// What to say.
    pub key: MessageKey,
    /// The numbers substituted in order (`%1$d`, `%2$d`); as many as the key takes.
    pub args: Vec<i64>,
}

impl Message {
    /// A message without arguments.
    pub fn new(key: MessageKey) -> Self {
        Self::with(key, Vec::new())
    }

    /// A message with arguments; a count the key does not take is a bug, caught by the tests
    /// (debug builds), and the text then shows what it has.
    pub fn with(key: MessageKey, args: Vec<i64>) -> Self {
        debug_assert_eq!(args.len(), key.arg_count(), "{key:?}");
        Message { key, args }
    }

    /// The text in `language`, arguments substituted.
    pub fn text(&self, language: Language) -> String {
        let mut text = self.key.template(language).to_string();
        for (i, arg) in self.args.iter().enumerate() {
            text = text.replace(&format!("%{}$d", i + 1), &arg.to_string());
        }
        text
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:?}", self.key.resource_name(), self.args)
    }
}

impl From<MessageKey> for Message {
    fn from(key: MessageKey) -> Self {
        Message::new(key)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use super::*;

    fn repo_file(path: &str) -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// `name -> text` of an Android `strings.xml` (the few XML escapes the files use undone).
    fn android(path: &str) -> HashMap<String, String> {
        let xml = repo_file(path);
        xml.split("<string name=\"")
            .skip(1)
            .filter_map(|rest| {
                let (name, rest) = rest.split_once("\">")?;
                let (text, _) = rest.split_once("</string>")?;
                let text = text
                    .replace("\\'", "'")
                    .replace("\\\"", "\"")
                    .replace("&amp;", "&")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">");
                Some((name.to_string(), text))
            })
            .collect()
    }

    /// `key -> text` of an iOS `Localizable.strings`, its `%1$ld` read as Android's `%1$d`.
    fn ios(path: &str) -> HashMap<String, String> {
        repo_file(path)
            .lines()
            .filter_map(|line| {
                let line = line.trim().strip_prefix('"')?.strip_suffix("\";")?;
                let (key, text) = line.split_once("\" = \"")?;
                Some((
                    key.to_string(),
                    text.replace("$ld", "$d").replace("\\\"", "\""),
                ))
            })
            .collect()
    }

    #[test]
    fn the_table_matches_the_apps_string_files() {
        let files = [
            (
                Language::Japanese,
                android("android/app/src/main/res/values/strings.xml"),
            ),
            (
                Language::English,
                android("android/app/src/main/res/values-en/strings.xml"),
            ),
            (
                Language::Japanese,
                ios("ios/App/Resources/ja.lproj/Localizable.strings"),
            ),
            (
                Language::English,
                ios("ios/App/Resources/en.lproj/Localizable.strings"),
            ),
        ];
        for (language, strings) in &files {
            for key in MessageKey::ALL {
                assert_eq!(
                    strings.get(key.resource_name()).map(String::as_str),
                    Some(key.template(*language)),
                    "{key:?} in {language:?}"
                );
            }
        }
    }

    #[test]
    fn every_placeholder_is_filled() {
        for key in MessageKey::ALL {
            let args: Vec<i64> = (1..=key.arg_count() as i64).map(|n| n * 7).collect();
            for language in [Language::Japanese, Language::English] {
                let text = Message::with(*key, args.clone()).text(language);
                assert!(!text.contains('%'), "{key:?}: {text}");
            }
        }
        assert_eq!(
            Message::with(MessageKey::CodeCopied, vec![60]).text(Language::English),
            "One-time password copied. It is removed from the clipboard in 60 seconds."
        );
    }
}
