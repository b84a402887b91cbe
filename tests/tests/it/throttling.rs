//! #20 item 10: a throttled table is an outage to wait out, not a bug. A
//! transaction DynamoDB cancels for throttling is retried with backoff; one
//! throttled past the retries is 503 `unavailable` with `Retry-After`, and
//! changes nothing. Only `ConditionalCheckFailed` is a condition failure.

use galley_http::problem::problem_response;
use galley_shared::Error;
use galley_shared::id::ProductId;
use galley_shared::ports::{Catalog, Stock};
use galley_shared::stock::{Quantity, StockLine};
use galley_tests::faults::{Canned, Faults, faulty_dynamo_store};
use galley_tests::fixtures::product;

const THROTTLES: [&str; 2] = ["ThrottlingError", "ProvisionedThroughputExceeded"];

fn one(id: &str) -> StockLine {
    StockLine { product_id: ProductId::parse(id).unwrap(), quantity: Quantity::new(1).unwrap() }
}

#[tokio::test]
async fn a_transaction_throttled_a_few_times_is_retried_and_applied_once() {
    for code in THROTTLES {
        let faults = Faults::default();
        let store = faulty_dynamo_store(&faults).await;
        store.upsert(&[product("hot", 5)]).await.unwrap();
        faults.inject("TransactWriteItems", Canned::cancelled(code, 1), 3);
        store.reserve(&[one("hot")]).await.unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(faults.left("TransactWriteItems"), 0, "{code}: every throttled answer was met with a retry");
        assert_eq!(store.level(&ProductId::parse("hot").unwrap()).await.unwrap(), Some(4), "{code}: taken once");
    }
}

#[tokio::test]
async fn a_transaction_throttled_past_the_retries_is_503_with_retry_after_and_changes_nothing() {
    for code in THROTTLES {
        let faults = Faults::default();
        let store = faulty_dynamo_store(&faults).await;
        store.upsert(&[product("hot", 5)]).await.unwrap();
        faults.inject("TransactWriteItems", Canned::cancelled(code, 1), 1_000);
        let error = store.reserve(&[one("hot")]).await.unwrap_err();
        assert!(matches!(error, Error::Unavailable { .. }), "{code}: {error:?}");
        let response = problem_response(&error);
        assert_eq!(response.status(), 503, "{code}");
        assert!(response.headers().contains_key("retry-after"), "{code}");
        faults.inject("TransactWriteItems", Canned::cancelled(code, 1), 0);
        assert_eq!(store.level(&ProductId::parse("hot").unwrap()).await.unwrap(), Some(5), "{code}");
    }
}

#[tokio::test]
async fn a_real_shortage_is_still_out_of_stock() {
    let faults = Faults::default();
    let store = faulty_dynamo_store(&faults).await;
    store.upsert(&[product("hot", 0)]).await.unwrap();
    assert!(matches!(store.reserve(&[one("hot")]).await, Err(Error::OutOfStock(_))));
}
