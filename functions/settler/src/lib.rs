//! The `settler` function, run on a schedule: settles the orders checkouts
//! left pending (`galley_shared::orders::Settler`), then sends the receipts
//! still unsent (the outbox's sweep), so neither a lost checkout nor a
//! stream that gave up on a receipt loses anything for good; and repairs the
//! search index of a product whose admin write lost its index rewrite.

use std::sync::Arc;

use galley_shared::Error;
use galley_shared::clock::Clock;
use galley_shared::orders::{ReceiptSender, Settled, Settler};
use galley_shared::ports::{Mailer, Orders, Outbox, PaymentGateway, ProductRecords};
use serde_json::{Value, json};

/// Orders and receipts one run takes on; the next run takes the rest.
pub const BATCH: usize = 100;

/// How long an admin write's index rewrite may take before the settler
/// repairs it: far beyond the writer's own rewrite (milliseconds), so the
/// two rarely race; when they do, each rewrite checks the product's version
/// after writing and writes again from a newer one.
pub const REINDEX_GRACE: std::time::Duration = std::time::Duration::from_secs(120);

#[derive(Clone)]
pub struct SettlerFunction {
    settler: Settler,
    receipts: ReceiptSender,
    records: Arc<dyn ProductRecords>,
    clock: Arc<dyn Clock>,
}

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Run {
    pub settled: Settled,
    pub receipts_sent: usize,
    pub indexes_repaired: usize,
}

impl SettlerFunction {
    pub fn new(
        orders: Arc<dyn Orders>,
        outbox: Arc<dyn Outbox>,
        records: Arc<dyn ProductRecords>,
        payments: Arc<dyn PaymentGateway>,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let settler = Settler::new(orders, payments, clock.clone(), galley_http::problem::stored_response);
        Self { settler, receipts: ReceiptSender::new(outbox, mailer, clock.clone()), records, clock }
    }

    /// One run: orders first (a confirmation puts a receipt in the outbox),
    /// then receipts, then search indexes. A mail outage fails the sweep,
    /// and an index repair that fails waits for the next run; neither fails
    /// the settling.
    pub async fn run(&self) -> Result<Run, Error> {
        let settled = self.settler.settle_pending(BATCH).await?;
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
        Ok(Run { settled, receipts_sent, indexes_repaired })
    }

    /// The scheduled event's answer (for logs; EventBridge ignores it).
    pub async fn handle(&self) -> Result<Value, Error> {
        let run = self.run().await?;
        Ok(json!({
            "confirmed": run.settled.confirmed,
            "declined": run.settled.declined,
            "receipts_sent": run.receipts_sent,
            "indexes_repaired": run.indexes_repaired,
        }))
    }
}
