//! What each subcommand does: open storage, serve, manage services, run the demo.

use std::sync::Arc;

use softtoken_protocol::{Digits, Period, ServiceId};
use zeroize::Zeroizing;

use crate::auth::{generate_key, hash_key};
use crate::client_addr::TrustedProxies;
use crate::config::{
    BackupArgs, Command, ConfigCommand, KeyCommand, KeyReseal, RestoreArgs, Serve, ServiceAdd,
    ServiceCommand, Storage, TokensCommand, TokensImport,
};
use crate::serve::shutdown_signal;
use crate::{AppState, app};
use softtoken_service::clock::{Clock, SystemClock};
use softtoken_service::crypto::{Keyring, MasterKey};
use softtoken_service::{Context, queries};
use softtoken_store::night_cutoff::NightCutoff;
use softtoken_store::policy::{EXPIRED_UNASSIGNED_KEPT_MS, PURGE_EVERY, Policy, parse_duration};
use softtoken_store::{self as store, Service, Store, StoreError};

/// Who the audit trail names for what these commands change (here, in the commands' own
/// modules such as `service mail`, and wherever tests and the bench set up what a command
/// would); the console words it サーバー管理コマンド.
pub const COMMAND_LINE: softtoken_service::actions::Actor<'static> =
    softtoken_service::actions::Actor::Operator("softtoken-server");

/// A failure to report on stderr (exit status 1).
pub type CommandResult = Result<(), Box<dyn std::error::Error>>;

/// Runs a parsed command line.
pub async fn run(command: Command) -> CommandResult {
    match command {
        Command::Serve(serve) => {
            let (store, key) = open(&serve.storage).await?;
            let listener = bind(&serve).await?;
            run_server(&serve, listener, store, key).await
        }
        Command::Service(ServiceCommand::Add(add)) => service_add(add).await,
        Command::Service(ServiceCommand::List(storage)) => service_list(&storage).await,
        Command::Service(ServiceCommand::Mail(args)) => crate::mail::cli::service_mail(args).await,
        Command::Service(ServiceCommand::RotateKey { id, storage }) => {
            let (store, _) = open(&storage).await?;
            let key = generate_key();
            softtoken_service::actions::set_api_key(
                store.as_ref(),
                &id,
                &hash_key(&key),
                softtoken_store::audit::KeySource::CommandLine,
                COMMAND_LINE,
                SystemClock.now_ms(),
            )
            .await
            .map_err(|e| e.detail)?;
            println!("New API key for service '{id}' (shown once; the old key no longer works):");
            println!("{}", &*key);
            Ok(())
        }
        Command::Demo(serve) => demo(serve).await,
        Command::Tokens(TokensCommand::Import(args)) => tokens_import(args).await,
        Command::Key(command) => key(command).await,
        Command::Operator(command) => crate::console::cli::run(command).await,
        Command::Backup(args) => backup(&args),
        Command::Restore(args) => restore(&args).await,
        Command::Config(ConfigCommand::Check(check)) => {
            // What clap cannot check alone: the public URL is checked against the address.
            check.serve.public_url(check.serve.listen)?;
            print!("{}", check.effective);
            Ok(())
        }
    }
}

/// `key …`: the master keyring.
async fn key(command: KeyCommand) -> CommandResult {
    match command {
        KeyCommand::Generate => {
            print!("{}", &*MasterKey::generate().to_line());
            Ok(())
        }
        KeyCommand::List(storage) => {
            let (store, keys) = open(&storage).await?;
            let ids = keys.ids();
            println!("Master keys, oldest first (the last one seals):");
            for id in &ids {
                println!("  {id}");
            }
            if softtoken_service::rekey::all_current(&*store, &keys).await? {
                println!("Every secret is sealed by {}.", keys.newest_id());
            } else {
                println!(
                    "Some secrets are sealed by an older key: run `softtoken-server key reseal`."
                );
            }
            Ok(())
        }
        KeyCommand::Rotate(args) => {
            let (store, keys) = open(&args.storage).await?;
            let id = keys.add_key()?;
            println!(
                "Added master key {id}; it seals from now on. Re-sealing every secret under it:"
            );
            reseal(&*store, &keys, &args).await
        }
        KeyCommand::Reseal(args) => {
            let (store, keys) = open(&args.storage).await?;
            println!(
                "Re-sealing every secret under master key {}:",
                keys.newest_id()
            );
            reseal(&*store, &keys, &args).await
        }
        KeyCommand::Retire { id, storage } => {
            let (store, keys) = open(&storage).await?;
            if !softtoken_service::rekey::all_current(&*store, &keys).await? {
                return Err(format!(
                    "some secrets are not yet sealed by the newest key {}: run \
                     `softtoken-server key reseal` first",
                    keys.newest_id()
                )
                .into());
            }
            keys.remove_key(&id)?;
            println!(
                "Retired master key {id}; the keyring holds {}.",
                keys.ids().join(", ")
            );
            Ok(())
        }
    }
}

