//! Sessions and their refresh tokens.
//!
//! A refresh token is `<session id>.<32 bytes, base64url>`. The store keeps
//! only its SHA-256, so a leaked table cannot be replayed; the session id in
//! front lets a refresh find its session with one keyed write.
//!
//! A session's first token is random; each next one is the HMAC of the one
//! before under a key derived from the signing key (`RefreshKey`), so from a
//! presented token the server can tell whether this session really issued
//! it and has since rotated it (reuse: the session ends) or whether it was
//! made up for a session id seen in a log (a plain 401 that changes
//! nothing), keeping only the current hash and the count of rotations.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use hmac::{Hmac, Mac};
use secrecy::SecretSlice;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::user::UserProfile;
use crate::id::SessionId;
use crate::keys::SigningKey;

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
    /// How many times the refresh token was rotated: how far back a
    /// presented token may be a predecessor of the current one.
    pub rotations: u32,
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
            rotations: 0,
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

    /// The token a refresh with this one hands out next.
    pub fn successor(&self, key: &RefreshKey) -> RefreshToken {
        let mut mac = key.mac();
        mac.update(self.expose().as_bytes());
        Self(format!("{}.{}", self.session_id(), B64URL.encode(mac.finalize().into_bytes())).into())
    }

    /// Whether this token is one `session` issued and has since rotated:
    /// a successor of it, at most `rotations` steps on, is the current one.
    pub fn was_rotated_in(&self, session: &Session, key: &RefreshKey) -> bool {
        if self.session_id() != session.id {
            return false;
        }
        let mut token = self.successor(key);
        for _ in 0..session.rotations {
            if token.hash() == session.refresh_hash {
                return true;
            }
            token = token.successor(key);
        }
        false
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// The key refresh tokens follow one another under.
#[derive(Clone, Debug)]
pub struct RefreshKey(SecretSlice<u8>);

impl RefreshKey {
    pub fn derive(key: &SigningKey) -> Self {
        Self(key.derive("galley/refresh-chain/v1").to_vec().into())
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose_secret()).expect("HMAC takes any key length")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RefreshKey {
        RefreshKey::derive(&SigningKey::new(vec![5; 32]).unwrap())
    }

    #[test]
    fn only_real_predecessors_count_as_rotated() {
        let profile = UserProfile {
            id: crate::id::UserId::generate(),
            email: crate::auth::Email::parse("a@example.com").unwrap(),
            name: crate::auth::DisplayName::parse("A").unwrap(),
        };
        let (mut session, first) = Session::start(profile, 0);
        let second = first.successor(&key());
        let third = second.successor(&key());
        session.refresh_hash = third.hash();
        session.rotations = 2;
        assert!(first.was_rotated_in(&session, &key()) && second.was_rotated_in(&session, &key()));
        assert!(!third.was_rotated_in(&session, &key()), "the current token is not rotated");
        let made_up = RefreshToken::generate(&session.id);
        assert!(!made_up.was_rotated_in(&session, &key()), "a made-up secret for a known session id");
        let other_key = RefreshKey::derive(&SigningKey::new(vec![6; 32]).unwrap());
        assert!(!first.was_rotated_in(&session, &other_key));
        session.rotations = 1;
        assert!(!first.was_rotated_in(&session, &key()), "no further back than the rotations made");
    }

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
