//! The command line: `serve`, `service add|list|mail|rotate-key`, `tokens import`,
//! `key list|rotate|reseal|retire|generate`, `demo`, `config check`. Every long flag of
//! `serve` is also a key of the configuration file (`config_file.rs`), with no code of its
//! own there.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use softtoken_protocol::{Algorithm, ServiceId};

/// The softtoken server.
#[derive(Debug, Parser)]
#[command(
    name = "softtoken-server",
    version,
    about = "Activates softtoken tokens and verifies their codes"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct Storage {
    /// A TOML file of settings: any flag of `serve`, by its long name with `_` for `-`
    /// (docs/softtoken-server.example.toml); flags and the environment override it.
    #[arg(long, env = "SOFTTOKEN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL (`sqlite:PATH`); default: `softtoken.db` in the data directory.
    #[arg(long, env = "SOFTTOKEN_DATABASE_URL")]
    pub database: Option<String>,
    /// Directory of the SQLite file and the master key file.
    #[arg(long, env = "SOFTTOKEN_DATA_DIR", default_value = "softtoken-data")]
    pub data_dir: PathBuf,
    /// How long a request waits for a database connection before it is answered 503
    /// `unavailable` (PostgreSQL out of reach); SQLite answers at once.
    #[arg(long, env = "SOFTTOKEN_DATABASE_TIMEOUT", value_parser = duration, default_value = "2s")]
    pub database_timeout: Duration,
}

impl Storage {
    /// The database URL, defaulting to the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("softtoken.db").display()),
        }
    }

    /// Opens (and migrates) the database these options name.
    pub async fn connect(
        &self,
    ) -> softtoken_store::StoreResult<std::sync::Arc<dyn softtoken_store::Store>> {
        softtoken_store::connect_with(&self.database_url(), self.database_timeout).await
    }
}

/// How to serve.
#[derive(Debug, Clone, Args)]
pub struct Serve {
    /// Address to listen on.
    #[arg(long, env = "SOFTTOKEN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The URL apps reach this server at (put into activation URIs); default: http:// (or
    /// https:// with --tls-cert) and the address listened on (with the port the system chose
    /// for `:0`).
    #[arg(long, env = "SOFTTOKEN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// App API requests per minute per client IP (0: unlimited).
    #[arg(long, env = "SOFTTOKEN_APP_RATE_LIMIT", default_value_t = 60)]
    pub app_rate_limit: u32,
    /// A proxy (CIDR, e.g. 10.0.0.0/8 or 127.0.0.1/32) whose X-Forwarded-For or Forwarded
    /// header names the client; repeatable, or comma-separated in the environment. From
    /// any other peer those headers are ignored.
    #[arg(
        long = "trusted-proxy",
        env = "SOFTTOKEN_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Time a client has to send a request's headers, and the longest a kept-alive
    /// connection may stay idle (e.g. 10s).
    #[arg(long, env = "SOFTTOKEN_HEADER_TIMEOUT", default_value = "10s", value_parser = duration)]
    pub header_timeout: Duration,
    /// Time a client has to send a request's body.
    #[arg(long, env = "SOFTTOKEN_BODY_TIMEOUT", default_value = "30s", value_parser = duration)]
    pub body_timeout: Duration,
    /// Time the server may take to answer a request (503 beyond it).
    #[arg(long, env = "SOFTTOKEN_REQUEST_TIMEOUT", default_value = "60s", value_parser = duration)]
    pub request_timeout: Duration,
    /// Connections open at once; more wait until one closes.
    #[arg(long, env = "SOFTTOKEN_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Address to serve `GET /metrics` (Prometheus text format) on, apart from the API;
    /// default: no metrics.
    #[arg(long, env = "SOFTTOKEN_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Log lines as `text` for people or `json`, one object a line, for a log collector.
    #[arg(long, env = "SOFTTOKEN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// The SMTP server activation e-mails go through, in lettre's URL form:
    /// smtp://host:port (no TLS), smtp://host:587?tls=required (STARTTLS),
    /// smtps://host:465 (TLS from the start), with user:password@ to authenticate. A
    /// secret: never logged. Needs --mail-from.
    #[arg(
        long,
        env = "SOFTTOKEN_SMTP_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub smtp_url: Option<softtoken_service::mail::smtp::SmtpUrl>,
    /// The address activation e-mails come from (e.g. `しんきん銀行 <otp@bank.example>`).
    /// Needs --smtp-url.
    #[arg(long, env = "SOFTTOKEN_MAIL_FROM", value_name = "ADDR")]
    pub mail_from: Option<String>,
    /// PEM certificate chain to serve HTTPS with (TLS 1.2 and 1.3 only), the server's own
    /// certificate first; needs --tls-key. Without it the server speaks plain HTTP (on
    /// loopback, or behind a proxy that terminates TLS).
    #[arg(long, env = "SOFTTOKEN_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "SOFTTOKEN_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// How often the TLS files are re-read for a renewed certificate (SIGHUP also does it).
    #[arg(long, env = "SOFTTOKEN_TLS_RELOAD_EVERY", default_value = "5s", value_parser = duration)]
    pub tls_reload_every: Duration,
    /// Time the requests in flight get to finish after SIGTERM before they are cut off.
    #[arg(long, env = "SOFTTOKEN_SHUTDOWN_GRACE", default_value = "30s", value_parser = duration)]
    pub shutdown_grace: Duration,
    /// Storage.
    #[command(flatten)]
    pub storage: Storage,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable text.
    Text,
    /// One JSON object a line.
    Json,
}

