//! Fresh, isolated stores for tests: a temporary data dir for the embedded
//! adapter, a new table on the moto server for DynamoDB.

use std::sync::Arc;

use galley_aws::DynamoStore;
use galley_embedded::EmbeddedStore;
use galley_shared::catalog::{Category, Product};
use galley_shared::id::ProductId;
use galley_shared::idempotency::{
    Fingerprint, IdempotencyKey, IdempotencyScope, LeaseId, LeaseRequest, StoredResponse,
};
use galley_shared::money::{Currency, Money};
use galley_shared::orders::{HistoryEntry, Order, OrderStatus, Party};
use galley_shared::ports::{Hold, IdempotencyRecords, Orders};

/// An embedded store in its own temporary directory (removed on drop).
pub struct TempEmbedded {
    pub store: Arc<EmbeddedStore>,
    pub dir: tempfile::TempDir,
}

pub fn embedded_store() -> TempEmbedded {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(EmbeddedStore::open(dir.path()).expect("open embedded store"));
    TempEmbedded { store, dir }
}

/// The moto endpoint the test command started. DynamoDB suites never run
/// against anything but loopback, and fail (never skip) without it.
pub fn moto_endpoint() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    let loopback = endpoint.starts_with("http://127.0.0.1:") || endpoint.starts_with("http://localhost:");
    assert!(
        loopback,
        "AWS-backed tests need a moto server on loopback in AWS_ENDPOINT_URL; run them with ./scripts/test"
    );
    endpoint
}

/// A DynamoDB store over a brand-new table on moto.
pub async fn dynamo_store() -> Arc<DynamoStore> {
    moto_endpoint();
    let config = galley_aws::load_sdk_config().await;
    let table = format!("galley-test-{}", ulid::Ulid::new().to_string().to_lowercase());
    let store = DynamoStore::new(&config, table.clone());
    galley_aws::table::create_table(store.client(), &table).await.expect("create test table");
    Arc::new(store)
}

/// An S3 blob adapter over a brand-new bucket on moto.
pub async fn s3_blobs() -> galley_aws::s3::S3Blobs {
    moto_endpoint();
    let config = galley_aws::load_sdk_config().await;
    let bucket = format!("galley-test-{}", ulid::Ulid::new().to_string().to_lowercase());
    let blobs = galley_aws::s3::S3Blobs::new(&config, bucket);
    assert!(blobs.create_bucket().await.expect("create test bucket"));
    blobs
}

/// A real 1×1 PNG (67 bytes).
pub const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// Plain text as long as `PNG_1X1`: what a client might send as "cat.png".
pub fn text_posing_as_png() -> Vec<u8> {
    format!("{:<67}", "plain text, not an image, though its name ends in .png").into_bytes()
}

pub fn product(id: &str, stock: u32) -> Product {
    Product {
        id: ProductId::parse(id).expect("valid id"),
        title: format!("Product {id}"),
        description: format!("Description of {id}"),
        category: Category::parse("test").expect("valid category"),
        price: Money::new(1999, Currency::parse("USD").expect("USD")).expect("valid price"),
        image_url: None,
        stock,
    }
}

/// Claims `key` for the order's user, places `order` and confirms it, as
/// checkout does, so its receipt waits in the outbox.
pub async fn confirmed_order(
    records: &dyn IdempotencyRecords,
    orders: &dyn Orders,
    order: &Order,
    key: &str,
    now: i64,
) {
    let scope = IdempotencyScope { user: order.user_id.clone(), key: IdempotencyKey::parse(key).expect("a valid key") };
    let lease = LeaseId::generate();
    let request = LeaseRequest {
        scope: scope.clone(),
        fingerprint: Fingerprint::of("POST", "/checkout", b"seed"),
        lease: lease.clone(),
        now,
        lease_until: now + 30,
        expires_at: now + 86_400,
    };
    records.lease(&request).await.expect("lease the key");
    let hold = Hold { scope: &scope, lease: &lease };
    orders.place(order, hold).await.expect("place the order");
    let answer = StoredResponse { status: 201, body: bytes::Bytes::from_static(b"{}") };
    let confirmed = HistoryEntry::new(OrderStatus::Confirmed, order.created_at, Party::Customer);
    orders.confirm(order, &confirmed, hold, &answer).await.expect("confirm the order");
}

/// The form Stripe.js would send to make a PaymentMethod of the raw test
/// card `number` (localstripe's 3-D Secure cards are made this way).
pub fn test_card_form(number: &str) -> [(&'static str, &str); 5] {
    [
        ("type", "card"),
        ("card[number]", number),
        ("card[exp_month]", "12"),
        ("card[exp_year]", "2034"),
        ("card[cvc]", "123"),
    ]
}
