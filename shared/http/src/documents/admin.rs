//! The back office's request bodies (API.md "Back office").

use galley_shared::Error;
use galley_shared::admin::{MAX_STOCK_DELTA, NewProduct, ProductPatch, StockMove};
use galley_shared::catalog::{Category, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS};
use galley_shared::id::{ProductId, UploadId};
use galley_shared::orders::Ask;
use serde_json::Value;

use super::product::{money, stock, text};
use crate::json::{self, Fields};

/// The longest reason a stock move takes, in characters.
pub const MAX_REASON_CHARS: usize = 500;

fn category(value: &Value) -> Result<Category, String> {
    json::string(value).and_then(|s| Category::parse(&s))
}

fn upload_id(value: &Value) -> Result<UploadId, String> {
    json::string(value).and_then(|s| UploadId::parse(&s).map_err(|_| "must be an upload id".to_owned()))
}

fn boolean(value: &Value) -> Result<bool, String> {
    value.as_bool().ok_or_else(|| "must be true or false".to_owned())
}

/// `POST /admin/products` `{id?, title, description, category, price, stock, image_upload_id?}`.
pub fn new_product(value: Value) -> Result<NewProduct, Error> {
    json::parse_object(value, |f: &mut Fields| {
        let id = f.optional("id", |v| json::string(v).and_then(|s| ProductId::parse(&s)));
        let title = f.required("title", |v| text(v, 1, MAX_TITLE_CHARS));
        let description = f.required("description", |v| text(v, 0, MAX_DESCRIPTION_CHARS));
        let category = f.required("category", category);
        let price = f.object("price", money);
        let stock = f.required("stock", stock);
        let image_upload_id = f.optional("image_upload_id", upload_id);
        Some(NewProduct {
            id: id?,
            title: title?,
            description: description?,
            category: category?,
            price: price?,
            stock: stock?,
            image_upload_id: image_upload_id?,
        })
    })
}

/// `PATCH /admin/products/{id}` `{title?, description?, category?, price?, image_upload_id?, archived?}`.
pub fn product_patch(value: Value) -> Result<ProductPatch, Error> {
    json::parse_object(value, |f: &mut Fields| {
        let title = f.optional("title", |v| text(v, 1, MAX_TITLE_CHARS));
        let description = f.optional("description", |v| text(v, 0, MAX_DESCRIPTION_CHARS));
        let category = f.optional("category", category);
        let price = f.optional_object("price", money);
        let image_upload_id = f.nullable("image_upload_id", upload_id);
        let archived = f.optional("archived", boolean);
        Some(ProductPatch {
            title: title?,
            description: description?,
            category: category?,
            price: price?,
            image_upload_id: image_upload_id?,
            archived: archived?,
        })
    })
}

/// `POST /admin/products/{id}/stock` `{delta, reason}`.
pub fn stock_move(value: Value) -> Result<StockMove, Error> {
    json::parse_object(value, |f: &mut Fields| {
        let delta = f.required("delta", |v| {
            json::integer(v).and_then(|d| {
                if d != 0 && d.abs() <= MAX_STOCK_DELTA {
                    Ok(d)
                } else {
                    Err(format!("must be a non-zero integer from -{MAX_STOCK_DELTA} to {MAX_STOCK_DELTA}"))
                }
            })
        });
        let reason = f.required("reason", |v| text(v, 1, MAX_REASON_CHARS));
        Some(StockMove { delta: delta?, reason: reason? })
    })
}

/// The longest carrier name or tracking number, in characters.
pub const MAX_SHIPPING_CHARS: usize = 100;

/// `POST /admin/orders/{id}/fulfil` `{carrier?, tracking_number?}`.
pub fn fulfilment(value: Value) -> Result<Ask, Error> {
    json::parse_object(value, |f: &mut Fields| {
        let carrier = f.optional("carrier", |v| text(v, 1, MAX_SHIPPING_CHARS));
        let tracking_number = f.optional("tracking_number", |v| text(v, 1, MAX_SHIPPING_CHARS));
        Some(Ask::Fulfil { carrier: carrier?, tracking_number: tracking_number? })
    })
}

/// `POST /admin/orders/{id}/cancel` `{reason, restock}`.
pub fn admin_cancel(value: Value) -> Result<Ask, Error> {
    json::parse_object(value, |f: &mut Fields| {
        let reason = f.required("reason", |v| text(v, 1, MAX_REASON_CHARS));
        let restock = f.required("restock", boolean);
        Some(Ask::Cancel { reason: reason?, restock: restock? })
    })
}

