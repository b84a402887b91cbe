//! `authenticate`: the one check every protected route makes.

use std::sync::Arc;

use http::header::AUTHORIZATION;

use super::access_token::{AccessTokens, TokenClaims};
use super::user::UserProfile;
use crate::clock::Clock;
use crate::error::Error;
use crate::id::SessionId;
use crate::keys::SigningKey;
use crate::ports::Sessions;
use crate::web::Request;

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
    pub fn new(key: &SigningKey, sessions: Arc<dyn Sessions>, clock: Arc<dyn Clock>) -> Self {
        Self { tokens: AccessTokens::new(key), sessions, clock }
    }

    /// The bearer token's claims, checked without I/O: signature and expiry.
    /// Handlers that can overlap the session read with other work call this
    /// first and `principal` later.
    pub fn claims(&self, request: &Request) -> Result<TokenClaims, Error> {
        let header = request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(Error::Unauthorized)?;
        let (scheme, token) = header.trim().split_once(' ').ok_or(Error::Unauthorized)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Error::Unauthorized);
        }
        self.tokens.verify(token.trim(), self.clock.unix_now()).ok_or(Error::Unauthorized)
    }

    /// The user behind verified claims, if their session is still live: a
    /// logged-out or revoked session's tokens stop working at once.
    pub async fn principal(&self, claims: &TokenClaims) -> Result<Principal, Error> {
        let session = self.sessions.session(&claims.session_id, self.clock.unix_now()).await?;
        match session {
            Some(session) if session.user.id == claims.user_id => {
                Ok(Principal { user: session.user, session_id: session.id })
            }
            _ => Err(Error::Unauthorized),
        }
    }

    /// Missing, malformed, expired, forged or revoked: `Unauthorized`.
    pub async fn authenticate(&self, request: &Request) -> Result<Principal, Error> {
        let claims = self.claims(request)?;
        self.principal(&claims).await
    }
}
