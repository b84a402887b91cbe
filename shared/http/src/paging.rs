//! Paging, the same for every listing (API.md "pagination"): `limit` 1 to
//! 100 (default 20), an opaque `cursor`, and the page body
//! `{items, next_cursor}`.
//!
//! A cursor is a listing's own position (serde), authenticated with
//! HMAC-SHA256 under a key derived for cursors only and bound to its
//! *cursor scope* (the query or the owner it was made for), so an altered
//! cursor, or one from another query or user, is refused as
//! `invalid_cursor` rather than trusted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use galley_shared::keys::SigningKey;
use galley_shared::{Error, FieldError};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;

use crate::query::QueryParams;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

/// What a client asked of one page: how many items, and after which cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub cursor: Option<String>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { limit: DEFAULT_LIMIT, cursor: None }
    }
}

impl PageRequest {
    /// Takes `limit` and `cursor` out of a query, recording a bad limit.
    pub fn take(params: &mut QueryParams, errors: &mut Vec<FieldError>) -> Self {
        let mut page = Self::default();
        if let Some(limit) = params.take("limit") {
            match limit.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => page.limit = n,
                _ => errors.push(FieldError::new("limit", format!("must be an integer from 1 to {MAX_LIMIT}"))),
            }
        }
        page.cursor = params.take("cursor");
        page
    }
}

/// One page of a listing, as every listing answers it.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The key cursors are sealed with.
#[derive(Clone, Debug)]
pub struct CursorKey(SecretSlice<u8>);

impl CursorKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes.to_vec().into())
    }

    /// The deployment's cursor key, derived from its signing key.
    pub fn derive(key: &SigningKey) -> Self {
        Self::new(key.derive("galley/cursor/v1"))
    }

    fn mac(&self, scope: &str, payload: &[u8]) -> Hmac<Sha256> {
        // A 32-byte key is always a valid HMAC key.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose_secret()).expect("HMAC takes any key length");
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac
    }

    /// A cursor for `position`, valid only within `scope`.
    pub fn seal<T: Serialize>(&self, scope: &str, position: &T) -> String {
        let payload = serde_json::to_vec(position).unwrap_or_default();
        let tag = self.mac(scope, &payload).finalize().into_bytes();
        format!("{}.{}", B64.encode(&payload), B64.encode(tag))
    }

    /// The position in a cursor `seal` made for the same scope.
    pub fn open<T: DeserializeOwned>(&self, scope: &str, cursor: &str) -> Result<T, Error> {
        let (payload, tag) = cursor.split_once('.').ok_or(Error::InvalidCursor)?;
        let payload = B64.decode(payload).map_err(|_| Error::InvalidCursor)?;
        let tag = B64.decode(tag).map_err(|_| Error::InvalidCursor)?;
        self.mac(scope, &payload).verify_slice(&tag).map_err(|_| Error::InvalidCursor)?;
        serde_json::from_slice(&payload).map_err(|_| Error::InvalidCursor)
    }
}

#[cfg(test)]
mod tests {
    use galley_shared::search::Position;

    use super::*;

    fn position() -> Position {
        Position { title_words: Some(2), title_key: "blue mug\u{1f}mug-1".into() }
    }

    fn page(query: &str) -> Result<PageRequest, Error> {
        let mut params = QueryParams::parse(query);
        let mut errors = Vec::new();
        let page = PageRequest::take(&mut params, &mut errors);
        params.finish(errors, Vec::new())?;
        Ok(page)
    }

    #[test]
    fn round_trips_for_the_same_query() {
        let key = CursorKey::new([7; 32]);
        let cursor = key.seal("q=blue", &position());
        assert_eq!(key.open::<Position>("q=blue", &cursor).unwrap(), position());
        assert!(!cursor.contains("PRODUCT#") && !cursor.contains("mug-1"), "opaque: {cursor}");
    }

    #[test]
    fn refuses_altered_foreign_and_garbage_cursors() {
        let key = CursorKey::new([7; 32]);
        let cursor = key.seal("q=blue", &position());
        let invalid = |c: &str, scope: &str| matches!(key.open::<Position>(scope, c), Err(Error::InvalidCursor));
        assert!(invalid(&cursor, "q=red"), "another query's cursor");
        assert!(invalid(&CursorKey::new([8; 32]).seal("q=blue", &position()), "q=blue"), "another key");
        let forged = Position { title_words: Some(0), title_key: "a".into() };
        let forged_payload = B64.encode(serde_json::to_vec(&forged).unwrap());
        let tag = cursor.split_once('.').unwrap().1;
        assert!(invalid(&format!("{forged_payload}.{tag}"), "q=blue"), "payload swapped");
        for garbage in ["", ".", "abc", "a.b", "!!!.???"] {
            assert!(invalid(garbage, "q=blue"), "{garbage:?}");
        }
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let shown = format!("{:?}", CursorKey::new([7; 32]));
        assert!(!shown.contains('7'), "{shown}");
    }

    #[test]
    fn limit_is_1_to_100_default_20_and_given_once() {
        assert_eq!(page("").unwrap(), PageRequest { limit: 20, cursor: None });
        assert_eq!(page("limit=100&cursor=abc").unwrap(), PageRequest { limit: 100, cursor: Some("abc".into()) });
        for bad in ["limit=0", "limit=101", "limit=x", "limit=5&limit=6"] {
            let Err(Error::Validation(errors)) = page(bad) else { panic!("{bad} accepted") };
            assert_eq!(errors[0].field, "limit", "{bad}");
        }
        let Err(Error::Validation(errors)) = page("cursor=a&cursor=b") else { panic!("repeated cursor accepted") };
        assert_eq!(errors[0].field, "cursor");
    }
}
