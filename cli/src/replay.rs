//! `galley replay`: re-drives the stack's failure queues once the fault
//! behind them is mended (docs/operations.md, "Replaying the failure
//! queues"). Each message is deleted only after its work succeeded, so a
//! replay that fails half-way is simply run again; the work is idempotent
//! (a check re-reads the object, a notice is sent once), so a message
//! handled twice does no harm.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use galley_lambda::Stores;
use galley_shared::clock::SystemClock;
use galley_shared::config::Backend;
use galley_shared::orders::NoticeSender;
use galley_shared::uploads::ArrivalCheck;
use galley_upload::CheckFunction;
use galley_upload::check::S3Event;
use serde_json::Value;

/// Long enough to check ten uploads or send a batch; a message whose work
/// failed comes back after it, for the next replay.
const VISIBILITY_SECS: i32 = 120;
const BATCH: usize = 25;

/// What the queue held and what became of it.
#[derive(Default)]
struct Tally {
    done: usize,
    failed: usize,
    kept: usize,
}

struct Queue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl Queue {
    async fn new(url: &str) -> Self {
        let config = galley_aws::load_sdk_config().await;
        let conf = aws_sdk_sqs::config::Builder::from(&config).interceptor(galley_aws::Traced).build();
        Self { client: aws_sdk_sqs::Client::from_conf(conf), url: url.to_owned() }
    }

    /// The next messages, hidden from other readers while they are handled;
    /// `None` when the queue has none left to show.
    async fn receive(&self) -> anyhow::Result<Option<Vec<Message>>> {
        let received = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .visibility_timeout(VISIBILITY_SECS)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .send()
            .await
            .with_context(|| format!("receive from {}", self.url))?;
        Ok(received.messages.filter(|messages| !messages.is_empty()))
    }

    async fn delete(&self, message: &Message) -> anyhow::Result<()> {
        let handle = message.receipt_handle().ok_or_else(|| anyhow!("a message without a receipt handle"))?;
        self.client.delete_message().queue_url(&self.url).receipt_handle(handle).send().await.context("delete")?;
        Ok(())
    }
}

fn stores_on_aws() -> anyhow::Result<Backend> {
    match Backend::from_env() {
        aws @ Backend::Aws { .. } => Ok(aws),
        Backend::Embedded { .. } => bail!("replay works on the stack's table: set TABLE_NAME (and UPLOAD_BUCKET)"),
    }
}

/// The S3 event a failure record carries: Lambda's on-failure record of an
/// asynchronous invocation holds it as `requestPayload`; a raw S3
/// notification (a queue fed by S3 directly) is taken as it is.
fn s3_event(body: &str) -> anyhow::Result<S3Event> {
    let mut record: Value = serde_json::from_str(body).context("the message is not JSON")?;
    let event = match record.get_mut("requestPayload") {
        Some(payload) => payload.take(),
        None => record,
    };
    if event.get("Records").is_none() {
        bail!("the message holds no S3 event");
    }
    serde_json::from_value(event).context("the message's S3 event")
}

/// `galley replay upload-checks`: each failed upload check, run again.
pub async fn upload_checks(queue_url: &str) -> anyhow::Result<()> {
    let stores = Stores::open(&stores_on_aws()?).await.context("open store")?;
    let check = CheckFunction::new(ArrivalCheck::new(stores.upload_records(), stores.blobs()?));
    let queue = Queue::new(queue_url).await;
    let mut tally = Tally::default();
    while let Some(messages) = queue.receive().await? {
        for message in messages {
            let checked = async {
                let event = s3_event(message.body().unwrap_or_default())?;
                Ok::<_, anyhow::Error>(check.handle(event).await?)
            };
            match checked.await {
                Ok(outcomes) => {
                    for (key, arrival) in outcomes {
                        println!("{key}: {}", arrival.outcome());
                    }
                    queue.delete(&message).await?;
                    tally.done += 1;
                }
                Err(error) => {
                    eprintln!("message {}: {error:#}; left on the queue", message.message_id().unwrap_or("?"));
                    tally.failed += 1;
                }
            }
        }
    }
    report("upload check", &tally)
}

/// `galley replay receipts`: a receipts failure record names a stream
/// batch, not its notices (which may have left the stream by now), so
/// every unsent notice in the outbox is sent first; then the records
/// written before that began are deleted. One written since may name a
/// notice sent after the pass looked: it is kept for the next replay.
pub async fn receipts(queue_url: &str) -> anyhow::Result<()> {
    let began_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let stores = Stores::open(&stores_on_aws()?).await.context("open store")?;
    let mailer = stores.mailer(&crate::mail::mail_from()).context("mail")?;
    let sender = NoticeSender::new(stores.outbox(), mailer, std::sync::Arc::new(SystemClock));
    let mut sent = 0;
    loop {
        match sender.drain(BATCH).await.context("send the unsent notices; nothing was deleted")? {
            0 => break,
            n => sent += n,
        }
    }
    let unsent = stores.outbox().pending(1).await.context("read the outbox")?;
    if !unsent.is_empty() {
        bail!("{sent} notice(s) sent, but some are still unsent (another sender holds them); run again shortly");
    }
    println!("{sent} unsent notice(s) sent");
    let queue = Queue::new(queue_url).await;
    let mut tally = Tally::default();
    while let Some(messages) = queue.receive().await? {
        for message in messages {
            let written_ms = message
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
                .and_then(|t| t.parse::<u128>().ok());
            if written_ms.is_some_and(|at| at < began_ms) {
                queue.delete(&message).await?;
                tally.done += 1;
            } else {
                // Written during this replay: hidden for now, kept for the next.
                tally.kept += 1;
            }
        }
    }
    report("receipts failure record", &tally)
}

fn report(what: &str, tally: &Tally) -> anyhow::Result<()> {
    let Tally { done, failed, kept } = tally;
    println!("{done} {what}(s) replayed and deleted; {failed} failed; {kept} kept for the next replay");
    if tally.failed > 0 {
        bail!("{} {what}(s) failed and stay on the queue", tally.failed);
    }
    Ok(())
}
