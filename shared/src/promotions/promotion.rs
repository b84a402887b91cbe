use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::code::PromoCode;
use crate::money::Money;

/// What a promotion takes off: a percentage (1 to 100) of the subtotal,
/// rounded half up to the minor unit, or an amount in one currency (at
/// most the subtotal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Offer {
    PercentOff(u8),
    AmountOff(Money),
}

impl Offer {
    pub fn percent(percent: u8) -> Result<Self, String> {
        if (1..=100).contains(&percent) { Ok(Self::PercentOff(percent)) } else { Err("must be 1 to 100".into()) }
    }

    pub fn amount(amount: Money) -> Result<Self, String> {
        if amount.amount > 0 { Ok(Self::AmountOff(amount)) } else { Err("must be more than zero".into()) }
    }
}

/// Why a code does not apply (API.md's `reason` of `promo_code_invalid`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromoRefusal {
    Unknown,
    Inactive,
    NotStarted,
    Expired,
    Currency,
    MinSubtotal,
}

impl PromoRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            PromoRefusal::Unknown => "unknown",
            PromoRefusal::Inactive => "inactive",
            PromoRefusal::NotStarted => "not_started",
            PromoRefusal::Expired => "expired",
            PromoRefusal::Currency => "currency",
            PromoRefusal::MinSubtotal => "min_subtotal",
        }
    }
}

/// A discount code as its admin set it, with how often it was redeemed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    pub code: PromoCode,
    pub offer: Offer,
    pub min_subtotal: Option<Money>,
    /// The window: from `starts_at` (included) to `ends_at` (excluded).
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

impl Promotion {
    /// What it takes off `subtotal` at `now`, or why it does not apply.
    /// Its cap and once-per-customer are not judged here: the checkout's
    /// transaction holds them, however many checkouts race.
    pub fn discount(&self, subtotal: Money, now: OffsetDateTime) -> Result<Money, PromoRefusal> {
        if !self.active {
            return Err(PromoRefusal::Inactive);
        }
        if self.starts_at.is_some_and(|starts| now < starts) {
            return Err(PromoRefusal::NotStarted);
        }
        if self.ends_at.is_some_and(|ends| now >= ends) {
            return Err(PromoRefusal::Expired);
        }
        let currency_is = |money: &Money| money.currency == subtotal.currency;
        if let Offer::AmountOff(amount) = &self.offer
            && !currency_is(amount)
        {
            return Err(PromoRefusal::Currency);
        }
        if let Some(min) = &self.min_subtotal {
            if !currency_is(min) {
                return Err(PromoRefusal::Currency);
            }
            if subtotal.amount < min.amount {
                return Err(PromoRefusal::MinSubtotal);
            }
        }
        let off = match self.offer {
            Offer::PercentOff(percent) => {
                let exact = i128::from(subtotal.amount) * i128::from(percent);
                // Half up: the subtotal is never negative.
                ((exact + 50) / 100) as i64
            }
            Offer::AmountOff(amount) => amount.amount.min(subtotal.amount),
        };
        Ok(Money { amount: off, currency: subtotal.currency })
    }

    /// Whether its cap is reached (a checkout that finds it so is refused
    /// before it tries; the transaction's condition is what holds it).
    pub fn exhausted(&self) -> bool {
        self.max_redemptions.is_some_and(|max| self.redeemed >= max)
    }
}

#[cfg(test)]
impl Promotion {
    /// `SAVE`: active, no window, minimum or cap, any number of uses.
    pub(crate) fn sample(offer: Offer) -> Self {
        Promotion {
            code: PromoCode::parse("SAVE").unwrap(),
            offer,
            min_subtotal: None,
            starts_at: None,
            ends_at: None,
            max_redemptions: None,
            redeemed: 0,
            once_per_customer: false,
            active: true,
            version: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::money::Currency;

    fn money(amount: i64, currency: &str) -> Money {
        Money { amount, currency: Currency::parse(currency).unwrap() }
    }

    fn promotion(offer: Offer) -> Promotion {
        Promotion::sample(offer)
    }

    const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);

    #[test]
    fn a_percentage_rounds_half_up_and_an_amount_stops_at_the_subtotal() {
        let twenty = promotion(Offer::percent(20).unwrap());
        assert_eq!(twenty.discount(money(1999, "USD"), NOW), Ok(money(400, "USD")), "399.8 rounds up");
        assert_eq!(twenty.discount(money(1997, "USD"), NOW), Ok(money(399, "USD")), "399.4 rounds down");
        assert_eq!(promotion(Offer::percent(15).unwrap()).discount(money(10, "USD"), NOW), Ok(money(2, "USD")));
        let all = promotion(Offer::percent(100).unwrap());
        assert_eq!(all.discount(money(1234, "USD"), NOW), Ok(money(1234, "USD")), "a total of zero");
        let five = promotion(Offer::amount(money(500, "USD")).unwrap());
        assert_eq!(five.discount(money(300, "USD"), NOW), Ok(money(300, "USD")), "never below zero");
        assert_eq!(five.discount(money(300, "EUR"), NOW), Err(PromoRefusal::Currency));
        assert!(Offer::percent(0).is_err() && Offer::percent(101).is_err());
        assert!(Offer::amount(money(0, "USD")).is_err());
    }

    #[test]
    fn the_window_includes_its_start_and_excludes_its_end() {
        let mut windowed = promotion(Offer::percent(10).unwrap());
        windowed.starts_at = Some(NOW);
        windowed.ends_at = Some(datetime!(2026-12-02 12:00 UTC));
        let subtotal = money(1000, "USD");
        assert!(windowed.discount(subtotal, NOW).is_ok());
        assert_eq!(windowed.discount(subtotal, datetime!(2026-12-01 11:59:59 UTC)), Err(PromoRefusal::NotStarted));
        assert_eq!(windowed.discount(subtotal, datetime!(2026-12-02 12:00 UTC)), Err(PromoRefusal::Expired));
        windowed.active = false;
        assert_eq!(windowed.discount(subtotal, NOW), Err(PromoRefusal::Inactive));
    }

    #[test]
    fn a_minimum_is_in_the_subtotal_s_currency_and_met_by_equal() {
        let mut minimum = promotion(Offer::percent(10).unwrap());
        minimum.min_subtotal = Some(money(5000, "USD"));
        assert!(minimum.discount(money(5000, "USD"), NOW).is_ok());
        assert_eq!(minimum.discount(money(4999, "USD"), NOW), Err(PromoRefusal::MinSubtotal));
        assert_eq!(minimum.discount(money(9999, "EUR"), NOW), Err(PromoRefusal::Currency));
        minimum.max_redemptions = Some(2);
        minimum.redeemed = 2;
        assert!(minimum.exhausted());
    }
}
