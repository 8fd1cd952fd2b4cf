//! What operations asks of the store beside the data: how its connections are used (for
//! the metrics) and whether the schema is the one this build expects (for `/readyz`).

use std::fmt;

use sqlx::migrate::Migrator;

/// How a backend's connections are in use now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolUse {
    /// PostgreSQL: a pool of connections.
    Pool {
        /// Connections open.
        open: u32,
        /// Of those, idle.
        idle: usize,
        /// Most the pool opens.
        max: u32,
    },
    /// SQLite: one thread owns the connection; reads and writes wait for it in a queue.
    Writer {
        /// Jobs waiting.
        queued: usize,
    },
}

/// How the database's applied migrations compare with the ones this build embeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationStatus {
    /// The same, in the same order, with the same checksums.
    Current,
    /// Migrations of this build not applied to the database.
    Missing(Vec<i64>),
    /// Migrations applied that this build does not know (a newer server migrated it).
    Unknown(Vec<i64>),
    /// A migration whose applied text differs from this build's.
    Changed(i64),
}

impl fmt::Display for MigrationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        match self {
            MigrationStatus::Current => f.write_str("current"),
            MigrationStatus::Missing(v) => write!(f, "not applied: {}", list(v)),
            MigrationStatus::Unknown(v) => {
                write!(f, "applied but unknown to this build: {}", list(v))
            }
            MigrationStatus::Changed(v) => write!(f, "migration {v} differs from this build's"),
        }
    }
}

/// Compares `applied` (version and checksum of each successful migration, as the
/// database's `_sqlx_migrations` table lists them) with `embedded`.
pub(crate) fn compare(embedded: &Migrator, applied: &[(i64, Vec<u8>)]) -> MigrationStatus {
    let ours = || {
        embedded
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
    };
    let unknown: Vec<i64> = applied
        .iter()
        .map(|(v, _)| *v)
        .filter(|v| !ours().any(|m| m.version == *v))
        .collect();
    if !unknown.is_empty() {
        return MigrationStatus::Unknown(unknown);
    }
    let missing: Vec<i64> = ours()
        .map(|m| m.version)
        .filter(|v| !applied.iter().any(|(a, _)| a == v))
        .collect();
    if !missing.is_empty() {
        return MigrationStatus::Missing(missing);
    }
    for m in ours() {
        if let Some((_, checksum)) = applied.iter().find(|(v, _)| *v == m.version)
            && checksum.as_slice() != &*m.checksum
        {
            return MigrationStatus::Changed(m.version);
        }
    }
    MigrationStatus::Current
}

/// The statement both backends read their applied migrations with.
pub(crate) const APPLIED_MIGRATIONS: &str =
    "SELECT version, checksum FROM _sqlx_migrations WHERE success ORDER BY version";
