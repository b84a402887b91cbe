//! Loading the signing key once at start-up.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use galley_shared::Error;
use galley_shared::config::Backend;
use galley_shared::keys::SigningKey;

use crate::Stores;

/// Base64 of the key, for deployments that inject it (never committed).
pub const KEY_ENV: &str = "GALLEY_SIGNING_KEY";
/// The Secrets Manager secret holding the key, as the stack creates it.
pub const KEY_SECRET_ENV: &str = "SIGNING_KEY_SECRET_ARN";
/// The search function's secret instead: a key of its own from which only
/// cursor keys are derived, so the public catalog function can mint no token.
pub const CURSOR_SECRET_ENV: &str = "CURSOR_KEY_SECRET_ARN";

/// The secret a function was given: the signing key's, or search's own.
fn secret_id() -> Option<String> {
    [KEY_SECRET_ENV, CURSOR_SECRET_ENV].into_iter().find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

/// The function's key, read once at cold start: from `GALLEY_SIGNING_KEY`
/// if set; in AWS from the Secrets Manager secret `SIGNING_KEY_SECRET_ARN`
/// (or, for search, `CURSOR_KEY_SECRET_ARN`) names (its string's bytes); on
/// the embedded store from the data dir, generated there on first start.
pub async fn signing_key(backend: &Backend, stores: &Stores) -> Result<SigningKey, Error> {
    if let Ok(encoded) = std::env::var(KEY_ENV) {
        let bytes = B64.decode(encoded.trim()).map_err(|_| Error::internal(format!("{KEY_ENV} is not base64")))?;
        return SigningKey::new(bytes).map_err(|e| Error::internal(format!("{KEY_ENV}: {e}")));
    }
    match (backend, stores) {
        #[cfg(feature = "embedded")]
        (Backend::Embedded { data_dir }, _) => load_or_create(data_dir),
        #[cfg(feature = "aws")]
        (Backend::Aws { .. }, Stores::Aws(store)) => {
            let secret_id = secret_id()
                .ok_or_else(|| Error::internal(format!("the AWS backend needs {KEY_SECRET_ENV} or {KEY_ENV}")))?;
            key_from_secret(store.sdk_config(), &secret_id).await
        }
        #[allow(unreachable_patterns)] // in a build with one backend
        _ => Err(Error::internal("the backend and the stores opened differ")),
    }
}

/// Fails when an AWS deployment names no key source, a mistake better
/// reported by the function's init than by each of its requests.
pub fn check_source(backend: &Backend) -> Result<(), Error> {
    let named = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    match backend {
        Backend::Aws { .. } if !named(KEY_ENV) && secret_id().is_none() => {
            Err(Error::internal(format!("the AWS backend needs {KEY_SECRET_ENV} or {KEY_ENV}")))
        }
        _ => Ok(()),
    }
}

/// The key held by a Secrets Manager secret (a generated string of at least 32 bytes).
#[cfg(feature = "aws")]
pub async fn key_from_secret(config: &aws_config::SdkConfig, secret_id: &str) -> Result<SigningKey, Error> {
    #[cfg(feature = "secrets")]
    {
        let secret = galley_aws::secrets::secret_string(config, secret_id).await?;
        SigningKey::new(secret.into_bytes()).map_err(|e| Error::internal(format!("signing secret: {e}")))
    }
    #[cfg(not(feature = "secrets"))]
    {
        let _ = (config, secret_id);
        Err(Error::internal(format!("this build reads no secret: set {KEY_ENV}, or build with `secrets`")))
    }
}

#[cfg(feature = "embedded")]
pub use galley_embedded::load_or_create;
