//! What an admin asks of the product desk, already valid (parsed at the
//! edge, `galley_http::documents::admin`).

use super::record::ProductRecord;
use crate::catalog::Category;
use crate::id::{ProductId, UploadId};
use crate::money::Money;
use crate::stock::StockLevel;

/// The largest stock move one request makes, either way (API.md).
pub const MAX_STOCK_DELTA: i64 = 1_000_000;

/// `POST /admin/products`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewProduct {
    /// Made by the desk when the admin gives none.
    pub id: Option<ProductId>,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub price: Money,
    pub stock: StockLevel,
    /// A stored upload of the admin's, to become the product's image.
    pub image_upload_id: Option<UploadId>,
}

/// `PATCH /admin/products/{id}`: every field optional; stock is not one of
/// them (it moves only by `delta`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub category: Option<Category>,
    pub price: Option<Money>,
    /// `Some(None)` (JSON `null`) removes the image.
    pub image_upload_id: Option<Option<UploadId>>,
    pub archived: Option<bool>,
}

/// `POST /admin/products/{id}/stock`: `delta` is non-zero and within
/// ±`MAX_STOCK_DELTA`; `reason` is not empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockMove {
    pub delta: i64,
    pub reason: String,
}

/// The admin listing's filters, combined with AND.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordFilter {
    /// The folded words of `q`, matched by the catalog's rules; empty
    /// matches every product.
    pub words: Vec<String>,
    pub category: Option<Category>,
    /// `Some(true)`: archived only; `Some(false)`: live only; `None`: both.
    pub archived: Option<bool>,
    /// Stock strictly below this.
    pub stock_below: Option<i64>,
}

impl RecordFilter {
    pub fn admits(&self, record: &ProductRecord) -> bool {
        let p = &record.product;
        self.category.as_ref().is_none_or(|c| *c == p.category)
            && self.archived.is_none_or(|a| a == record.archived)
            && self.stock_below.is_none_or(|below| i64::from(p.stock) < below)
            && (self.words.is_empty() || crate::search::matches(&self.words, p))
    }
}
