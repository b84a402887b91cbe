//! Each function's keys, from its configuration at start-up: nothing here
//! reads the network. Login's secret is read from Secrets Manager on its
//! first login or refresh (`ManagedKey`), never at cold start.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use galley_shared::Error;
use galley_shared::auth::{AccessTokens, KeyId, PublicKey, TokenSigner};
use galley_shared::config::Backend;
use galley_shared::keys::{Keys, LoginKey, SigningKey};
use galley_shared::ports::FixedKey;

/// Base64 of the deployment's secret, for deployments that inject it (never
/// committed): every key is then derived from it, as on the embedded store.
pub const KEY_ENV: &str = "GALLEY_SIGNING_KEY";
/// Login's Secrets Manager secret, as the stack creates it.
pub const KEY_SECRET_ENV: &str = "SIGNING_KEY_SECRET_ARN";
/// The access tokens' public keys, `kid:base64url,…` (the stack's
/// `TokenKeys` computes them); in AWS every HTTP function needs them.
pub const PUBLIC_KEYS_ENV: &str = "GALLEY_TOKEN_PUBLIC_KEYS";
/// The id of the key login signs with (default `k1`).
pub const KEY_ID_ENV: &str = "GALLEY_TOKEN_KEY_ID";
/// The cursor key's text (≥ 32 bytes), for the functions that page.
pub const CURSOR_KEY_ENV: &str = "GALLEY_CURSOR_KEY";

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn misconfigured(name: &str, problem: impl std::fmt::Display) -> Error {
    Error::internal(format!("{name}: {problem}"))
}

/// The function's keys. With a secret at hand (`GALLEY_SIGNING_KEY`, or the
/// embedded store's data dir, where it is generated on first start) every
/// key derives from it. In AWS: the public keys and the cursor key from the
/// environment, and for login the secret `SIGNING_KEY_SECRET_ARN` names.
/// `GALLEY_TOKEN_PUBLIC_KEYS`, where set, replaces derived public keys too
/// (a local rehearsal of a rotation).
pub fn keys(backend: &Backend, stores: &crate::Stores) -> Result<Keys, Error> {
    let kid = match var(KEY_ID_ENV) {
        Some(raw) => KeyId::parse(&raw).map_err(|e| misconfigured(KEY_ID_ENV, e))?,
        None => KeyId::first(),
    };
    let public = var(PUBLIC_KEYS_ENV)
        .map(|list| AccessTokens::parse(&list).map_err(|e| misconfigured(PUBLIC_KEYS_ENV, e)))
        .transpose()?;
    // The keys of a secret at hand; public keys given in the environment
    // replace its own, which are then not derived at all.
    let from_secret = |secret: SigningKey, own: &dyn Fn(&SigningKey) -> Vec<PublicKey>| match public.clone() {
        Some(access) => {
            let login = LoginKey { source: Arc::new(FixedKey(secret.clone())), kid: kid.clone() };
            Ok(Keys::new(access, Some(secret), Some(login)))
        }
        None => Keys::held(&secret, &own(&secret)).map_err(Error::internal),
    };
    if let Some(encoded) = var(KEY_ENV) {
        let bytes = B64.decode(encoded).map_err(|_| misconfigured(KEY_ENV, "not base64"))?;
        let secret = SigningKey::new(bytes).map_err(|e| misconfigured(KEY_ENV, e))?;
        return from_secret(secret, &|secret| vec![TokenSigner::derive(secret, &kid).public_key()]);
    }
    match (backend, stores) {
        // The public key is read from `signing.pub` beside the secret, not
        // derived at every start.
        #[cfg(feature = "embedded")]
        (Backend::Embedded { data_dir }, _) => from_secret(load_or_create(data_dir)?, &|secret| {
            galley_embedded::public_keys(data_dir, secret, std::slice::from_ref(&kid))
        }),
        #[cfg(feature = "aws")]
        (Backend::Aws { .. }, crate::Stores::Aws(store)) => {
            let access = public.ok_or_else(|| misconfigured(PUBLIC_KEYS_ENV, "the AWS backend needs it"))?;
            let cursor = var(CURSOR_KEY_ENV)
                .map(|text| SigningKey::new(text.into_bytes()).map_err(|e| misconfigured(CURSOR_KEY_ENV, e)))
                .transpose()?;
            let login = var(KEY_SECRET_ENV).map(|arn| LoginKey { source: managed_key(store.sdk_config(), &arn), kid });
            Ok(Keys::new(access, cursor, login))
        }
        #[allow(unreachable_patterns)] // in a build with one backend
        _ => Err(Error::internal("the backend and the stores opened differ")),
    }
}

/// Login's secret in Secrets Manager, read on first use and cached.
#[cfg(feature = "aws")]
pub fn managed_key(config: &aws_config::SdkConfig, arn: &str) -> std::sync::Arc<dyn galley_shared::ports::KeySource> {
    #[cfg(feature = "secrets")]
    {
        std::sync::Arc::new(ManagedKey(galley_aws::secrets::ManagedSecret::new(config, arn)))
    }
    #[cfg(not(feature = "secrets"))]
    {
        let _ = config;
        std::sync::Arc::new(Unreadable(arn.to_owned()))
    }
}

/// The secret's string, whose bytes are the key (the stack generates 64
/// characters).
#[cfg(feature = "secrets")]
struct ManagedKey(galley_aws::secrets::ManagedSecret);

#[cfg(feature = "secrets")]
#[async_trait::async_trait]
impl galley_shared::ports::KeySource for ManagedKey {
    async fn key(&self) -> Result<SigningKey, Error> {
        use galley_shared::ports::SecretSource;
        use secrecy::ExposeSecret;
        let text = self.0.read().await?;
        SigningKey::new(text.expose_secret().as_bytes().to_vec()).map_err(|e| misconfigured(KEY_SECRET_ENV, e))
    }
}

/// A build without Secrets Manager was given a secret to read.
#[cfg(all(feature = "aws", not(feature = "secrets")))]
struct Unreadable(String);

#[cfg(all(feature = "aws", not(feature = "secrets")))]
#[async_trait::async_trait]
impl galley_shared::ports::KeySource for Unreadable {
    async fn key(&self) -> Result<SigningKey, Error> {
        Err(misconfigured(KEY_SECRET_ENV, format!("{} cannot be read: this build has no `secrets`", self.0)))
    }
}

#[cfg(feature = "embedded")]
pub use galley_embedded::load_or_create;
