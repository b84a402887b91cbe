//! Port decorators that count store calls and the entries they read, so
//! round trips and reads are measured, not estimated.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::catalog::Product;
use galley_shared::id::ProductId;
use galley_shared::ports::{Catalog, ImportReport, Listing, SearchIndex, Written};
use galley_shared::search::{CatalogFilter, Posting, Term, TitleFrom, TitleRun};

#[derive(Default)]
pub struct Counter {
    calls: AtomicUsize,
    nanos: std::sync::atomic::AtomicU64,
    entries: AtomicUsize,
    /// Of `entries`, those read by key (a `BatchGetItem` key on DynamoDB).
    keyed: AtomicUsize,
    /// With `item_bytes` set: what the reads would cost on DynamoDB.
    item_bytes: AtomicUsize,
    units: AtomicUsize,
}

impl Counter {
    pub fn take(&self) -> usize {
        self.calls.swap(0, Ordering::SeqCst)
    }
    /// Total time spent inside index calls since the last call, in ms.
    pub fn take_index_ms(&self) -> f64 {
        self.nanos.swap(0, Ordering::SeqCst) as f64 / 1e6
    }
    /// Entries read since the last call: products, postings, and keys
    /// probed (a DynamoDB item read each, whether or not it exists).
    pub fn take_entries(&self) -> usize {
        self.entries.swap(0, Ordering::SeqCst)
    }
    /// Keys read by key since the last call (of `take_entries`' entries).
    pub fn take_keyed(&self) -> usize {
        self.keyed.swap(0, Ordering::SeqCst)
    }
    /// Prices reads from now on as DynamoDB would, its index items taken to
    /// be `bytes` each (as `bench-search-dynamodb` measures them): a range
    /// read is one query, its items' sizes summed and rounded up to 4 KB
    /// units; a key read is a unit each (an item under 4 KB). Strongly
    /// consistent, as the adapter reads.
    pub fn price_items_at(&self, bytes: usize) {
        self.item_bytes.store(bytes, Ordering::SeqCst);
    }
    /// Read units since the last call (0 unless `price_items_at`).
    pub fn take_units(&self) -> usize {
        self.units.swap(0, Ordering::SeqCst)
    }
    fn hit(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
    /// A range read of `entries`.
    fn read(&self, entries: usize) {
        self.entries.fetch_add(entries, Ordering::SeqCst);
        let bytes = self.item_bytes.load(Ordering::SeqCst);
        if bytes > 0 {
            self.units.fetch_add((entries * bytes).div_ceil(4096).max(1), Ordering::SeqCst);
        }
    }
    /// A read of `keys` by key.
    fn read_keys(&self, keys: usize) {
        self.entries.fetch_add(keys, Ordering::SeqCst);
        self.keyed.fetch_add(keys, Ordering::SeqCst);
        if self.item_bytes.load(Ordering::SeqCst) > 0 {
            self.units.fetch_add(keys, Ordering::SeqCst);
        }
    }
    fn spent(&self, since: std::time::Instant) {
        self.nanos.fetch_add(since.elapsed().as_nanos() as u64, Ordering::SeqCst);
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
        self.calls.read_keys(1);
        self.inner.product(id).await
    }
    async fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, Error> {
        self.calls.hit();
        self.calls.read_keys(ids.len());
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
        let listing = self.inner.list(filter, after, limit, budget).await;
        // What the store walked: up to the budget when the page ended short.
        if let Ok(listing) = &listing {
            self.calls.read(if listing.read_up_to.is_some() { budget } else { listing.products.len() });
        }
        listing
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
        if let Ok(found) = &postings {
            self.calls.read(found.as_ref().map_or(limit.saturating_add(1), Vec::len));
        }
        postings
    }
    async fn postings_among(&self, term: Term<'_>, ids: &[ProductId]) -> Result<Vec<Posting>, Error> {
        self.calls.hit();
        let started = std::time::Instant::now();
        let postings = self.inner.postings_among(term, ids).await;
        self.calls.spent(started);
        self.calls.read_keys(ids.len());
        postings
    }
    async fn title_ordered(&self, term: Term<'_>) -> Result<bool, Error> {
        self.inner.title_ordered(term).await
    }

    async fn postings_in_title_order(
        &self,
        term: Term<'_>,
        from: TitleFrom<'_>,
        read: usize,
        titles_only: bool,
    ) -> Result<TitleRun, Error> {
        self.calls.hit();
        let started = std::time::Instant::now();
        let run = self.inner.postings_in_title_order(term, from, read, titles_only).await;
        self.calls.spent(started);
        // A stretch reads `read` entries unless it reached the end.
        if let Ok(run) = &run {
            self.calls.read(if run.read_up_to.is_some() { read } else { run.postings.len() });
        }
        run
    }
}
