//! `POST /checkout`'s body.

use std::collections::HashSet;

use galley_shared::Error;
use galley_shared::id::ProductId;
use galley_shared::orders::{Basket, Cart, CartLine, MAX_LINES, PaymentToken};
use galley_shared::promotions::PromoCode;
use galley_shared::stock::Quantity;
use serde_json::Value;

use crate::json::{self, Fields};

fn product_id(value: &Value) -> Result<ProductId, String> {
    value.as_str().ok_or_else(|| "must be a string".to_owned()).and_then(ProductId::parse)
}

/// `items` and `promo_code`, the part of a cart a quote prices.
fn basket_fields(f: &mut Fields) -> Option<Basket> {
    let lines = f.array_of("items", 1..=MAX_LINES, |line| {
        let product_id = line.required("product_id", product_id);
        let quantity = line.required("quantity", |v| {
            let units = json::whole(v).and_then(|n| u32::try_from(n).ok());
            units.ok_or_else(|| format!("must be an integer from 1 to {}", Quantity::MAX)).and_then(Quantity::new)
        });
        Some(CartLine { product_id: product_id?, quantity: quantity? })
    });
    let promo_code = f.optional("promo_code", |v| json::string(v).and_then(|s| PromoCode::parse(&s)));
    let lines = lines?;
    let mut seen = HashSet::new();
    if let Some(dup) = lines.iter().position(|l| !seen.insert(l.product_id.clone())) {
        f.reject(&format!("items[{dup}].product_id"), "must not repeat another line's product");
        return None;
    }
    Some(Basket { lines, promo_code: promo_code? })
}

/// `POST /checkout`'s body: `{items: [{product_id, quantity}], payment: {token}, promo_code?}`.
pub fn cart(value: Value) -> Result<Cart, Error> {
    json::parse_object(value, |f: &mut Fields| {
        let basket = basket_fields(f);
        let payment =
            f.object("payment", |p| p.required("token", |v| json::string(v).and_then(|s| PaymentToken::parse(&s))));
        Some(Cart { basket: basket?, payment: payment? })
    })
}

/// `POST /checkout/quote`'s body: `{items: [{product_id, quantity}], promo_code?}`.
pub fn basket(value: Value) -> Result<Basket, Error> {
    json::parse_object(value, basket_fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Vec<String> {
        match cart(value) {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation_failed, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_cart_parses() {
        let cart = cart(json!({
            "items": [{"product_id": "mug", "quantity": 2}, {"product_id": "pan", "quantity": 1}],
            "payment": {"token": "pm_card_visa"}
        }))
        .unwrap();
        assert_eq!(cart.basket.lines.len(), 2);
        assert_eq!(cart.basket.promo_code, None);
        assert_eq!(cart.payment.expose(), "pm_card_visa");
    }

    #[test]
    fn every_bad_field_is_named() {
        let got = fields(json!({
            "items": [{"product_id": "mug", "quantity": 0}, {"product_id": 5, "quantity": 101}, {"product_id": "a/b", "quantity": 1.5}],
            "payment": {},
            "coupon": "FREE"
        }));
        assert_eq!(
            got,
            [
                "items[0].quantity",
                "items[1].product_id",
                "items[1].quantity",
                "items[2].product_id",
                "items[2].quantity",
                "payment.token",
                "coupon"
            ]
        );
        assert_eq!(fields(json!({"items": [], "payment": {"token": "t"}})), ["items"]);
        let too_many: Vec<_> = (0..51).map(|i| json!({"product_id": format!("p{i}"), "quantity": 1})).collect();
        assert_eq!(fields(json!({"items": too_many, "payment": {"token": "t"}})), ["items"]);
    }

    #[test]
    fn lines_must_name_distinct_products() {
        let got = fields(json!({
            "items": [{"product_id": "mug", "quantity": 1}, {"product_id": "mug", "quantity": 2}],
            "payment": {"token": "pm_card_visa"}
        }));
        assert_eq!(got, ["items[1].product_id"]);
    }
}
