//! Every statement that looks up one user, token, enrollment, mail or session walks an
//! index from that key, never a whole service's rows (SQLite's own query plans, on the
//! migrated schema, without statistics as on a new server).
//!
//! The soak of issue 26 found the console's user page reading the user's audit trail and
//! mails through service-wide walks: each page cost grew with every customer the bank ever
//! had, and SQLite fell to a third of its rate within three minutes.

use rusqlite::Connection;

use super::MIGRATOR;
use crate::sql;

/// The tables that grow with the bank's customers and their use.
const GROWING: [&str; 9] = [
    "users",
    "tokens",
    "token_users",
    "enrollments",
    "activation_sessions",
    "audit_events",
    "mail_outbox",
    "transactions",
    "console_sessions",
];

/// The statements that read or change rows by their key, with their names for the failure
/// message. Statements meant to walk a service or a table (the audit export, the service's
/// audit search, purges, key rotation's batches, a service's operators) are not here.
const KEYED: &[(&str, &str)] = &[
    ("SERVICE", sql::SERVICE),
    ("SERVICE_FOR_KEY", sql::SERVICE_FOR_KEY),
    ("ENSURE_USER", sql::ENSURE_USER),
    ("USER_STATE", sql::USER_STATE),
    ("USER_WITH_TOKENS", sql::USER_WITH_TOKENS),
    ("COUNT_FAILURE", sql::COUNT_FAILURE),
    ("RESET_FAILURES", sql::RESET_FAILURES),
    ("UNLOCK_USER", sql::UNLOCK_USER),
    ("SET_COOLDOWN", sql::SET_COOLDOWN),
    ("TOKEN", sql::TOKEN),
    ("SERIAL_EXISTS", sql::SERIAL_EXISTS),
    ("CONSUME_STEP", sql::CONSUME_STEP),
    ("LAST_USED_BY", sql::LAST_USED_BY),
    ("USER_LOCKED", sql::USER_LOCKED),
    ("CONSUME_UNBOUND_STEP", sql::CONSUME_UNBOUND_STEP),
    ("COUNT_TOKEN_FAILURE", sql::COUNT_TOKEN_FAILURE),
    ("UNLOCK_TOKEN", sql::UNLOCK_TOKEN),
    ("ACTIVE_TOKENS", sql::ACTIVE_TOKENS),
    ("IS_BOUND", sql::IS_BOUND),
    ("TOKEN_STANDING", sql::TOKEN_STANDING),
    ("UNBIND", sql::UNBIND),
    ("REVOKE_IF_UNHELD", sql::REVOKE_IF_UNHELD),
    ("REVOKE_PENDING_OF_USER", sql::REVOKE_PENDING_OF_USER),
    ("REVOKE", sql::REVOKE),
    ("TOKEN_USERS", sql::TOKEN_USERS),
    ("USER_SERIALS", sql::USER_SERIALS),
    ("ENROLLMENT_FOR_START", sql::ENROLLMENT_FOR_START),
    ("UNUSED_ENROLLMENT", sql::UNUSED_ENROLLMENT),
    ("COUNT_GUESS", sql::COUNT_GUESS),
    ("USE_ENROLLMENT", sql::USE_ENROLLMENT),
    (
        "END_ENROLLMENTS_OF_TOKEN_USERS",
        sql::END_ENROLLMENTS_OF_TOKEN_USERS,
    ),
    ("SESSION", sql::SESSION),
    ("TAKE_SESSION", sql::TAKE_SESSION),
    ("DISCARD_SESSION", sql::DISCARD_SESSION),
    ("SERVICE_MAIL", sql::SERVICE_MAIL),
    ("USER_MAILS", sql::USER_MAILS),
    ("CLAIM_MAIL", sql::CLAIM_MAIL),
    ("MAIL_SENT", sql::MAIL_SENT),
    ("MAIL_RETRY", sql::MAIL_RETRY),
    ("MAIL_FAILED", sql::MAIL_FAILED),
    ("TRANSACTION", sql::TRANSACTION),
    ("USE_TRANSACTION", sql::USE_TRANSACTION),
    ("OPERATOR_BY_NAME", sql::OPERATOR_BY_NAME),
    ("OPERATOR_BY_ID", sql::OPERATOR_BY_ID),
    ("TOUCH_SESSION", sql::TOUCH_SESSION),
    ("UPDATE_SESSION", sql::UPDATE_SESSION),
    ("DELETE_SESSION", sql::DELETE_SESSION),
    ("DELETE_OPERATOR_SESSIONS", sql::DELETE_OPERATOR_SESSIONS),
    ("USER_AUDIT", sql::USER_AUDIT),
    ("SERIAL_AUDIT", sql::SERIAL_AUDIT),
];

/// SQLite's plan for `statement`, one line per step.
fn plan(db: &Connection, statement: &str) -> Vec<String> {
    let mut query = db
        .prepare(&format!("EXPLAIN QUERY PLAN {statement}"))
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
    let nulls = std::iter::repeat_n(rusqlite::types::Null, query.parameter_count());
    query
        .query_map(rusqlite::params_from_iter(nulls), |row| {
            row.get::<_, String>(3)
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Why `step` walks rows of a growing table that the key does not pick, if it does.
fn service_walk(step: &str) -> Option<&'static str> {
    let table = GROWING.iter().find(|t| {
        let mut words = step.split_whitespace();
        matches!(words.next(), Some("SCAN" | "SEARCH"))
            && words.next().is_some_and(|name| name == **t)
    });
    let table = table?;
    if step.starts_with("SCAN") {
        return Some(table);
    }
    // A search on the service alone walks every row of the service.
    step.ends_with("(service_id=?)").then_some(table)
}

/// The tables are searched by their aliases in joins; name them as the plan does.
fn aliased(step: &str) -> String {
    [
        ("SEARCH u ", "SEARCH users "),
        ("SEARCH b ", "SEARCH token_users "),
        ("SEARCH t ", "SEARCH tokens "),
        ("SEARCH e ", "SEARCH enrollments "),
        ("SCAN u", "SCAN users"),
        ("SCAN b", "SCAN token_users"),
        ("SCAN t", "SCAN tokens"),
        ("SCAN e", "SCAN enrollments"),
    ]
    .iter()
    .fold(step.to_owned(), |s, (from, to)| s.replacen(from, to, 1))
}

#[test]
fn keyed_statements_walk_an_index_from_their_key() {
    let db = Connection::open_in_memory().unwrap();
    for migration in MIGRATOR.iter() {
        db.execute_batch(&migration.sql).unwrap();
    }
    let mut walks = Vec::new();
    for (name, statement) in KEYED {
        for step in plan(&db, statement) {
            if let Some(table) = service_walk(&aliased(&step)) {
                walks.push(format!("{name} walks {table}: {step}"));
            }
        }
    }
    assert!(walks.is_empty(), "{}", walks.join("\n"));
}

#[test]
fn the_check_sees_a_service_wide_walk() {
    assert_eq!(
        service_walk("SEARCH audit_events USING INDEX audit_events_by_service (service_id=?)"),
        Some("audit_events")
    );
    assert_eq!(
        service_walk("SCAN mail_outbox USING INDEX mail_outbox_by_age"),
        Some("mail_outbox")
    );
    assert_eq!(
        service_walk(
            "SEARCH users USING INDEX sqlite_autoindex_users_1 (service_id=? AND user_id=?)"
        ),
        None
    );
    assert_eq!(service_walk("SCAN CONSTANT ROW"), None);
}
