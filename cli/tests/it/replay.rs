//! `galley replay` (docs/operations.md, "Replaying the failure queues"),
//! on moto: the failed work is done, each message is deleted only once its
//! work succeeded, and a second run finds nothing left to do.

use std::process::Output;
use std::time::{Duration, Instant};

use galley_shared::ports::UploadRecords;
use galley_shared::uploads::{UploadStatus, parse_object_key};
use galley_tests::fixtures::PNG_1X1 as PNG;
use serde_json::json;

use crate::common::{Backend, GALLEY, Server};
use crate::orders_http::moto_sent_mail;
use crate::uploads_http::{send, ticket};

struct Queue {
    client: aws_sdk_sqs::Client,
    url: String,
    runtime: tokio::runtime::Runtime,
}

impl Queue {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (client, url) = runtime.block_on(async {
            let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
            let client = aws_sdk_sqs::Client::new(&config);
            let name = format!("galley-failures-{}", ulid::Ulid::new().to_string().to_lowercase());
            let url = client.create_queue().queue_name(name).send().await.unwrap().queue_url.unwrap();
            (client, url)
        });
        Queue { client, url, runtime }
    }

    fn send(&self, body: &str) {
        self.runtime.block_on(self.client.send_message().queue_url(&self.url).message_body(body).send()).unwrap();
    }

    /// Messages on the queue, visible or being handled.
    fn held(&self) -> usize {
        use aws_sdk_sqs::types::QueueAttributeName::{
            ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible,
        };
        let got = self.runtime.block_on(
            self.client
                .get_queue_attributes()
                .queue_url(&self.url)
                .attribute_names(ApproximateNumberOfMessages)
                .attribute_names(ApproximateNumberOfMessagesNotVisible)
                .send(),
        );
        let attributes = got.unwrap().attributes.unwrap_or_default();
        [ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible]
            .iter()
            .map(|name| attributes.get(name).map_or(0, |n| n.parse::<usize>().unwrap()))
            .sum()
    }
}

fn replay(queue: &str, url: &str, backend: &Backend) -> Output {
    let Backend::Aws { table, bucket } = backend else { unreachable!() };
    std::process::Command::new(GALLEY)
        .args(["replay", queue, "--queue-url", url])
        .env("TABLE_NAME", table)
        .env("UPLOAD_BUCKET", bucket)
        .env_remove("MAIL_FROM")
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// An upload whose check failed (its on-failure record on the queue) is
/// checked again and stored; a message that holds no S3 event fails the
/// run and stays.
#[test]
fn replaying_upload_checks_stores_what_failed_and_keeps_what_it_cannot_read() {
    let backend = Backend::aws();
    let Backend::Aws { table, bucket } = backend.clone() else { unreachable!() };
    let server = Server::start(backend.clone());
    let token = server.signed_in("replayed-upload@example.com");
    let good = ticket(&server, &token, "cat.png", "image/png", 67);
    // Stopped before the bytes arrive: nothing checks them but the replay.
    assert!(server.stop().success());
    assert_eq!(send(&good, PNG).0, 200);
    let url = good.body["url"].as_str().unwrap();
    let key = url.split('?').next().unwrap().split_once(&format!("/{bucket}/")).unwrap().1.to_owned();

    let queue = Queue::new();
    let event = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 67}}}]});
    // What Lambda writes to the on-failure destination of an async invocation.
    let record = json!({"version": "1.0", "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": event, "responseContext": {"statusCode": 200, "functionError": "Unhandled"}});
    queue.send(&record.to_string());
    queue.send("not an event");

    let first = replay("upload-checks", &queue.url, &backend);
    assert!(!first.status.success(), "the unreadable message fails the run: {}", text(&first));
    assert!(text(&first).contains(&format!("{key}: stored")), "{}", text(&first));
    assert_eq!(queue.held(), 1, "the replayed record is deleted, the unreadable one kept");

    let (owner, id) = parse_object_key(&key).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let upload = runtime.block_on(async {
        let store = galley_aws::DynamoStore::new(&galley_aws::load_sdk_config().await, table);
        store.upload(&owner, &id).await.unwrap().unwrap()
    });
    assert_eq!(upload.status, UploadStatus::Stored);

    let again = replay("upload-checks", &queue.url, &backend);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("0 upload check(s) replayed"), "{}", text(&again));
}

/// Receipts the mail service refused (an unverified sender) are sent by
/// the replay once the sender is mended, exactly once, and the stream's
/// failure record is deleted.
#[test]
fn replaying_receipts_sends_what_was_unsent_once_and_clears_the_queue() {
    let backend = Backend::aws();
    let server = Server::start_with_env(backend.clone(), &[("MAIL_FROM", "Galley <receipts@unverified.invalid>")]);
    let token = server.signed_in("replayed-receipt@example.com");
    let body = json!({"items": [{"product_id": "mug-blue-350", "quantity": 1}], "payment": {"token": "pm_card_visa"}});
    let auth = format!("Bearer {token}");
    let headers =
        [("authorization", auth.as_str()), ("content-type", "application/json"), ("idempotency-key", "replay-1")];
    let placed = server.request("POST", "/checkout", &headers, body.to_string().as_bytes());
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    let marker = format!("receipt-{}@galley", placed.body["id"].as_str().unwrap());
    // The server's sender tries, is refused, and backs off.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(server.stop().success());
    assert!(!moto_sent_mail().contains(&marker), "an unverified sender sends nothing");

    let queue = Queue::new();
    // What a DynamoDB stream's on-failure destination receives: the batch, not its records.
    let record = json!({"requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
        "DDBStreamBatchInfo": {"shardId": "shardId-1", "startSequenceNumber": "1", "endSequenceNumber": "2", "batchSize": 1}});
    queue.send(&record.to_string());
    crate::lifecycle_http::verify_default_sender();

    // On a loaded machine the server may stop mid-send, its lease on the
    // notice still held: the replay then says so and changes nothing, and
    // the operator runs it again once the lease is over (the runbook).
    let lease_over = Instant::now() + galley_shared::orders::SEND_LEASE + Duration::from_secs(10);
    let mut first = replay("receipts", &queue.url, &backend);
    while !first.status.success() && text(&first).contains("another sender holds them") && Instant::now() < lease_over {
        assert_eq!(queue.held(), 1, "a refused replay deletes nothing");
        std::thread::sleep(Duration::from_secs(2));
        first = replay("receipts", &queue.url, &backend);
    }
    assert!(first.status.success(), "{}", text(&first));
    assert!(text(&first).contains("1 receipts failure record(s) replayed and deleted"), "{}", text(&first));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !moto_sent_mail().contains(&marker) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(moto_sent_mail().matches(&marker).count(), 1, "the receipt is sent once");
    assert_eq!(queue.held(), 0);

    let again = replay("receipts", &queue.url, &backend);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("0 unsent notice(s) sent"), "{}", text(&again));
    assert_eq!(moto_sent_mail().matches(&marker).count(), 1, "and never again");
}
