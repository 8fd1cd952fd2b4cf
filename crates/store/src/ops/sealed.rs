//! Sealed secrets due for re-sealing under a new master key.

use super::*;

fn sealed_statements(kind: SealedKind) -> (&'static str, &'static str) {
    match kind {
        SealedKind::Seed => (sql::STALE_SEEDS, sql::RESEAL_SEED),
        SealedKind::W => (sql::STALE_W, sql::RESEAL_W),
        SealedKind::SessionKey => (sql::STALE_SESSION_KEYS, sql::RESEAL_SESSION_KEY),
    }
}

pub(crate) async fn stale_sealed<C: Conn>(
    c: &mut C,
    kind: SealedKind,
    header: &[u8],
    after: &str,
    limit: u32,
) -> StoreResult<Vec<SealedValue>> {
    let length = i64::try_from(header.len()).map_err(crate::error::corrupt)?;
    c.fetch_all(
        sealed_statements(kind).0,
        args![length, header, after, limit],
    )
    .await
}

pub(crate) async fn replace_sealed<C: Conn>(
    c: &mut C,
    kind: SealedKind,
    values: &[Resealed],
) -> StoreResult<u64> {
    let mut replaced = 0;
    for value in values {
        replaced += c
            .execute(
                sealed_statements(kind).1,
                args![&value.new, value.id.as_str(), &value.old],
            )
            .await?;
    }
    Ok(replaced)
}
