use std::fmt;

/// An `Idempotency-Key` header value: 8 to 128 characters of `[A-Za-z0-9_-]`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

pub const HEADER: &str = "idempotency-key";

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok =
            (8..=128).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be 8 to 128 characters of A-Z, a-z, 0-9, '_' or '-'".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_8_to_128_url_safe_characters() {
        assert!(IdempotencyKey::parse("abcd-123").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(128)).is_ok());
        for bad in ["short", "", "has space1", "slash/abcd", "ünïcode12", &"k".repeat(129)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
