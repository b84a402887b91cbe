//! The `receipts` function: fed by the table's DynamoDB stream, it sends the
//! receipt of each outbox record the confirming transaction wrote. Records
//! are handled one by one and failures reported per record
//! (`batchItemFailures`), so the stream retries only what failed and, after
//! its retries, hands it to the on-failure destination. Which records are
//! receipts is the DynamoDB adapter's to say (`galley_aws::stream`).

use galley_aws::stream::StreamEvent;
use galley_shared::orders::NoticeSender;
use serde_json::{Value, json};

#[derive(Clone)]
pub struct ReceiptsFunction {
    sender: NoticeSender,
}

impl ReceiptsFunction {
    pub fn new(sender: NoticeSender) -> Self {
        Self { sender }
    }

    /// Handles a DynamoDB stream batch; the answer lists the records to retry.
    pub async fn handle(&self, event: StreamEvent) -> Value {
        let mut failures = Vec::new();
        for record in &event.records {
            let outcome = match record.unsent_notice() {
                Ok(Some(entry)) => self.sender.deliver(&entry).await.map(|_| ()),
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(error) = outcome {
                let sequence = record.sequence_number();
                tracing::warn!(%error, sequence, "receipt not sent; the stream will retry it");
                failures.push(json!({ "itemIdentifier": sequence }));
            }
        }
        json!({ "batchItemFailures": failures })
    }
}
