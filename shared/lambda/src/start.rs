//! The cold start every HTTP function shares: logging, the adapters the
//! configuration selects, and the keys, each set up once.

use std::sync::Arc;

use galley_http::Handler;
use galley_http::request::{RequestId, finish};
use galley_shared::Error;
use galley_shared::config::Backend;
use galley_shared::keys::Keys;
use tokio::sync::OnceCell;

use crate::{Stores, keys};

/// What an HTTP function is built from: the stores and its keys.
pub struct Deployment {
    pub stores: Stores,
    pub keys: Keys,
}

/// Sets up tracing and metrics (named by `function`), opens the stores
/// `TABLE_NAME` / `GALLEY_DATA_DIR` select, and takes the keys from the
/// configuration. No secret is read over the network here: login reads its
/// own on its first login (`keys`).
pub async fn start(function: &'static str) -> Result<Deployment, Error> {
    let (backend, stores) = open(function).await?;
    let keys = keys::keys(&backend, &stores)?;
    Ok(Deployment { stores, keys })
}

/// The cold start of functions that check no token (event handlers):
/// tracing, metrics and the stores.
pub async fn start_without_key(function: &'static str) -> Result<Stores, Error> {
    Ok(open(function).await?.1)
}

async fn open(function: &'static str) -> Result<(Backend, Stores), Error> {
    crate::telemetry::init();
    crate::metrics::install(function);
    let backend = Backend::from_env();
    let stores = Stores::open(&backend).await?;
    Ok((backend, stores))
}

/// Runs an HTTP function as the Lambda handler until the runtime stops.
/// `build` makes the function from the stores and the keys, once, on the
/// first request (so init is only what every start needs); until it
/// succeeds every request answers with the problem its error maps to.
pub async fn serve<F, B>(deployment: Deployment, build: B) -> Result<(), lambda_http::Error>
where
    F: Handler + 'static,
    B: Fn(&Stores, &Keys) -> Result<F, Error> + Send + Sync,
{
    let function: OnceCell<Arc<F>> = OnceCell::new();
    let (function, deployment, build) = (&function, &deployment, &build);
    crate::run(move |request| async move {
        let built =
            function.get_or_try_init(|| async { build(&deployment.stores, &deployment.keys).map(Arc::new) }).await;
        match built {
            Ok(function) => function.handle(request).await,
            Err(error) => finish(&RequestId::of(&request), Err(error)),
        }
    })
    .await
}
