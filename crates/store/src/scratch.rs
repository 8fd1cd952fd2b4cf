//! Throw-away PostgreSQL schemas, so that tests and benchmark runs sharing one database
//! server never see each other's rows.
//!
//! Each scratch schema is named `st_<unix seconds>_<random>` and reached through a URL
//! whose `options` set `search_path`, so the store (and its migrations) work inside it
//! unchanged. Schemas left behind by killed runs are dropped by the next caller once they
//! are [`STALE_AFTER_SECS`] old.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;
use sqlx::{Connection, PgConnection};

use super::{StoreError, StoreResult};

/// The variable naming the PostgreSQL server tests also run against, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`. Unset or empty: SQLite only.
pub const TEST_POSTGRES_ENV: &str = "SOFTTOKEN_TEST_POSTGRES_URL";

/// Age after which a scratch schema is taken to be left over from a dead run.
pub const STALE_AFTER_SECS: u64 = 6 * 3600;

const PREFIX: &str = "st_";

/// The PostgreSQL URL from [`TEST_POSTGRES_ENV`], if set.
pub fn test_postgres_url() -> Option<String> {
    std::env::var(TEST_POSTGRES_ENV)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// Creates an empty schema in the database at `base_url` and returns a URL whose
/// connections use it, plus the schema's name (for [`drop_schema`]).
pub async fn fresh_schema(base_url: &str) -> StoreResult<(String, String)> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let schema = format!("{PREFIX}{now}_{:016x}", rand::thread_rng().r#gen::<u64>());
    let mut conn = PgConnection::connect(base_url).await?;
    drop_stale(&mut conn, now).await;
    // The name is ours (digits, hex and '_'), so quoting it is enough.
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok((with_search_path(base_url, &schema)?, schema))
}

/// Drops a schema made by [`fresh_schema`] with everything in it.
pub async fn drop_schema(base_url: &str, schema: &str) -> StoreResult<()> {
    if !is_scratch_name(schema) {
        return Err(StoreError::Corrupt(format!(
            "not a scratch schema: {schema}"
        )));
    }
    let mut conn = PgConnection::connect(base_url).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

fn is_scratch_name(name: &str) -> bool {
    name.strip_prefix(PREFIX).is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_hexdigit() || b == b'_')
    })
}

/// Best effort: a failure here (say, another run dropping the same schema) must not fail
/// the caller, whose own schema is unaffected.
async fn drop_stale(conn: &mut PgConnection, now: u64) {
    let Ok(names) = sqlx::query_scalar::<_, String>(
        "SELECT nspname::TEXT FROM pg_namespace WHERE nspname LIKE 'st\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    else {
        return;
    };
    for name in names.into_iter().filter(|n| is_scratch_name(n)) {
        let born = name[PREFIX.len()..]
            .split('_')
            .next()
            .and_then(|s| s.parse::<u64>().ok());
        if born.is_some_and(|born| now.saturating_sub(born) > STALE_AFTER_SECS) {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                .execute(&mut *conn)
                .await;
        }
    }
}

/// `base_url` with connection options that make `schema` the search path.
pub fn with_search_path(base_url: &str, schema: &str) -> StoreResult<String> {
    let mut url = url::Url::parse(base_url)
        .map_err(|e| StoreError::from(sqlx::Error::Configuration(e.into())))?;
    url.query_pairs_mut()
        .append_pair("options", &format!("-c search_path={schema}"));
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_names_and_urls() {
        assert!(is_scratch_name("st_1763740000_00ff"));
        assert!(!is_scratch_name("public"));
        assert!(!is_scratch_name("st_"));
        assert!(!is_scratch_name("st_1; DROP"));
        let url = with_search_path("postgres://postgres@127.0.0.1:5432/test", "st_1_ab").unwrap();
        assert_eq!(
            url,
            "postgres://postgres@127.0.0.1:5432/test?options=-c+search_path%3Dst_1_ab"
        );
    }
}
