use async_trait::async_trait;
use secrecy::SecretString;

use crate::error::Error;

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
