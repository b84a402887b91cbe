//! `POST /checkout`'s body: `{items: [{product_id, quantity}], payment: {token}}`.

use std::collections::HashSet;

use serde_json::Value;

use crate::error::Error;
use crate::id::ProductId;
use crate::json::{self, Fields};
use crate::stock::Quantity;

pub const MAX_LINES: usize = 50;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartLine {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// A payment method reference for the gateway (e.g. `pm_card_visa`); never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentToken(String);

impl PaymentToken {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = (1..=255).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be a payment token of 1 to 255 printable characters".into())
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PaymentToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaymentToken(..)")
    }
}

/// A valid cart: 1 to 50 lines naming distinct products, and a payment token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cart {
    pub lines: Vec<CartLine>,
    pub payment: PaymentToken,
}

fn product_id(value: &Value) -> Result<ProductId, String> {
    value.as_str().ok_or_else(|| "must be a string".to_owned()).and_then(ProductId::parse)
}

impl Cart {
    pub fn from_json(value: Value) -> Result<Cart, Error> {
        let cart = json::parse_object(value, |f: &mut Fields| {
            let lines = f.array_of("items", 1..=MAX_LINES, |line| {
                let product_id = line.required("product_id", product_id);
                let quantity = line.required("quantity", Quantity::from_json);
                Some(CartLine { product_id: product_id?, quantity: quantity? })
            });
            let payment =
                f.object("payment", |p| p.required("token", |v| json::string(v).and_then(|s| PaymentToken::parse(&s))));
            let lines = lines?;
            let mut seen = HashSet::new();
            if let Some(dup) = lines.iter().position(|l| !seen.insert(l.product_id.clone())) {
                f.reject(&format!("items[{dup}].product_id"), "must not repeat another line's product");
                return None;
            }
            Some(Cart { lines, payment: payment? })
        })?;
        Ok(cart)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Vec<String> {
        match Cart::from_json(value) {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation_failed, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_cart_parses() {
        let cart = Cart::from_json(json!({
            "items": [{"product_id": "mug", "quantity": 2}, {"product_id": "pan", "quantity": 1}],
            "payment": {"token": "pm_card_visa"}
        }))
        .unwrap();
        assert_eq!(cart.lines.len(), 2);
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
