//! The shared SDK configuration, loaded once per process.
//!
//! `aws_config`'s default loader builds every provider chain it might need
//! before it knows whether it needs them: the credentials chain constructs
//! an STS client (for web identity and role assumption) and an IMDS client,
//! the region chain another IMDS client. Each SDK client parses its
//! partition table and compiles its regexes when built, so this was the
//! largest part of a function's init (a `perf` profile of `search`: about a
//! fifth of the process's samples, half of it the unused STS client). Both
//! chains try the environment first, so where the environment has the
//! answer, as it always does in Lambda, taking it from there is the chain's
//! own result without building the rest. Elsewhere (a laptop with a
//! profile or SSO) the default chains run as before.

use aws_config::environment::{EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider};
use aws_config::meta::region::ProvideRegion;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};

use crate::https;

/// Loads the shared SDK configuration (region, credentials, endpoint
/// overrides) from the environment, with the HTTPS client of `https`.
/// Call once at start-up.
pub async fn load_sdk_config() -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https::client());
    loader = with_environment_region(loader).await;
    if environment_has_credentials() {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    loader.load().await
}

/// `AWS_REGION` (or `AWS_DEFAULT_REGION`), read as the default chain's
/// first provider reads it; left to the chain when neither is set.
async fn with_environment_region(loader: ConfigLoader) -> ConfigLoader {
    match EnvironmentVariableRegionProvider::new().region().await {
        Some(region) => loader.region(region),
        None => loader,
    }
}

/// Whether the credentials chain would stop at its first provider, the
/// environment: an access key id that is not blank.
fn environment_has_credentials() -> bool {
    std::env::var("AWS_ACCESS_KEY_ID").is_ok_and(|id| !id.trim().is_empty())
}