/// The SQLite file a storage's URL names, or a refusal that says what to use instead.
fn sqlite_file(storage: &Storage, what: &str) -> Result<std::path::PathBuf, String> {
    let url = storage.database_url();
    match url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Some(path) if !path.is_empty() && !path.contains('?') => Ok(path.into()),
        _ if url.starts_with("postgres") => Err(format!(
            "{what} copies the embedded SQLite database; for PostgreSQL use pg_dump and \
             pg_restore (README, \"Backups\")"
        )),
        _ => Err(format!("{what}: not a SQLite database file: {url}")),
    }
}

fn backup(args: &BackupArgs) -> CommandResult {
    let database = sqlite_file(&args.storage, "backup")?;
    let summary = softtoken_store::backup::backup(&database, &args.to)?;
    println!(
        "Backed up {} to {}: {} services, {} tokens, {} audit events, {} bytes.",
        database.display(),
        args.to.display(),
        summary.services,
        summary.tokens,
        summary.audit_events,
        summary.bytes
    );
    println!(
        "The master key is not in the backup: keep a copy of {} (or of SOFTTOKEN_MASTER_KEY) \
         apart from it. Without that key no seed in any backup can be read.",
        args.storage
            .data_dir
            .join(softtoken_service::crypto::KEY_FILE)
            .display()
    );
    Ok(())
}

async fn restore(args: &RestoreArgs) -> CommandResult {
    let database = sqlite_file(&args.storage, "restore")?;
    // The keyring first, and never a new one: a fresh key would open nothing restored.
    let key_file = args
        .storage
        .data_dir
        .join(softtoken_service::crypto::KEY_FILE);
    let keys = match std::env::var("SOFTTOKEN_MASTER_KEY") {
        Ok(text) => Keyring::parse(&Zeroizing::new(text))?,
        Err(_) if key_file.is_file() => Keyring::load_or_create(&args.storage.data_dir)?,
        Err(_) => {
            return Err(format!(
                "no master key at {}: put the server's master key file back first (from its \
                 own backup), or set SOFTTOKEN_MASTER_KEY. Without it no seed in the backup \
                 can be read: every token would have to be issued again.",
                key_file.display()
            )
            .into());
        }
    };
    let summary = softtoken_store::backup::restore(&args.from, &database)?;
    let url = format!("sqlite://{}", database.display());
    let opened = async {
        let store = store::connect(&url).await?;
        let report = softtoken_service::rekey::open_all(&*store, &keys).await;
        store.close().await;
        Ok::<_, Box<dyn std::error::Error>>(report?)
    }
    .await;
    match opened {
        Ok(report) => {
            println!(
                "Restored {} into {}: {} services, {} tokens, {} audit events; {} seeds, {} \
                 start-password verifiers and {} session keys open with the master key.",
                args.from.display(),
                database.display(),
                summary.services,
                summary.tokens,
                summary.audit_events,
                report.seeds,
                report.enrollments,
                report.sessions
            );
            Ok(())
        }
        Err(e) => {
            softtoken_store::backup::remove_database(&database);
            Err(format!(
                "the backup was not restored (nothing was left in {}): {e}",
                args.storage.data_dir.display()
            )
            .into())
        }
    }
}

async fn reseal(store: &dyn Store, keys: &Keyring, args: &KeyReseal) -> CommandResult {
    use std::io::Write;
    let report = softtoken_service::rekey::reseal(store, keys, args.batch, |so_far| {
        // One line per commit: progress for people, and where a resumed run starts over.
        let _ = writeln!(
            std::io::stdout(),
            "  re-sealed {} seeds, {} enrollments, {} sessions",
            so_far.seeds,
            so_far.enrollments,
            so_far.sessions
        );
    })
    .await?;
    println!(
        "Done: {} secrets re-sealed; every secret is sealed by {}. Older keys may now be \
         retired with `softtoken-server key retire ID`.",
        report.total(),
        keys.newest_id()
    );
    Ok(())
}

