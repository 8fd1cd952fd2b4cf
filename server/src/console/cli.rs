//! `softtoken-server operator …`: adding and managing the console's operators.

use std::io::BufRead;

use softtoken_protocol::{ServiceId, UserId};
use zeroize::Zeroizing;

use super::password;
use crate::audit::AuditKind;
use crate::clock::{Clock, SystemClock};
use crate::commands::{CommandResult, open};
use crate::config::{OperatorAdd, OperatorCommand};
use crate::store::console::{CONSOLE_SERVICE, NewOperator, OperatorRole};
use crate::store::{NewAuditEvent, Store};

/// Runs an `operator` subcommand.
pub async fn run(command: OperatorCommand) -> CommandResult {
    match command {
        OperatorCommand::Add(add) => add_operator(add).await,
        OperatorCommand::List(storage) => {
            let (store, _) = open(&storage).await?;
            let operators = store.operators(None).await?;
            if operators.is_empty() {
                println!(
                    "No operators yet: add one with `softtoken-server operator add --service SID \
                     --name NAME --role helpdesk`."
                );
            }
            for o in operators {
                let state = if o.disabled {
                    "disabled"
                } else if o.locked {
                    "locked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}",
                    o.name,
                    o.service_id
                        .map_or_else(|| "*".to_owned(), |s| s.to_string()),
                    o.role,
                    state
                );
            }
            Ok(())
        }
        OperatorCommand::Disable { name, storage } => {
            let (store, _) = open(&storage).await?;
            let event = event_for(&*store, &name, "disabled").await?;
            store
                .set_operator_disabled(&name, true, &event, SystemClock.now_ms())
                .await?;
            println!("Disabled operator '{name}'.");
            Ok(())
        }
        OperatorCommand::ResetPassword {
            name,
            password_stdin,
            storage,
        } => {
            let (store, _) = open(&storage).await?;
            let operator = store
                .operator_named(&name)
                .await?
                .ok_or_else(|| format!("no operator '{name}'"))?;
            let (secret, generated) = new_password(password_stdin)?;
            let hash = hash_blocking(secret.clone()).await?;
            let now = SystemClock.now_ms();
            let event = event_for(&*store, &name, "password reset; lockout cleared").await?;
            store
                .set_operator_password(&name, &hash, &event, now)
                .await?;
            // The code failures of the operator's own token count too: clear them with it.
            let console = ServiceId::new(CONSOLE_SERVICE)?;
            let unlock = NewAuditEvent::new(&console, AuditKind::UserUnlocked, "password reset")
                .user(&operator.token_user()?);
            match store
                .unlock_user(&console, &operator.token_user()?, &unlock, now)
                .await
            {
                Ok(()) | Err(crate::store::StoreError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
            println!("New password for operator '{name}'; their sessions ended.");
            if generated {
                println!("Password (shown once):");
                println!("{}", &*secret);
            }
            Ok(())
        }
    }
}

async fn event_for(store: &dyn Store, name: &str, detail: &str) -> Result<NewAuditEvent, String> {
    let operator = store
        .operator_named(name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no operator '{name}'"))?;
    let sid = operator
        .service_id
        .clone()
        .map_or_else(|| ServiceId::new(CONSOLE_SERVICE), Ok)
        .map_err(|e| e.to_string())?;
    Ok(NewAuditEvent::new(
        &sid,
        AuditKind::OperatorChanged,
        format!("{name}: {detail}"),
    )
    .by("softtoken-server operator"))
}

/// A password read from stdin, or a generated one (`true`).
fn new_password(from_stdin: bool) -> Result<(Zeroizing<String>, bool), String> {
    if !from_stdin {
        return Ok((password::generate_password(), true));
    }
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("reading the password from stdin: {e}"))?;
    let secret = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned());
    password::acceptable(&secret)?;
    Ok((secret, false))
}

async fn hash_blocking(secret: Zeroizing<String>) -> Result<String, String> {
    tokio::task::spawn_blocking(move || password::hash(&secret))
        .await
        .map_err(|e| e.to_string())?
}

async fn add_operator(add: OperatorAdd) -> CommandResult {
    let role = OperatorRole::parse(&add.role)
        .ok_or("--role must be helpdesk, admin, auditor or superuser")?;
    match (&add.service, role) {
        (None, OperatorRole::Superuser)
        | (Some(_), OperatorRole::Helpdesk)
        | (Some(_), OperatorRole::Admin)
        | (Some(_), OperatorRole::Auditor) => {}
        (Some(_), OperatorRole::Superuser) => {
            return Err("a superuser acts on every service: leave out --service".into());
        }
        (None, _) => return Err("--service is required except for --role superuser".into()),
    }
    // The same rule as user IDs: safe in URLs, logs and the audit trail.
    UserId::new(add.name.as_str()).map_err(|_| "--name must be 1–64 of [A-Za-z0-9._-]")?;
    let (store, _) = open(&add.storage).await?;
    if let Some(sid) = &add.service
        && (sid.as_str() == CONSOLE_SERVICE || store.service(sid).await?.is_none())
    {
        return Err(format!("no service '{sid}' on this server").into());
    }
    let (secret, generated) = new_password(add.password_stdin)?;
    let hash = hash_blocking(secret.clone()).await?;
    let home = add
        .service
        .clone()
        .map_or_else(|| ServiceId::new(CONSOLE_SERVICE), Ok)?;
    let event = NewAuditEvent::new(
        &home,
        AuditKind::OperatorAdded,
        format!("{} ({role})", add.name),
    )
    .by("softtoken-server operator");
    let id = store
        .add_operator(
            &NewOperator {
                service_id: add.service.clone(),
                name: add.name.clone(),
                role,
                password_hash: hash,
            },
            &event,
            SystemClock.now_ms(),
        )
        .await?;
    println!("Added operator '{}' ({role}, id {id}).", add.name);
    if generated {
        println!("Password (shown once):");
        println!("{}", &*secret);
    }
    println!("They sign in at /console and enrol their own softtoken token there.");
    Ok(())
}
