use async_trait::async_trait;

use crate::error::Error;
use crate::idempotency::{IdempotencyScope, LeaseId, LeaseOutcome, LeaseRequest, StoredResponse};

/// Idempotency records: one per (user, key).
#[async_trait]
pub trait IdempotencyRecords: Send + Sync {
    /// Leases the key with one conditional write: free, expired, or released
    /// or lapsed with the same fingerprint → `Acquired`; otherwise what the
    /// record says (`Completed`, `InProgress`, `Mismatch`).
    async fn lease(&self, request: &LeaseRequest) -> Result<LeaseOutcome, Error>;

    /// Stores the answer for replay, if `lease` still holds the record.
    async fn complete(&self, scope: &IdempotencyScope, lease: &LeaseId, response: &StoredResponse)
    -> Result<(), Error>;

    /// Lets the next retry lease the record at once (keeping its fingerprint
    /// and recorded progress), if `lease` still holds it.
    async fn release_lease(&self, scope: &IdempotencyScope, lease: &LeaseId) -> Result<(), Error>;

    /// Whether a request holds the key now: its record incomplete and its
    /// lease running past `now` (a checkout still at work on its order).
    async fn held(&self, scope: &IdempotencyScope, now: i64) -> Result<bool, Error>;
}
