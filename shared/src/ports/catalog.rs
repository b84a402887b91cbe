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
    /// starting after `after` (a title key) when given.
    async fn list(&self, filter: &CatalogFilter, after: Option<&str>, limit: usize) -> Result<Vec<Product>, Error>;

    /// Whether the catalog holds no product at all.
    async fn is_empty(&self) -> Result<bool, Error>;
}
