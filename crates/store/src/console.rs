//! The help-desk console's storage (issue 14): operators, their sessions, finding users and
//! filtering the audit trail. Types, row conversions, statements and operations in one
//! module, written once over [`Conn`] for both backends like `ops.rs`.

use std::fmt;

use softtoken_protocol::{ServiceId, UserId};

use super::conn::{Conn, FromRow, Row, args};
use super::model::{AuditEvent, NewAuditEvent};
use super::ops::audit;
use super::sql::{
    ALL_OPERATORS, COUNT_OPERATOR_FAILURE, DELETE_OPERATOR_SESSIONS, DELETE_SESSION,
    INSERT_CONSOLE_SESSION as INSERT_SESSION, INSERT_OPERATOR, OPERATOR_BY_ID, OPERATOR_BY_NAME,
    OPERATOR_FAILURES, PURGE_CONSOLE_SESSIONS as PURGE_SESSIONS, RESET_OPERATOR_FAILURES,
    RESET_SESSION_OPERATOR_FAILURES, SEARCH_USERS, SERIAL_AUDIT, SERVICE_AUDIT, SERVICE_OPERATORS,
    SET_DISABLED, SET_PASSWORD, TOUCH_SESSION, UPDATE_SESSION, USER_AUDIT,
};
use super::{StoreError, StoreResult};

/// The reserved service that holds the operators' own tokens (user ID `op-<id>`).
pub use softtoken_protocol::CONSOLE_SERVICE;

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorRole {
    /// Finds users and helps them: unlock, revoke, stop, issue, register, their audit.
    Helpdesk,
    /// A help desk that also runs the service: policy, import, operators, API key.
    Admin,
    /// Reads the service's audit trail.
    Auditor,
    /// An admin of every service.
    Superuser,
}

impl OperatorRole {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorRole::Helpdesk => "helpdesk",
            OperatorRole::Admin => "admin",
            OperatorRole::Auditor => "auditor",
            OperatorRole::Superuser => "superuser",
        }
    }

    /// The inverse of [`OperatorRole::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        [
            OperatorRole::Helpdesk,
            OperatorRole::Admin,
            OperatorRole::Auditor,
            OperatorRole::Superuser,
        ]
        .into_iter()
        .find(|r| r.as_str() == name)
    }
}

impl fmt::Display for OperatorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An operator as stored.
#[derive(Clone)]
pub struct Operator {
    /// Row ID; the operator's token is user `op-<id>` of [`CONSOLE_SERVICE`].
    pub id: i64,
    /// The service they work for; `None` for a superuser.
    pub service_id: Option<ServiceId>,
    /// Sign-in name, unique on the server: `name@service` for operators added since issue
    /// 22 (see [`sign_in_name`]), bare for a superuser or an operator added before.
    pub name: String,
    /// What they may do.
    pub role: OperatorRole,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Refused at sign-in.
    pub disabled: bool,
    /// Consecutive wrong passwords or codes (kept past a temporary lock, so each further
    /// wrong try locks again, for longer).
    pub failures: u32,
    /// Locked for good. Wrong tries no longer set it (migration 0008 turned such locks into
    /// temporary ones); a password reset clears it.
    pub locked: bool,
    /// Sign-in refused until then (Unix ms; 0: never locked): the back-off of wrong tries.
    pub locked_until: i64,
    /// When added (Unix ms).
    pub created_at: i64,
}

impl fmt::Debug for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hash is not printed: it is what an offline guesser would need.
        f.debug_struct("Operator")
            .field("id", &self.id)
            .field("service_id", &self.service_id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .field("failures", &self.failures)
            .field("locked", &self.locked)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

impl Operator {
    /// The user ID of the operator's own token in [`CONSOLE_SERVICE`].
    pub fn token_user(&self) -> StoreResult<UserId> {
        UserId::new(format!("op-{}", self.id)).map_err(super::error::corrupt)
    }

    /// Until when the back-off refuses their sign-in, if it does at `now` (Unix ms).
    pub fn locked_until_at(&self, now: i64) -> Option<i64> {
        (self.locked_until > now).then_some(self.locked_until)
    }
}

/// The first temporary lock (after the console policy's `max_failures` wrong tries): 1 min.
pub const BACKOFF_FIRST_MS: i64 = 60_000;
/// The longest temporary lock: 15 min (each further wrong try doubles the wait up to it).
pub const BACKOFF_MAX_MS: i64 = 15 * 60_000;

/// Until when an operator with `failures` consecutive wrong tries is locked, counted at
/// `now`; `None` below `max_failures`. Like Keycloak's brute-force detector: 1 min at the
/// limit, doubling with each further wrong try, at most 15 min, never for good.
pub fn backoff_until(failures: u32, max_failures: u32, now: i64) -> Option<i64> {
    let over = failures.checked_sub(max_failures.max(1))?;
    // 2^4 min already passes the cap; a larger shift would only overflow.
    let wait = BACKOFF_FIRST_MS
        .saturating_mul(1_i64 << over.min(4))
        .min(BACKOFF_MAX_MS);
    Some(now.saturating_add(wait))
}

/// A wrong password or code counted against an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorFailure {
    /// Consecutive wrong tries now.
    pub failures: u32,
    /// Locked until then (Unix ms), if locked now.
    pub locked_until: Option<i64>,
    /// Whether this try locked them; a try while locked is recorded but not counted.
    pub newly_locked: bool,
}

