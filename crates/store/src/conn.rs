//! The little both backends must offer so that every operation is written once (`ops.rs`):
//! run a statement with arguments, fetch rows, read a column by name.
//!
//! Statements are `&'static str` in PostgreSQL's `$N` placeholder syntax; the SQLite side
//! binds `$N` by its number, so one text serves both (`sql.rs`). The SQLite
//! implementation never waits (rusqlite is synchronous), so its futures complete on their
//! first poll; the PostgreSQL one awaits sqlx.

use softtoken_protocol::{ServiceId, UserId};

use super::StoreResult;
use super::model::{
    Acceptance, ActivationSession, Failures, NewAuditEvent, RefusalDetails, SessionId, StepUse,
    Token, TokenState,
};

/// A statement argument. Nulls carry their type, which PostgreSQL needs to bind them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    /// An integer (every integer column is 64-bit).
    Int(Option<i64>),
    /// Text.
    Text(Option<&'a str>),
    /// Bytes.
    Blob(&'a [u8]),
    /// A boolean.
    Bool(bool),
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Int(Some(n))
    }
}

impl From<u32> for Arg<'_> {
    fn from(n: u32) -> Self {
        Arg::Int(Some(i64::from(n)))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(n: Option<i64>) -> Self {
        Arg::Int(n)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Text(Some(s))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(s: Option<&'a str>) -> Self {
        Arg::Text(s)
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(b: &'a [u8]) -> Self {
        Arg::Blob(b)
    }
}

impl<'a> From<&'a Vec<u8>> for Arg<'a> {
    fn from(b: &'a Vec<u8>) -> Self {
        Arg::Blob(b)
    }
}

impl From<bool> for Arg<'_> {
    fn from(b: bool) -> Self {
        Arg::Bool(b)
    }
}

/// `args![a, b, …]`: the arguments of a statement, `$1`, `$2`, … in order.
macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        &[$($crate::conn::Arg::from($arg)),*]
    };
}
pub(crate) use args;

/// One row of a result, read by column name.
pub(crate) trait Row {
    /// An integer column.
    fn int(&self, column: &str) -> StoreResult<i64>;
    /// A nullable integer column.
    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>>;
    /// A text column.
    fn text(&self, column: &str) -> StoreResult<String>;
    /// A nullable text column.
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>>;
    /// A byte column.
    fn blob(&self, column: &str) -> StoreResult<Vec<u8>>;
    /// A boolean column (SQLite keeps booleans as 0 and 1).
    fn flag(&self, column: &str) -> StoreResult<bool>;
}

/// A value built from one result row; implemented once for both backends (`rows.rs`).
pub(crate) trait FromRow: Sized {
    /// Converts the row.
    fn from_row(row: &dyn Row) -> StoreResult<Self>;
}

/// A connection, or a transaction, of either backend. The four hot operations have a
/// portable default (`ops.rs`) that a backend may replace by a single statement of its own
/// (PostgreSQL does); every caller goes through these methods, so the replacement is used
/// wherever the operation is.
pub(crate) trait Conn: Sized {
    /// Runs a statement; the number of rows it changed.
    async fn execute(&mut self, sql: &'static str, args: &[Arg<'_>]) -> StoreResult<u64>;

    /// The first row of a query, if any.
    async fn fetch_optional<T: FromRow>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> StoreResult<Option<T>>;

    /// Every row of a query.
    async fn fetch_all<T: FromRow>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> StoreResult<Vec<T>>;

    /// One-time use of a step: [`super::ops::portable_accept_step`].
    async fn accept_step(
        &mut self,
        step: &StepUse,
        from: TokenState,
        audit: &NewAuditEvent,
        refused: &RefusalDetails,
        now: i64,
    ) -> StoreResult<Acceptance> {
        super::ops::portable_accept_step(self, step, from, audit, refused, now).await
    }

    /// A wrong code counted: [`super::ops::portable_record_failure`].
    async fn record_failure(
        &mut self,
        service: &ServiceId,
        user: &UserId,
        max_failures: u32,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<Failures> {
        super::ops::portable_record_failure(self, service, user, max_failures, audit, now).await
    }

    /// A guess counted and its session stored: [`super::ops::portable_begin_activation`].
    async fn begin_activation(
        &mut self,
        session: &ActivationSession,
        max_guesses: u32,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<u32> {
        super::ops::portable_begin_activation(self, session, max_guesses, audit, now).await
    }

    /// An activation finished: [`super::ops::portable_finish_activation`].
    async fn finish_activation(
        &mut self,
        session: &SessionId,
        token: &Token,
        user: &UserId,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        super::ops::portable_finish_activation(self, session, token, user, audit, now).await
    }

    /// The one row a query always returns (an aggregate, say).
    async fn fetch_one<T: FromRow>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> StoreResult<T> {
        self.fetch_optional(sql, args).await?.ok_or_else(|| {
            super::error::corrupt(format!("no row from a query that always has one: {sql}"))
        })
    }
}
