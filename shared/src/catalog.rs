//! Products as the catalog holds them, and the rules a product must satisfy.

use std::sync::Arc;

use serde::Serialize;

use crate::id::ProductId;
use crate::money::Money;
use crate::stock::StockLevel;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 5000;
pub const MAX_CATEGORY_CHARS: usize = 50;
pub const MAX_IMAGE_URL_CHARS: usize = 2048;

/// A product with its stock: what the catalog stores and the importer writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub price: Money,
    pub image_url: Option<String>,
    pub stock: StockLevel,
}

/// The public face of a product (API.md "Product").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProductView {
    pub id: ProductId,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub price: Money,
    pub image_url: Option<String>,
    pub in_stock: bool,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        Self {
            id: p.id.clone(),
            title: p.title.clone(),
            description: p.description.clone(),
            category: p.category.clone(),
            price: p.price,
            image_url: p.image_url.clone(),
            in_stock: p.stock > 0,
        }
    }
}

/// A category slug: lowercase letters, digits and '-', e.g. `kitchen`.
/// Shared, not owned: every search posting carries its product's category,
/// and a common word has tens of thousands of them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Category(Arc<str>);

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl Category {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = (1..=MAX_CATEGORY_CHARS).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(raw.into()))
        } else {
            Err(format!("must be 1 to {MAX_CATEGORY_CHARS} characters of a-z, 0-9 or '-'"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Product {
    /// Where the product sits in the catalog's title order.
    pub fn title_order_key(&self) -> String {
        crate::search::title_key(&self.title, &self.id)
    }
}