/// `tokens import`: the same code path as the HTTP import, straight to storage.
async fn tokens_import(args: TokensImport) -> CommandResult {
    use std::io::Read;

    use softtoken_pskc::KeySource;

    let metadata = std::fs::metadata(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    if metadata.len() > softtoken_pskc::MAX_DOCUMENT_BYTES as u64 {
        return Err(format!(
            "{} is {} bytes; a PSKC file may have at most {}",
            args.file.display(),
            metadata.len(),
            softtoken_pskc::MAX_DOCUMENT_BYTES
        )
        .into());
    }
    let document = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let source = if args.password_stdin {
        let mut text = Zeroizing::new(String::new());
        std::io::stdin().read_to_string(&mut text)?;
        let password = Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_string());
        KeySource::Password(password)
    } else if let Some(path) = &args.psk_file {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        );
        let key = hex::decode(text.trim())
            .map_err(|_| format!("{} does not hold a hexadecimal key", path.display()))?;
        KeySource::PreSharedKey(Zeroizing::new(key))
    } else {
        KeySource::None
    };
    let ctx = open_context(&args.storage).await?;
    if queries::service(&ctx, &args.service).await?.is_none() {
        return Err(format!("no service '{}'", args.service).into());
    }
    let now = SystemClock.now_ms();
    let outcome = softtoken_service::import::import(
        &*ctx.store,
        &ctx.key,
        &args.service,
        Zeroizing::new(document),
        source,
        softtoken_service::actions::Actor::Bank,
        now,
    )
    .await
    .map_err(|e| e.detail)?;
    println!(
        "imported {} token(s), skipped {}",
        outcome.imported,
        outcome.skipped.len()
    );
    for skipped in &outcome.skipped {
        println!(
            "  skipped {}: {}",
            skipped.serial.as_deref().unwrap_or("(no serial)"),
            skipped.reason
        );
    }
    Ok(())
}

/// Opens the store and the master keyring (`SOFTTOKEN_MASTER_KEY`, or the key file in the
/// data directory, created on first start).
pub async fn open(
    storage: &Storage,
) -> Result<(Arc<dyn Store>, Keyring), Box<dyn std::error::Error>> {
    let key = match std::env::var("SOFTTOKEN_MASTER_KEY") {
        Ok(text) => {
            std::fs::create_dir_all(&storage.data_dir)?;
            Keyring::parse(&Zeroizing::new(text))?
        }
        Err(_) => Keyring::load_or_create(&storage.data_dir)?,
    };
    let store = storage.connect().await?;
    Ok((store, key))
}

/// [`open`], as the service's context for one command: what the command reads and
/// changes goes through the service, like a request's.
pub async fn open_context(storage: &Storage) -> Result<Context, Box<dyn std::error::Error>> {
    let (store, key) = open(storage).await?;
    Ok(Context::for_command(store, key))
}

