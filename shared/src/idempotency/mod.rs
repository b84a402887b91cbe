//! Idempotent requests (there is no Powertools for Rust, so Galley brings
//! its own): any handler can lease a key before doing work, and a retry of
//! the same request gets the first answer instead of doing it again.
//!
//! A record is leased with a conditional write. While held it is *in
//! progress*; a concurrent duplicate gets 409. It ends *complete* (status and
//! body stored, replayed to every retry) or *released* (the work failed in a
//! way a retry may redo). The lease of a holder that crashed lapses a little
//! after the function's timeout, so the retry proceeds. The
//! record remembers the request's fingerprint: the same key with another
//! body is 422.

mod guard;
mod key;

use std::time::Duration;

use bytes::Bytes;
pub use guard::{Claim, Guard};
pub use key::{HEADER, IdempotencyKey};
use sha2::{Digest, Sha256};

use crate::id::UserId;

/// How long a record is kept (API.md: at least 24 h).
pub const RECORD_TTL: Duration = Duration::from_secs(24 * 3600);

/// The expiry of a record that points at a pending order: none a store
/// reaches (year 9999), so a retry can never take the key over as new and
/// make a second order; completing the record gives it back its own.
pub const PINNED_UNTIL: i64 = 253_402_300_799;

/// A key as the store keys it: scoped to the user, so two users' keys never collide.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyScope {
    pub user: UserId,
    pub key: IdempotencyKey,
}

/// SHA-256 over what makes two requests "the same": method, path and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// A JSON request's fingerprint: the body as parsed JSON (API.md: bodies
    /// are compared as parsed JSON), so whitespace and member order do not
    /// make two requests different. A body that is not JSON is taken as bytes.
    pub fn of_json(method: &str, path: &str, body: &[u8]) -> Self {
        match serde_json::from_slice::<serde_json::Value>(body) {
            // Members come out sorted (serde_json's map is ordered), numbers and strings as written.
            Ok(value) => Self::of(method, path, &serde_json::to_vec(&value).unwrap_or_default()),
            Err(_) => Self::of(method, path, body),
        }
    }

    pub fn of(method: &str, path: &str, body: &[u8]) -> Self {
        let mut hash = Sha256::new();
        for part in [method.as_bytes(), path.as_bytes(), body] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        Self(hex(&hash.finalize()))
    }

    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Identifies one holder of a lease, so a holder whose lease lapsed (and was
/// taken over by a retry) cannot complete or release the record any more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseId(pub String);

impl LeaseId {
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
}

/// The answer a completed record replays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Bytes,
}

/// A lease attempt, as the store decides it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseRequest {
    pub scope: IdempotencyScope,
    pub fingerprint: Fingerprint,
    pub lease: LeaseId,
    pub now: i64,
    /// The lease lapses at this time if not completed or released.
    pub lease_until: i64,
    /// The record may be forgotten after this time.
    pub expires_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseOutcome {
    /// The caller holds the key. `progress` is what an earlier holder
    /// recorded of its work (e.g. the order it created), to resume, not redo.
    Acquired { progress: Option<String> },
    /// Done before: replay this.
    Completed(StoredResponse),
    /// Another holder's lease is live.
    InProgress,
    /// The key was used with another request.
    Mismatch,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_tell_requests_apart_unambiguously() {
        let a = Fingerprint::of("POST", "/checkout", br#"{"a":1}"#);
        assert_eq!(a, Fingerprint::of("POST", "/checkout", br#"{"a":1}"#));
        assert_ne!(a, Fingerprint::of("POST", "/checkout", br#"{"a":2}"#));
        assert_ne!(Fingerprint::of("POST", "/ab", b"c"), Fingerprint::of("POST", "/a", b"bc"));
        assert_eq!(a.as_str().len(), 64);
    }

    #[test]
    fn json_bodies_are_compared_parsed() {
        let a = Fingerprint::of_json("POST", "/checkout", br#"{"a":1,"b":[1,2]}"#);
        assert_eq!(a, Fingerprint::of_json("POST", "/checkout", b"{ \"b\" : [1, 2],\n \"a\": 1 }"));
        assert_ne!(a, Fingerprint::of_json("POST", "/checkout", br#"{"a":1,"b":[2,1]}"#));
        assert_ne!(a, Fingerprint::of_json("POST", "/checkout", br#"{"a":"1","b":[1,2]}"#));
        assert_ne!(a, Fingerprint::of_json("POST", "/orders/x/cancel", br#"{"a":1,"b":[1,2]}"#));
    }
}
