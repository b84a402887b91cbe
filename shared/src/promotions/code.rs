use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A promotion code: 3 to 32 of `[A-Za-z0-9_-]`, as its admin wrote it;
/// two codes are the same ignoring case (`key` is the upper-case form the
/// stores key it by).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PromoCode(String);

impl PromoCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok =
            (3..=32).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be 3 to 32 characters of A-Z, a-z, 0-9, '_' or '-'".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form codes are compared and stored under.
    pub fn key(&self) -> String {
        self.0.to_ascii_uppercase()
    }
}

impl fmt::Display for PromoCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for PromoCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PromoCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        PromoCode::parse(&String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::PromoCode;

    #[test]
    fn codes_are_short_plain_and_compared_ignoring_case() {
        assert_eq!(PromoCode::parse("Summer-20").unwrap().key(), PromoCode::parse("SUMMER-20").unwrap().key());
        assert_eq!(PromoCode::parse("Summer-20").unwrap().as_str(), "Summer-20", "shown as written");
        for bad in ["ab", "a b c", "été20", &"x".repeat(33), ""] {
            assert!(PromoCode::parse(bad).is_err(), "{bad:?}");
        }
    }
}
