use async_trait::async_trait;
use secrecy::SecretString;

use crate::error::Error;
use crate::keys::SigningKey;

/// A secret a function reads when it first needs it (a Stripe key, a
/// webhook signing secret), not at cold start: in AWS a Secrets Manager
/// secret, cached for a while so that a rotation reaches warm functions;
/// locally a value from the environment.
#[async_trait]
pub trait SecretSource: Send + Sync {
    /// The secret's current value. An outage is `Error::Unavailable`.
    async fn read(&self) -> Result<SecretString, Error>;
}

/// A secret given whole (an environment variable, a test's fixed value).
pub struct FixedSecret(pub SecretString);

#[async_trait]
impl SecretSource for FixedSecret {
    async fn read(&self) -> Result<SecretString, Error> {
        Ok(self.0.clone())
    }
}

/// The deployment's secret key, which only login reads (to sign access
/// tokens and chain refresh tokens): in AWS from Secrets Manager on the
/// first login or refresh, never at cold start, and cached like the other
/// secrets; locally from the data dir.
#[async_trait]
pub trait KeySource: Send + Sync {
    /// The key's current value. An outage is `Error::Unavailable`.
    async fn key(&self) -> Result<SigningKey, Error>;
}

/// A key at hand (the data dir's, an injected one, a test's).
pub struct FixedKey(pub SigningKey);

#[async_trait]
impl KeySource for FixedKey {
    async fn key(&self) -> Result<SigningKey, Error> {
        Ok(self.0.clone())
    }
}
