//! The deployment's signing secret, which the stack generates in Secrets
//! Manager, read once per cold start; and the secrets read on first use
//! (`ManagedSecret`: the Stripe keys), cached for a while.

use aws_config::SdkConfig;
use galley_shared::Error;

/// The secret's string value. Its content never appears in an error.
pub async fn secret_string(config: &SdkConfig, secret_id: &str) -> Result<String, Error> {
    let conf = aws_sdk_secretsmanager::config::Builder::from(config).interceptor(crate::Traced).build();
    let client = aws_sdk_secretsmanager::Client::from_conf(conf);
    // Throttled or failing: retry later; denied or missing: a deployment
    // fault, which no retry mends.
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| crate::errors::service_error("secretsmanager", "GetSecretValue", e))?;
    output.secret_string().map(str::to_owned).ok_or_else(|| Error::internal("the signing secret has no string value"))
}

/// How long a secret read on first use is trusted: a rotation reaches a
/// warm function within this, and a busy one reads the secret a few times
/// an hour, not per request.
pub const SECRET_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// A Secrets Manager secret read when first needed (not at cold start: a
/// checkout that never pays through Stripe never reads its key) and cached
/// for `SECRET_TTL`.
pub struct ManagedSecret {
    config: SdkConfig,
    secret_id: String,
    cached: tokio::sync::Mutex<Option<(std::time::Instant, secrecy::SecretString)>>,
}

impl ManagedSecret {
    pub fn new(config: &SdkConfig, secret_id: &str) -> Self {
        Self { config: config.clone(), secret_id: secret_id.to_owned(), cached: tokio::sync::Mutex::new(None) }
    }
}

#[async_trait::async_trait]
impl galley_shared::ports::SecretSource for ManagedSecret {
    async fn read(&self) -> Result<secrecy::SecretString, Error> {
        // Held across the read, so a burst of first requests reads once.
        let mut cached = self.cached.lock().await;
        if let Some((read_at, secret)) = cached.as_ref()
            && read_at.elapsed() < SECRET_TTL
        {
            return Ok(secret.clone());
        }
        // A value saved with a trailing newline (`file://…`) is the same secret.
        let secret = secrecy::SecretString::from(secret_string(&self.config, &self.secret_id).await?.trim());
        *cached = Some((std::time::Instant::now(), secret.clone()));
        Ok(secret)
    }
}
