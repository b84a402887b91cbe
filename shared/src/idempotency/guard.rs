//! The one way a handler runs under an Idempotency-Key: claim the key (or
//! get the stored answer to replay), do the work, then store the answer —
//! in the work's own atomic write where the work changes something — or
//! release the key for a retry when the work failed in a way a retry may redo.

use std::sync::Arc;
use std::time::Duration;

use super::{Fingerprint, IdempotencyScope, LeaseId, LeaseOutcome, LeaseRequest, RECORD_TTL, StoredResponse};
use crate::error::Error;
use crate::ports::{Hold, IdempotencyRecords};

/// What claiming a key gives.
pub enum Claim {
    /// This request holds the key: do the work.
    Held(Guard),
    /// The key was answered before: send this again.
    Replay(StoredResponse),
}

/// A held key.
pub struct Guard {
    records: Arc<dyn IdempotencyRecords>,
    pub scope: IdempotencyScope,
    pub lease: LeaseId,
    /// What an earlier holder recorded of its work, to resume, not redo.
    pub progress: Option<String>,
}

impl Guard {
    /// Claims `scope` for a request with `fingerprint` at `now`, for
    /// `lease_for` (longer than the work can take). A live claim by another
    /// request is `RequestInProgress`; another request's key is
    /// `IdempotencyKeyReused`.
    pub async fn claim(
        records: Arc<dyn IdempotencyRecords>,
        scope: IdempotencyScope,
        fingerprint: Fingerprint,
        now: i64,
        lease_for: Duration,
    ) -> Result<Claim, Error> {
        let lease = LeaseId::generate();
        let request = LeaseRequest {
            scope: scope.clone(),
            fingerprint,
            lease: lease.clone(),
            now,
            lease_until: now + lease_for.as_secs() as i64,
            expires_at: now + RECORD_TTL.as_secs() as i64,
        };
        match records.lease(&request).await? {
            LeaseOutcome::Completed(stored) => Ok(Claim::Replay(stored)),
            LeaseOutcome::InProgress => Err(Error::RequestInProgress),
            LeaseOutcome::Mismatch => Err(Error::IdempotencyKeyReused),
            LeaseOutcome::Acquired { progress } => Ok(Claim::Held(Self { records, scope, lease, progress })),
        }
    }

    /// What a store checks to complete the record inside another write.
    pub fn hold(&self) -> Hold<'_> {
        Hold { scope: &self.scope, lease: &self.lease }
    }

    /// Stores `answer` for every retry (a final answer that changed nothing).
    pub async fn store(&self, answer: &StoredResponse) -> Result<(), Error> {
        self.records.complete(&self.scope, &self.lease, answer).await
    }

    /// Lets the next retry claim the key at once (what was done stays
    /// recorded as progress); a failure only logs, as the lease lapses anyway.
    pub async fn release(&self) {
        if let Err(e) = self.records.release_lease(&self.scope, &self.lease).await {
            tracing::warn!(error = %e, "could not release an idempotency lease; it lapses with its time");
        }
    }
}
