//! The `settler` function, run on a schedule: settles the orders checkouts
//! left pending (`galley_shared::orders::Settler`), then sends the receipts
//! still unsent (the outbox's sweep), so neither a lost checkout nor a
//! stream that gave up on a receipt loses anything for good.

use std::sync::Arc;

use galley_shared::Error;
use galley_shared::clock::Clock;
use galley_shared::orders::{ReceiptSender, Settled, Settler};
use galley_shared::ports::{Mailer, Orders, Outbox, PaymentGateway};
use serde_json::{Value, json};

/// Orders and receipts one run takes on; the next run takes the rest.
pub const BATCH: usize = 100;

#[derive(Clone)]
pub struct SettlerFunction {
    settler: Settler,
    receipts: ReceiptSender,
}

impl SettlerFunction {
    pub fn new(
        orders: Arc<dyn Orders>,
        outbox: Arc<dyn Outbox>,
        payments: Arc<dyn PaymentGateway>,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let settler = Settler::new(orders, payments, clock.clone(), galley_http::problem::stored_response);
        Self { settler, receipts: ReceiptSender::new(outbox, mailer, clock) }
    }

    /// One run: orders first (a confirmation puts a receipt in the outbox),
    /// then receipts. A mail outage fails the sweep, not the settling.
    pub async fn run(&self) -> Result<(Settled, usize), Error> {
        let settled = self.settler.settle_pending(BATCH).await?;
        let sent = match self.receipts.drain(BATCH).await {
            Ok(sent) => sent,
            Err(error) => {
                tracing::warn!(%error, "receipts not swept; the next run tries again");
                0
            }
        };
        Ok((settled, sent))
    }

    /// The scheduled event's answer (for logs; EventBridge ignores it).
    pub async fn handle(&self) -> Result<Value, Error> {
        let (settled, sent) = self.run().await?;
        Ok(json!({"confirmed": settled.confirmed, "declined": settled.declined, "receipts_sent": sent}))
    }
}