impl Command {
    /// The log format the command asks for (text for commands that do not serve).
    pub fn log_format(&self) -> LogFormat {
        match self {
            Command::Serve(serve) | Command::Demo(serve) => serve.log_format,
            _ => LogFormat::Text,
        }
    }
}

/// A duration like `10s`, `2m` or bare seconds, for clap.
fn duration(text: &str) -> Result<Duration, String> {
    let seconds = softtoken_store::policy::parse_duration(text)?;
    if seconds == 0 {
        return Err("a timeout of 0 would refuse everything".into());
    }
    Ok(Duration::from_secs(seconds))
}

impl Serve {
    /// The connection and request bounds these options ask for.
    pub fn limits(&self) -> crate::serve::Limits {
        crate::serve::Limits {
            header_timeout: self.header_timeout,
            body_timeout: self.body_timeout,
            request_timeout: self.request_timeout,
            max_connections: self.max_connections,
            shutdown_grace: self.shutdown_grace,
        }
    }

    /// The certificate and key files, if HTTPS is asked for (clap makes sure both or
    /// neither are given).
    pub fn tls_files(&self) -> Option<crate::tls::TlsFiles> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(crate::tls::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        }
    }

    /// The public URL, defaulting to the address actually listened on, `bound`; an error
    /// unless it is an `http://` or `https://` URL with a host.
    pub fn public_url(&self, bound: SocketAddr) -> Result<String, String> {
        let Some(given) = &self.public_url else {
            let scheme = if self.tls_files().is_some() {
                "https"
            } else {
                "http"
            };
            return Ok(format!("{scheme}://{bound}"));
        };
        let url =
            url::Url::parse(given).map_err(|e| format!("--public-url {given}: not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "--public-url {given}: apps reach the server over https:// (or http:// on \
                 this machine); give such a URL with a host"
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "--public-url {given}: a base URL takes no query or fragment"
            ));
        }
        Ok(given.trim_end_matches('/').to_owned())
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the app API and the bank API.
    Serve(Serve),
    /// Manage services (tenants).
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Serve with a demo service and print the commands to try it.
    Demo(Serve),
    /// Manage tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Manage the master keyring that seals seeds and verifiers at rest.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Check the configuration (file, environment, flags).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage the help-desk console's operators.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Copy the SQLite database to a new file while the server runs (PostgreSQL: pg_dump,
    /// see README "Backups"). The master key is not in it: back that up on its own.
    Backup(BackupArgs),
    /// Restore a backup as the database of a new data directory (never over an existing
    /// one), once the master key file is back in it; checks that every secret opens.
    Restore(RestoreArgs),
}

