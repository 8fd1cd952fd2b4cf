//! The configuration file (`--config FILE` or `SOFTTOKEN_CONFIG`): a TOML file holding any
//! of `serve`'s settings, under the flag's long name with `_` for `-` (`--app-rate-limit` is
//! `app_rate_limit`); a table joins its name to its keys the same way (`[tls] cert` is
//! `tls_cert`, `--tls-cert`). Repeatable flags take arrays (`trusted_proxy = ["10.0.0.0/8"]`).
//!
//! Nothing here knows a setting by name: every key is looked up among the arguments clap
//! declares (`config.rs`), and its value is installed as that argument's default before the
//! command line is parsed, so a flag added there is a key here with no further code, clap's
//! own value parser checks the file's value, and clap's order of precedence gives flag >
//! environment > file > built-in default. The environment is read here rather than by clap
//! (each argument's `env` is installed as a default above the file's), so that tests can pass
//! one in and `config check` can say where each value came from.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};
use toml::de::{DeTable, DeValue};

use crate::config::{Cli, Command as Subcommand, ConfigCommand};

/// The subcommand whose arguments are the settings a file may hold.
const SETTINGS_OF: &str = "serve";
/// The argument naming the file; a file cannot name another.
const CONFIG_ARG: &str = "config";
/// A value shown in place of a secret.
const MASK: &str = "********";

/// Why the command line and configuration could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// clap's own answer: a usage error, or the help or version asked for. Print it and exit
    /// as clap does (`clap::Error::exit`).
    Clap(clap::Error),
    /// A configuration file or environment value that is wrong, with the file, line and
    /// column, the key, and what was expected (exit status 2).
    Config(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Clap(e) => write!(f, "{e}"),
            LoadError::Config(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for LoadError {}

/// Where a setting's value came from, in order of precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The command line.
    Flag,
    /// This environment variable.
    Env(String),
    /// The configuration file, at this line.
    File(usize),
    /// The built-in default (or unset).
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("flag"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::File(line) => write!(f, "file, line {line}"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// One setting as a command will run with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// Its key in the file.
    pub key: String,
    /// Its values (one, or several for a repeatable flag; none when unset), secrets masked.
    pub values: Vec<String>,
    /// Whether it takes a list.
    pub repeatable: bool,
    /// Where the values came from.
    pub source: Source,
}

/// Every setting of a command and where each came from: what `config check` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effective {
    /// The configuration file read, and where its name came from.
    pub file: Option<(PathBuf, Source)>,
    /// The settings, in the order `--help` lists them.
    pub settings: Vec<Setting>,
}

impl Effective {
    /// The setting with this key.
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.key == key)
    }
}

impl fmt::Display for Effective {
    /// As a TOML file that would configure the same (secrets aside), each line saying where
    /// its value came from.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some((path, source)) => writeln!(
                f,
                "# softtoken-server: configuration valid; file {} ({source})",
                path.display()
            )?,
            None => writeln!(f, "# softtoken-server: configuration valid; no file")?,
        }
        let width = self
            .settings
            .iter()
            .map(|s| s.key.len() + toml_value(s).len() + 3)
            .max()
            .unwrap_or(0);
        for s in &self.settings {
            if s.values.is_empty() && !s.repeatable {
                writeln!(f, "# {:<width$}  # {} (unset)", s.key, s.source)?;
            } else {
                let line = format!("{} = {}", s.key, toml_value(s));
                writeln!(f, "{line:<width$}  # {}", s.source)?;
            }
        }
        Ok(())
    }
}

/// A setting's values as TOML: numbers and booleans bare, the rest quoted, lists as arrays.
fn toml_value(s: &Setting) -> String {
    let one = |v: &String| {
        if v.parse::<i64>().is_ok() || v == "true" || v == "false" {
            v.clone()
        } else {
            toml::Value::String(v.clone()).to_string()
        }
    };
    if s.repeatable {
        format!(
            "[{}]",
            s.values.iter().map(one).collect::<Vec<_>>().join(", ")
        )
    } else {
        s.values.first().map(one).unwrap_or_default()
    }
}

/// Parses the process's command line over its environment and configuration file.
pub fn load_process() -> Result<Cli, LoadError> {
    load(std::env::args_os(), |name| std::env::var_os(name))
}

