//! The `receipts` function: fed by the table's DynamoDB stream, it sends the
//! receipt of each outbox record the confirming transaction wrote. Records
//! are handled one by one and failures reported per record
//! (`batchItemFailures`), so the stream retries only what failed and, after
//! its retries, hands it to the on-failure destination.

use galley_shared::Error;
use galley_shared::orders::{Order, ReceiptSender};
use galley_shared::ports::OutboxEntry;
use serde_json::{Value, json};

#[derive(Clone)]
pub struct ReceiptsFunction {
    sender: ReceiptSender,
}

/// What a stream record asks of the sender.
#[derive(Debug, PartialEq, Eq)]
enum Work {
    Send(Box<OutboxEntry>),
    /// Not an unsent receipt (another item, a removal, the "sent" mark).
    Skip,
}

fn string<'a>(image: &'a Value, name: &str) -> Option<&'a str> {
    image.get(name)?.get("S")?.as_str()
}

fn work(record: &Value) -> Result<Work, Error> {
    if record["eventName"] != "INSERT" && record["eventName"] != "MODIFY" {
        return Ok(Work::Skip);
    }
    let image = &record["dynamodb"]["NewImage"];
    if !string(image, "pk").is_some_and(|pk| pk.starts_with("OUTBOX#")) {
        return Ok(Work::Skip);
    }
    if image.get("sent").and_then(|n| n.get("N")).and_then(Value::as_str) != Some("0") {
        return Ok(Work::Skip);
    }
    let doc = string(image, "doc").ok_or_else(|| Error::internal("outbox record without doc"))?;
    let order: Order = serde_json::from_str(doc).map_err(|e| Error::internal(format!("outbox doc: {e}")))?;
    Ok(Work::Send(Box::new(OutboxEntry { order, sent: false })))
}

impl ReceiptsFunction {
    pub fn new(sender: ReceiptSender) -> Self {
        Self { sender }
    }

    /// Handles a DynamoDB stream batch; the answer lists the records to retry.
    pub async fn handle(&self, event: Value) -> Value {
        let mut failures = Vec::new();
        for record in event["Records"].as_array().into_iter().flatten() {
            let sequence = record["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default();
            let outcome = match work(record) {
                Ok(Work::Send(entry)) => self.sender.deliver(&entry).await.map(|_| ()),
                Ok(Work::Skip) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(error) = outcome {
                tracing::warn!(%error, sequence, "receipt not sent; the stream will retry it");
                failures.push(json!({ "itemIdentifier": sequence }));
            }
        }
        json!({ "batchItemFailures": failures })
    }
}
