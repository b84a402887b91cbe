//! The deployment's signing secret, which the stack generates in Secrets
//! Manager; read once per cold start.

use aws_config::SdkConfig;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata};
use galley_shared::Error;

/// The secret's string value. Its content never appears in an error.
pub async fn secret_string(config: &SdkConfig, secret_id: &str) -> Result<String, Error> {
    let client = aws_sdk_secretsmanager::Client::new(config);
    let output = client.get_secret_value().secret_id(secret_id).send().await.map_err(|e| {
        let code = e.code().unwrap_or("unknown").to_owned();
        Error::unavailable(format!("secretsmanager GetSecretValue ({code}): {}", DisplayErrorContext(&e)))
    })?;
    output.secret_string().map(str::to_owned).ok_or_else(|| Error::internal("the signing secret has no string value"))
}