async fn bind(serve: &Serve) -> Result<tokio::net::TcpListener, Box<dyn std::error::Error>> {
    tokio::net::TcpListener::bind(serve.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", serve.listen).into())
}

async fn run_server(
    serve: &Serve,
    listener: tokio::net::TcpListener,
    store: Arc<dyn Store>,
    key: Keyring,
) -> CommandResult {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let bound = listener.local_addr()?;
    let public_url = serve.public_url(bound)?;
    let mailer = softtoken_service::mail::Mailer::from_flags(
        serve.smtp_url.as_ref(),
        serve.mail_from.as_deref(),
    )?;
    // Before anything is announced: a bad certificate or key stops the start-up.
    let tls = serve
        .tls_files()
        .map(|files| crate::tls::acceptor(files, serve.tls_reload_every))
        .transpose()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let state = AppState::new(store, key, clock, &public_url, serve.app_rate_limit)
        .with_trusted_proxies(TrustedProxies::new(serve.trusted_proxies.clone()))
        .with_mailer(mailer.clone());
    tracing::info!(listen = %bound, public_url = %public_url, tls = tls.is_some(), "serving");
    if let Some(listen) = serve.metrics_listen {
        crate::metrics::serve(listen, Arc::clone(&state.store), shutdown_signal()).await?;
    }
    // Provisioning and activation start are open to anyone (rate-limited): without this,
    // abandoned sessions and never-registered tokens would pile up for ever.
    tokio::spawn(housekeeping(state.clone()));
    tokio::spawn(keep_keys_current(state.clone()));
    // Mails queued before a crash or a restart go now; new ones as they are queued.
    if let Some(mailer) = mailer {
        tokio::spawn(softtoken_service::mail::sender::run(
            state.ctx.clone(),
            mailer,
        ));
    }
    // One line on stdout, for whoever started the server on port 0 and needs the port. A
    // closed or broken stdout must not stop the server (println! would panic on EPIPE).
    {
        use std::io::Write;
        let _ = writeln!(
            std::io::stdout(),
            "softtoken-server listening on {scheme}://{bound}"
        );
    }
    crate::serve::serve_with(
        listener,
        app(state.clone()),
        serve.limits(),
        tls,
        shutdown_signal(),
    )
    .await;
    // What this instance provisioned since the last summary is not lost with it.
    state.provisioned.flush(&*state.store, state.now()).await;
    // Every answered write is committed already; this ends the writer (or the pool) only
    // once what it holds is committed too, so the process exits with nothing half-done.
    state.close().await;
    tracing::info!("storage closed; exiting");
    Ok(())
}

/// Re-seals, once at start, what an older key or format sealed (seeds from before they were
/// bound to their service, the rest of an interrupted rotation); then re-reads the key file
/// every [`KEYRING_RELOAD_EVERY`], so a rotation by another process is seen before its
/// re-sealing needs it.
async fn keep_keys_current(state: AppState) {
    match softtoken_service::rekey::reseal(
        &*state.store,
        &state.key,
        softtoken_service::rekey::DEFAULT_BATCH,
        |_| {},
    )
    .await
    {
        Ok(report) if report.total() > 0 => tracing::info!(
            seeds = report.seeds,
            enrollments = report.enrollments,
            sessions = report.sessions,
            key = %state.key.newest_id(),
            "re-sealed secrets under the newest master key"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "re-sealing under the newest master key failed"),
    }
    let mut every = tokio::time::interval(KEYRING_RELOAD_EVERY);
    loop {
        every.tick().await;
        if let Err(e) = state.key.reload() {
            tracing::error!(error = %e, "the master key file cannot be reloaded; keeping the keys in memory");
        }
    }
}

/// How often a running server looks at its key file for a rotation.
const KEYRING_RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Every [`PURGE_EVERY`]: records the provisioning summaries and deletes expired
/// activation sessions and provisioned tokens.
async fn housekeeping(state: AppState) {
    let mut every = tokio::time::interval(PURGE_EVERY);
    loop {
        every.tick().await;
        let now = state.now();
        state.provisioned.flush(&*state.store, now).await;
        match softtoken_service::actions::purge_expired(&state, now - EXPIRED_UNASSIGNED_KEPT_MS)
            .await
        {
            Ok(p) if p.sessions + p.tokens + p.mails > 0 => {
                tracing::info!(
                    sessions = p.sessions,
                    tokens = p.tokens,
                    mails = p.mails,
                    "purged expired rows"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging expired rows failed; will retry"),
        }
        // Ended console sessions are refused already; this only keeps the table small.
        if let Err(e) =
            softtoken_service::console_sessions::purge(&state, crate::console::session::LIMITS)
                .await
        {
            tracing::warn!(error = %e, "purging console sessions failed; will retry");
        }
    }
}

/// `service add`'s refusal of a setting outside its bound, naming the option as typed.
fn option_refusal(e: softtoken_store::policy::OutOfBounds) -> String {
    let field = e.bound.field;
    format!(
        "--{}",
        e.to_string().replacen(field, &field.replace('_', "-"), 1)
    )
}

/// The policy `service add` describes, every setting checked against the policy's one
/// bounds table ([`Policy::validate`]); a refusal names the option and its range.
fn policy_from(add: &ServiceAdd) -> Result<Policy, String> {
    use softtoken_store::policy::{COOLDOWN, DIGITS, ENROLLMENT_TTL, PERIOD};
    let digits = match add.digits {
        None => None,
        Some(d) => {
            DIGITS.check(u64::from(d)).map_err(option_refusal)?;
            Some(Digits::try_from(d).map_err(|e| format!("--digits: {e}"))?)
        }
    };
    let period = match add.period {
        None => None,
        Some(p) => {
            PERIOD.check(p).map_err(option_refusal)?;
            Some(Period::new(p).map_err(|e| format!("--period: {e}"))?)
        }
    };
    let duration = |b: softtoken_store::policy::Bound, text: &str| {
        let secs =
            parse_duration(text).map_err(|e| format!("--{}: {e}", b.field.replace('_', "-")))?;
        b.check(secs).map_err(option_refusal)
    };
    let policy = Policy {
        algorithm: add.algorithm,
        digits,
        period,
        window: add.window,
        max_failures: add.max_failures,
        cooldown_secs: duration(COOLDOWN, &add.cooldown)?,
        enrollment_ttl_secs: duration(ENROLLMENT_TTL, &add.enrollment_ttl)?,
        tokens_per_user: add.tokens_per_user,
        shared_tokens: add.shared_tokens,
        cooldown_restarts: add.cooldown_restarts,
        unassigned_quota: add.unassigned_quota,
        night_cutoff: add
            .night_cutoff
            .as_deref()
            .map(|window| {
                let zone = add
                    .night_cutoff_zone
                    .as_deref()
                    .unwrap_or(softtoken_store::night_cutoff::DEFAULT_ZONE.name());
                NightCutoff::parse(window, zone).map_err(|e| format!("--night-cutoff: {e}"))
            })
            .transpose()?,
    };
    policy.validate().map_err(option_refusal)?;
    Ok(policy)
}

async fn service_add(add: ServiceAdd) -> CommandResult {
    if add.id.as_str().starts_with('_') {
        return Err(
            "service IDs starting with '_' are reserved (the console's is _console)".into(),
        );
    }
    let policy = policy_from(&add)?;
    let (store, _) = open(&add.storage).await?;
    let key = generate_key();
    let now = SystemClock.now_ms();
    let service = Service {
        id: add.id.clone(),
        name: add.name.clone(),
        policy,
        created_at: now,
    };
    softtoken_service::actions::add_service(
        &*store,
        &service,
        &hash_key(&key),
        softtoken_store::audit::KeySource::CommandLine,
        COMMAND_LINE,
        now,
    )
    .await?;
    println!("Added service '{}' ({}).", add.id, add.name);
    println!("API key (shown once; store it in the bank's back end):");
    println!("{}", &*key);
    Ok(())
}

async fn service_list(storage: &Storage) -> CommandResult {
    let ctx = open_context(storage).await?;
    let services = queries::services(&ctx).await?;
    if services.is_empty() {
        println!(
            "No services yet: add one with `softtoken-server service add --id ID --name NAME`."
        );
    }
    for s in services {
        let p = &s.policy;
        let a = p.activation_params();
        let r = p.registration_params();
        println!(
            "{}\t{}\tactivation {}/{}/{}s registration {}/{}/{}s window {} max-failures {} \
             cooldown {}s enrollment-ttl {}s tokens-per-user {}{}{}",
            s.id,
            s.name,
            a.algorithm,
            a.digits.get(),
            a.period.seconds(),
            r.algorithm,
            r.digits.get(),
            r.period.seconds(),
            p.window,
            p.max_failures,
            p.cooldown_secs,
            p.enrollment_ttl_secs,
            p.tokens_per_user,
            if p.shared_tokens {
                " shared-tokens"
            } else {
                ""
            },
            p.night_cutoff
                .map(|n| format!(" night-cutoff {n}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// The demo service's ID.
pub const DEMO_SERVICE: &str = "demo";

async fn demo(serve: Serve) -> CommandResult {
    let (store, master) = open(&serve.storage).await?;
    // Listen first, so the key printed below belongs to a server that is running.
    let listener = bind(&serve).await?;
    let sid = ServiceId::new(DEMO_SERVICE)?;
    let key = demo_key(&serve.storage.data_dir)?;
    let service = Service {
        id: sid.clone(),
        name: "Demo Bank".to_string(),
        policy: Policy::default(),
        created_at: SystemClock.now_ms(),
    };
    // The key of the data directory: a restart keeps the one the second terminal holds.
    let key_hash = hash_key(&key);
    let added = softtoken_service::actions::add_service(
        &*store,
        &service,
        &key_hash,
        softtoken_store::audit::KeySource::Demo,
        COMMAND_LINE,
        service.created_at,
    );
    match added.await {
        Ok(()) => {}
        Err(StoreError::ServiceExists) => softtoken_service::actions::set_api_key(
            store.as_ref(),
            &sid,
            &key_hash,
            softtoken_store::audit::KeySource::Demo,
            COMMAND_LINE,
            SystemClock.now_ms(),
        )
        .await
        .map_err(|e| e.detail)?,
        Err(e) => return Err(e.into()),
    }
    // Next to a built server there is usually the built `softtoken`: say how to reach it.
    let bin_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.to_path_buf()))
        .filter(|dir| dir.join("softtoken").exists());
    print!(
        "{}",
        demo_instructions(
            &serve.public_url(listener.local_addr()?)?,
            &key,
            &serve.storage.data_dir,
            bin_dir.as_deref()
        )
    );
    run_server(&serve, listener, store, master).await
}

/// The file in the data directory that keeps the demo service's API key between runs.
pub const DEMO_KEY_FILE: &str = "demo-api-key";

/// The demo service's API key: the one kept in `data_dir` (so a restarted demo answers to
/// the key the second terminal already exported), or a fresh one, kept there (0600) for the
/// next run. Only the demo keeps a key on disk; a bank's keys are shown once and only their
/// hashes are stored.
fn demo_key(data_dir: &std::path::Path) -> Result<Zeroizing<String>, Box<dyn std::error::Error>> {
    use std::io::Write;
    let path = data_dir.join(DEMO_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let key = Zeroizing::new(text.trim().to_string());
            if !key.starts_with(crate::auth::KEY_PREFIX) {
                return Err(format!(
                    "{} does not hold a demo API key: delete it to get a new one",
                    path.display()
                )
                .into());
            }
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)?;
            let key = generate_key();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(&path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            file.write_all(format!("{}\n", key.as_str()).as_bytes())?;
            file.sync_all()?;
            Ok(key)
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display()).into()),
    }
}

/// What `demo` prints: the commands to try the whole flow from a second terminal.
pub fn demo_instructions(
    url: &str,
    key: &str,
    data_dir: &std::path::Path,
    bin_dir: Option<&std::path::Path>,
) -> String {
    let data_dir = data_dir.display();
    let auth = "-H \"Authorization: Bearer $KEY\" -H 'Content-Type: application/json'";
    let path = match bin_dir {
        Some(dir) => format!(
            "  export PATH=\"{}:$PATH\"   # the built `softtoken`\n",
            dir.display()
        ),
        None => "  # (`softtoken` is `cargo run -q -p softtoken-cli --` from the repository)\n"
            .to_string(),
    };
    format!(
        r#"softtoken-server demo: serving {url} with service '{DEMO_SERVICE}' (Demo Bank).
Data: {data_dir} (SQLite, master key, and the demo's API key, kept across restarts).
Stop with Ctrl-C.

In a second terminal:

{path}  export KEY={key}

  # 1. The bank issues an activation for alice, start password 1234abcd (the answer also
  #    holds the QR code as SVG, `qr_svg`; jq leaves it out here):
  curl -s -X POST {url}/v1/services/{DEMO_SERVICE}/enrollments {auth} \
       -d '{{"user_id":"alice","start_password":"1234abcd"}}' | jq 'del(.qr_svg)'

  # 2. Alice activates her desktop token with it:
  echo 1234abcd | softtoken activate --server {url} --service {DEMO_SERVICE} --user alice --password-stdin

  # 3. The bank confirms the token with the code it shows (8 digits, 60 s):
  softtoken show --once
  curl -s -X POST {url}/v1/services/{DEMO_SERVICE}/users/alice/confirm {auth} -d '{{"otp":"CODE"}}'

  # 4. At each login the bank verifies a fresh code (each code works once):
  curl -s -X POST {url}/v1/services/{DEMO_SERVICE}/users/alice/verify {auth} -d '{{"otp":"CODE"}}'

  # Registration mode instead: the app makes a token, the bank registers serial + code:
  softtoken provision --server {url} --service {DEMO_SERVICE}
  curl -s -X POST {url}/v1/services/{DEMO_SERVICE}/users/bob/tokens {auth} \
       -d '{{"serial":"SERIAL","otp":"CODE"}}'

  # The user's state, the audit trail, the API description:
  curl -s {url}/v1/services/{DEMO_SERVICE}/users/alice -H "Authorization: Bearer $KEY"
  curl -s {url}/v1/services/{DEMO_SERVICE}/audit -H "Authorization: Bearer $KEY"
  curl -s {url}/openapi.json

"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_prints_runnable_commands() {
        let text = demo_instructions(
            "http://127.0.0.1:8080",
            "stk_abc",
            std::path::Path::new("softtoken-data"),
            None,
        );
        assert!(text.contains("export KEY=stk_abc"));
        assert!(text.contains(
            "softtoken activate --server http://127.0.0.1:8080 --service demo --user alice"
        ));
        assert!(text.contains("http://127.0.0.1:8080/v1/services/demo/users/alice/verify"));
        assert!(text.contains("Data: softtoken-data"));
    }

    #[test]
    fn the_public_url_must_be_http_or_https_with_a_host() {
        use clap::Parser;
        let serve = |url: &str| {
            let cli = crate::config::Cli::try_parse_from([
                "softtoken-server",
                "serve",
                "--public-url",
                url,
            ])
            .unwrap();
            let Command::Serve(serve) = cli.command else {
                panic!("parsed as another command");
            };
            serve.public_url("127.0.0.1:8080".parse().unwrap())
        };
        assert_eq!(
            serve("https://otp.bank.example/").unwrap(),
            "https://otp.bank.example"
        );
        assert_eq!(
            serve("http://127.0.0.1:9000").unwrap(),
            "http://127.0.0.1:9000"
        );
        for bad in [
            "ftp://x",
            "otp.bank.example",
            "https://",
            "https://h/?x=1",
            "file:///etc",
        ] {
            let e = serve(bad).unwrap_err();
            assert!(e.contains("--public-url"), "{bad}: {e}");
        }
    }

    #[test]
    fn service_options_become_a_policy() {
        use clap::Parser;
        let cli = crate::config::Cli::try_parse_from([
            "softtoken-server",
            "service",
            "add",
            "--id",
            "b1",
            "--name",
            "Bank",
            "--digits",
            "6",
            "--period",
            "30",
            "--cooldown",
            "1h",
            "--shared-tokens",
        ])
        .unwrap();
        let Command::Service(ServiceCommand::Add(add)) = cli.command else {
            panic!("parsed as another command");
        };
        let policy = policy_from(&add).unwrap();
        assert_eq!(policy.activation_params().digits, Digits::Six);
        assert_eq!(policy.cooldown_secs, 3600);
        assert!(policy.shared_tokens);
        assert_eq!(policy.night_cutoff, None);
        let night = |extra: &[&str]| {
            let args = [
                "softtoken-server",
                "service",
                "add",
                "--id",
                "b1",
                "--name",
                "B",
            ];
            let cli = crate::config::Cli::try_parse_from(args.iter().chain(extra)).unwrap();
            let Command::Service(ServiceCommand::Add(add)) = cli.command else {
                panic!("parsed as another command");
            };
            policy_from(&add)
        };
        let tokyo = night(&["--night-cutoff", "20:50-08:10"]).unwrap();
        assert_eq!(
            tokyo.night_cutoff.unwrap().to_string(),
            "20:50-08:10 Asia/Tokyo"
        );
        let utc = night(&[
            "--night-cutoff",
            "22:00-06:00",
            "--night-cutoff-zone",
            "UTC",
        ]);
        assert_eq!(utc.unwrap().night_cutoff.unwrap().zone_name(), "UTC");
        let e = night(&["--night-cutoff", "22:00-6"]).unwrap_err();
        assert!(e.starts_with("--night-cutoff: "), "{e}");
        let e = night(&[
            "--night-cutoff",
            "22:00-06:00",
            "--night-cutoff-zone",
            "Mars",
        ]);
        assert!(e.unwrap_err().contains("'Mars'"));
        // A zone alone is a mistake clap reports.
        let args = [
            "softtoken-server",
            "service",
            "add",
            "--id",
            "b1",
            "--name",
            "B",
        ];
        let zone_alone = ["--night-cutoff-zone", "UTC"];
        assert!(crate::config::Cli::try_parse_from(args.iter().chain(&zone_alone)).is_err());
        let bad = crate::config::Cli::try_parse_from([
            "softtoken-server",
            "service",
            "add",
            "--id",
            "b1",
            "--name",
            "Bank",
            "--digits",
            "7",
        ])
        .unwrap();
        let Command::Service(ServiceCommand::Add(add)) = bad.command else {
            panic!("parsed as another command");
        };
        assert_eq!(policy_from(&add).unwrap_err(), "--digits must be 6 or 8");
    }
}
