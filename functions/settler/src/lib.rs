//! The `settler` function, run on a schedule: settles the orders checkouts
//! left pending (`galley_shared::orders::Settler`), finishes the refunds and
//! cancellations a request left half-way (`Lifecycle::finish_refunds`), then
//! sends the notices still unsent (the outbox's sweep), so neither a lost
//! request nor a stream that gave up on an email loses anything for good;
//! and repairs the search index of a product whose admin write lost its
//! index rewrite.

use std::sync::Arc;

use galley_shared::Error;
use galley_shared::clock::Clock;
use galley_shared::orders::{CHECKOUT_LEASE, Lifecycle, NoticeSender, Settled, Settler};
use galley_shared::ports::{IdempotencyRecords, Mailer, OrderBook, Orders, Outbox, PaymentGateway, ProductRecords};
use serde_json::{Value, json};

/// Orders and receipts one run takes on; the next run takes the rest.
pub const BATCH: usize = 100;

/// How long an admin write's index rewrite may take before the settler
/// repairs it: far beyond the writer's own rewrite (milliseconds), so the
/// two rarely race; when they do, each rewrite checks the product's version
/// after writing and writes again from a newer one.
pub const REINDEX_GRACE: std::time::Duration = std::time::Duration::from_secs(120);

/// The ports the settler reads and writes.
pub struct SettlerStores {
    pub orders: Arc<dyn Orders>,
    pub book: Arc<dyn OrderBook>,
    pub keys: Arc<dyn IdempotencyRecords>,
    pub outbox: Arc<dyn Outbox>,
    pub records: Arc<dyn ProductRecords>,
}

impl SettlerStores {
    /// Every port over one store that has them all (tests, benchmarks).
    pub fn over<S>(store: Arc<S>) -> Self
    where
        S: Orders + OrderBook + IdempotencyRecords + Outbox + ProductRecords + 'static,
    {
        Self { orders: store.clone(), book: store.clone(), keys: store.clone(), outbox: store.clone(), records: store }
    }
}

impl From<&galley_lambda::Stores> for SettlerStores {
    fn from(stores: &galley_lambda::Stores) -> Self {
        Self {
            orders: stores.orders(),
            book: stores.order_book(),
            keys: stores.idempotency_records(),
            outbox: stores.outbox(),
            records: stores.product_records(),
        }
    }
}

#[derive(Clone)]
pub struct SettlerFunction {
    settler: Settler,
    lifecycle: Lifecycle,
    receipts: NoticeSender,
    records: Arc<dyn ProductRecords>,
    clock: Arc<dyn Clock>,
}

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Run {
    pub settled: Settled,
    pub refunds_finished: usize,
    pub receipts_sent: usize,
    pub indexes_repaired: usize,
}

impl SettlerFunction {
    pub fn new(
        stores: SettlerStores,
        payments: Arc<dyn PaymentGateway>,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let answer = galley_http::problem::stored_response;
        let settler = Settler::new(stores.orders.clone(), payments.clone(), clock.clone(), answer);
        let lifecycle = Lifecycle::new(stores.orders, stores.book, stores.keys, payments, clock.clone(), answer);
        let receipts = NoticeSender::new(stores.outbox, mailer, clock.clone());
        Self { settler, lifecycle, receipts, records: stores.records, clock }
    }

    /// One run: orders first (a confirmation puts a receipt in the outbox),
    /// then receipts, then search indexes. A mail outage fails the sweep,
    /// and an index repair that fails waits for the next run; neither fails
    /// the settling.
    pub async fn run(&self) -> Result<Run, Error> {
        let settled = self.settler.settle_pending(BATCH).await?;
        // Past the lease a request holds its key for: its retry would be
        // refused as in progress, so the request is gone.
        let cutoff = self.clock.unix_now() - CHECKOUT_LEASE.as_secs() as i64;
        let refunds_finished = match self.lifecycle.finish_refunds(cutoff, BATCH).await {
            Ok(finished) => finished,
            Err(error) => {
                tracing::warn!(%error, "refunds not finished; the next run tries again");
                0
            }
        };
        let receipts_sent = match self.receipts.drain(BATCH).await {
            Ok(sent) => sent,
            Err(error) => {
                tracing::warn!(%error, "receipts not swept; the next run tries again");
                0
            }
        };
        let noted_before = self.clock.unix_now() - REINDEX_GRACE.as_secs() as i64;
        let indexes_repaired = match self.records.repair_index(noted_before, BATCH).await {
            Ok(repaired) => repaired,
            Err(error) => {
                tracing::warn!(%error, "search indexes not repaired; the next run tries again");
                0
            }
        };
        Ok(Run { settled, refunds_finished, receipts_sent, indexes_repaired })
    }

    /// The scheduled event's answer (for logs; EventBridge ignores it).
    pub async fn handle(&self) -> Result<Value, Error> {
        let run = self.run().await?;
        Ok(json!({
            "confirmed": run.settled.confirmed,
            "declined": run.settled.declined,
            "refunds_finished": run.refunds_finished,
            "receipts_sent": run.receipts_sent,
            "indexes_repaired": run.indexes_repaired,
        }))
    }
}
