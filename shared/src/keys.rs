//! The keys a function holds. One secret per deployment, from which each
//! use derives its own key (so a cursor key can never verify a token), kept
//! by login alone; everyone else gets only what it needs and nothing it
//! could mint a token with: the access tokens' public keys, and a cursor
//! key of its own.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

use crate::auth::{AccessTokens, KeyId, PublicKey, TokenSigner};
use crate::error::Error;
use crate::ports::KeySource;

/// At least 32 random bytes; never logged (its `Debug` hides it).
#[derive(Clone, Debug)]
pub struct SigningKey(SecretSlice<u8>);

pub const MIN_KEY_BYTES: usize = 32;

impl SigningKey {
    pub fn new(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(format!("a signing key needs at least {MIN_KEY_BYTES} bytes"));
        }
        Ok(Self(bytes.into()))
    }

    /// A key for one purpose: HMAC-SHA256(secret, label).
    pub fn derive(&self, label: &str) -> [u8; 32] {
        self.mac(label).finalize().into_bytes().into()
    }

    /// Whether `tag` is `derive(label)`, compared in constant time.
    pub fn verify(&self, label: &str, tag: &[u8]) -> bool {
        self.mac(label).verify_slice(tag).is_ok()
    }

    fn mac(&self, label: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose_secret()).expect("HMAC takes any key length");
        mac.update(label.as_bytes());
        mac
    }
}

/// Login's signing: the secret, read where it lives on first use, and the
/// id of the key that signs now.
#[derive(Clone)]
pub struct LoginKey {
    pub source: Arc<dyn KeySource>,
    pub kid: KeyId,
}

/// What a function is started with, none of it read over the network: the
/// public keys that check access tokens, the key cursors are sealed under,
/// and for login where its secret is.
#[derive(Clone)]
pub struct Keys {
    pub access: AccessTokens,
    cursor: Option<SigningKey>,
    login: Option<LoginKey>,
}

impl Keys {
    pub fn new(access: AccessTokens, cursor: Option<SigningKey>, login: Option<LoginKey>) -> Self {
        Self { access, cursor, login }
    }

    /// Every key from one secret at hand (the embedded store's data dir, an
    /// injected `GALLEY_SIGNING_KEY`, a test): public keys for `kids`, of which
    /// the first signs, and the secret itself for cursors and for login.
    pub fn derived(secret: &SigningKey, kids: &[KeyId]) -> Result<Self, String> {
        let public: Vec<_> = kids.iter().map(|kid| TokenSigner::derive(secret, kid).public_key()).collect();
        Self::held(secret, &public)
    }

    /// As `derived`, with the public keys already derived (the embedded
    /// store keeps them in `signing.pub`): the first one's id signs.
    pub fn held(secret: &SigningKey, public: &[PublicKey]) -> Result<Self, String> {
        let first = public.first().ok_or("no key id")?.kid().clone();
        let login = LoginKey { source: Arc::new(crate::ports::FixedKey(secret.clone())), kid: first };
        Ok(Self { access: AccessTokens::new(public)?, cursor: Some(secret.clone()), login: Some(login) })
    }

    /// Every key from one secret, signing as the first key id (`k1`).
    pub fn from_secret(secret: &SigningKey) -> Self {
        Self::derived(secret, &[KeyId::first()]).expect("one key id")
    }

    /// The key cursors are sealed under (`galley-http`'s paging derives its
    /// own from it).
    pub fn cursor(&self) -> Result<&SigningKey, Error> {
        self.cursor.as_ref().ok_or_else(|| Error::internal("this function was given no cursor key (GALLEY_CURSOR_KEY)"))
    }

    /// Login's secret and key id; no other function is given them.
    pub fn login(&self) -> Result<&LoginKey, Error> {
        self.login
            .as_ref()
            .ok_or_else(|| Error::internal("this function holds no signing key (SIGNING_KEY_SECRET_ARN)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_refused_and_labels_give_distinct_keys() {
        assert!(SigningKey::new(vec![1; 31]).is_err());
        let key = SigningKey::new(vec![1; 32]).unwrap();
        assert_ne!(key.derive("a"), key.derive("b"));
        assert_eq!(key.derive("a"), key.derive("a"));
        assert_eq!(format!("{key:?}"), "SigningKey(SecretBox<[u8]>([REDACTED]))");
    }

    #[test]
    fn derived_keys_verify_what_their_first_id_signs() {
        let secret = SigningKey::new(vec![1; 32]).unwrap();
        let kids = [KeyId::parse("k2").unwrap(), KeyId::first()];
        let keys = Keys::derived(&secret, &kids).unwrap();
        assert_eq!(keys.login().unwrap().kid, kids[0]);
        for kid in &kids {
            let token = TokenSigner::derive(&secret, kid).issue(
                &crate::id::UserId::generate(),
                &crate::id::SessionId::generate(),
                100,
            );
            assert!(keys.access.verify(token.expose(), 100).is_some(), "{kid}");
        }
        assert!(Keys::derived(&secret, &[]).is_err());
    }

    #[test]
    fn a_tag_verifies_only_under_its_label_and_secret() {
        let secret = SigningKey::new(vec![1; 32]).unwrap();
        let tag = secret.derive("a");
        assert!(secret.verify("a", &tag));
        assert!(!secret.verify("b", &tag));
        assert!(!secret.verify("a", &tag[..31]));
        assert!(!SigningKey::new(vec![2; 32]).unwrap().verify("a", &tag));
    }
}
