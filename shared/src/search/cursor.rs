//! Opaque page cursors: a position in the result order, bound to the query
//! that produced it and authenticated with HMAC-SHA256, so an altered cursor
//! or one from another query is refused rather than trusted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::Error;

/// Where the previous page ended: the last item's rank (with a query) and
/// title key. Not a table key: stores resume from it through their own queries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "w", skip_serializing_if = "Option::is_none", default)]
    pub title_words: Option<u32>,
    #[serde(rename = "k")]
    pub title_key: String,
}

/// The secret cursors are signed with (derived from the deployment's signing key).
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

impl CursorKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self, fingerprint: &str, payload: &[u8]) -> Hmac<Sha256> {
        // A 32-byte key is always a valid HMAC key.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(fingerprint.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac
    }

    pub fn encode(&self, fingerprint: &str, position: &Position) -> String {
        self.seal(fingerprint, position)
    }

    pub fn decode(&self, fingerprint: &str, cursor: &str) -> Result<Position, Error> {
        self.open(fingerprint, cursor)
    }

    /// Any position, signed and bound to `fingerprint` (the query it belongs to).
    pub fn seal<T: Serialize>(&self, fingerprint: &str, position: &T) -> String {
        let payload = serde_json::to_vec(position).unwrap_or_default();
        let tag = self.mac(fingerprint, &payload).finalize().into_bytes();
        format!("{}.{}", B64.encode(&payload), B64.encode(tag))
    }

    /// The position in a cursor `seal` made for the same fingerprint.
    pub fn open<T: serde::de::DeserializeOwned>(&self, fingerprint: &str, cursor: &str) -> Result<T, Error> {
        let (payload, tag) = cursor.split_once('.').ok_or(Error::InvalidCursor)?;
        let payload = B64.decode(payload).map_err(|_| Error::InvalidCursor)?;
        let tag = B64.decode(tag).map_err(|_| Error::InvalidCursor)?;
        self.mac(fingerprint, &payload).verify_slice(&tag).map_err(|_| Error::InvalidCursor)?;
        serde_json::from_slice(&payload).map_err(|_| Error::InvalidCursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position() -> Position {
        Position { title_words: Some(2), title_key: "blue mug\u{1f}mug-1".into() }
    }

    #[test]
    fn round_trips_for_the_same_query() {
        let key = CursorKey::new([7; 32]);
        let cursor = key.encode("q=blue", &position());
        assert_eq!(key.decode("q=blue", &cursor).unwrap(), position());
        assert!(!cursor.contains("PRODUCT#") && !cursor.contains("mug-1"), "opaque: {cursor}");
    }

    #[test]
    fn refuses_altered_foreign_and_garbage_cursors() {
        let key = CursorKey::new([7; 32]);
        let cursor = key.encode("q=blue", &position());
        let invalid = |c: &str, fp: &str| matches!(key.decode(fp, c), Err(Error::InvalidCursor));
        assert!(invalid(&cursor, "q=red"), "another query's cursor");
        assert!(invalid(&CursorKey::new([8; 32]).encode("q=blue", &position()), "q=blue"), "another key");
        let forged = Position { title_words: Some(0), title_key: "a".into() };
        let forged_payload = B64.encode(serde_json::to_vec(&forged).unwrap());
        let tag = cursor.split_once('.').unwrap().1;
        assert!(invalid(&format!("{forged_payload}.{tag}"), "q=blue"), "payload swapped");
        for garbage in ["", ".", "abc", "a.b", "!!!.???"] {
            assert!(invalid(garbage, "q=blue"), "{garbage:?}");
        }
    }
}
