use serde::Serialize;
use time::OffsetDateTime;

use super::promotion::{Offer, Promotion};
use crate::money::Money;

/// API.md's Promotion: `{code, percent_off, amount_off, min_subtotal,
/// starts_at, ends_at, max_redemptions, redeemed, once_per_customer,
/// active, version}`, exactly one of `percent_off` and `amount_off` set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PromotionView<'a> {
    pub code: &'a str,
    pub percent_off: Option<u8>,
    pub amount_off: Option<Money>,
    pub min_subtotal: Option<Money>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub starts_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ends_at: Option<OffsetDateTime>,
    pub max_redemptions: Option<u32>,
    pub redeemed: u32,
    pub once_per_customer: bool,
    pub active: bool,
    pub version: u64,
}

impl<'a> From<&'a Promotion> for PromotionView<'a> {
    fn from(p: &'a Promotion) -> Self {
        let (percent_off, amount_off) = match p.offer {
            Offer::PercentOff(percent) => (Some(percent), None),
            Offer::AmountOff(amount) => (None, Some(amount)),
        };
        Self {
            code: p.code.as_str(),
            percent_off,
            amount_off,
            min_subtotal: p.min_subtotal,
            starts_at: p.starts_at,
            ends_at: p.ends_at,
            max_redemptions: p.max_redemptions,
            redeemed: p.redeemed,
            once_per_customer: p.once_per_customer,
            active: p.active,
            version: p.version,
        }
    }
}

impl Promotion {
    /// The strong ETag of this version (API.md: `"<version>"`); redemptions
    /// do not make it stale.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}
