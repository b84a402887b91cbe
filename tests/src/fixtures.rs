//! Fresh, isolated stores for tests: a temporary data dir for the embedded
//! adapter, a new table on the moto server for DynamoDB.

use std::sync::Arc;

use galley_aws::DynamoStore;
use galley_embedded::EmbeddedStore;
use galley_shared::catalog::{Category, Product};
use galley_shared::id::ProductId;
use galley_shared::money::{Currency, Money};

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
