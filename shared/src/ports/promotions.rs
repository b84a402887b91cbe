use async_trait::async_trait;

use crate::admin::AuditEntry;
use crate::error::Error;
use crate::id::UserId;
use crate::promotions::{PromoCode, Promotion};

/// A change to one promotion, as one conditional write with its audit
/// entry. Redemptions never go through here: the checkout's own
/// transaction counts them (`Orders::place`), and gives them back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PromotionChange {
    /// Only if no promotion has its code, ignoring case.
    Create(Promotion),
    /// What an admin may change (`active`, `ends_at`, `max_redemptions`),
    /// only if the stored version is `promotion.version - 1` and, with a
    /// cap, only if the redemptions counted so far are within it. Its
    /// `redeemed` is not written: checkouts move it.
    Replace(Promotion),
}

/// Promotions, by code (ignoring case), and who used a once-per-customer one.
#[async_trait]
pub trait Promotions: Send + Sync {
    /// The promotion with this code, ignoring case, with its redemptions so far.
    async fn promotion(&self, code: &PromoCode) -> Result<Option<Promotion>, Error>;

    /// Whether `user` holds a redemption of this code (a once-per-customer
    /// code's use, given back by a decline or a cancellation).
    async fn used(&self, code: &PromoCode, user: &UserId) -> Result<bool, Error>;

    /// Up to `limit` promotions in code order (by `key()`), after `after`.
    async fn promotions(&self, after: Option<&PromoCode>, limit: usize) -> Result<Vec<Promotion>, Error>;

    /// Applies `change` and writes `audit` at once, or neither: `false`
    /// when the change's condition did not hold.
    async fn write(&self, change: &PromotionChange, audit: &AuditEntry) -> Result<bool, Error>;
}
