//! #20 item 12: SES failing for longer than the table stream retries a
//! record, then recovering: the settler's sweep sends exactly one receipt
//! per confirmed order (DynamoDB and SES on moto, SES's failures injected
//! into the real SES client), and the stream's later redeliveries add none.

use std::io::{Read, Write};
use std::sync::Arc;

use galley_aws::ses::SesMailer;
use galley_receipts::ReceiptsFunction;
use galley_shared::auth::Email;
use galley_shared::clock::{Clock, ManualClock};
use galley_shared::id::{OrderId, ProductId, UserId};
use galley_shared::orders::{CartLine, NoticeSender, Order, OrderStatus, price};
use galley_shared::ports::{Catalog, Outbox};
use galley_shared::stock::Quantity;
use galley_tests::faults::{Canned, Faults, faulty_sdk_config};
use galley_tests::fixtures;
use serde_json::{Value, json};

const SEND: &str = "/v2/email/outbound-emails";
/// The outbox document of `order`'s receipt, as the confirming transaction writes it.
fn receipt_doc(order: &Order) -> String {
    let confirmed = Order { status: OrderStatus::Confirmed, ..order.clone() };
    serde_json::to_string(&galley_shared::orders::Notice {
        kind: galley_shared::orders::NoticeKind::Receipt,
        order: confirmed,
    })
    .unwrap()
}

/// The stream's retries (template.yaml MaximumRetryAttempts) and the first try.
const STREAM_DELIVERIES: usize = 9;

/// Raw messages moto's SES has accepted that name `order`.
fn sent_for(order: &OrderId) -> usize {
    let endpoint = fixtures::moto_endpoint();
    let address = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(stream, "GET /galley/ses-sent HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let sent: Vec<Value> = serde_json::from_str(raw.split_once("\r\n\r\n").unwrap().1).unwrap();
    sent.iter().filter_map(|m| m["raw_data"].as_str()).filter(|raw| raw.contains(order.as_str())).count()
}

/// The stream record DynamoDB would deliver for a receipt the outbox holds.
fn stream_record(doc: &str, order: &OrderId) -> Value {
    json!({"Records": [{
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": "1", "NewImage": {
            "pk": {"S": format!("OUTBOX#{order}")}, "sk": {"S": "RECEIPT"},
            "doc": {"S": doc}, "sent": {"N": "0"}
        }}
    }]})
}

#[tokio::test]
async fn an_ses_outage_longer_than_the_stream_retries_loses_no_receipt_and_doubles_none() {
    let store = fixtures::dynamo_store().await;
    store.upsert(&[fixtures::product("mug", 9)]).await.unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let mug = store.product(&ProductId::parse("mug").unwrap()).await.unwrap().unwrap();
    let mut orders = Vec::new();
    for i in 0..3 {
        let cart = [CartLine { product_id: mug.id.clone(), quantity: Quantity::new(1).unwrap() }];
        let quote = price(&cart, std::slice::from_ref(&mug), None, clock.now()).unwrap();
        let order = Order {
            id: OrderId::generate(),
            user_id: UserId::generate(),
            email: Email::parse("outage@example.com").unwrap(),
            status: OrderStatus::Pending,
            created_at: clock.now(),
            items: quote.items,
            total: quote.total,
            promotion: None,
            history: vec![galley_shared::orders::HistoryEntry::placed(clock.now())],
            state: Default::default(),
            version: 0,
        };
        fixtures::confirmed_order(&*store, &*store, &order, &format!("outage-order-{i}"), clock.unix_now()).await;
        orders.push(order);
    }
    let pending = store.pending(10).await.unwrap();
    assert_eq!(pending.len(), 3);

    let config = galley_aws::load_sdk_config().await;
    let identity = aws_sdk_sesv2::Client::new(&config).create_email_identity().email_identity("galley.example");
    identity.send().await.expect("verify the sender's domain");
    let faults = Faults::default();
    faults.inject(SEND, Canned::rest_error("TooManyRequestsException", 429), 1_000);
    let ses = Arc::new(SesMailer::new(&faulty_sdk_config(&faults).await, "Galley <receipts@galley.example>"));
    let receipts = ReceiptsFunction::new(NoticeSender::new(store.clone(), ses.clone(), clock.clone()));
    for entry in &pending {
        let doc = receipt_doc(&entry.notice.order);
        let record = serde_json::from_value(stream_record(&doc, &entry.notice.order.id)).unwrap();
        let answer = receipts.handle(record).await;
        assert_eq!(answer["batchItemFailures"].as_array().unwrap().len(), 1, "SES is down: {answer}");
    }
    for _ in 1..STREAM_DELIVERIES {
        for entry in &pending {
            let doc = receipt_doc(&entry.notice.order);
            receipts.handle(serde_json::from_value(stream_record(&doc, &entry.notice.order.id)).unwrap()).await;
        }
    }
    // The stream has given up on these records; nothing went out.
    assert!(orders.iter().all(|o| sent_for(&o.id) == 0));

    // SES recovers; the settler's sweep finds the receipts still unsent.
    faults.inject(SEND, Canned::rest_error("TooManyRequestsException", 429), 0);
    let settler = galley_settler::SettlerFunction::new(
        galley_settler::SettlerStores::over(store.clone()),
        Arc::new(galley_payments::SandboxGateway::new(store.clone())),
        ses.clone(),
        clock.clone(),
    );
    let sent = settler.run().await.unwrap().receipts_sent;
    assert_eq!(sent, 3);
    assert_eq!(settler.run().await.unwrap().receipts_sent, 0, "a second sweep sends nothing");
    for entry in &pending {
        let doc = receipt_doc(&entry.notice.order);
        let answer =
            receipts.handle(serde_json::from_value(stream_record(&doc, &entry.notice.order.id)).unwrap()).await;
        assert_eq!(answer["batchItemFailures"], json!([]), "a late redelivery is no failure");
    }
    for order in &orders {
        assert_eq!(sent_for(&order.id), 1, "exactly one receipt for {}", order.id);
    }
}
