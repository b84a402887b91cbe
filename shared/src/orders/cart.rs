//! A cart as checkout takes it: lines of distinct products, a promotion
//! code perhaps, and a payment token.

use secrecy::{ExposeSecret, SecretString};

use crate::id::ProductId;
use crate::promotions::PromoCode;
use crate::stock::Quantity;

pub const MAX_LINES: usize = 50;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartLine {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// A payment method reference for the gateway (e.g. `pm_card_visa`); never logged.
#[derive(Clone, Debug)]
pub struct PaymentToken(SecretString);

impl PaymentToken {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = (1..=255).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic());
        if ok { Ok(Self(raw.into())) } else { Err("must be a payment token of 1 to 255 printable characters".into()) }
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// What a quote prices: 1 to 50 lines naming distinct products, and a
/// promotion code perhaps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Basket {
    pub lines: Vec<CartLine>,
    pub promo_code: Option<PromoCode>,
}

/// A valid cart: a basket and a payment token.
#[derive(Clone, Debug)]
pub struct Cart {
    pub basket: Basket,
    pub payment: PaymentToken,
}
