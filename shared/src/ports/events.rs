use async_trait::async_trait;

use crate::error::Error;

/// The gateway events (webhook deliveries) already applied, so that a
/// redelivery is answered without being applied again. Applying is itself
/// idempotent (each move is conditional); this keeps a redelivery from
/// asking the gateway anything.
#[async_trait]
pub trait AppliedEvents: Send + Sync {
    /// Whether `event` was recorded as applied.
    async fn applied(&self, event: &str) -> Result<bool, Error>;

    /// Records `event` as applied (a conditional put), kept until
    /// `expires_at` (Unix seconds): longer than the gateway retries.
    async fn record_applied(&self, event: &str, expires_at: i64) -> Result<(), Error>;
}
