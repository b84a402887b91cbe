//! The cold start every HTTP function shares: logging, the adapters the
//! configuration selects, and the signing key, each set up once.

use std::sync::{Arc, Mutex};

use galley_http::Handler;
use galley_http::request::{RequestId, finish};
use galley_shared::Error;
use galley_shared::config::Backend;
use galley_shared::keys::SigningKey;
use tokio::sync::OnceCell;
use tokio::task::JoinHandle;

use crate::{Stores, keys};

/// What an HTTP function is built from: the stores, and the signing key
/// being read.
pub struct Deployment {
    pub stores: Stores,
    key: PendingKey,
}

/// Sets up tracing, opens the stores `TABLE_NAME` / `GALLEY_DATA_DIR` select,
/// and starts reading the signing key, which `serve` awaits on the first
/// request.
pub async fn start() -> Result<Deployment, Error> {
    let (backend, stores) = open().await?;
    keys::check_source(&backend)?;
    let key = PendingKey::fetch(backend, stores.clone());
    Ok(Deployment { stores, key })
}

/// The cold start of functions that sign nothing (event handlers): tracing
/// and the stores, without reading the signing key.
pub async fn start_without_key() -> Result<Stores, Error> {
    Ok(open().await?.1)
}

async fn open() -> Result<(Backend, Stores), Error> {
    crate::telemetry::init();
    let backend = Backend::from_env();
    let stores = Stores::open(&backend).await?;
    Ok((backend, stores))
}

/// The signing key, read in the background from cold start on. In AWS that
/// is a Secrets Manager call; started before the runtime's first poll and
/// awaited only by the first request, it overlaps the poll instead of
/// lengthening init. A failed read is retried by the next request, so a
/// throttled secret costs one request a 503, not the function its start.
struct PendingKey {
    backend: Backend,
    stores: Stores,
    first_read: Mutex<Option<JoinHandle<Result<SigningKey, Error>>>>,
}

impl PendingKey {
    fn fetch(backend: Backend, stores: Stores) -> Self {
        let first_read = tokio::spawn({
            let (backend, stores) = (backend.clone(), stores.clone());
            async move { keys::signing_key(&backend, &stores).await }
        });
        Self { backend, stores, first_read: Mutex::new(Some(first_read)) }
    }

    async fn get(&self) -> Result<SigningKey, Error> {
        let first_read = self.first_read.lock().ok().and_then(|mut slot| slot.take());
        if let Some(first_read) = first_read {
            match first_read.await {
                Ok(Ok(key)) => return Ok(key),
                Ok(Err(error)) => tracing::warn!(%error, "reading the signing key failed; reading it again"),
                Err(error) => tracing::warn!(%error, "the signing key task failed; reading it again"),
            }
        }
        keys::signing_key(&self.backend, &self.stores).await
    }
}

/// Runs an HTTP function as the Lambda handler until the runtime stops.
/// `build` makes the function from the stores and the signing key, once,
/// on the first request; until it succeeds every request answers with the
/// problem its error maps to.
pub async fn serve<F, B>(deployment: Deployment, build: B) -> Result<(), lambda_http::Error>
where
    F: Handler + 'static,
    B: Fn(&Stores, &SigningKey) -> Result<F, Error> + Send + Sync,
{
    let function: OnceCell<Arc<F>> = OnceCell::new();
    let (function, deployment, build) = (&function, &deployment, &build);
    crate::run(move |request| async move {
        let built = function
            .get_or_try_init(|| async {
                let key = deployment.key.get().await?;
                build(&deployment.stores, &key).map(Arc::new)
            })
            .await;
        match built {
            Ok(function) => function.handle(request).await,
            Err(error) => finish(&RequestId::of(&request), Err(error)),
        }
    })
    .await
}
