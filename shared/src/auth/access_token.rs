//! Access tokens: compact JWTs (RFC 7519) signed with Ed25519 (`EdDSA`,
//! RFC 8037). Only login holds a private key; every other function verifies
//! with public keys it is configured with, so none of them can mint a token.
//!
//! Each key has an id (`kid`), and each id's header is fixed. Verification
//! finds the token's header among the known ones, byte for byte, before
//! anything else, so `alg: none`, another algorithm or any header trick fails
//! without being interpreted: the algorithm is never taken from the token.
//! Two keys are known while a rotation is under way (docs/operations.md).

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::{Signature, Signer};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::id::{SessionId, UserId};
use crate::keys::SigningKey;

/// How long an access token is good for (API.md: 15 minutes or less).
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// Tokens issued a little in the "future" by a host with a fast clock are still accepted.
const CLOCK_SKEW_SECS: i64 = 30;
/// One key in use and one coming or going; more is a configuration mistake.
const MAX_PUBLIC_KEYS: usize = 3;

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

/// A signing key's id: 1 to 32 of `A-Z a-z 0-9 _ -`, so it needs no escaping
/// in a header, an environment variable or a stack parameter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// The id a deployment starts with.
    pub const FIRST: &'static str = "k1";

    pub fn parse(raw: &str) -> Result<Self, String> {
        let valid =
            (1..=32).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid { Ok(Self(raw.to_owned())) } else { Err(format!("{raw:?} is not a key id (1-32 of A-Z a-z 0-9 _ -)")) }
    }

    pub fn first() -> Self {
        Self(Self::FIRST.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn header(&self) -> String {
        B64URL.encode(format!(r#"{{"alg":"EdDSA","kid":"{}","typ":"JWT"}}"#, self.0))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The private key login signs with, derived from the deployment's secret
/// and the key's id: a rotation takes a new id, not a new secret, and the
/// stack computes the public key from the same two (template.yaml's
/// `TokenKeys`). Its `Debug` shows the id only.
pub struct TokenSigner {
    kid: KeyId,
    header: String,
    key: ed25519_dalek::SigningKey,
}

impl TokenSigner {
    pub fn derive(secret: &SigningKey, kid: &KeyId) -> Self {
        let seed = secret.derive(&format!("galley/access-token/ed25519/{kid}"));
        Self { kid: kid.clone(), header: kid.header(), key: ed25519_dalek::SigningKey::from_bytes(&seed) }
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey { kid: self.kid.clone(), key: self.key.verifying_key() }
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
        let signature = B64URL.encode(self.key.sign(signing_input.as_bytes()).to_bytes());
        AccessToken(format!("{signing_input}.{signature}").into())
    }
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// A key id and its public key, written `kid:base64url(32 bytes)` in
/// configuration (`GALLEY_TOKEN_PUBLIC_KEYS`, comma-separated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    kid: KeyId,
    key: ed25519_dalek::VerifyingKey,
}

impl PublicKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (kid, key) = raw.trim().split_once(':').ok_or_else(|| format!("{raw:?} is not kid:base64url-key"))?;
        let bytes: [u8; 32] = B64URL
            .decode(key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("key {kid:?}: not 32 bytes of base64url"))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| format!("key {kid:?}: not a point"))?;
        if key.is_weak() {
            return Err(format!("key {kid:?}: a weak key"));
        }
        Ok(Self { kid: KeyId::parse(kid)?, key })
    }

    pub fn kid(&self) -> &KeyId {
        &self.kid
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kid, B64URL.encode(self.key.as_bytes()))
    }
}

/// Checks access tokens against the public keys a function was given.
#[derive(Clone, Debug)]
pub struct AccessTokens {
    keys: Vec<(String, ed25519_dalek::VerifyingKey)>,
}

impl AccessTokens {
    pub fn new(keys: &[PublicKey]) -> Result<Self, String> {
        if keys.is_empty() || keys.len() > MAX_PUBLIC_KEYS {
            return Err(format!("1 to {MAX_PUBLIC_KEYS} public keys, not {}", keys.len()));
        }
        let mut known: Vec<(String, ed25519_dalek::VerifyingKey)> = Vec::with_capacity(keys.len());
        for key in keys {
            let header = key.kid.header();
            if known.iter().any(|(h, _)| *h == header) {
                return Err(format!("key id {} given twice", key.kid));
            }
            known.push((header, key.key));
        }
        Ok(Self { keys: known })
    }

    /// Whether `key` is one of these, under the same id.
    pub fn knows(&self, key: &PublicKey) -> bool {
        let header = key.kid.header();
        self.keys.iter().any(|(h, k)| *h == header && *k == key.key)
    }

    /// `kid:key,kid:key`, as `GALLEY_TOKEN_PUBLIC_KEYS` and the stack carry them.
    pub fn parse(list: &str) -> Result<Self, String> {
        let keys =
            list.split(',').filter(|k| !k.trim().is_empty()).map(PublicKey::parse).collect::<Result<Vec<_>, _>>()?;
        Self::new(&keys)
    }

    /// The claims of a token one of the keys signed and that has not
    /// expired; `None` for anything else, without saying why (the caller
    /// answers 401).
    pub fn verify(&self, token: &str, now: i64) -> Option<AccessClaims> {
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let (_, key) = self.keys.iter().find(|(known, _)| known == header)?;
        let signature = Signature::from_slice(&B64URL.decode(signature).ok()?).ok()?;
        let signed = &token[..header.len() + 1 + payload.len()];
        key.verify_strict(signed.as_bytes(), &signature).ok()?;
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

    fn signer(seed: u8, kid: &str) -> TokenSigner {
        TokenSigner::derive(&SigningKey::new(vec![seed; 32]).unwrap(), &KeyId::parse(kid).unwrap())
    }

    fn verifier(signers: &[&TokenSigner]) -> AccessTokens {
        AccessTokens::new(&signers.iter().map(|s| s.public_key()).collect::<Vec<_>>()).unwrap()
    }

    fn ids() -> (UserId, SessionId) {
        (UserId::parse("user-1").unwrap(), SessionId::parse("session-1").unwrap())
    }

    const NOW: i64 = 1_795_000_000;

    #[test]
    fn a_fresh_token_verifies_until_it_expires() {
        let (user, session) = ids();
        let login = signer(1, "k1");
        let token = login.issue(&user, &session, NOW);
        let claims = verifier(&[&login]).verify(token.expose(), NOW + 899).unwrap();
        assert_eq!((claims.user_id, claims.session_id), (user, session));
        assert!(verifier(&[&login]).verify(token.expose(), NOW + 900).is_none(), "expired at 15 minutes");
    }

    #[test]
    fn only_the_configured_public_keys_verify() {
        let (user, session) = ids();
        let token = signer(1, "k1").issue(&user, &session, NOW).expose().to_owned();
        assert!(verifier(&[&signer(2, "k1")]).verify(&token, NOW).is_none(), "another secret, same id");
        assert!(verifier(&[&signer(1, "k2")]).verify(&token, NOW).is_none(), "same secret, another id");
        let rotating = verifier(&[&signer(1, "k2"), &signer(1, "k1")]);
        assert!(rotating.knows(&signer(1, "k1").public_key()) && !rotating.knows(&signer(2, "k1").public_key()));
        assert!(rotating.verify(&token, NOW).is_some(), "the old key verifies while a rotation runs");
        let next = signer(1, "k2").issue(&user, &session, NOW);
        assert!(rotating.verify(next.expose(), NOW).is_some());
    }

    #[test]
    fn a_token_signed_under_another_keys_header_fails() {
        // k2's signature on a token that names k1: the header picks the key.
        let (user, session) = ids();
        let k1 = signer(1, "k1");
        let k2 = signer(1, "k2");
        let by_k2 = k2.issue(&user, &session, NOW).expose().to_owned();
        let mut parts = by_k2.split('.');
        let (_, payload, signature) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        let relabelled = format!("{}.{payload}.{signature}", KeyId::first().header());
        assert!(verifier(&[&k1, &k2]).verify(&relabelled, NOW).is_none());
    }

    #[test]
    fn altered_tokens_fail() {
        let (user, session) = ids();
        let login = signer(1, "k1");
        let token = login.issue(&user, &session, NOW).expose().to_owned();
        let (signing_input, signature) = token.rsplit_once('.').unwrap();
        let header = signing_input.split('.').next().unwrap();
        let forged_claims = B64URL.encode(format!(r#"{{"sub":"admin","sid":"s","iat":{NOW},"exp":{}}}"#, NOW + 900));
        let mut flipped = B64URL.decode(signature).unwrap();
        flipped[0] ^= 1;
        for bad in [
            format!("{header}.{forged_claims}.{signature}"),
            format!("{signing_input}.{}", B64URL.encode(flipped)),
            format!("{token}x"),
            format!("{signing_input}."),
            format!("{token}.extra"),
            String::new(),
            "a.b".into(),
        ] {
            assert!(verifier(&[&login]).verify(&bad, NOW).is_none(), "{bad} accepted");
        }
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let (user, session) = ids();
        let login = signer(1, "k1");
        let token = login.issue(&user, &session, NOW).expose().to_owned();
        let payload = token.split('.').nth(1).unwrap();
        let signature = token.rsplit('.').next().unwrap();
        for header in [
            r#"{"alg":"none","typ":"JWT"}"#,
            r#"{"alg":"HS256","kid":"k1","typ":"JWT"}"#,
            r#"{"alg":"EdDSA","typ":"JWT"}"#,
            r#"{"typ":"JWT","kid":"k1","alg":"EdDSA"}"#,
        ] {
            let header = B64URL.encode(header);
            assert!(verifier(&[&login]).verify(&format!("{header}.{payload}."), NOW).is_none());
            assert!(verifier(&[&login]).verify(&format!("{header}.{payload}.{signature}"), NOW).is_none());
        }
    }

    #[test]
    fn tokens_issued_in_the_future_are_refused() {
        let (user, session) = ids();
        let login = signer(1, "k1");
        let token = login.issue(&user, &session, NOW + 3600).expose().to_owned();
        assert!(verifier(&[&login]).verify(&token, NOW).is_none());
    }

    #[test]
    fn public_keys_round_trip_and_bad_ones_are_refused() {
        let key = signer(3, "k-2026_12").public_key();
        assert_eq!(PublicKey::parse(&key.to_string()).unwrap(), key);
        let listed = format!("{key}, {}", signer(3, "k1").public_key());
        assert!(AccessTokens::parse(&listed).is_ok());
        for bad in [
            String::new(),
            "k1".into(),
            "k1:".into(),
            "k1:AAAA".into(),
            format!("bad id:{}", key.to_string().split_once(':').unwrap().1),
            format!("{key},{key}"),
            // The identity point: a weak key that "verifies" crafted signatures.
            format!("k1:{}", B64URL.encode([1u8].iter().chain([0u8; 31].iter()).copied().collect::<Vec<_>>())),
        ] {
            assert!(AccessTokens::parse(&bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn key_ids_are_plain_words() {
        for good in ["k1", "2026-12", "A_b-9"] {
            assert!(KeyId::parse(good).is_ok());
        }
        for bad in ["", "k 1", "k\"1", "k,1", "k:1", &"k".repeat(33)] {
            assert!(KeyId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_signer_never_shows_its_key() {
        assert_eq!(format!("{:?}", signer(1, "k1")), r#"TokenSigner { kid: KeyId("k1"), .. }"#);
    }
}
