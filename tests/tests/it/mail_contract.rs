//! The mail port's contract over both adapters: a sent message arrives
//! whole (MIME, both parts, the right recipient) exactly once per send, and an
//! unusable destination is an error the caller can retry, never a silent loss.

use std::io::{Read, Write};

use galley_aws::ses::SesMailer;
use galley_embedded::FileMailer;
use galley_shared::auth::Email;
use galley_shared::mail::EmailMessage;
use galley_shared::ports::Mailer;

const FROM: &str = "Galley <receipts@galley.localhost>";

fn message(tag: &str) -> EmailMessage {
    EmailMessage {
        to: Email::parse("shopper@example.com").unwrap(),
        subject: format!("Receipt {tag}"),
        text: format!("Thanks for order {tag}."),
        html: format!("<p>Thanks for order <b>{tag}</b>.</p>"),
        message_id: format!("<receipt-{tag}@galley>"),
    }
}

/// Checks what arrived for `tag`: one complete MIME message.
fn assert_arrived_whole(arrived: &[String], tag: &str) {
    let matching: Vec<&String> = arrived.iter().filter(|m| m.contains(&format!("receipt-{tag}@galley"))).collect();
    assert_eq!(matching.len(), 1, "exactly one copy of {tag}");
    let mime = matching[0];
    assert!(mime.contains("To: shopper@example.com"));
    assert!(mime.contains(&format!("Subject: Receipt {tag}")));
    assert!(mime.contains("multipart/alternative") && mime.contains("text/plain") && mime.contains("text/html"));
}

#[tokio::test]
async fn the_file_mailer_writes_one_whole_eml_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = FileMailer::new(dir.path().join("outbox"), FROM);
    let tag = ulid::Ulid::new().to_string();
    mailer.send(&message(&tag)).await.unwrap();
    let arrived: Vec<String> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_arrived_whole(&arrived, &tag);

    let blocked = tempfile::NamedTempFile::new().unwrap();
    let unusable = FileMailer::new(blocked.path().join("outbox"), FROM);
    assert!(matches!(unusable.send(&message("x")).await, Err(galley_shared::Error::Unavailable { .. })));
}

/// SES's sent-mail record on moto (served on its own by `scripts/moto_server.py`).
fn ses_sent() -> Vec<String> {
    let endpoint = galley_tests::fixtures::moto_endpoint();
    let address = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(stream, "GET /galley/ses-sent HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let body = raw.split_once("\r\n\r\n").unwrap().1;
    let sent: Vec<serde_json::Value> = serde_json::from_str(body).unwrap();
    sent.iter().filter_map(|m| m["raw_data"].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn the_ses_mailer_sends_one_whole_message_per_send() {
    galley_tests::fixtures::moto_endpoint();
    let config = galley_aws::load_sdk_config().await;
    let ses = aws_sdk_sesv2::Client::new(&config);
    // SES sends only from a verified identity (in AWS, a step of the deploy).
    ses.create_email_identity().email_identity("galley.localhost").send().await.unwrap();
    let mailer = SesMailer::new(&config, FROM);
    let tag = ulid::Ulid::new().to_string();
    mailer.send(&message(&tag)).await.unwrap();
    assert_arrived_whole(&ses_sent(), &tag);

    let unverified = SesMailer::new(&config, "Nobody <nobody@unverified.example>");
    assert!(matches!(unverified.send(&message("y")).await, Err(galley_shared::Error::Unavailable { .. })));
}