/// The name an operator signs in with (and is stored under): `name@service` for an
/// operator of a service, the bare `name` for a superuser. Names are per service (issue 22):
/// an admin adding `root` to their service makes `root@bank`, which no other service's
/// operator and no superuser can hold, so the answer never tells names outside it. Names
/// themselves have no `@` (the user-ID rule), so the two parts never blur.
pub fn sign_in_name(service: Option<&ServiceId>, name: &str) -> String {
    match service {
        Some(sid) => format!("{name}@{sid}"),
        None => name.to_owned(),
    }
}

/// An operator to add.
pub struct NewOperator {
    /// Their service; `None` for a superuser.
    pub service_id: Option<ServiceId>,
    /// Sign-in name.
    pub name: String,
    /// Role.
    pub role: OperatorRole,
    /// Argon2id PHC string.
    pub password_hash: String,
}

impl fmt::Debug for NewOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewOperator")
            .field("service_id", &self.service_id)
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// How far a console session got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// The password was right; the operator's own token is not confirmed yet.
    Enroll,
    /// Signed in with password and code.
    Full,
}

impl SessionStage {
    fn as_str(self) -> &'static str {
        match self {
            SessionStage::Enroll => "enroll",
            SessionStage::Full => "full",
        }
    }
}

/// A live console session and its operator.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    /// Who.
    pub operator: Operator,
    /// How far sign-in got.
    pub stage: SessionStage,
    /// The service acted on (the operator's own, or a superuser's pick).
    pub service_id: Option<ServiceId>,
    /// When it began (Unix ms).
    pub created_at: i64,
}

/// Which audit events to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only about this user.
    pub user: Option<String>,
    /// Only about this serial.
    pub serial: Option<String>,
    /// Only of this kind.
    pub kind: Option<String>,
    /// At or after (Unix ms).
    pub from: Option<i64>,
    /// Before (Unix ms).
    pub to: Option<i64>,
}

/// How long a console session lives.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Without a request for this long, it ends.
    pub idle_ms: i64,
    /// It ends this long after sign-in, however busy.
    pub absolute_ms: i64,
}

// --- rows -------------------------------------------------------------------------------

impl FromRow for Operator {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        let role = row.text("role")?;
        Ok(Operator {
            id: row.int("id")?,
            service_id: row
                .opt_text("service_id")?
                .map(ServiceId::new)
                .transpose()
                .map_err(super::error::corrupt)?,
            name: row.text("name")?,
            role: OperatorRole::parse(&role)
                .ok_or_else(|| super::error::corrupt(format!("operator role '{role}'")))?,
            password_hash: row.text("password_hash")?,
            disabled: row.flag("disabled")?,
            failures: u32::try_from(row.int("failures")?).map_err(super::error::corrupt)?,
            locked: row.flag("locked")?,
            locked_until: row.int("locked_until")?,
            created_at: row.int("created_at")?,
        })
    }
}

struct SessionRow {
    operator_id: i64,
    stage: SessionStage,
    service_id: Option<ServiceId>,
    created_at: i64,
}

impl FromRow for SessionRow {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        let stage = match row.text("stage")?.as_str() {
            "enroll" => SessionStage::Enroll,
            "full" => SessionStage::Full,
            other => return Err(super::error::corrupt(format!("session stage '{other}'"))),
        };
        Ok(SessionRow {
            operator_id: row.int("operator_id")?,
            stage,
            service_id: row
                .opt_text("service_id")?
                .map(ServiceId::new)
                .transpose()
                .map_err(super::error::corrupt)?,
            created_at: row.int("created_at")?,
        })
    }
}

struct OperatorId(i64);

impl FromRow for OperatorId {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        row.int("id").map(OperatorId)
    }
}

struct FoundUser(String);

impl FromRow for FoundUser {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        row.text("user_id").map(FoundUser)
    }
}

struct CountedFailure {
    failures: u32,
    locked_until: i64,
}

impl FromRow for CountedFailure {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(CountedFailure {
            failures: u32::try_from(row.int("failures")?).map_err(super::error::corrupt)?,
            locked_until: row.int("locked_until")?,
        })
    }
}

