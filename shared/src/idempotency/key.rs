use std::fmt;

/// An `Idempotency-Key` header value: 8 to 255 characters of `[A-Za-z0-9_-]`,
/// bare or in the quoted form of the IETF draft (`"…"`, the same key).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

pub const HEADER: &str = "idempotency-key";
pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 255;

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let key = raw.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')).unwrap_or(raw);
        let ok = (MIN_CHARS..=MAX_CHARS).contains(&key.len())
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(key.to_owned()))
        } else {
            Err(format!("must be {MIN_CHARS} to {MAX_CHARS} characters of A-Z, a-z, 0-9, '_' or '-'"))
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
    fn keys_are_8_to_255_url_safe_characters_bare_or_quoted() {
        assert!(IdempotencyKey::parse("abcd-123").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(128)).is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert_eq!(IdempotencyKey::parse("\"abcd-123\"").unwrap(), IdempotencyKey::parse("abcd-123").unwrap());
        let too_long = "k".repeat(256);
        let bad = ["short", "", "has space1", "slash/abcd", "ünïcode12", &too_long, "\"abcd-123", "\"\"", "\"short\""];
        for bad in bad {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