/// Parses `args` (the program name first) with the environment `env` and the configuration
/// file they or it name: flag > environment > file > built-in default. For `config check`
/// the command also carries the [`Effective`] settings.
pub fn load<I, T>(args: I, env: impl Fn(&OsStr) -> Option<OsString>) -> Result<Cli, LoadError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let original = Cli::command();
    // Which subcommand runs, and its --config, before anything is installed: a first pass
    // that forgives every error. Help and version end up here; clap answers those itself.
    let Ok(first) = without_env(original.clone())
        .ignore_errors(true)
        .try_get_matches_from(&args)
    else {
        return Err(LoadError::Clap(clap_answer(&original, &args)));
    };
    let path = subcommand_path(&first);
    let leaf_matches = leaf(&first);
    let leaf_cmd = command_at(&original, &path);

    let mut installed = Installed::default();
    let mut file = None;
    let config_arg = leaf_cmd.get_arguments().find(|a| a.get_id() == CONFIG_ARG);
    let named = match leaf_matches.try_get_raw(CONFIG_ARG) {
        Ok(Some(mut raw)) => raw.next().map(|v| (PathBuf::from(v), Source::Flag)),
        _ => config_arg.and_then(|arg| {
            let name = arg.get_env()?;
            let value = env(name).filter(|v| !v.is_empty())?;
            Some((
                PathBuf::from(value),
                Source::Env(name.to_string_lossy().into()),
            ))
        }),
    };
    let mut command = without_env(original.clone());
    if let Some((config_path, source)) = named {
        let entries = read(&config_path)?;
        let settings = settings_command(&original);
        check_entries(&config_path, &entries, settings)?;
        command = install_file(command, &path, &entries, &mut installed);
        file = Some((config_path, source));
    }
    command = install_env(command, &original, &path, &env, &mut installed)?;

    let matches = match command.clone().try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) if is_answer(&e) => return Err(LoadError::Clap(clap_answer(&original, &args))),
        Err(e) => return Err(LoadError::Clap(e)),
    };
    let mut cli = Cli::from_arg_matches(&matches).map_err(LoadError::Clap)?;
    if let Subcommand::Config(ConfigCommand::Check(check)) = &mut cli.command {
        check.effective = Effective {
            file,
            settings: effective(command_at(&command, &path), leaf(&matches), &installed),
        };
    }
    Ok(cli)
}

/// What clap says to `args` on the command as declared (its help shows the environment
/// variables, which the command parsed here has moved into defaults).
fn clap_answer(original: &Command, args: &[OsString]) -> clap::Error {
    match original.clone().try_get_matches_from(args) {
        Err(e) => e,
        // Unreachable in practice: the forgiving pass failed only on help or version.
        Ok(_) => clap::Error::new(ErrorKind::DisplayHelp),
    }
}

fn is_answer(e: &clap::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    )
}

/// What the file and the environment installed, by argument ID, for `config check`.
#[derive(Default)]
struct Installed {
    /// Arguments set from the file, with its line.
    file: HashMap<String, usize>,
    /// Arguments set from the environment, with the variable.
    env: HashMap<String, String>,
}

// --- the command tree -------------------------------------------------------------------

/// The names of the subcommands `matches` went down, outermost first.
fn subcommand_path(matches: &ArgMatches) -> Vec<String> {
    let mut path = Vec::new();
    let mut at = matches;
    while let Some((name, sub)) = at.subcommand() {
        path.push(name.to_owned());
        at = sub;
    }
    path
}

/// The innermost subcommand's matches.
fn leaf(matches: &ArgMatches) -> &ArgMatches {
    let mut at = matches;
    while let Some((_, sub)) = at.subcommand() {
        at = sub;
    }
    at
}

/// The subcommand at `path`.
fn command_at<'c>(cmd: &'c Command, path: &[String]) -> &'c Command {
    path.iter()
        .try_fold(cmd, |at, name| at.find_subcommand(name))
        .unwrap_or(cmd)
}

/// `cmd` with `edit` applied to itself and each subcommand down `path`.
fn edit_down(
    cmd: Command,
    path: &[String],
    edit: &mut dyn FnMut(Command, &[String]) -> Command,
    depth: usize,
) -> Command {
    let cmd = edit(cmd, &path[..depth]);
    match path.get(depth) {
        Some(name) => cmd.mut_subcommand(name, |sub| edit_down(sub, path, edit, depth + 1)),
        None => cmd,
    }
}

/// `cmd` and all its subcommands with no argument reading the environment (it is read
/// here, [`install_env`]).
fn without_env(cmd: Command) -> Command {
    let ids: Vec<String> = cmd
        .get_arguments()
        .filter(|a| a.get_env().is_some())
        .map(|a| a.get_id().to_string())
        .collect();
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    let cmd = ids
        .iter()
        .fold(cmd, |cmd, id| cmd.mut_arg(id, |a| a.env(None::<&str>)));
    subs.iter()
        .fold(cmd, |cmd, name| cmd.mut_subcommand(name, without_env))
}

