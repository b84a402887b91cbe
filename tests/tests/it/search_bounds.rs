//! #20 item 1, first part: what one search asks of the index is bounded by
//! its distinct words, however it is written: a word repeated is looked up
//! once, and more than 8 distinct words are refused before any lookup.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use galley_http::Handler;
use galley_search::SearchFunction;
use galley_shared::Error;
use galley_shared::id::ProductId;
use galley_shared::keys::SigningKey;
use galley_shared::ports::SearchIndex;
use galley_shared::search::{Posting, Term};
use galley_tests::contract::Store;
use galley_tests::fixtures::product;

/// Counts the index lookups a search makes.
struct Counting<S> {
    inner: Arc<S>,
    lookups: AtomicUsize,
}

#[async_trait]
impl<S: SearchIndex> SearchIndex for Counting<S> {
    async fn postings(&self, term: Term<'_>, limit: usize) -> Result<Option<Vec<Posting>>, Error> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.postings(term, limit).await
    }

    async fn postings_among(&self, term: Term<'_>, ids: &[ProductId]) -> Result<Vec<Posting>, Error> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.postings_among(term, ids).await
    }
}

async fn get(function: &SearchFunction, query: &str) -> (u16, serde_json::Value) {
    let request = http::Request::builder().uri(format!("/products?{query}")).body(bytes::Bytes::new()).unwrap();
    let response = function.handle(request).await;
    (response.status().as_u16(), serde_json::from_slice(response.body()).unwrap())
}

async fn a_repeated_word_is_looked_up_once_and_nine_words_are_refused<S: Store>(store: Arc<S>) {
    store.upsert(&[product("mug-1", 1), product("mug-2", 1)]).await.unwrap();
    let index = Arc::new(Counting { inner: store.clone(), lookups: AtomicUsize::new(0) });
    let function = SearchFunction::new(store.clone(), index.clone(), &SigningKey::new(vec![9; 32]).unwrap());
    let repeated = std::iter::repeat_n("product", 24).collect::<Vec<_>>().join("+");
    let (status, body) = get(&function, &format!("q={repeated}")).await;
    assert_eq!(status, 200, "{body}");
    let (status, once) = get(&function, "q=product").await;
    assert_eq!((status, &once), (200, &body), "the same answer as the word once");
    assert_eq!(index.lookups.load(Ordering::SeqCst), 2, "one lookup per search, not 24");

    let (status, body) = get(&function, "q=one+two+three+four+five+six+seven+eight+nine").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("validation_failed")), "{body}");
    assert_eq!(index.lookups.load(Ordering::SeqCst), 2, "refused before any lookup");
}

galley_tests::on_both_stores!(a_repeated_word_is_looked_up_once_and_nine_words_are_refused);