/// `POST /orders/{id}/cancel` `{reason?}`: a customer's cancel always restocks.
pub fn customer_cancel(value: Value) -> Result<Ask, Error> {
    json::parse_object(value, |f: &mut Fields| {
        let reason = f.optional("reason", |v| text(v, 0, MAX_REASON_CHARS));
        Some(Ask::Cancel { reason: reason?.unwrap_or_default(), restock: true })
    })
}

/// `POST /admin/orders/{id}/refunds` `{amount: Money, reason}`: at least 1
/// minor unit (the order's currency is checked against the order).
pub fn refund(value: Value) -> Result<Ask, Error> {
    json::parse_object(value, |f: &mut Fields| {
        let amount = f.object("amount", money);
        let reason = f.required("reason", |v| text(v, 1, MAX_REASON_CHARS));
        let amount = amount?;
        if amount.amount < 1 {
            f.reject("amount.amount", "must be at least 1 (minor units)");
            return None;
        }
        Some(Ask::Refund { amount, reason: reason? })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(error: Error) -> Vec<String> {
        match error {
            Error::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn a_new_product_names_every_bad_field() {
        let bad = json!({"title": "", "description": 3, "category": "Bad Cat", "price": {"amount": -1, "currency": "USD"}, "stock": -2, "colour": "red"});
        let mut named = fields(new_product(bad).unwrap_err());
        named.sort();
        assert_eq!(named, ["category", "colour", "description", "price.amount", "stock", "title"]);
        let good = json!({"title": "Mug", "description": "", "category": "kitchen", "price": {"amount": 1200, "currency": "USD"}, "stock": 3});
        assert_eq!(new_product(good).unwrap().id, None, "the desk makes an id");
    }

    #[test]
    fn a_patch_takes_only_what_it_names() {
        let patch = product_patch(json!({"archived": true})).unwrap();
        assert_eq!(patch, ProductPatch { archived: Some(true), ..Default::default() });
        assert_eq!(fields(product_patch(json!({"stock": 5})).unwrap_err()), ["stock"], "stock moves only by delta");
        assert_eq!(fields(product_patch(json!({"price": {"amount": 5}})).unwrap_err()), ["price.currency"]);
        assert_eq!(product_patch(json!({"image_upload_id": null})).unwrap().image_upload_id, Some(None), "removes");
        assert_eq!(product_patch(json!({})).unwrap().image_upload_id, None, "keeps");
        assert_eq!(fields(product_patch(json!({"image_upload_id": "../x"})).unwrap_err()), ["image_upload_id"]);
    }

    #[test]
    fn order_moves_name_every_bad_field() {
        assert_eq!(
            fields(refund(json!({"amount": {"amount": 0, "currency": "USD"}, "reason": "x"})).unwrap_err()),
            ["amount.amount"]
        );
        assert_eq!(fields(refund(json!({"amount": {"amount": 5, "currency": "USD"}})).unwrap_err()), ["reason"]);
        assert!(matches!(
            refund(json!({"amount": {"amount": 5, "currency": "USD"}, "reason": "dent"})),
            Ok(Ask::Refund { .. })
        ));
        let mut bad = fields(admin_cancel(json!({"reason": "", "restock": "yes"})).unwrap_err());
        bad.sort();
        assert_eq!(bad, ["reason", "restock"]);
        assert!(matches!(customer_cancel(json!({})), Ok(Ask::Cancel { restock: true, .. })));
        assert_eq!(fields(fulfilment(json!({"carrier": "", "colour": 1})).unwrap_err()), ["carrier", "colour"]);
        assert!(matches!(fulfilment(json!({})), Ok(Ask::Fulfil { carrier: None, tracking_number: None })));
    }

    #[test]
    fn a_stock_move_is_non_zero_bounded_and_has_a_reason() {
        assert_eq!(fields(stock_move(json!({"delta": 0, "reason": "count"})).unwrap_err()), ["delta"]);
        assert_eq!(fields(stock_move(json!({"delta": 1_000_001, "reason": "x"})).unwrap_err()), ["delta"]);
        assert_eq!(fields(stock_move(json!({"delta": -3, "reason": "  "})).unwrap_err()), ["reason"]);
        assert_eq!(stock_move(json!({"delta": -3, "reason": "broken"})).unwrap().delta, -3);
    }
}
