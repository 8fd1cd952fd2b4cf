//! [`Conn`] over a rusqlite connection: prepared statements from the connection's cache,
//! `$N` placeholders bound by their number, and futures that are ready at once.

use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{CachedStatement, Connection};

use crate::conn::{Arg, Conn, FromRow, Row};
use crate::{DatabaseError, StoreError, StoreResult};

/// A SQLite connection (or the transaction open on it) as the shared operations see it.
pub(super) struct SqliteConn<'c>(pub(super) &'c Connection);

/// Runs an operation over a [`SqliteConn`] to its end. Such operations never wait
/// (rusqlite is synchronous), so the first poll finishes them; one that did not would be
/// a bug, reported as an error rather than a hang.
pub(super) fn run_ready<T>(operation: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
    let mut operation = pin!(operation);
    match operation
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(result) => result,
        Poll::Pending => Err(StoreError::Database(DatabaseError::Internal(
            "a SQLite operation waited, which it cannot do",
        ))),
    }
}

fn prepare<'c>(
    conn: &'c Connection,
    sql: &'static str,
    args: &[Arg<'_>],
) -> StoreResult<CachedStatement<'c>> {
    let mut statement = conn.prepare_cached(sql)?;
    let count = statement.parameter_count();
    let mut highest = 0;
    for index in 1..=count {
        // SQLite numbers `$N` by first appearance, not by N: bind each by its own number.
        let number = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| placeholder_error(sql))?;
        let arg = args.get(number - 1).ok_or_else(|| placeholder_error(sql))?;
        highest = highest.max(number);
        statement.raw_bind_parameter(index, to_sql(arg))?;
    }
    if highest != args.len() {
        return Err(placeholder_error(sql));
    }
    Ok(statement)
}

fn placeholder_error(sql: &str) -> StoreError {
    StoreError::Corrupt(format!("statement and arguments disagree: {sql}"))
}

fn to_sql<'a>(arg: &Arg<'a>) -> ToSqlOutput<'a> {
    ToSqlOutput::Borrowed(match *arg {
        Arg::Int(Some(n)) => ValueRef::Integer(n),
        Arg::Text(Some(s)) => ValueRef::Text(s.as_bytes()),
        Arg::Blob(b) => ValueRef::Blob(b),
        Arg::Bool(b) => ValueRef::Integer(i64::from(b)),
        Arg::Int(None) | Arg::Text(None) => ValueRef::Null,
    })
}

impl Conn for SqliteConn<'_> {
    async fn execute(&mut self, sql: &'static str, args: &[Arg<'_>]) -> StoreResult<u64> {
        let mut statement = prepare(self.0, sql, args)?;
        let changed = statement.raw_execute()?;
        Ok(u64::try_from(changed).unwrap_or(u64::MAX))
    }

    async fn fetch_optional<T: FromRow>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> StoreResult<Option<T>> {
        let mut statement = prepare(self.0, sql, args)?;
        let names = column_names(sql, &statement);
        let mut rows = statement.raw_query();
        match rows.next()? {
            Some(row) => Ok(Some(T::from_row(&SqliteRow { row, names: &names })?)),
            None => Ok(None),
        }
    }

    async fn fetch_all<T: FromRow>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> StoreResult<Vec<T>> {
        let mut statement = prepare(self.0, sql, args)?;
        let names = column_names(sql, &statement);
        let mut rows = statement.raw_query();
        let mut all = Vec::new();
        while let Some(row) = rows.next()? {
            all.push(T::from_row(&SqliteRow { row, names: &names })?);
        }
        Ok(all)
    }
}

thread_local! {
    /// The column names of each statement this thread ran, by its text (statements are
    /// `'static` constants, so the text names the statement).
    static COLUMNS: std::cell::RefCell<std::collections::HashMap<&'static str, Rc<[String]>>> =
        Default::default();
}

/// A statement's column names, read once per statement: looking a column up by name through
/// SQLite for every value asks the library for each name in turn.
fn column_names(sql: &'static str, statement: &CachedStatement<'_>) -> Rc<[String]> {
    COLUMNS.with(|cache| {
        Rc::clone(cache.borrow_mut().entry(sql).or_insert_with(|| {
            statement
                .column_names()
                .into_iter()
                .map(str::to_owned)
                .collect()
        }))
    })
}

struct SqliteRow<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    names: &'r [String],
}

impl SqliteRow<'_, '_> {
    fn value(&self, column: &str) -> StoreResult<ValueRef<'_>> {
        let index = self
            .names
            .iter()
            .position(|name| name == column)
            .ok_or_else(|| StoreError::Corrupt(format!("no column {column}")))?;
        Ok(self.row.get_ref(index)?)
    }
}

fn wrong_type(column: &str, value: ValueRef<'_>) -> StoreError {
    StoreError::Corrupt(format!("column {column} holds {:?}", value.data_type()))
}

fn text_of(column: &str, bytes: &[u8]) -> StoreResult<String> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| StoreError::Corrupt(format!("column {column} is not UTF-8")))
}

impl Row for SqliteRow<'_, '_> {
    fn int(&self, column: &str) -> StoreResult<i64> {
        self.opt_int(column)?
            .ok_or_else(|| wrong_type(column, ValueRef::Null))
    }

    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
        match self.value(column)? {
            ValueRef::Integer(n) => Ok(Some(n)),
            ValueRef::Null => Ok(None),
            other => Err(wrong_type(column, other)),
        }
    }

    fn text(&self, column: &str) -> StoreResult<String> {
        self.opt_text(column)?
            .ok_or_else(|| wrong_type(column, ValueRef::Null))
    }

    fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        match self.value(column)? {
            ValueRef::Text(s) => text_of(column, s).map(Some),
            ValueRef::Null => Ok(None),
            other => Err(wrong_type(column, other)),
        }
    }

    fn blob(&self, column: &str) -> StoreResult<Vec<u8>> {
        match self.value(column)? {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            other => Err(wrong_type(column, other)),
        }
    }

    fn flag(&self, column: &str) -> StoreResult<bool> {
        Ok(self.int(column)? != 0)
    }
}