// --- operations -------------------------------------------------------------------------

pub(crate) async fn add_operator<C: Conn>(
    c: &mut C,
    new: &NewOperator,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<i64> {
    if operator_named(c, &new.name).await?.is_some() {
        return Err(StoreError::Conflict("an operator of that name exists"));
    }
    let id: OperatorId = c
        .fetch_one(
            INSERT_OPERATOR,
            args![
                new.service_id.as_ref().map(|s| s.as_str()),
                new.name.as_str(),
                new.role.as_str(),
                new.password_hash.as_str(),
                now,
            ],
        )
        .await?;
    audit(c, event, now).await?;
    Ok(id.0)
}

pub(crate) async fn operator_named<C: Conn>(
    c: &mut C,
    name: &str,
) -> StoreResult<Option<Operator>> {
    c.fetch_optional(OPERATOR_BY_NAME, args![name]).await
}

pub(crate) async fn operators<C: Conn>(
    c: &mut C,
    service: Option<&ServiceId>,
) -> StoreResult<Vec<Operator>> {
    match service {
        Some(s) => c.fetch_all(SERVICE_OPERATORS, args![s.as_str()]).await,
        None => c.fetch_all(ALL_OPERATORS, args![]).await,
    }
}

pub(crate) async fn set_operator_disabled<C: Conn>(
    c: &mut C,
    name: &str,
    disabled: bool,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    if c.execute(SET_DISABLED, args![disabled, name]).await? == 0 {
        return Err(StoreError::NotFound("operator"));
    }
    c.execute(DELETE_OPERATOR_SESSIONS, args![name]).await?;
    audit(c, event, now).await
}

pub(crate) async fn set_operator_password<C: Conn>(
    c: &mut C,
    name: &str,
    password_hash: &str,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    if c.execute(SET_PASSWORD, args![password_hash, name]).await? == 0 {
        return Err(StoreError::NotFound("operator"));
    }
    c.execute(DELETE_OPERATOR_SESSIONS, args![name]).await?;
    audit(c, event, now).await
}

pub(crate) async fn reset_operator<C: Conn>(
    c: &mut C,
    name: &str,
    password_hash: &str,
    event: &NewAuditEvent,
    unlock: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    set_operator_password(c, name, password_hash, event, now).await?;
    let Some(user) = &unlock.user_id else {
        return Err(crate::DatabaseError::Internal("an operator's unlock without its user").into());
    };
    match crate::ops::unlock_user(c, &unlock.service_id, user, unlock, now).await {
        // An operator who never enrolled their token has no token user to unlock.
        Ok(()) | Err(StoreError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The ID no operator has (row IDs start at 1): an unknown name's failure runs the same
/// statements as a known one's, on no row, so neither its time nor its writes tell names.
const NO_OPERATOR: i64 = -1;

pub(crate) async fn operator_failure<C: Conn>(
    c: &mut C,
    operator: Option<i64>,
    max_failures: u32,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<OperatorFailure> {
    let id = operator.unwrap_or(NO_OPERATOR);
    let state: Option<CountedFailure> = c.fetch_optional(OPERATOR_FAILURES, args![id]).await?;
    let state = match (state, operator) {
        (Some(state), _) => state,
        (None, Some(_)) => return Err(StoreError::NotFound("operator")),
        (None, None) => CountedFailure {
            failures: 0,
            locked_until: 0,
        },
    };
    let counted = if state.locked_until > now {
        // Already locked: recorded, not counted, so an attacker's tries during the lock do
        // not lengthen it.
        OperatorFailure {
            failures: state.failures,
            locked_until: Some(state.locked_until),
            newly_locked: false,
        }
    } else {
        let failures = state.failures.saturating_add(1);
        let until = backoff_until(failures, max_failures, now);
        OperatorFailure {
            failures,
            locked_until: until,
            newly_locked: until.is_some(),
        }
    };
    c.execute(
        COUNT_OPERATOR_FAILURE,
        args![
            counted.failures,
            counted.locked_until.unwrap_or(state.locked_until),
            id
        ],
    )
    .await?;
    audit(c, event, now).await?;
    Ok(counted)
}

pub(crate) async fn begin_console_session<C: Conn>(
    c: &mut C,
    id_hash: &[u8; 32],
    operator: i64,
    stage: SessionStage,
    service: Option<&ServiceId>,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    // A wrong code after a right password counted a failure; a full sign-in clears them.
    if stage == SessionStage::Full {
        c.execute(RESET_OPERATOR_FAILURES, args![operator]).await?;
    }
    c.execute(
        INSERT_SESSION,
        args![
            id_hash.as_slice(),
            operator,
            stage.as_str(),
            service.map(|s| s.as_str()),
            now,
        ],
    )
    .await?;
    audit(c, event, now).await
}

pub(crate) async fn console_session<C: Conn>(
    c: &mut C,
    id_hash: &[u8; 32],
    limits: SessionLimits,
    now: i64,
) -> StoreResult<Option<ConsoleSession>> {
    let row: Option<SessionRow> = c
        .fetch_optional(
            TOUCH_SESSION,
            args![
                now,
                id_hash.as_slice(),
                now - limits.idle_ms,
                now - limits.absolute_ms
            ],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let operator: Option<Operator> = c
        .fetch_optional(OPERATOR_BY_ID, args![row.operator_id])
        .await?;
    Ok(operator
        .filter(|o| !o.disabled && !o.locked)
        .map(|operator| ConsoleSession {
            operator,
            stage: row.stage,
            service_id: row.service_id,
            created_at: row.created_at,
        }))
}

pub(crate) async fn update_console_session<C: Conn>(
    c: &mut C,
    id_hash: &[u8; 32],
    stage: SessionStage,
    service: Option<&ServiceId>,
    event: Option<&NewAuditEvent>,
    now: i64,
) -> StoreResult<()> {
    if stage == SessionStage::Full {
        c.execute(RESET_SESSION_OPERATOR_FAILURES, args![id_hash.as_slice()])
            .await?;
    }
    let changed = c
        .execute(
            UPDATE_SESSION,
            args![
                stage.as_str(),
                service.map(|s| s.as_str()),
                id_hash.as_slice()
            ],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound("console session"));
    }
    match event {
        Some(event) => audit(c, event, now).await,
        None => Ok(()),
    }
}

pub(crate) async fn end_console_session<C: Conn>(
    c: &mut C,
    id_hash: &[u8; 32],
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    if c.execute(DELETE_SESSION, args![id_hash.as_slice()]).await? > 0 {
        audit(c, event, now).await?;
    }
    Ok(())
}

pub(crate) async fn purge_console_sessions<C: Conn>(
    c: &mut C,
    limits: SessionLimits,
    now: i64,
) -> StoreResult<u64> {
    c.execute(
        PURGE_SESSIONS,
        args![now - limits.idle_ms, now - limits.absolute_ms],
    )
    .await
}

/// `text` as a `LIKE … ESCAPE '!'` pattern matching it anywhere, lower-cased.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '!') {
            pattern.push('!');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

pub(crate) async fn search_users<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    query: &str,
    offset: u32,
    limit: u32,
) -> StoreResult<Vec<UserId>> {
    // Serials are stored without the spaces and hyphens people type between groups.
    let serial: String = query
        .chars()
        .filter(|ch| !matches!(ch, ' ' | '-'))
        .collect();
    let found: Vec<FoundUser> = c
        .fetch_all(
            SEARCH_USERS,
            args![
                service.as_str(),
                contains_pattern(query.trim()).as_str(),
                contains_pattern(&serial).as_str(),
                limit,
                offset,
            ],
        )
        .await?;
    found
        .into_iter()
        .map(|u| UserId::new(u.0).map_err(super::error::corrupt))
        .collect()
}

pub(crate) async fn audit_search<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    filter: &AuditFilter,
    offset: u32,
    limit: u32,
) -> StoreResult<Vec<AuditEvent>> {
    let statement = if filter.user.is_some() {
        USER_AUDIT
    } else if filter.serial.is_some() {
        SERIAL_AUDIT
    } else {
        SERVICE_AUDIT
    };
    c.fetch_all(
        statement,
        args![
            service.as_str(),
            filter.user.as_deref(),
            filter.serial.as_deref(),
            filter.kind.as_deref(),
            filter.from,
            filter.to,
            limit,
            offset,
        ],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_patterns_escape_like_wildcards() {
        assert_eq!(contains_pattern("Al"), "%al%");
        assert_eq!(contains_pattern("a_b%c!"), "%a!_b!%c!!%");
    }

    #[test]
    fn the_back_off_doubles_from_one_minute_to_fifteen() {
        assert_eq!(backoff_until(4, 5, 1000), None);
        let waits: Vec<i64> = (5..=12)
            .map(|f| backoff_until(f, 5, 1000).unwrap() - 1000)
            .collect();
        let min = 60_000;
        assert_eq!(
            waits,
            [1, 2, 4, 8, 15, 15, 15, 15].map(|m| m * min).to_vec()
        );
        assert_eq!(backoff_until(u32::MAX, 5, 0), Some(BACKOFF_MAX_MS));
    }

    #[test]
    fn roles_round_trip() {
        for role in ["helpdesk", "admin", "auditor", "superuser"] {
            assert_eq!(OperatorRole::parse(role).map(|r| r.as_str()), Some(role));
        }
        assert_eq!(OperatorRole::parse("root"), None);
    }
}
