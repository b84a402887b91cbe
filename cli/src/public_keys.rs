//! `galley public-keys`: the access tokens' public keys for a secret and
//! key ids, as `GALLEY_TOKEN_PUBLIC_KEYS` takes them. The stack computes the
//! same at deploy time (template.yaml's `TokenKeys`); this is for running a
//! function anywhere else against a deployment's secret, and for checking
//! what a stack has published.

use std::path::Path;

use anyhow::{Context, anyhow};
use galley_shared::auth::{KeyId, TokenSigner};
use galley_shared::keys::SigningKey;

/// `kid:key,…` for `ids` (comma-separated), from the Secrets Manager secret
/// `secret_arn` names or else from the data dir's secret.
pub async fn run(ids: &str, secret_arn: Option<&str>, data_dir: &Path) -> anyhow::Result<()> {
    let kids =
        ids.split(',').map(|id| KeyId::parse(id.trim()).map_err(|e| anyhow!(e))).collect::<Result<Vec<_>, _>>()?;
    let secret = match secret_arn {
        Some(arn) => from_secrets_manager(arn).await?,
        None => galley_lambda::keys::load_or_create(data_dir).context("the data dir's secret")?,
    };
    let keys: Vec<String> = kids.iter().map(|kid| TokenSigner::derive(&secret, kid).public_key().to_string()).collect();
    println!("{}", keys.join(","));
    Ok(())
}

#[cfg(feature = "aws")]
async fn from_secrets_manager(arn: &str) -> anyhow::Result<SigningKey> {
    let config = galley_aws::load_sdk_config().await;
    galley_lambda::keys::managed_key(&config, arn).key().await.with_context(|| format!("read {arn}"))
}

#[cfg(not(feature = "aws"))]
async fn from_secrets_manager(_arn: &str) -> anyhow::Result<SigningKey> {
    Err(crate::without_aws())
}
