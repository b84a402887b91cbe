//! Port decorators that count store calls, so round trips are measured, not
//! estimated.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::catalog::Product;
use galley_shared::id::ProductId;
use galley_shared::ports::{Catalog, ImportReport, Listing, SearchIndex, Written};
use galley_shared::search::{CatalogFilter, Posting, Term};

#[derive(Default)]
pub struct Counter(AtomicUsize, std::sync::atomic::AtomicU64);

impl Counter {
    pub fn take(&self) -> usize {
        self.0.swap(0, Ordering::SeqCst)
    }
    /// Total time spent inside index calls since the last call, in ms.
    pub fn take_index_ms(&self) -> f64 {
        self.1.swap(0, Ordering::SeqCst) as f64 / 1e6
    }
    fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn spent(&self, since: std::time::Instant) {
        self.1.fetch_add(since.elapsed().as_nanos() as u64, Ordering::SeqCst);
    }
}

pub struct Counting<S> {
    pub inner: Arc<S>,
    pub calls: Arc<Counter>,
}

#[async_trait]
impl<S: Catalog + 'static> Catalog for Counting<S> {
    async fn product(&self, id: &ProductId) -> Result<Option<Product>, Error> {
        self.calls.hit();
        self.inner.product(id).await
    }
    async fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, Error> {
        self.calls.hit();
        self.inner.products(ids).await
    }
    async fn create(&self, product: &Product) -> Result<Written, Error> {
        self.calls.hit();
        self.inner.create(product).await
    }
    async fn upsert(&self, products: &[Product]) -> Result<ImportReport, Error> {
        self.calls.hit();
        self.inner.upsert(products).await
    }
    async fn list(
        &self,
        filter: &CatalogFilter,
        after: Option<&str>,
        limit: usize,
        budget: usize,
    ) -> Result<Listing, Error> {
        self.calls.hit();
        self.inner.list(filter, after, limit, budget).await
    }
    async fn is_empty(&self) -> Result<bool, Error> {
        self.calls.hit();
        self.inner.is_empty().await
    }
}

#[async_trait]
impl<S: SearchIndex + 'static> SearchIndex for Counting<S> {
    async fn postings(&self, term: Term<'_>, limit: usize) -> Result<Option<Vec<Posting>>, Error> {
        self.calls.hit();
        let started = std::time::Instant::now();
        let postings = self.inner.postings(term, limit).await;
        self.calls.spent(started);
        postings
    }
    async fn postings_among(&self, term: Term<'_>, ids: &[ProductId]) -> Result<Vec<Posting>, Error> {
        self.calls.hit();
        let started = std::time::Instant::now();
        let postings = self.inner.postings_among(term, ids).await;
        self.calls.spent(started);
        postings
    }
}
