//! The promotion desk: the back office's promotion routes, each write one
//! conditional write with its audit entry. Redemptions are the checkout's
//! (`Orders::place`); the desk only reads how many there are.

use std::sync::Arc;

use serde_json::Value;
use time::OffsetDateTime;

use super::audit::{Actor, AuditEntry, AuditTarget};
use crate::clock::Clock;
use crate::error::{Error, FieldError};
use crate::id::AuditId;
use crate::money::Money;
use crate::ports::{PromotionChange, Promotions};
use crate::promotions::{Offer, PromoCode, Promotion, PromotionView};

/// `POST /admin/promotions`, already valid (parsed at the edge).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPromotion {
    pub code: PromoCode,
    pub offer: Offer,
    pub min_subtotal: Option<Money>,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
    pub max_redemptions: Option<u32>,
    pub once_per_customer: bool,
}

/// `PATCH /admin/promotions/{code}`: `Some(None)` (JSON `null`) removes an
/// end or a cap.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PromotionPatch {
    pub active: Option<bool>,
    pub ends_at: Option<Option<OffsetDateTime>>,
    pub max_redemptions: Option<Option<u32>>,
}

/// A window must end after it starts (API.md: 400 for a bad window).
pub fn check_window(starts_at: Option<OffsetDateTime>, ends_at: Option<OffsetDateTime>) -> Result<(), Error> {
    match (starts_at, ends_at) {
        (Some(starts), Some(ends)) if ends <= starts => {
            Err(Error::Validation(vec![FieldError::new("ends_at", "must be after starts_at")]))
        }
        _ => Ok(()),
    }
}

/// How often a patch reads again when checkouts keep counting redemptions
/// under it (its version unchanged): each round is one read and one write.
const PATCH_ROUNDS: usize = 5;

#[derive(Clone)]
pub struct PromotionDesk {
    promotions: Arc<dyn Promotions>,
    clock: Arc<dyn Clock>,
}

impl PromotionDesk {
    pub fn new(promotions: Arc<dyn Promotions>, clock: Arc<dyn Clock>) -> Self {
        Self { promotions, clock }
    }

    pub async fn create(&self, actor: &Actor, new: NewPromotion) -> Result<Promotion, Error> {
        check_window(new.starts_at, new.ends_at)?;
        let promotion = Promotion {
            code: new.code,
            offer: new.offer,
            min_subtotal: new.min_subtotal,
            starts_at: new.starts_at,
            ends_at: new.ends_at,
            max_redemptions: new.max_redemptions,
            redeemed: 0,
            once_per_customer: new.once_per_customer,
            active: true,
            version: 1,
        };
        let audit = self.entry(actor, "promotion.create", &promotion, Value::Null, view(&promotion));
        if self.promotions.write(&PromotionChange::Create(promotion.clone()), &audit).await? {
            Ok(promotion)
        } else {
            Err(Error::PromotionExists)
        }
    }

    pub async fn promotion(&self, code: &PromoCode) -> Result<Promotion, Error> {
        self.promotions.promotion(code).await?.ok_or(Error::NotFound)
    }

    /// A page in code order after `after`, and the code the next page
    /// starts after (`None` at the end).
    pub async fn promotions(
        &self,
        after: Option<&PromoCode>,
        limit: usize,
    ) -> Result<(Vec<Promotion>, Option<PromoCode>), Error> {
        let mut found = self.promotions.promotions(after, limit + 1).await?;
        let more = found.len() > limit;
        found.truncate(limit);
        let next = if more { found.last().map(|p| p.code.clone()) } else { None };
        Ok((found, next))
    }

    /// Applies `patch` if `if_match` is the promotion's current ETag: none
    /// is `PreconditionRequired`, any other `PreconditionFailed`, and so is
    /// a concurrent edit that wins the race. A cap below the redemptions
    /// counted (also ones a racing checkout counts) is `Validation`.
    pub async fn patch(
        &self,
        actor: &Actor,
        code: &PromoCode,
        if_match: Option<&str>,
        patch: PromotionPatch,
    ) -> Result<Promotion, Error> {
        let if_match = if_match.ok_or(Error::PreconditionRequired)?;
        for _ in 0..PATCH_ROUNDS {
            let previous = self.promotion(code).await?;
            if if_match.trim() != previous.etag() {
                return Err(Error::PreconditionFailed);
            }
            let mut next = previous.clone();
            next.active = patch.active.unwrap_or(next.active);
            next.ends_at = patch.ends_at.unwrap_or(next.ends_at);
            next.max_redemptions = patch.max_redemptions.unwrap_or(next.max_redemptions);
            next.version = previous.version + 1;
            check_window(next.starts_at, next.ends_at)?;
            if let Some(max) = next.max_redemptions
                && max < previous.redeemed
            {
                let message = format!("must not be below the {} redemptions made", previous.redeemed);
                return Err(Error::Validation(vec![FieldError::new("max_redemptions", message)]));
            }
            let audit = self.entry(actor, "promotion.update", &next, view(&previous), view(&next));
            if self.promotions.write(&PromotionChange::Replace(next.clone()), &audit).await? {
                return Ok(next);
            }
            // Another edit won (the next read sees its version: 412), or a
            // checkout counted a redemption past the new cap (the next read
            // judges the cap again).
        }
        Err(Error::unavailable(format!("promotion {code} kept changing under the edit")))
    }

    fn entry(&self, actor: &Actor, action: &str, promotion: &Promotion, before: Value, after: Value) -> AuditEntry {
        AuditEntry {
            id: AuditId::generate(),
            at: self.clock.stamp(),
            actor: actor.clone(),
            action: action.to_owned(),
            target: AuditTarget { kind: "promotion".into(), id: promotion.code.to_string() },
            before,
            after,
        }
    }
}

fn view(promotion: &Promotion) -> Value {
    serde_json::to_value(PromotionView::from(promotion)).unwrap_or(Value::Null)
}
