//! The promotion desk's request bodies (API.md "Back office": `/admin/promotions`).

use galley_shared::Error;
use galley_shared::admin::{NewPromotion, PromotionPatch};
use galley_shared::promotions::{Offer, PromoCode};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::product::money;
use crate::json::{self, Fields};

fn code(value: &Value) -> Result<PromoCode, String> {
    json::string(value).and_then(|s| PromoCode::parse(&s))
}

fn instant(value: &Value) -> Result<OffsetDateTime, String> {
    json::string(value)
        .and_then(|s| OffsetDateTime::parse(&s, &Rfc3339).map_err(|_| "must be an RFC 3339 date-time".to_owned()))
}

fn cap(value: &Value) -> Result<u32, String> {
    json::whole(value)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n >= 1)
        .ok_or_else(|| "must be an integer from 1 to 4294967295".to_owned())
}

fn boolean(value: &Value) -> Result<bool, String> {
    value.as_bool().ok_or_else(|| "must be true or false".to_owned())
}

/// `POST /admin/promotions` `{code, percent_off? | amount_off?, min_subtotal?,
/// starts_at?, ends_at?, max_redemptions?, once_per_customer}`.
pub fn new_promotion(value: Value) -> Result<NewPromotion, Error> {
    json::parse_object(value, |f: &mut Fields| {
        let code = f.required("code", code);
        let percent = f.optional("percent_off", |v| {
            json::whole(v)
                .and_then(|p| u8::try_from(p).ok())
                .ok_or_else(|| "must be 1 to 100".to_owned())
                .and_then(Offer::percent)
        });
        let amount = f.optional_object("amount_off", money);
        let min_subtotal = f.optional_object("min_subtotal", money);
        let starts_at = f.optional("starts_at", instant);
        let ends_at = f.optional("ends_at", instant);
        let max_redemptions = f.optional("max_redemptions", cap);
        let once_per_customer = f.required("once_per_customer", boolean);
        let offer = match (percent?, amount?) {
            (Some(percent), None) => percent,
            (None, Some(amount)) => match Offer::amount(amount) {
                Ok(offer) => offer,
                Err(message) => {
                    f.reject("amount_off.amount", message);
                    return None;
                }
            },
            _ => {
                f.reject("percent_off", "give exactly one of percent_off and amount_off");
                return None;
            }
        };
        let (starts_at, ends_at) = (starts_at?, ends_at?);
        if let (Some(starts), Some(ends)) = (starts_at, ends_at)
            && ends <= starts
        {
            f.reject("ends_at", "must be after starts_at");
            return None;
        }
        Some(NewPromotion {
            code: code?,
            offer,
            min_subtotal: min_subtotal?,
            starts_at,
            ends_at,
            max_redemptions: max_redemptions?,
            once_per_customer: once_per_customer?,
        })
    })
}

/// `PATCH /admin/promotions/{code}` `{active?, ends_at?, max_redemptions?}`;
/// `null` removes an end or a cap.
pub fn promotion_patch(value: Value) -> Result<PromotionPatch, Error> {
    json::parse_object(value, |f: &mut Fields| {
        let active = f.optional("active", boolean);
        let ends_at = f.nullable("ends_at", instant);
        let max_redemptions = f.nullable("max_redemptions", cap);
        Some(PromotionPatch { active: active?, ends_at: ends_at?, max_redemptions: max_redemptions? })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(result: Result<impl std::fmt::Debug, Error>) -> Vec<String> {
        match result {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation_failed, got {other:?}"),
        }
    }

    #[test]
    fn a_promotion_has_one_offer_and_a_window_that_ends_after_it_starts() {
        let new = new_promotion(json!({
            "code": "Summer-20", "percent_off": 20, "starts_at": "2026-12-01T00:00:00Z",
            "ends_at": "2026-12-31T00:00:00Z", "max_redemptions": 100, "once_per_customer": true
        }))
        .unwrap();
        assert_eq!(new.offer, Offer::PercentOff(20));
        assert_eq!(new.max_redemptions, Some(100));
        let both = json!({"code": "BOTH", "percent_off": 5, "amount_off": {"amount": 5, "currency": "USD"}, "once_per_customer": false});
        assert_eq!(fields(new_promotion(both)), ["percent_off"]);
        let neither = json!({"code": "NONE", "once_per_customer": false});
        assert_eq!(fields(new_promotion(neither)), ["percent_off"]);
        let backwards = json!({"code": "BACK", "percent_off": 5, "starts_at": "2026-12-02T00:00:00Z",
            "ends_at": "2026-12-01T00:00:00Z", "once_per_customer": false});
        assert_eq!(fields(new_promotion(backwards)), ["ends_at"]);
        let bad = json!({"code": "a b", "percent_off": 101, "max_redemptions": 0, "starts_at": "soon"});
        assert_eq!(
            fields(new_promotion(bad)),
            ["code", "percent_off", "starts_at", "max_redemptions", "once_per_customer"]
        );
        let zero = json!({"code": "ZERO", "amount_off": {"amount": 0, "currency": "USD"}, "once_per_customer": false});
        assert_eq!(fields(new_promotion(zero)), ["amount_off.amount"]);
    }

    #[test]
    fn a_patch_may_remove_an_end_or_a_cap() {
        let patch = promotion_patch(json!({"ends_at": null, "max_redemptions": 5, "active": false})).unwrap();
        assert_eq!(patch.ends_at, Some(None));
        assert_eq!(patch.max_redemptions, Some(Some(5)));
        assert_eq!(patch.active, Some(false));
        assert_eq!(fields(promotion_patch(json!({"code": "NEW"}))), ["code"]);
    }
}
