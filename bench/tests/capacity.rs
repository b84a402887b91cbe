//! The request units the bench prices calls by, metered on the wire
//! against moto (`scripts/test` starts it): writes by the larger of the
//! item before and after, in 1 KB units, doubled in transactions, plus
//! each index entry; reads in 4 KB units.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use galley_bench::lambda::trips;

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

#[tokio::test]
async fn calls_are_priced_by_the_items_they_read_and_write() {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") else {
        panic!("needs moto in AWS_ENDPOINT_URL: run it through ./scripts/test");
    };
    assert!(endpoint.starts_with("http://127.0.0.1:"));
    let plain = galley_aws::load_sdk_config().await;
    let table = format!("galley-capacity-{}", ulid::Ulid::new().to_string().to_lowercase());
    galley_aws::table::create_table(&aws_sdk_dynamodb::Client::new(&plain), &table).await.unwrap();
    let (config, log) = trips::counted(&plain);
    let client = aws_sdk_dynamodb::Client::new(&config);
    log.meter(true);

    // 1 500 bytes of text: two write units, one read unit.
    let body = "x".repeat(1500);
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("sk", s("b"))
        .item("text", s(&body))
        .send()
        .await
        .unwrap();
    let got = client.get_item().table_name(&table).key("pk", s("a")).key("sk", s("b")).consistent_read(true);
    got.send().await.unwrap();
    let eventual = client.get_item().table_name(&table).key("pk", s("a")).key("sk", s("b"));
    eventual.send().await.unwrap();
    let units: Vec<(f64, f64)> = log.take().iter().map(|c| (c.units.read, c.units.write)).collect();
    assert_eq!(units, [(0.0, 2.0), (1.0, 0.0), (0.5, 0.0)]);

    // In a transaction, with an entry in gsi1 (projecting all): 2 × 1 + 1.
    let indexed = Put::builder()
        .table_name(&table)
        .item("pk", s("c"))
        .item("sk", s("d"))
        .item("gsi1pk", s("g"))
        .item("gsi1sk", s("h"))
        .build()
        .unwrap();
    client
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().put(indexed).build())
        .send()
        .await
        .unwrap();
    let units: Vec<(f64, f64)> = log.take().iter().map(|c| (c.units.read, c.units.write)).collect();
    assert_eq!(units, [(0.0, 3.0)]);

    log.meter(false);
    client.get_item().table_name(&table).key("pk", s("a")).key("sk", s("b")).send().await.unwrap();
    assert_eq!(log.take()[0].units.read, 0.0, "unmetered calls are only counted");
}