/// The command whose arguments are the settings.
fn settings_command(original: &Command) -> &Command {
    original.find_subcommand(SETTINGS_OF).unwrap_or(original)
}

/// An argument's key in the file: its long name with `_` for `-`; none for positional
/// arguments, help and version.
fn key_of(arg: &Arg) -> Option<String> {
    if matches!(
        arg.get_action(),
        ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
    ) {
        return None;
    }
    arg.get_long().map(|long| long.replace('-', "_"))
}

fn repeatable(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Append)
        || arg.get_num_args().is_some_and(|n| n.max_values() > 1)
}

fn is_flag(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse)
}

/// Whether a setting's value is a secret by its name: a key, password, secret or token.
pub fn is_secret(key: &str) -> bool {
    key.split(['_', '-'])
        .any(|word| matches!(word, "key" | "password" | "secret" | "token" | "passphrase"))
}

/// A value as it may be shown: masked if its setting is secret; a URL's password and any
/// secret query parameter masked otherwise.
pub fn shown(key: &str, value: &str) -> String {
    if is_secret(key) {
        return MASK.to_owned();
    }
    let Ok(mut url) = url::Url::parse(value) else {
        return value.to_owned();
    };
    let mut changed = false;
    if url.password().is_some() {
        changed = url.set_password(Some(MASK)).is_ok();
    }
    if url.query_pairs().any(|(name, _)| is_secret(&name)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_secret(&name) {
                    MASK.to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        changed = true;
    }
    if changed {
        url.to_string()
    } else {
        value.to_owned()
    }
}

// --- the file ---------------------------------------------------------------------------

/// One key of the file, flattened (`[tls] cert` is `tls_cert`).
#[derive(Debug, Clone)]
struct Entry {
    key: String,
    /// Line and column of the key.
    at: (usize, usize),
    /// Line and column of the value.
    value_at: (usize, usize),
    value: Value,
}

#[derive(Debug, Clone)]
enum Value {
    /// A string, number, boolean or date, as text.
    One(String, &'static str),
    /// An array of those.
    Many(Vec<String>),
}

fn read(path: &Path) -> Result<Vec<Entry>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        LoadError::Config(format!(
            "cannot read the configuration file {}: {e}",
            path.display()
        ))
    })?;
    let table = DeTable::parse(&text).map_err(|e| {
        LoadError::Config(format!(
            "{} is not valid TOML: {}",
            path.display(),
            e.to_string().trim_end()
        ))
    })?;
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    flatten(&text, "", table.get_ref(), &mut entries, &mut errors);
    // In the file's order, so errors read top to bottom and "set twice" points back.
    entries.sort_by_key(|e| e.at);
    errors.sort_by_key(|e| leading_position(e));
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(config_errors(path, errors))
    }
}

fn config_errors(path: &Path, errors: Vec<String>) -> LoadError {
    let lines: Vec<String> = errors
        .into_iter()
        .map(|e| format!("{}:{e}", path.display()))
        .collect();
    LoadError::Config(lines.join("\n"))
}

/// The `line:column` an error message starts with, for sorting.
fn leading_position(message: &str) -> (usize, usize) {
    let mut parts = message
        .splitn(3, ':')
        .map(|p| p.parse().unwrap_or(usize::MAX));
    (
        parts.next().unwrap_or(usize::MAX),
        parts.next().unwrap_or(usize::MAX),
    )
}

/// Line and column (from 1) of byte `offset` of `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn flatten(
    text: &str,
    prefix: &str,
    table: &DeTable<'_>,
    entries: &mut Vec<Entry>,
    errors: &mut Vec<String>,
) {
    for (key, value) in table.iter() {
        let name = format!("{prefix}{}", key.get_ref());
        let at = position(text, key.span().start);
        let value_at = position(text, value.span().start);
        let here = |what: String| format!("{}:{}: {what}", at.0, at.1);
        match value.get_ref() {
            DeValue::Table(inner) => flatten(text, &format!("{name}_"), inner, entries, errors),
            DeValue::Array(items) => {
                let mut values = Vec::new();
                for item in items.iter() {
                    match scalar(item.get_ref()) {
                        Some((v, _)) => values.push(v),
                        None => {
                            let (l, c) = position(text, item.span().start);
                            errors.push(format!(
                                "{l}:{c}: {name}: an array of settings holds strings, numbers \
                                 or booleans, not {}",
                                a(item.get_ref().type_str())
                            ));
                        }
                    }
                }
                entries.push(Entry {
                    key: name,
                    at,
                    value_at,
                    value: Value::Many(values),
                });
            }
            other => match scalar(other) {
                Some((v, kind)) => entries.push(Entry {
                    key: name,
                    at,
                    value_at,
                    value: Value::One(v, kind),
                }),
                None => errors.push(here(format!("{name}: unexpected {}", a(other.type_str())))),
            },
        }
    }
}

