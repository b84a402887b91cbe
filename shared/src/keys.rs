//! The deployment's one secret, from which each use derives its own key, so a
//! cursor key can never verify a token and the other way round.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

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
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose_secret()).expect("HMAC takes any key length");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
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
}
