//! Sessions and their refresh tokens.
//!
//! A refresh token is `<session id>.<32 random bytes, base64url>`. The store
//! keeps only its SHA-256, so a leaked table cannot be replayed; the session
//! id in front lets a refresh find its session with one keyed write.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::user::UserProfile;
use crate::id::SessionId;

/// A session lasts this long from login; refreshing does not extend it, so a
/// stolen refresh token is worth a bounded time (ASVS 3.3: re-authenticate periodically).
pub const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// A signed-in session: whose it is, the hash of its one valid refresh
/// token, and when it ends. Deleted on logout and on refresh-token reuse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user: UserProfile,
    pub refresh_hash: RefreshHash,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Session {
    /// A new session for `user` from `now`, with its first refresh token
    /// (handed to the client once; the session keeps only its hash).
    pub fn start(user: UserProfile, now: i64) -> (Session, RefreshToken) {
        let id = SessionId::generate();
        let refresh = RefreshToken::generate(&id);
        let session = Session {
            id,
            user,
            refresh_hash: refresh.hash(),
            created_at: now,
            expires_at: now + SESSION_TTL.as_secs() as i64,
        };
        (session, refresh)
    }
}

/// The SHA-256 of a refresh token, base64url: what the store keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshHash(String);

impl RefreshHash {
    pub fn from_stored(hash: String) -> Self {
        Self(hash)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A refresh token as handed to the client once. Its `Debug` hides it.
#[derive(Debug)]
pub struct RefreshToken(SecretString);

impl RefreshToken {
    pub fn generate(session: &SessionId) -> Self {
        let secret: [u8; 32] = rand::random();
        Self(format!("{session}.{}", B64URL.encode(secret)).into())
    }

    /// A token as the client presents it, if it has the shape Galley issues.
    pub fn parse(raw: &str) -> Option<Self> {
        let (session, secret) = raw.split_once('.')?;
        SessionId::parse(session).ok()?;
        let decoded = B64URL.decode(secret).ok()?;
        (decoded.len() == 32).then(|| Self(raw.into()))
    }

    pub fn session_id(&self) -> SessionId {
        let session = self.expose().split_once('.').map_or("", |(session, _)| session);
        SessionId::parse(session).expect("checked when the token was made")
    }

    pub fn hash(&self) -> RefreshHash {
        RefreshHash(B64URL.encode(Sha256::digest(self.expose().as_bytes())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_session_and_hash_stably() {
        let session = SessionId::generate();
        let token = RefreshToken::generate(&session);
        let again = RefreshToken::parse(token.expose()).unwrap();
        assert_eq!(again.session_id(), session);
        assert_eq!(again.hash(), token.hash());
        assert_ne!(RefreshToken::generate(&session).hash(), token.hash());
        assert!(!token.hash().as_str().contains(token.expose()));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in ["", "abc", "a/b.xyz", "s1.short", "s1.", ".AAAA"] {
            assert!(RefreshToken::parse(bad).is_none(), "{bad}");
        }
    }
}
