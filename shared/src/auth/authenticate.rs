//! `authenticate`: the one check every protected route makes.

use std::sync::Arc;

use super::access_token::{AccessClaims, AccessTokens};
use super::user::UserProfile;
use crate::clock::Clock;
use crate::error::Error;
use crate::id::SessionId;
use crate::ports::Sessions;

/// The signed-in user a request speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user: UserProfile,
    pub session_id: SessionId,
}

#[derive(Clone)]
pub struct Authenticator {
    tokens: AccessTokens,
    sessions: Arc<dyn Sessions>,
    clock: Arc<dyn Clock>,
}

impl Authenticator {
    pub fn new(tokens: AccessTokens, sessions: Arc<dyn Sessions>, clock: Arc<dyn Clock>) -> Self {
        Self { tokens, sessions, clock }
    }

    /// An access token's claims, checked without I/O: signature and expiry.
    /// Handlers that can overlap the session read with other work call this
    /// first and `principal` later.
    pub fn claims(&self, token: &str) -> Result<AccessClaims, Error> {
        self.tokens.verify(token, self.clock.unix_now()).ok_or(Error::Unauthorized)
    }

    /// The user behind verified claims, if their session is still live: a
    /// logged-out or revoked session's tokens stop working at once.
    pub async fn principal(&self, claims: &AccessClaims) -> Result<Principal, Error> {
        let session = self.sessions.session(&claims.session_id, self.clock.unix_now()).await?;
        match session {
            Some(session) if session.user.id == claims.user_id => {
                Ok(Principal { user: session.user, session_id: session.id })
            }
            _ => Err(Error::Unauthorized),
        }
    }

    /// Missing, malformed, expired, forged or revoked: `Unauthorized`.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, Error> {
        let claims = self.claims(token)?;
        self.principal(&claims).await
    }
}