/// `backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The new backup file; an existing file is never overwritten.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
    /// Storage.
    #[command(flatten)]
    pub storage: Storage,
}

/// `restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file made by `backup`.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Storage: where the database is to be; it must not exist yet.
    #[command(flatten)]
    pub storage: Storage,
}

/// `operator …`: the bank's staff who sign in to `/console`.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Add an operator; prints a generated password once (or reads one from stdin).
    Add(OperatorAdd),
    /// List operators.
    List(Storage),
    /// Disable an operator (ends their sessions).
    Disable {
        /// The operator's sign-in name.
        #[arg(long)]
        name: String,
        /// Storage.
        #[command(flatten)]
        storage: Storage,
    },
    /// Give an operator a new password and clear their lockout; prints it once (or reads one
    /// from stdin).
    ResetPassword {
        /// The operator's sign-in name.
        #[arg(long)]
        name: String,
        /// Read the password from stdin (one line) instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        /// Storage.
        #[command(flatten)]
        storage: Storage,
    },
}

/// `operator add`.
#[derive(Debug, Args)]
pub struct OperatorAdd {
    /// The service the operator works for; leave out for `--role superuser` only.
    #[arg(long)]
    pub service: Option<ServiceId>,
    /// Sign-in name, unique on the server: 1–64 of `[A-Za-z0-9._-]`.
    #[arg(long)]
    pub name: String,
    /// `helpdesk`, `admin`, `auditor` or `superuser`.
    #[arg(long)]
    pub role: String,
    /// Read the password from stdin (one line) instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
    /// Storage.
    #[command(flatten)]
    pub storage: Storage,
}

/// `config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print every setting `serve` would run with and where
    /// it came from (flag, env, file or default), secrets masked.
    Check(ConfigCheck),
}

/// `config check`: the options of `serve`, and what they came to.
#[derive(Debug, Args)]
pub struct ConfigCheck {
    /// The settings checked.
    #[command(flatten)]
    pub serve: Serve,
    /// Every setting with its source, filled in by `config_file::load`.
    #[arg(skip)]
    pub effective: crate::config_file::Effective,
}

/// `key …`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// List the master keys (oldest first) and whether every secret is sealed by the newest.
    List(Storage),
    /// Add a new key, which seals from now on, and re-seal every secret under it. Running
    /// servers pick the new key up from the file; safe to interrupt (run `key reseal`).
    Rotate(KeyReseal),
    /// Re-seal every secret not yet under the newest key (finishes an interrupted rotation).
    Reseal(KeyReseal),
    /// Remove an old key from the key file once every secret is sealed by a newer one.
    Retire {
        /// The key's id.
        id: String,
        /// Storage.
        #[command(flatten)]
        storage: Storage,
    },
    /// Print a fresh key line, for a keyring kept in SOFTTOKEN_MASTER_KEY.
    Generate,
}

/// `key rotate` and `key reseal`.
#[derive(Debug, Args)]
pub struct KeyReseal {
    /// Secrets re-sealed per commit.
    #[arg(long, default_value_t = softtoken_service::rekey::DEFAULT_BATCH)]
    pub batch: u32,
    /// Storage.
    #[command(flatten)]
    pub storage: Storage,
}

/// `service …`.
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Add a service; prints its API key once.
    Add(ServiceAdd),
    /// List services and their policies.
    List(Storage),
    /// Set a service's activation e-mail: the app's download URL and, optionally, its own
    /// subject and body per language (placeholders {service_id}, {service_name},
    /// {user_id}, {download_url}, {activation_link}, {expires_at}; a language not given
    /// gets the built-in words). Each run sets the whole configuration.
    Mail(ServiceMailArgs),
    /// Replace a service's API key; prints the new key once.
    RotateKey {
        /// The service.
        id: ServiceId,
        /// Storage.
        #[command(flatten)]
        storage: Storage,
    },
}

