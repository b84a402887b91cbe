use async_trait::async_trait;

use super::Written;
use crate::catalog::Product;
use crate::error::Error;
use crate::id::ProductId;
use crate::search::CatalogFilter;

/// What an import wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub written: usize,
}

/// The products of the shop, with their stock levels.
/// One stretch of the catalog in title order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// The products the filter admitted, in title-key order.
    pub products: Vec<Product>,
    /// The title key of the last product read, when the read budget ran
    /// out before `limit` products were found and more may follow.
    pub read_up_to: Option<String>,
}

#[async_trait]
pub trait Catalog: Send + Sync {
    /// One product, or `None`.
    async fn product(&self, id: &ProductId) -> Result<Option<Product>, Error>;

    /// Several products at once (one batch read); unknown ids are left out.
    async fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, Error>;

    /// Adds a product only if its id is free (a conditional put).
    async fn create(&self, product: &Product) -> Result<Written, Error>;

    /// Writes products and their stock levels as given, replacing what is
    /// there, and their search index entries (stale ones removed). Writing
    /// the same records twice leaves the store as it was.
    async fn upsert(&self, products: &[Product]) -> Result<ImportReport, Error>;

    /// Up to `limit` products admitted by `filter`, in title-key order,
    /// starting after `after` (a title key) when given, reading at most
    /// `budget` products: a filter that admits little never makes one call
    /// read the whole catalog. When the budget runs out first, the listing
    /// says where the read stopped, and a later call resumes after it.
    async fn list(
        &self,
        filter: &CatalogFilter,
        after: Option<&str>,
        limit: usize,
        budget: usize,
    ) -> Result<Listing, Error>;

    /// Whether the catalog holds no product at all.
    async fn is_empty(&self) -> Result<bool, Error>;
}
