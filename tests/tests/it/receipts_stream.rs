//! The receipts function reads what the DynamoDB adapter writes. Every item
//! of a table on moto, after a real checkout's transactions, is turned into
//! the stream record DynamoDB would deliver for it and run through the
//! handler: exactly the receipt goes out, once.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use galley_aws::stream::StreamEvent;
use galley_receipts::ReceiptsFunction;
use galley_shared::Error;
use galley_shared::auth::Email;
use galley_shared::clock::{Clock, ManualClock};
use galley_shared::id::{OrderId, ProductId, UserId};
use galley_shared::mail::EmailMessage;
use galley_shared::orders::{CartLine, NoticeSender, Order, OrderStatus, price};
use galley_shared::ports::{Catalog, Mailer};
use galley_shared::stock::Quantity;
use galley_tests::fixtures;
use serde_json::{Map, Value, json};

#[derive(Default)]
struct CapturingMailer(Mutex<Vec<EmailMessage>>);

#[async_trait]
impl Mailer for CapturingMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), Error> {
        self.0.lock().unwrap().push(message.clone());
        Ok(())
    }
}

/// An attribute in the stream's JSON (DynamoDB's wire format).
fn wire(value: &AttributeValue) -> Value {
    let list = |values: &[AttributeValue]| Value::Array(values.iter().map(wire).collect());
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::B(blob) => {
            json!({ "B": base64::engine::general_purpose::STANDARD.encode(blob.as_ref()) })
        }
        AttributeValue::L(values) => json!({ "L": list(values) }),
        AttributeValue::M(map) => json!({ "M": image(map) }),
        AttributeValue::Ss(values) => json!({ "SS": values }),
        AttributeValue::Ns(values) => json!({ "NS": values }),
        other => panic!("an attribute kind the table does not use: {other:?}"),
    }
}

fn image(item: &std::collections::HashMap<String, AttributeValue>) -> Value {
    Value::Object(item.iter().map(|(name, value)| (name.clone(), wire(value))).collect::<Map<_, _>>())
}

/// Every item of the table, as `eventName` records of its stream.
async fn stream_of_table(store: &galley_aws::DynamoStore, event_name: &str) -> StreamEvent {
    let scanned = store.client().scan().table_name(store.table()).send().await.unwrap();
    let records: Vec<Value> = scanned
        .items()
        .iter()
        .enumerate()
        .map(|(sequence, item)| {
            json!({
                "eventName": event_name,
                "eventSource": "aws:dynamodb",
                "dynamodb": {"SequenceNumber": sequence.to_string(), "NewImage": image(item)}
            })
        })
        .collect();
    assert!(records.len() > 3, "the checkout wrote its items");
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

#[tokio::test]
async fn the_receipt_the_adapter_wrote_is_sent_once_from_its_stream_records() {
    let store = fixtures::dynamo_store().await;
    store.upsert(&[fixtures::product("mug", 5)]).await.unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let mug = store.product(&ProductId::parse("mug").unwrap()).await.unwrap().unwrap();
    let quote = price(
        &[CartLine { product_id: mug.id.clone(), quantity: Quantity::new(2).unwrap() }],
        &[mug],
        None,
        clock.now(),
    )
    .unwrap();
    let order = Order {
        id: OrderId::generate(),
        user_id: UserId::generate(),
        email: Email::parse("stream@example.com").unwrap(),
        status: OrderStatus::Pending,
        created_at: clock.now(),
        items: quote.items,
        total: quote.total,
        promotion: None,
        history: vec![galley_shared::orders::HistoryEntry::placed(clock.now())],
        state: Default::default(),
        version: 0,
    };
    fixtures::confirmed_order(&*store, &*store, &order, "stream-order-1", clock.unix_now()).await;

    let mailer = Arc::new(CapturingMailer::default());
    let receipts = ReceiptsFunction::new(NoticeSender::new(store.clone(), mailer.clone(), clock.clone()));
    let answer = receipts.handle(stream_of_table(&store, "INSERT").await).await;
    assert_eq!(answer, json!({ "batchItemFailures": [] }));
    let sent: Vec<String> = mailer.0.lock().unwrap().iter().map(|m| m.to.as_str().to_owned()).collect();
    assert_eq!(sent, ["stream@example.com"], "one receipt, for the one confirmed order");

    // The mark that the receipt went out is a write too: its record, and a
    // redelivery of the whole table, send nothing more.
    let answer = receipts.handle(stream_of_table(&store, "MODIFY").await).await;
    assert_eq!(answer, json!({ "batchItemFailures": [] }));
    assert_eq!(mailer.0.lock().unwrap().len(), 1);
}
