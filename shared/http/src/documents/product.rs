//! A product record: the catalog import's line format.

use galley_shared::Error;
use galley_shared::catalog::{Category, MAX_DESCRIPTION_CHARS, MAX_IMAGE_URL_CHARS, MAX_TITLE_CHARS, Product};
use galley_shared::id::ProductId;
use galley_shared::money::{Currency, Money};
use galley_shared::stock::{MAX_STOCK, StockLevel};
use serde_json::Value;

use crate::json::{self, Fields};

pub(crate) fn text(value: &Value, min: usize, max: usize) -> Result<String, String> {
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

pub(crate) fn money(f: &mut Fields) -> Option<Money> {
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

pub(crate) fn stock(value: &Value) -> Result<StockLevel, String> {
    json::whole(value)
        .and_then(|n| StockLevel::try_from(n).ok())
        .filter(|n| *n <= MAX_STOCK)
        .ok_or_else(|| format!("must be an integer from 0 to {MAX_STOCK}"))
}

/// One catalog record (the import format of `galley import`).
pub fn product(value: Value) -> Result<Product, Error> {
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

#[cfg(test)]
mod tests {
    use galley_shared::catalog::ProductView;
    use serde_json::json;

    use super::*;

    fn record() -> Value {
        json!({
            "id": "mug-blue", "title": "Blue Mug", "description": "Stoneware, 350 ml.",
            "category": "kitchen", "price": {"amount": 1299, "currency": "USD"},
            "stock": 12, "image_url": null
        })
    }

    #[test]
    fn parses_an_import_record() {
        let p = product(record()).unwrap();
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
        let Err(Error::Validation(errors)) = product(bad) else { panic!() };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "price.currency", "stock", "colour"]);
    }

    #[test]
    fn out_of_stock_product_is_shown_as_such() {
        let mut r = record();
        r["stock"] = json!(0);
        assert!(!ProductView::from(&product(r).unwrap()).in_stock);
    }
}
