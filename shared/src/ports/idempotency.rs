use async_trait::async_trait;

use crate::error::Error;
use crate::idempotency::{ClaimId, ClaimOutcome, ClaimRequest, IdempotencyScope, StoredResponse};

/// Idempotency records: one per (user, key).
#[async_trait]
pub trait IdempotencyRecords: Send + Sync {
    /// Claims the key with one conditional write: free, expired, or released
    /// or lapsed with the same fingerprint → `Acquired`; otherwise what the
    /// record says (`Completed`, `InProgress`, `Mismatch`).
    async fn claim(&self, request: &ClaimRequest) -> Result<ClaimOutcome, Error>;

    /// Stores the answer for replay, if `claim` still holds the record.
    async fn complete(&self, scope: &IdempotencyScope, claim: &ClaimId, response: &StoredResponse)
    -> Result<(), Error>;

    /// Lets the next retry claim the record at once (keeping its fingerprint
    /// and recorded progress), if `claim` still holds it.
    async fn release_claim(&self, scope: &IdempotencyScope, claim: &ClaimId) -> Result<(), Error>;
}
