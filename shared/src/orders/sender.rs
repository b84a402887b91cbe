//! Sending notices (receipts and the later events' emails) from the
//! outbox: at most one email per notice, however
//! often an entry is delivered to the sender (streams and pollers deliver at
//! least once), and whoever delivers it (the stream's function, the
//! settler's sweep). A sender first takes the entry's send lease with a
//! conditional write, sends, then marks it sent. The one duplicate left is a
//! crash (or a lost answer) between the mail service accepting the message
//! and the mark: after the lease, the sweep sends it again. SES replaces any
//! Message-ID it is given, so it cannot drop that copy for us.

use std::sync::Arc;

use crate::clock::Clock;
use crate::error::Error;
use crate::idempotency::LeaseId;
use crate::metrics;
use crate::ports::{Mailer, Outbox, OutboxEntry};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Sent before (a redelivery): nothing was sent now.
    AlreadySent,
    /// Another sender holds the send lease: it sends, or after the lease
    /// the sweep does.
    Busy,
}

/// How long a sender holds an entry: longer than a send and its mark take.
pub const SEND_LEASE: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Clone)]
pub struct NoticeSender {
    outbox: Arc<dyn Outbox>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
}

impl NoticeSender {
    pub fn new(outbox: Arc<dyn Outbox>, mailer: Arc<dyn Mailer>, clock: Arc<dyn Clock>) -> Self {
        Self { outbox, mailer, clock }
    }

    /// Sends the notice of `entry` unless the store says it went already,
    /// then marks it sent with a conditional write. A mail failure leaves the
    /// entry unsent, to be retried.
    pub async fn deliver(&self, entry: &OutboxEntry) -> Result<Delivery, Error> {
        let id = &entry.notice.id();
        match self.outbox.entry(id).await? {
            Some(current) if current.sent => Ok(Delivery::AlreadySent),
            Some(_) => self.send_and_mark(entry).await,
            None => Err(Error::internal(format!("outbox entry {id} is missing"))),
        }
    }

    async fn send_and_mark(&self, entry: &OutboxEntry) -> Result<Delivery, Error> {
        let id = &entry.notice.id();
        let now = self.clock.unix_now();
        let holder = LeaseId::generate();
        if !self.outbox.take_send_lease(id, &holder, now, now + SEND_LEASE.as_secs() as i64).await? {
            return Ok(Delivery::Busy);
        }
        let sent = self.mailer.send(&entry.notice.email()).await;
        metrics::email(sent.is_ok());
        if let Err(error) = sent {
            // Given back, so the retry need not wait for the lease to lapse.
            if let Err(e) = self.outbox.release_send_lease(id).await {
                tracing::warn!(error = %e, notice = %id, "send lease not given back; it lapses");
            }
            return Err(error);
        }
        if self.outbox.mark_sent(id, self.clock.unix_now()).await? {
            tracing::info!(notice = %id, "notice sent");
            Ok(Delivery::Sent)
        } else {
            Ok(Delivery::AlreadySent)
        }
    }

    /// One pass over the unsent notices, oldest first; stops at the first
    /// failure (the mail service is likely down) and reports it.
    pub async fn drain(&self, batch: usize) -> Result<usize, Error> {
        let mut sent = 0;
        // `pending` has just read these as unsent: no second read each.
        for entry in self.outbox.pending(batch).await? {
            if self.send_and_mark(&entry).await? == Delivery::Sent {
                sent += 1;
            }
        }
        Ok(sent)
    }
}
