//! A product as the back office sees it.

use serde::Serialize;
use time::OffsetDateTime;

use crate::catalog::{Product, ProductView};

/// The product, and what only the back office sees of it. `version` moves
/// with the product's own edits only (API.md: sales and stock moves do not
/// make its ETag stale).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductRecord {
    pub product: Product,
    pub archived: bool,
    pub version: u64,
    /// Unix seconds of the last back-office write; 0 for a product as an
    /// import wrote it (imports carry no clock).
    pub updated_at: i64,
}

impl ProductRecord {
    /// The strong ETag of this version (API.md: `"<version>"`).
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// API.md's AdminProduct: Product plus `{stock, archived, version, updated_at}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdminProductView {
    #[serde(flatten)]
    pub product: ProductView,
    pub stock: i64,
    pub archived: bool,
    pub version: u64,
    /// Null for a product as an import wrote it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

impl From<&ProductRecord> for AdminProductView {
    fn from(r: &ProductRecord) -> Self {
        Self {
            product: ProductView::from(&r.product),
            stock: i64::from(r.product.stock),
            archived: r.archived,
            version: r.version,
            updated_at: match r.updated_at {
                0 => None,
                at => OffsetDateTime::from_unix_timestamp(at).ok(),
            },
        }
    }
}
