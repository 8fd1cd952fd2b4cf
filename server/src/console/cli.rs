//! `softtoken-server operator …`: adding and managing the console's operators.

use std::io::BufRead;

use zeroize::Zeroizing;

use super::password;
use crate::commands::{CommandResult, open_context};
use crate::config::{OperatorAdd, OperatorCommand};
use softtoken_service::actions::{self, Actor};
use softtoken_service::{console_sessions, queries};
use softtoken_store::console::OperatorRole;

/// Runs an `operator` subcommand.
pub async fn run(command: OperatorCommand) -> CommandResult {
    match command {
        OperatorCommand::Add(add) => add_operator(add).await,
        OperatorCommand::List(storage) => {
            let ctx = open_context(&storage).await?;
            let operators = queries::operators(&ctx, None).await?;
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
            let ctx = open_context(&storage).await?;
            let operator = console_sessions::operator_named(&ctx, &name)
                .await?
                .ok_or_else(|| format!("no operator '{name}'"))?;
            actions::disable_operator(&ctx, &operator, CLI)
                .await
                .map_err(|e| e.detail)?;
            println!("Disabled operator '{name}'.");
            Ok(())
        }
        OperatorCommand::ResetPassword {
            name,
            password_stdin,
            storage,
        } => {
            let ctx = open_context(&storage).await?;
            let operator = console_sessions::operator_named(&ctx, &name)
                .await?
                .ok_or_else(|| format!("no operator '{name}'"))?;
            let (secret, generated) = new_password(password_stdin)?;
            let hash = hash_blocking(secret.clone()).await?;
            actions::reset_operator_password(&ctx, &operator, &hash, CLI)
                .await
                .map_err(|e| e.detail)?;
            println!("New password for operator '{name}'; their sessions ended.");
            if generated {
                println!("Password (shown once):");
                println!("{}", &*secret);
            }
            Ok(())
        }
    }
}

/// Who the CLI's changes are audited as.
const CLI: Actor<'static> = Actor::Operator("softtoken-server operator");

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
    let ctx = open_context(&add.storage).await?;
    let (secret, generated) = new_password(add.password_stdin)?;
    let hash = hash_blocking(secret.clone()).await?;
    let (id, name) = actions::add_operator(&ctx, add.service.as_ref(), &add.name, role, hash, CLI)
        .await
        .map_err(|e| e.detail)?;
    println!("Added operator '{name}' ({role}, id {id}); they sign in as '{name}'.");
    if generated {
        println!("Password (shown once):");
        println!("{}", &*secret);
    }
    println!("They sign in at /console and enrol their own softtoken token there.");
    Ok(())
}
