//! Paging, the same for every listing (API.md "pagination"): `limit` 1 to
//! 100 (default 20), an opaque `cursor`, and the page body
//! `{items, next_cursor}`.
//!
//! A cursor is a listing's own position (serde), sealed with an AEAD
//! (XChaCha20-Poly1305) under a key derived for cursors only, with its
//! *cursor scope* (the query or the owner it was made for) as associated
//! data: it shows nothing of the position (no table key, no title), and an
//! altered cursor, or one from another query or user, is refused as
//! `invalid_cursor` rather than trusted. The nonce is synthetic, a MAC of
//! scope and position under a second key (as in SIV): the same position
//! always seals to the same cursor, which shows only that two cursors are
//! equal.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
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

/// The keys cursors are sealed with: one encrypts, one makes the nonce.
#[derive(Clone, Debug)]
pub struct CursorKey {
    seal: SecretSlice<u8>,
    nonce: SecretSlice<u8>,
}

const NONCE_BYTES: usize = 24;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // Any key length is a valid HMAC key.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

impl CursorKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        let seal = hmac(&bytes, &[b"seal"]).to_vec().into();
        let nonce = hmac(&bytes, &[b"nonce"]).to_vec().into();
        Self { seal, nonce }
    }

    /// The deployment's cursor key, derived from its signing key.
    pub fn derive(key: &SigningKey) -> Self {
        Self::new(key.derive("galley/cursor/v2"))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new_from_slice(self.seal.expose_secret()).expect("a 32-byte key")
    }

    /// A cursor for `position`, valid only within `scope`.
    pub fn seal<T: Serialize>(&self, scope: &str, position: &T) -> String {
        let payload = serde_json::to_vec(position).unwrap_or_default();
        let nonce = hmac(self.nonce.expose_secret(), &[scope.as_bytes(), &[0], &payload]);
        let nonce = XNonce::from_slice(&nonce[..NONCE_BYTES]);
        // Encryption into a Vec cannot fail for a payload this size.
        let sealed = self.cipher().encrypt(nonce, Payload { msg: &payload, aad: scope.as_bytes() }).unwrap_or_default();
        let mut cursor = nonce.to_vec();
        cursor.extend(sealed);
        B64.encode(cursor)
    }

    /// The position in a cursor `seal` made for the same scope.
    pub fn open<T: DeserializeOwned>(&self, scope: &str, cursor: &str) -> Result<T, Error> {
        let bytes = B64.decode(cursor).map_err(|_| Error::InvalidCursor)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(Error::InvalidCursor);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let payload = self
            .cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: scope.as_bytes() })
            .map_err(|_| Error::InvalidCursor)?;
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
        assert_eq!(key.seal("q=blue", &position()), cursor, "the same position seals the same way");
        assert!(!cursor.contains("PRODUCT#") && !cursor.contains("mug-1"), "opaque: {cursor}");
    }

    #[test]
    fn refuses_altered_foreign_and_garbage_cursors() {
        let key = CursorKey::new([7; 32]);
        let cursor = key.seal("q=blue", &position());
        let invalid = |c: &str, scope: &str| matches!(key.open::<Position>(scope, c), Err(Error::InvalidCursor));
        assert!(invalid(&cursor, "q=red"), "another query's cursor");
        assert!(invalid(&CursorKey::new([8; 32]).seal("q=blue", &position()), "q=blue"), "another key");
        let mut flipped = B64.decode(&cursor).unwrap();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(invalid(&B64.encode(&flipped), "q=blue"), "one bit altered");
        let mut truncated = B64.decode(&cursor).unwrap();
        truncated.truncate(NONCE_BYTES + 3);
        assert!(invalid(&B64.encode(&truncated), "q=blue"), "cut short");
        for garbage in ["", ".", "abc", "a.b", "!!!.???"] {
            assert!(invalid(garbage, "q=blue"), "{garbage:?}");
        }
    }

    #[test]
    fn a_cursor_shows_nothing_of_its_position() {
        let key = CursorKey::new([7; 32]);
        let cursor = key.seal("q=blue", &position());
        let decoded = B64.decode(&cursor).unwrap();
        let plain = serde_json::to_vec(&position()).unwrap();
        assert!(!decoded.windows(4).any(|w| plain.windows(4).any(|p| p == w)), "no run of the position in clear");
        assert!(!String::from_utf8_lossy(&decoded).contains("mug"));
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
