use async_trait::async_trait;

use crate::error::Error;
use crate::idempotency::LeaseId;
use crate::mail::EmailMessage;
use crate::orders::{Notice, NoticeId};

/// Sends one email. A failure is `Unavailable` (retry later).
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, message: &EmailMessage) -> Result<(), Error>;
}

/// A notice waiting to be sent, written by the transaction of its event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    pub notice: Notice,
    pub sent: bool,
}

#[async_trait]
pub trait Outbox: Send + Sync {
    /// Up to `limit` unsent notices, oldest order first.
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxEntry>, Error>;

    async fn entry(&self, id: &NoticeId) -> Result<Option<OutboxEntry>, Error>;

    /// Takes the right to send the notice until `until` for `holder`, with
    /// a conditional write: `false` when it was sent, or another sender
    /// holds the right (a stream delivery and a sweep never both send).
    /// Taking it again as the same holder succeeds: the first write may
    /// have applied with its answer lost.
    async fn take_send_lease(&self, id: &NoticeId, holder: &LeaseId, now: i64, until: i64) -> Result<bool, Error>;

    /// Gives the send lease back after a failed send, so a retry need not
    /// wait for it to lapse.
    async fn release_send_lease(&self, id: &NoticeId) -> Result<(), Error>;

    /// Marks the notice sent with a conditional write; `false` if it already was.
    async fn mark_sent(&self, id: &NoticeId, now: i64) -> Result<bool, Error>;
}
