//! Money as integer minor units of one ISO 4217 currency: never floats.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO 4217 alphabetic code that Galley knows how to price in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// Active ISO 4217 codes (2024 list, without funds and precious metals),
/// sorted for binary search.
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC",
    "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS",
    "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD",
    "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL",
    "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD",
    "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD",
    "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP",
    "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VES",
    "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

impl Currency {
    pub fn parse(code: &str) -> Result<Self, String> {
        let bytes = code.as_bytes();
        let known =
            bytes.len() == 3 && bytes.iter().all(u8::is_ascii_uppercase) && ISO_4217.binary_search(&code).is_ok();
        if known {
            Ok(Self([bytes[0], bytes[1], bytes[2]]))
        } else {
            Err("must be an ISO 4217 currency code such as \"USD\"".into())
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII uppercase letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// A non-negative amount in minor units (cents) of one currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

/// The largest amount Galley accepts for a price: ten billion major units
/// leaves room for 50 lines × 100 units without overflowing `i64`.
pub const MAX_PRICE_MINOR: i64 = 1_000_000_000_000;

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Result<Self, String> {
        if !(0..=MAX_PRICE_MINOR).contains(&amount) {
            return Err(format!("amount must be an integer from 0 to {MAX_PRICE_MINOR}"));
        }
        Ok(Self { amount, currency })
    }

    pub fn zero(currency: Currency) -> Self {
        Self { amount: 0, currency }
    }

    /// `None` on overflow.
    pub fn times(self, quantity: u32) -> Option<Self> {
        let amount = self.amount.checked_mul(i64::from(quantity))?;
        Some(Self { amount, ..self })
    }

    /// `None` on overflow or when the currencies differ.
    pub fn plus(self, other: Money) -> Option<Self> {
        if self.currency != other.currency {
            return None;
        }
        let amount = self.amount.checked_add(other.amount)?;
        Some(Self { amount, ..self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    #[test]
    fn currency_accepts_iso_codes_only() {
        assert_eq!(usd().as_str(), "USD");
        assert!(Currency::parse("EUR").is_ok());
        for bad in ["usd", "US", "USDD", "ABC", "", "ÜSD"] {
            assert!(Currency::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn money_rejects_negative_and_absurd_amounts() {
        assert!(Money::new(-1, usd()).is_err());
        assert!(Money::new(MAX_PRICE_MINOR + 1, usd()).is_err());
        assert_eq!(Money::new(1999, usd()).unwrap().amount, 1999);
    }

    #[test]
    fn arithmetic_is_checked() {
        let price = Money::new(MAX_PRICE_MINOR, usd()).unwrap();
        assert_eq!(price.times(3).unwrap().amount, 3 * MAX_PRICE_MINOR);
        let huge = Money { amount: i64::MAX, currency: usd() };
        assert!(huge.times(2).is_none());
        assert!(huge.plus(Money::new(1, usd()).unwrap()).is_none());
        let eur = Money::new(1, Currency::parse("EUR").unwrap()).unwrap();
        assert!(Money::new(1, usd()).unwrap().plus(eur).is_none());
    }

    #[test]
    fn serializes_as_api_shape() {
        let m = Money::new(1999, usd()).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"amount":1999,"currency":"USD"}"#);
    }
}
