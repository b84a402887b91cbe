//! The local receipt sender: what the table's stream and the `receipts`
//! function do in AWS, a background task does here, polling the outbox.

use std::time::Duration;

use galley_shared::orders::NoticeSender;

const IDLE_POLL: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
const BATCH: usize = 25;

/// Sends receipts until the task is aborted; a mail outage is retried with
/// exponential backoff, and the orders stay confirmed meanwhile.
pub fn spawn(sender: NoticeSender) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(250);
        loop {
            match sender.drain(BATCH).await {
                Ok(0) => tokio::time::sleep(IDLE_POLL).await,
                Ok(_) => backoff = Duration::from_millis(250),
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "receipts not sent; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    })
}
