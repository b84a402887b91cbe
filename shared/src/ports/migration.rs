use async_trait::async_trait;

use crate::error::Error;
use crate::migration::{Counts, Kind, Record};

/// A store read whole, a kind at a time, for a move to another store.
#[async_trait]
pub trait Export: Send + Sync {
    /// Up to `limit` records of `kind` after the position `after`, each with
    /// its own position (the source's key, as text), in position order.
    /// Records that lapsed by `now` (idempotency records and applied
    /// events past their expiry) are left out.
    async fn page(
        &self,
        kind: Kind,
        after: Option<&str>,
        limit: usize,
        now: i64,
    ) -> Result<Vec<(String, Record)>, Error>;

    /// How many records of each kind `page` gives, as of `now`.
    async fn counts(&self, now: i64) -> Result<Counts, Error>;
}

/// A store written by a move. A record written twice is written once: each
/// lands under its own keys, whole, replacing what an earlier attempt wrote.
#[async_trait]
pub trait Import: Send + Sync {
    async fn write(&self, records: &[Record]) -> Result<(), Error>;

    /// How many records of each kind the store holds that are still in
    /// force at `now` (its TTL deletes lapsed ones some time after).
    async fn counts(&self, now: i64) -> Result<Counts, Error>;
}