/// `service add`.
#[derive(Debug, Args)]
pub struct ServiceAdd {
    /// Service ID: 1–64 of `[A-Za-z0-9._-]`.
    #[arg(long)]
    pub id: ServiceId,
    /// Display name, shown on tokens as the issuer.
    #[arg(long)]
    pub name: String,
    /// Code digits (6 or 8); default: 8 for activation, 6 for registration mode.
    #[arg(long)]
    pub digits: Option<u32>,
    /// Seconds per code (30 or 60); default: 60 for activation, 30 for registration mode.
    #[arg(long)]
    pub period: Option<u64>,
    /// sha1, sha256 or sha512.
    #[arg(long)]
    pub algorithm: Option<Algorithm>,
    /// Steps accepted either side of the expected one (0–10).
    #[arg(long, default_value_t = 1)]
    pub window: u32,
    /// Consecutive wrong codes that lock a user (1–20).
    #[arg(long, default_value_t = 5)]
    pub max_failures: u32,
    /// Cool-down after a revocation (e.g. 30m; 0s–7d).
    #[arg(long, default_value = "30m")]
    pub cooldown: String,
    /// Default enrollment lifetime (e.g. 24h; 1m–30d).
    #[arg(long, default_value = "24h")]
    pub enrollment_ttl: String,
    /// Usable tokens per user (1–10).
    #[arg(long, default_value_t = 1)]
    pub tokens_per_user: u32,
    /// Allow one token to be registered to several users.
    #[arg(long)]
    pub shared_tokens: bool,
    /// A revocation during a running cool-down starts it afresh (default: it keeps its end).
    #[arg(long)]
    pub cooldown_restarts: bool,
    /// Provisioned tokens that may wait for registration at once (1–1000000); provisioning is refused
    /// (503 provisioning_full) beyond it.
    #[arg(long, default_value_t = softtoken_store::policy::DEFAULT_UNASSIGNED_QUOTA)]
    pub unassigned_quota: u32,
    /// A daily window HH:MM-HH:MM (e.g. 20:50-08:10) in which a revocation's cool-down lasts
    /// until the window's end: revoked at night, re-issued from the morning (the guides'
    /// night cut-off). Default: none.
    #[arg(long, value_name = "HH:MM-HH:MM")]
    pub night_cutoff: Option<String>,
    /// The IANA time zone of --night-cutoff (default: Asia/Tokyo).
    #[arg(long, value_name = "ZONE", requires = "night_cutoff")]
    pub night_cutoff_zone: Option<String>,
    /// Storage.
    #[command(flatten)]
    pub storage: Storage,
}

/// `service mail`.
#[derive(Debug, Args)]
pub struct ServiceMailArgs {
    /// The service.
    #[arg(long)]
    pub id: ServiceId,
    /// Where customers download the token app (an https:// URL).
    #[arg(long)]
    pub download_url: String,
    /// The Japanese subject (default: the built-in one).
    #[arg(long)]
    pub subject_ja: Option<String>,
    /// A UTF-8 file with the Japanese body (default: the built-in one).
    #[arg(long)]
    pub body_ja_file: Option<PathBuf>,
    /// The English subject (default: the built-in one).
    #[arg(long)]
    pub subject_en: Option<String>,
    /// A UTF-8 file with the English body (default: the built-in one).
    #[arg(long)]
    pub body_en_file: Option<PathBuf>,
    /// Storage.
    #[command(flatten)]
    pub storage: Storage,
}

/// `tokens …`.
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Import a vendor's PSKC (RFC 6030) file of hardware tokens as unassigned tokens.
    Import(TokensImport),
}

/// `tokens import`.
#[derive(Debug, Args)]
pub struct TokensImport {
    /// The service the tokens belong to.
    #[arg(long)]
    pub service: ServiceId,
    /// The PSKC file.
    pub file: PathBuf,
    /// Read the file's password (PBKDF2 `DerivedKey`) from standard input.
    #[arg(long, conflicts_with = "psk_file")]
    pub password_stdin: bool,
    /// A file holding the pre-shared transport key in hex.
    #[arg(long)]
    pub psk_file: Option<PathBuf>,
    /// Storage.
    #[command(flatten)]
    pub storage: Storage,
}
