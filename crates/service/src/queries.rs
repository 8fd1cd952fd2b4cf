//! The reads the front doors make, through the service like the writes: the server names
//! no storage operation of its own, so what it reads and what it changes go the same way
//! (and a read that one day needs a rule, a cache or a metric gets it in one place). They
//! answer with the store's own errors, which every front door already words.

use softtoken_protocol::{ServiceId, UserId};

use crate::Context;
use crate::store::console::Operator;
use crate::store::{
    AuditEvent, MailStatus, MigrationStatus, PoolUse, Service, Store, StoreResult, User,
};

/// Every service, by ID.
pub async fn services(state: &Context) -> StoreResult<Vec<Service>> {
    state.store.services().await
}

/// One service, read from storage (not the cache: for the command line and other
/// one-off reads).
pub async fn service(state: &Context, id: &ServiceId) -> StoreResult<Option<Service>> {
    state.store.service(id).await
}

/// A user as stored, with their tokens (the drift and lockout the console shows).
pub async fn user(state: &Context, sid: &ServiceId, uid: &UserId) -> StoreResult<Option<User>> {
    state.store.user(sid, uid).await
}

/// A user's activation e-mails, newest first, at most `limit`.
pub async fn user_mails(
    state: &Context,
    sid: &ServiceId,
    uid: &UserId,
    limit: u32,
) -> StoreResult<Vec<MailStatus>> {
    state.store.user_mails(sid, uid, limit).await
}

/// Users of a service whose ID, or a serial bound to whom, contains `query`.
pub async fn search_users(
    state: &Context,
    sid: &ServiceId,
    query: &str,
    offset: u32,
    limit: u32,
) -> StoreResult<Vec<UserId>> {
    state.store.search_users(sid, query, offset, limit).await
}

/// The operators of a service (`None`: every operator), by name.
pub async fn operators(state: &Context, service: Option<&ServiceId>) -> StoreResult<Vec<Operator>> {
    state.store.operators(service).await
}

/// A service's events with `id > after`, oldest first, at most `limit` (the bank's feed).
pub async fn audit_events(
    state: &Context,
    sid: &ServiceId,
    after: i64,
    limit: u32,
) -> StoreResult<Vec<AuditEvent>> {
    state.store.audit_events(sid, after, limit).await
}

/// The database's migrations beside this build's; an error if it does not answer
/// (`/readyz` shows its words).
pub async fn migration_status(state: &Context) -> StoreResult<MigrationStatus> {
    state.store.migration_status().await
}

/// How busy the database's connections are, for the metrics.
pub fn pool_use(store: &dyn Store) -> PoolUse {
    store.pool_use()
}