/// A TOML type with its article: "an array", "a table".
fn a(kind: &str) -> String {
    if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {kind}")
    } else {
        format!("a {kind}")
    }
}

/// A scalar as the text a flag would take, and what it was.
fn scalar(value: &DeValue<'_>) -> Option<(String, &'static str)> {
    Some(match value {
        DeValue::String(s) => (s.to_string(), "string"),
        DeValue::Integer(i) => {
            let n = i128::from_str_radix(i.as_str(), i.radix()).ok()?;
            (n.to_string(), "integer")
        }
        DeValue::Float(x) => (x.as_str().to_owned(), "float"),
        DeValue::Boolean(b) => (b.to_string(), "boolean"),
        DeValue::Datetime(d) => (d.to_string(), "datetime"),
        DeValue::Array(_) | DeValue::Table(_) => return None,
    })
}

/// Every key names a setting, lists go to repeatable ones, booleans to switches, and every
/// value is one the setting's own parser takes; all the errors at once.
fn check_entries(path: &Path, entries: &[Entry], settings: &Command) -> Result<(), LoadError> {
    let by_key: BTreeMap<String, &Arg> = settings
        .get_arguments()
        .filter_map(|a| Some((key_of(a)?, a)))
        .collect();
    let mut errors = Vec::new();
    let mut seen: HashMap<&str, (usize, usize)> = HashMap::new();
    for entry in entries {
        let (line, col) = entry.at;
        let here = |what: String| format!("{line}:{col}: {what}");
        if let Some((l, c)) = seen.insert(&entry.key, entry.at) {
            errors.push(here(format!(
                "`{}` is set twice (first at line {l}, column {c})",
                entry.key
            )));
            continue;
        }
        if entry.key == CONFIG_ARG {
            errors.push(here(
                "`config`: a configuration file cannot name another one".to_owned(),
            ));
            continue;
        }
        let Some(arg) = by_key.get(&entry.key) else {
            errors.push(here(unknown(&entry.key, &by_key)));
            continue;
        };
        let (vline, vcol) = entry.value_at;
        let at_value = |what: String| format!("{vline}:{vcol}: {what}");
        let values = match &entry.value {
            Value::Many(_) if !repeatable(arg) => {
                errors.push(at_value(format!(
                    "`{}` takes one value, not an array; expected {}",
                    entry.key,
                    expected(arg)
                )));
                continue;
            }
            Value::One(_, kind) if is_flag(arg) && *kind != "boolean" => {
                errors.push(at_value(format!(
                    "`{}` is a switch: expected true or false, not {}",
                    entry.key,
                    a(kind)
                )));
                continue;
            }
            Value::One(v, _) => vec![v.clone()],
            Value::Many(vs) => vs.clone(),
        };
        if let Err(reason) = parses(settings, arg, &values) {
            let value = values
                .iter()
                .map(|v| shown(&entry.key, v))
                .collect::<Vec<_>>()
                .join(", ");
            errors.push(at_value(format!(
                "`{}` = {value:?}: {reason}; expected {}",
                entry.key,
                expected(arg)
            )));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(config_errors(path, errors))
    }
}

/// An unknown key, with the nearest known one when it looks like a slip.
fn unknown(key: &str, known: &BTreeMap<String, &Arg>) -> String {
    let guess = key.replace('-', "_");
    let hint = if known.contains_key(&guess) {
        format!(" (keys are spelled with `_`: `{guess}`)")
    } else if let Some(close) = known.keys().find(|k| similar(k, key)) {
        format!(" (did you mean `{close}`?)")
    } else {
        String::new()
    };
    format!(
        "unknown setting `{key}`{hint}; the settings are the long flags of `softtoken-server \
         serve --help` with `_` for `-`"
    )
}

/// Equal but for one character changed, added or dropped.
fn similar(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short
        .iter()
        .zip(long.iter())
        .take_while(|(x, y)| x == y)
        .count();
    let suffix = short
        .iter()
        .rev()
        .zip(long.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    prefix + suffix + 1 >= long.len()
}

/// What a setting takes, from its declaration: `--flag <NAME>` and its help line.
fn expected(arg: &Arg) -> String {
    let long = arg.get_long().unwrap_or_default();
    let names = arg
        .get_value_names()
        .map(|n| n.iter().map(|n| format!(" <{n}>")).collect::<String>())
        .unwrap_or_default();
    let help = arg
        .get_help()
        .map(|h| format!(": {}", h.to_string().trim_end_matches('.')))
        .unwrap_or_default();
    format!("what --{long}{names} takes{help}")
}

/// Whether clap's parser for `arg` takes `values`; its reason otherwise. Run on `settings`
/// with nothing but these values installed, so only a value's own error counts (another
/// setting a flag requires may still come from the command line).
fn parses(settings: &Command, arg: &Arg, values: &[String]) -> Result<(), String> {
    let id = arg.get_id().as_str().to_owned();
    let cmd = without_env(settings.clone())
        .no_binary_name(true)
        .mut_arg(&id, |a| a.default_values(values.to_vec()));
    match cmd.try_get_matches_from(Vec::<OsString>::new()) {
        Ok(_) => Ok(()),
        Err(e) => match e.kind() {
            ErrorKind::InvalidValue
            | ErrorKind::ValueValidation
            | ErrorKind::InvalidUtf8
            | ErrorKind::WrongNumberOfValues
            | ErrorKind::TooManyValues
            | ErrorKind::TooFewValues => Err(reason(&e)),
            _ => Ok(()),
        },
    }
}

/// The heart of a clap value error, without its usage lines.
fn reason(e: &clap::Error) -> String {
    if let Some(source) = std::error::Error::source(e) {
        return source.to_string();
    }
    if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue) {
        return format!("not one of {}", valid.join(", "));
    }
    let text = e.render().to_string();
    text.lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned()
}

/// `cmd` with the file's values as the defaults of the arguments they name, on every
/// subcommand down `path` that has them.
fn install_file(
    cmd: Command,
    path: &[String],
    entries: &[Entry],
    installed: &mut Installed,
) -> Command {
    edit_down(
        cmd,
        path,
        &mut |cmd, _| {
            let by_key: HashMap<String, String> = cmd
                .get_arguments()
                .filter_map(|a| Some((key_of(a)?, a.get_id().to_string())))
                .collect();
            entries.iter().fold(cmd, |cmd, entry| {
                let Some(id) = by_key.get(&entry.key) else {
                    return cmd;
                };
                installed.file.insert(id.clone(), entry.at.0);
                let values = match &entry.value {
                    Value::One(v, _) => vec![v.clone()],
                    Value::Many(vs) => vs.clone(),
                };
                cmd.mut_arg(id, |a| a.default_values(values))
            })
        },
        0,
    )
}

/// `cmd` with each argument's environment variable, where `env` has it, as its default
/// (above the file's); an error naming the variable for a value its parser refuses.
fn install_env(
    cmd: Command,
    original: &Command,
    path: &[String],
    env: &impl Fn(&OsStr) -> Option<OsString>,
    installed: &mut Installed,
) -> Result<Command, LoadError> {
    let mut errors = Vec::new();
    let cmd = edit_down(
        cmd,
        path,
        &mut |cmd, here| {
            let declared = command_at(original, here);
            let set: Vec<(String, String, String)> = declared
                .get_arguments()
                .filter_map(|arg| {
                    let name = arg.get_env()?;
                    let value = env(name)?;
                    let name = name.to_string_lossy().into_owned();
                    let key = key_of(arg).unwrap_or_else(|| arg.get_id().to_string());
                    let Some(value) = value.to_str().map(str::to_owned) else {
                        errors.push(format!("{name}: not UTF-8"));
                        return None;
                    };
                    if let Err(reason) = parses(declared, arg, std::slice::from_ref(&value)) {
                        errors.push(format!(
                            "{name}={}: {reason}; expected {}",
                            shown(&key, &value),
                            expected(arg)
                        ));
                        return None;
                    }
                    Some((arg.get_id().to_string(), name, value))
                })
                .collect();
            set.into_iter().fold(cmd, |cmd, (id, name, value)| {
                installed.env.insert(id.clone(), name);
                cmd.mut_arg(&id, |a| a.default_value(value))
            })
        },
        0,
    );
    if errors.is_empty() {
        Ok(cmd)
    } else {
        Err(LoadError::Config(format!(
            "in the environment: {}",
            errors.join("\n")
        )))
    }
}

/// Every setting of the command that ran, with its value and source.
fn effective(cmd: &Command, matches: &ArgMatches, installed: &Installed) -> Vec<Setting> {
    cmd.get_arguments()
        .filter_map(|arg| {
            let key = key_of(arg)?;
            if key == CONFIG_ARG {
                return None;
            }
            let id = arg.get_id().as_str();
            let values: Vec<String> = matches
                .try_get_raw(id)
                .ok()
                .flatten()
                .map(|raw| raw.map(|v| shown(&key, &v.to_string_lossy())).collect())
                .unwrap_or_default();
            let source = match matches.value_source(id) {
                Some(clap::parser::ValueSource::CommandLine) => Source::Flag,
                Some(clap::parser::ValueSource::EnvVariable) => Source::Env(
                    arg.get_env()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                ),
                _ => match (installed.env.get(id), installed.file.get(id)) {
                    (Some(name), _) => Source::Env(name.clone()),
                    (None, Some(line)) => Source::File(*line),
                    (None, None) => Source::Default,
                },
            };
            Some(Setting {
                key,
                values,
                repeatable: repeatable(arg),
                source,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn no_env(_: &OsStr) -> Option<OsString> {
        None
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&OsStr) -> Option<OsString> + use<> {
        let map: HashMap<OsString, OsString> = pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn check(args: &[&str], env: impl Fn(&OsStr) -> Option<OsString>) -> Effective {
        let mut all = vec!["softtoken-server", "config", "check"];
        all.extend(args);
        match load(all, env).unwrap().command {
            Subcommand::Config(ConfigCommand::Check(check)) => check.effective,
            other => panic!("parsed as {other:?}"),
        }
    }

    fn error(args: &[&str], env: impl Fn(&OsStr) -> Option<OsString>) -> String {
        let mut all = vec!["softtoken-server", "config", "check"];
        all.extend(args);
        match load(all, env) {
            Err(LoadError::Config(message)) => message,
            other => panic!("not a configuration error: {other:?}"),
        }
    }

    fn value(e: &Effective, key: &str) -> (Vec<String>, Source) {
        let s = e.get(key).unwrap_or_else(|| panic!("no {key} in {e:?}"));
        (s.values.clone(), s.source.clone())
    }

    #[test]
    fn the_file_sets_what_neither_flag_nor_environment_does() {
        let f = file(
            "listen = \"127.0.0.1:9443\"\napp_rate_limit = 120\n\
             trusted_proxy = [\"10.0.0.0/8\", \"192.168.0.0/16\"]\nheader_timeout = \"5s\"\n",
        );
        let path = f.path().to_str().unwrap();
        let e = check(&["--config", path], no_env);
        assert_eq!(e.file, Some((f.path().to_owned(), Source::Flag)));
        assert_eq!(
            value(&e, "listen"),
            (vec!["127.0.0.1:9443".into()], Source::File(1))
        );
        assert_eq!(value(&e, "app_rate_limit").0, ["120"]);
        assert_eq!(
            value(&e, "trusted_proxy"),
            (
                vec!["10.0.0.0/8".into(), "192.168.0.0/16".into()],
                Source::File(3)
            )
        );
        assert_eq!(
            value(&e, "request_timeout"),
            (vec!["60s".into()], Source::Default)
        );
        assert_eq!(value(&e, "public_url"), (vec![], Source::Default));

        // And the parsed command holds the file's values, typed.
        let cli = load(["softtoken-server", "serve", "--config", path], no_env).unwrap();
        let Subcommand::Serve(serve) = cli.command else {
            panic!("not serve");
        };
        assert_eq!(serve.listen.to_string(), "127.0.0.1:9443");
        assert_eq!(serve.app_rate_limit, 120);
        assert_eq!(serve.trusted_proxies.len(), 2);
        assert_eq!(serve.header_timeout, std::time::Duration::from_secs(5));
    }

    #[test]
    fn flag_beats_environment_beats_file_beats_default() {
        let f = file("app_rate_limit = 1\nmax_connections = 2\nheader_timeout = \"3s\"\n");
        let path = f.path().to_str().unwrap();
        let env = env_of(&[
            ("SOFTTOKEN_APP_RATE_LIMIT", "10"),
            ("SOFTTOKEN_MAX_CONNECTIONS", "20"),
        ]);
        let e = check(&["--config", path, "--app-rate-limit", "100"], env);
        assert_eq!(
            value(&e, "app_rate_limit"),
            (vec!["100".into()], Source::Flag)
        );
        assert_eq!(
            value(&e, "max_connections"),
            (
                vec!["20".into()],
                Source::Env("SOFTTOKEN_MAX_CONNECTIONS".into())
            )
        );
        assert_eq!(
            value(&e, "header_timeout"),
            (vec!["3s".into()], Source::File(3))
        );
        assert_eq!(
            value(&e, "body_timeout"),
            (vec!["30s".into()], Source::Default)
        );
    }

    #[test]
    fn the_environment_names_the_file_and_a_flag_overrides_it() {
        let from_env = file("app_rate_limit = 7\n");
        let from_flag = file("app_rate_limit = 8\n");
        let env = env_of(&[("SOFTTOKEN_CONFIG", from_env.path().to_str().unwrap())]);
        let e = check(&[], &env);
        assert_eq!(
            e.file,
            Some((
                from_env.path().to_owned(),
                Source::Env("SOFTTOKEN_CONFIG".into())
            ))
        );
        assert_eq!(value(&e, "app_rate_limit").0, ["7"]);
        let e = check(&["--config", from_flag.path().to_str().unwrap()], &env);
        assert_eq!(value(&e, "app_rate_limit").0, ["8"]);
    }

    #[test]
    fn tables_join_their_name_to_their_keys() {
        // `[request] timeout` is `request_timeout`, as `[tls] cert` is `tls_cert`.
        let f = file("[request]\ntimeout = \"90s\"\n\n[body]\ntimeout = 45\n");
        let e = check(&["--config", f.path().to_str().unwrap()], no_env);
        assert_eq!(
            value(&e, "request_timeout"),
            (vec!["90s".into()], Source::File(2))
        );
        assert_eq!(value(&e, "body_timeout").0, ["45"]);
        let twice = file("request_timeout = \"1s\"\n[request]\ntimeout = \"2s\"\n");
        let message = error(&["--config", twice.path().to_str().unwrap()], no_env);
        assert!(
            message.contains(":3:1: `request_timeout` is set twice (first at line 1"),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line_and_column() {
        let f = file(
            "listen = \"127.0.0.1:8080\"\n\n  app-rate-limit = 5\nlisen = \"x\"\n[tls]\nkey_file = \"k\"\n",
        );
        let path = f.path().to_str().unwrap();
        let message = error(&["--config", path], no_env);
        let lines: Vec<&str> = message.lines().collect();
        assert_eq!(lines.len(), 3, "{message}");
        assert!(lines[0].starts_with(&format!("{path}:3:3: unknown setting `app-rate-limit` (keys are spelled with `_`: `app_rate_limit`)")), "{message}");
        assert!(
            lines[1].starts_with(&format!(
                "{path}:4:1: unknown setting `lisen` (did you mean `listen`?)"
            )),
            "{message}"
        );
        assert!(
            lines[2].starts_with(&format!("{path}:6:1: unknown setting `tls_key_file`")),
            "{message}"
        );
        // Whichever command reads the file judges it the same.
        let other = load(
            ["softtoken-server", "service", "list", "--config", path],
            no_env,
        );
        assert!(matches!(other, Err(LoadError::Config(m)) if m == message));
    }

    #[test]
    fn a_wrong_value_names_the_key_its_line_and_what_is_expected() {
        let f = file(
            "app_rate_limit = \"sixty\"\nlisten = 8080\ntrusted_proxy = \"10.0.0.0/33\"\nheader_timeout = \"0s\"\n",
        );
        let path = f.path().to_str().unwrap();
        let message = error(&["--config", path], no_env);
        let lines: Vec<&str> = message.lines().collect();
        assert_eq!(lines.len(), 4, "{message}");
        assert!(lines[0].starts_with(&format!("{path}:1:18: `app_rate_limit` = \"sixty\": invalid digit found in string; expected what --app-rate-limit <APP_RATE_LIMIT> takes: App API requests per minute")), "{message}");
        assert!(lines[1].starts_with(&format!("{path}:2:10: `listen` = \"8080\": invalid socket address syntax; expected what --listen <LISTEN> takes: Address to listen on")), "{message}");
        assert!(
            lines[2].starts_with(&format!("{path}:3:17: `trusted_proxy` = \"10.0.0.0/33\"")),
            "{message}"
        );
        assert!(
            lines[3].contains("a timeout of 0 would refuse everything"),
            "{message}"
        );

        let array = file("listen = [\"127.0.0.1:1\"]\n");
        let message = error(&["--config", array.path().to_str().unwrap()], no_env);
        assert!(message.ends_with(":1:10: `listen` takes one value, not an array; expected what --listen <LISTEN> takes: Address to listen on"), "{message}");
        let mixed = file("trusted_proxy = [\"10.0.0.0/8\", { a = 1 }]\n");
        let message = error(&["--config", mixed.path().to_str().unwrap()], no_env);
        assert!(message.contains(":1:32: trusted_proxy: an array of settings holds strings, numbers or booleans, not a table"), "{message}");
    }

    #[test]
    fn a_bad_environment_value_names_the_variable() {
        let message = error(&[], env_of(&[("SOFTTOKEN_APP_RATE_LIMIT", "lots")]));
        assert!(message.contains("SOFTTOKEN_APP_RATE_LIMIT=lots: invalid digit found in string; expected what --app-rate-limit"), "{message}");
    }

    #[test]
    fn broken_toml_and_a_missing_file_are_reported() {
        let f = file("listen = \"127.0.0.1:8080\"\napp_rate_limit = = 3\n");
        let message = error(&["--config", f.path().to_str().unwrap()], no_env);
        assert!(message.contains("is not valid TOML"), "{message}");
        assert!(message.contains("line 2"), "{message}");
        let message = error(&["--config", "/nonexistent/softtoken.toml"], no_env);
        assert!(
            message.starts_with("cannot read the configuration file /nonexistent/softtoken.toml"),
            "{message}"
        );
        let f = file("config = \"other.toml\"\n");
        let message = error(&["--config", f.path().to_str().unwrap()], no_env);
        assert!(
            message.contains(":1:1: `config`: a configuration file cannot name another one"),
            "{message}"
        );
    }

    #[test]
    fn storage_commands_take_the_storage_settings_of_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = file(&format!(
            "listen = \"127.0.0.1:9\"\ndata_dir = {:?}\n",
            dir.path().to_str().unwrap()
        ));
        let cli = load(
            [
                "softtoken-server",
                "service",
                "list",
                "--config",
                f.path().to_str().unwrap(),
            ],
            no_env,
        )
        .unwrap();
        let Subcommand::Service(crate::config::ServiceCommand::List(storage)) = cli.command else {
            panic!("not service list");
        };
        assert_eq!(storage.data_dir, dir.path());
    }

    #[test]
    fn help_still_shows_the_environment_variables() {
        let Err(LoadError::Clap(e)) = load(["softtoken-server", "serve", "--help"], no_env) else {
            panic!("no help");
        };
        assert_eq!(e.kind(), ErrorKind::DisplayHelp);
        assert!(e.to_string().contains("SOFTTOKEN_APP_RATE_LIMIT"));
        let Err(LoadError::Clap(e)) = load(["softtoken-server", "serve", "--bogus"], no_env) else {
            panic!("no usage error");
        };
        assert_eq!(e.kind(), ErrorKind::UnknownArgument);
    }

    #[test]
    fn secrets_are_masked() {
        assert!(is_secret("tls_key"));
        assert!(is_secret("smtp_password"));
        assert!(is_secret("api-secret"));
        assert!(!is_secret("listen"));
        assert!(!is_secret("keyring_dir"));
        assert_eq!(shown("tls_key", "/etc/k.pem"), MASK);
        assert_eq!(
            shown("database", "postgres://otp:hunter2@db.bank.example/otp"),
            format!("postgres://otp:{MASK}@db.bank.example/otp")
        );
        assert_eq!(
            shown(
                "smtp_url",
                "smtps://mailer@mail.example:465?password=pw&tls=required"
            ),
            format!("smtps://mailer@mail.example:465?password={MASK}&tls=required")
        );
        assert_eq!(shown("listen", "127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(
            shown("database", "sqlite:///var/lib/softtoken/softtoken.db"),
            "sqlite:///var/lib/softtoken/softtoken.db"
        );
        let env = env_of(&[(
            "SOFTTOKEN_DATABASE_URL",
            "postgres://otp:hunter2@db.bank.example/otp",
        )]);
        let text = check(&[], env).to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains("database = \"postgres://otp:********@db.bank.example/otp\""),
            "{text}"
        );
    }

    #[test]
    fn the_printed_configuration_is_itself_a_configuration_file() {
        let f = file("listen = \"127.0.0.1:9443\"\ntrusted_proxy = [\"10.0.0.0/8\"]\n");
        let first = check(&["--config", f.path().to_str().unwrap()], no_env);
        let printed = file(&first.to_string());
        let again = check(&["--config", printed.path().to_str().unwrap()], no_env);
        for s in &first.settings {
            assert_eq!(again.get(&s.key).unwrap().values, s.values, "{}", s.key);
        }
    }
}
