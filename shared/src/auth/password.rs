//! Passwords: what a valid one is, and how it is stored (Argon2id, PHC string).

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;

/// A candidate password as the client sent it. Never printed, never logged.
#[derive(Debug)]
pub struct Password(SecretString);

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

impl Password {
    /// A password for a new account: 10 to 128 characters (ASVS 2.1: length,
    /// not composition rules).
    pub fn new_for_account(raw: &str) -> Result<Self, String> {
        let chars = raw.chars().count();
        if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
            Ok(Self(raw.into()))
        } else {
            Err(format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"))
        }
    }

    /// A password offered at login. Any length is checked (and fails)
    /// against the hash, so the answer never says which rule it broke;
    /// the 64 KiB body limit bounds the work.
    pub fn offered(raw: &str) -> Self {
        Self(raw.into())
    }

    pub fn from_json_for_account(value: &serde_json::Value) -> Result<Self, String> {
        let message = || format!("must be a string of {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters");
        value.as_str().ok_or_else(message).and_then(Self::new_for_account)
    }

    pub fn offered_from_json(value: &serde_json::Value) -> Result<Self, String> {
        value.as_str().map(Self::offered).ok_or_else(|| "must be a string".into())
    }
}

/// A stored password hash: an Argon2id PHC string. Kept out of `Debug` output
/// because even a hash helps an offline attack.
#[derive(Clone, Debug)]
pub struct PasswordHashString(SecretString);

impl PasswordHashString {
    pub fn from_stored(phc: String) -> Self {
        Self(phc.into())
    }

    pub fn as_str(&self) -> &str {
        self.0.expose_secret()
    }
}

/// Stores are compared in tests: the same PHC string is the same hash.
impl PartialEq for PasswordHashString {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for PasswordHashString {}

/// OWASP's Password Storage Cheat Sheet, first Argon2id option: 19 MiB, 2 passes, 1 lane.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;

/// A PHC string with the real parameters and a random 32-byte output that no
/// known password produces. It is checked when the email is unknown, so that
/// answer costs what a wrong password costs. Constant, so no cold start pays
/// for making it.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$Z2FsbGV5LWR1bW15LXNhbHQ$0dEjmyqJlVCI7aFeqOPzLmxMpr6c+1cqL4V4qOmRk9M";

/// Hashes and verifies passwords. The work is CPU-bound and takes tens of
/// milliseconds, so callers run it off the async executor.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("OWASP parameters are valid");
        Self { argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params) }
    }
}

impl PasswordHasher {
    pub fn hash(&self, password: &Password) -> Result<PasswordHashString, Error> {
        let salt_bytes: [u8; 16] = rand::random();
        let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| Error::internal(format!("salt: {e}")))?;
        let hash = self
            .argon2
            .hash_password(password.0.expose_secret().as_bytes(), &salt)
            .map_err(|e| Error::internal(format!("argon2 hash: {e}")))?;
        Ok(PasswordHashString(hash.to_string().into()))
    }

    /// Whether `password` matches `stored` (compared in constant time by
    /// argon2). `None` verifies against the dummy hash and answers false, so
    /// an unknown account takes as long as a wrong password.
    pub fn verify(&self, password: &Password, stored: Option<&PasswordHashString>) -> Result<bool, Error> {
        let phc = stored.map_or(DUMMY_HASH, PasswordHashString::as_str);
        let parsed = PasswordHash::new(phc).map_err(|e| Error::internal(format!("stored hash unreadable: {e}")))?;
        let matches = self.argon2.verify_password(password.0.expose_secret().as_bytes(), &parsed).is_ok();
        Ok(matches && stored.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_passwords_are_10_to_128_characters() {
        assert!(Password::new_for_account("123456789").is_err());
        assert!(Password::new_for_account("1234567890").is_ok());
        assert!(Password::new_for_account(&"é".repeat(128)).is_ok(), "characters, not bytes");
        assert!(Password::new_for_account(&"a".repeat(129)).is_err());
        assert_eq!(format!("{:?}", Password::offered("hunter2hunter2")), "Password(SecretBox<str>([REDACTED]))");
    }

    #[test]
    fn hashes_are_salted_argon2id_phc_strings_that_verify() {
        let hasher = PasswordHasher::default();
        let password = Password::new_for_account("correct horse battery").unwrap();
        let first = hasher.hash(&password).unwrap();
        let second = hasher.hash(&password).unwrap();
        assert!(first.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", first.as_str());
        assert_ne!(first, second, "a fresh salt per hash");
        assert!(hasher.verify(&password, Some(&first)).unwrap());
        assert!(!hasher.verify(&Password::offered("correct horse battery!"), Some(&first)).unwrap());
    }

    #[test]
    fn unknown_accounts_verify_against_a_dummy_with_the_same_cost() {
        let hasher = PasswordHasher::default();
        assert!(!hasher.verify(&Password::offered("anything at all"), None).unwrap());
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let real = hasher.hash(&Password::offered("anything at all")).unwrap();
        let real = PasswordHash::new(real.as_str()).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.params, real.params, "the dummy must cost what a real hash costs");
        assert_eq!(dummy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
    }
}
