//! The cold start every HTTP function shares: logging, the adapters the
//! configuration selects, and the signing key, each set up once.

use galley_shared::Error;
use galley_shared::config::Backend;
use galley_shared::keys::SigningKey;

use crate::{Stores, keys};

pub struct Deployment {
    pub stores: Stores,
    pub key: SigningKey,
}

/// Sets up tracing, opens the stores `TABLE_NAME` / `GALLEY_DATA_DIR` select,
/// and reads the signing key.
pub async fn start() -> Result<Deployment, Error> {
    let (backend, stores) = open().await?;
    let key = keys::signing_key(&backend, &stores).await?;
    Ok(Deployment { stores, key })
}

/// The cold start of functions that sign nothing (event handlers): tracing
/// and the stores, without reading the signing key.
pub async fn start_without_key() -> Result<Stores, Error> {
    Ok(open().await?.1)
}

async fn open() -> Result<(Backend, Stores), Error> {
    galley_shared::telemetry::init();
    let backend = Backend::from_env();
    let stores = Stores::open(&backend).await?;
    Ok((backend, stores))
}
