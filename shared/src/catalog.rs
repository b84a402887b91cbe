//! Products as the catalog holds them, and the rules a product must satisfy.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::id::ProductId;
use crate::json::{self, Fields};
use crate::money::{Currency, Money};
use crate::stock::{MAX_STOCK, StockLevel};

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

fn text(value: &Value, min: usize, max: usize) -> Result<String, String> {
    let s = json::string(value)?;
    let trimmed = s.trim();
    let chars = trimmed.chars().count();
    if chars < min || chars > max {
        return Err(format!("must be {min} to {max} characters"));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n') {
        return Err("must not contain control characters".into());
    }
    Ok(trimmed.to_owned())
}

fn image_url(value: &Value) -> Result<String, String> {
    let url = json::string(value)?;
    let ok = url.len() <= MAX_IMAGE_URL_CHARS
        && (url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/'))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(url) } else { Err("must be an http(s) URL or an absolute path".into()) }
}

fn money(f: &mut Fields) -> Option<Money> {
    let amount = f.required("amount", json::integer);
    let currency = f.required("currency", |v| json::string(v).and_then(|c| Currency::parse(&c)));
    match Money::new(amount?, currency?) {
        Ok(m) => Some(m),
        Err(message) => {
            f.reject("amount", message);
            None
        }
    }
}

fn stock(value: &Value) -> Result<StockLevel, String> {
    value
        .as_u64()
        .filter(|n| *n <= u64::from(MAX_STOCK))
        .map(|n| n as StockLevel)
        .ok_or_else(|| format!("must be an integer from 0 to {MAX_STOCK}"))
}

impl Product {
    /// Where the product sits in the catalog's title order.
    pub fn title_order_key(&self) -> String {
        crate::search::title_key(&self.title, &self.id)
    }

    /// Parses one catalog record (the import format of `galley import`).
    pub fn from_json(value: Value) -> Result<Self, Error> {
        json::parse_object(value, |f| {
            let id = f.required("id", |v| json::string(v).and_then(|s| ProductId::parse(&s)));
            let title = f.required("title", |v| text(v, 1, MAX_TITLE_CHARS));
            let description = f.required("description", |v| text(v, 0, MAX_DESCRIPTION_CHARS));
            let category = f.required("category", |v| json::string(v).and_then(|s| Category::parse(&s)));
            let price = f.object("price", money);
            let stock = f.required("stock", stock);
            let image_url = f.optional("image_url", image_url);
            Some(Product {
                id: id?,
                title: title?,
                description: description?,
                category: category?,
                price: price?,
                image_url: image_url?,
                stock: stock?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> Value {
        json!({
            "id": "mug-blue", "title": "Blue Mug", "description": "Stoneware, 350 ml.",
            "category": "kitchen", "price": {"amount": 1299, "currency": "USD"},
            "stock": 12, "image_url": null
        })
    }

    #[test]
    fn parses_an_import_record() {
        let p = Product::from_json(record()).unwrap();
        assert_eq!(p.title, "Blue Mug");
        assert_eq!(p.price.amount, 1299);
        assert_eq!(p.stock, 12);
        assert!(ProductView::from(&p).in_stock);
    }

    #[test]
    fn names_every_bad_field_of_a_record() {
        let mut bad = record();
        bad["title"] = json!("");
        bad["price"] = json!({"amount": -5, "currency": "usd"});
        bad["stock"] = json!(-1);
        bad["colour"] = json!("blue");
        let Err(Error::Validation(errors)) = Product::from_json(bad) else { panic!() };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "price.currency", "stock", "colour"]);
    }

    #[test]
    fn out_of_stock_product_is_shown_as_such() {
        let mut r = record();
        r["stock"] = json!(0);
        assert!(!ProductView::from(&Product::from_json(r).unwrap()).in_stock);
    }
}
