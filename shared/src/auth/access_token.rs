//! Access tokens: compact JWTs (RFC 7519) signed with HMAC-SHA256 under a key
//! derived for this purpose only.
//!
//! The header is fixed. Verification compares the token's header with the
//! one Galley writes, byte for byte, before anything else, so `alg: none`,
//! another algorithm or any header trick fails without being interpreted:
//! the algorithm is never taken from the token.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::id::{SessionId, UserId};
use crate::keys::SigningKey;

/// How long an access token is good for (API.md: 15 minutes or less).
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

const HEADER_JSON: &str = r#"{"alg":"HS256","typ":"JWT"}"#;
/// Tokens issued a little in the "future" by a host with a fast clock are still accepted.
const CLOCK_SKEW_SECS: i64 = 30;

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    sid: String,
    iat: i64,
    exp: i64,
}

/// Who a verified token speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessClaims {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub expires_at: i64,
}

/// An issued access token. Its `Debug` hides it.
#[derive(Debug)]
pub struct AccessToken(SecretString);

impl AccessToken {
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[derive(Clone, Debug)]
pub struct AccessTokens {
    key: SecretSlice<u8>,
    header: String,
}

impl AccessTokens {
    pub fn new(key: &SigningKey) -> Self {
        Self { key: key.derive("galley/access-token/v1").to_vec().into(), header: B64URL.encode(HEADER_JSON) }
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(self.key.expose_secret()).expect("HMAC takes any key length")
    }

    pub fn issue(&self, user_id: &UserId, session_id: &SessionId, now: i64) -> AccessToken {
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            iat: now,
            exp: now + ACCESS_TOKEN_TTL.as_secs() as i64,
        };
        let payload = B64URL.encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let signing_input = format!("{}.{payload}", self.header);
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = B64URL.encode(mac.finalize().into_bytes());
        AccessToken(format!("{signing_input}.{signature}").into())
    }

    /// The claims of a token this deployment signed and that has not expired;
    /// `None` for anything else, without saying why (the caller answers 401).
    pub fn verify(&self, token: &str, now: i64) -> Option<AccessClaims> {
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || header != self.header {
            return None;
        }
        let signature = B64URL.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).ok()?;
        let claims: Claims = serde_json::from_slice(&B64URL.decode(payload).ok()?).ok()?;
        if claims.exp <= now || claims.iat > now + CLOCK_SKEW_SECS {
            return None;
        }
        Some(AccessClaims {
            user_id: UserId::parse(&claims.sub).ok()?,
            session_id: SessionId::parse(&claims.sid).ok()?,
            expires_at: claims.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(seed: u8) -> AccessTokens {
        AccessTokens::new(&SigningKey::new(vec![seed; 32]).unwrap())
    }

    fn ids() -> (UserId, SessionId) {
        (UserId::parse("user-1").unwrap(), SessionId::parse("session-1").unwrap())
    }

    const NOW: i64 = 1_795_000_000;

    #[test]
    fn a_fresh_token_verifies_until_it_expires() {
        let (user, session) = ids();
        let token = tokens(1).issue(&user, &session, NOW);
        let claims = tokens(1).verify(token.expose(), NOW + 899).unwrap();
        assert_eq!((claims.user_id, claims.session_id), (user, session));
        assert!(tokens(1).verify(token.expose(), NOW + 900).is_none(), "expired at 15 minutes");
    }

    #[test]
    fn tokens_from_another_key_or_altered_fail() {
        let (user, session) = ids();
        let token = tokens(1).issue(&user, &session, NOW).expose().to_owned();
        assert!(tokens(2).verify(&token, NOW).is_none(), "wrong key");
        let (signing_input, _) = token.rsplit_once('.').unwrap();
        let forged_claims = B64URL.encode(format!(r#"{{"sub":"admin","sid":"s","iat":{NOW},"exp":{}}}"#, NOW + 900));
        let header = signing_input.split('.').next().unwrap();
        let signature = token.rsplit('.').next().unwrap();
        for bad in [
            format!("{header}.{forged_claims}.{signature}"),
            format!("{token}x"),
            format!("{signing_input}."),
            format!("{token}.extra"),
            String::new(),
            "a.b".into(),
        ] {
            assert!(tokens(1).verify(&bad, NOW).is_none(), "{bad} accepted");
        }
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let (user, session) = ids();
        let token = tokens(1).issue(&user, &session, NOW).expose().to_owned();
        let payload = token.split('.').nth(1).unwrap();
        for header in
            [r#"{"alg":"none","typ":"JWT"}"#, r#"{"alg":"HS512","typ":"JWT"}"#, r#"{"typ":"JWT","alg":"HS256"}"#]
        {
            let header = B64URL.encode(header);
            assert!(tokens(1).verify(&format!("{header}.{payload}."), NOW).is_none());
            let signature = token.rsplit('.').next().unwrap();
            assert!(tokens(1).verify(&format!("{header}.{payload}.{signature}"), NOW).is_none());
        }
    }

    #[test]
    fn tokens_issued_in_the_future_are_refused() {
        let (user, session) = ids();
        let token = tokens(1).issue(&user, &session, NOW + 3600).expose().to_owned();
        assert!(tokens(1).verify(&token, NOW).is_none());
    }
}
