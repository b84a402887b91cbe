//! `galley serve`: the whole API on loopback, over the embedded store or the
//! AWS adapters, through the same handlers the Lambda functions run.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use galley_embedded::{LocalBlobs, LocalUploadUrls, URL_PATH_PREFIX};
use galley_http::documents::parse_catalog;
use galley_http::request::{MAX_JSON_BODY, RequestId, finish};
use galley_lambda::Stores;
use galley_shared::Error;
use galley_shared::config::Backend;
use galley_shared::keys::{Keys, SigningKey};
use galley_shared::orders::NoticeSender;
use galley_shared::ports::UploadUrls;
use galley_shared::uploads::ArrivalCheck;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::dispatch::Dispatcher;
use crate::local_s3::LocalS3;
use crate::metrics_page::MetricsPage;

const DEMO_CATALOG: &str = include_str!("../../catalog/demo.jsonl");
/// How long a client may take to send a request's head before its
/// connection is closed (a slow-loris holds no connection for good).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// After a failed accept (out of file descriptors, say), the loop waits
/// this long instead of spinning on the error.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What `galley serve` holds to: the connections it serves at once (more
/// wait in the kernel's listen queue until one ends).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_connections: usize,
}

pub async fn run(port: u16, backend: &Backend, data_dir: &std::path::Path, limits: Limits) -> anyhow::Result<()> {
    let stores = Stores::open(backend).await.context("open store")?;
    import_demo_catalog_if_empty(&stores).await?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = TcpListener::bind(address).await.with_context(|| format!("listen on {address}"))?;
    let local = listener.local_addr()?;

    // The secret lives in the data dir with either store, generated on first
    // start; one process answers every route, so it holds every key.
    let secret = galley_lambda::keys::load_or_create(data_dir).context("signing key")?;
    let public_url = format!("http://{local}");
    let (upload_urls, local_s3, arrivals) = upload_storage(&stores, &secret, &public_url)?;
    let keys = Keys::from_secret(&secret);
    let routes = Arc::new(Routes {
        dispatcher: crate::dispatch::mount_all(&stores, &keys, upload_urls, &public_url).context("wiring")?,
        images: crate::images::Images::new(stores.blobs().context("images")?),
        local_s3,
        metrics: MetricsPage::install().context("metrics")?,
    });
    let upkeep = routes.metrics.spawn_upkeep();
    let mailer = stores.mailer(&crate::mail::mail_from()).context("mail")?;
    let clock = Arc::new(galley_shared::clock::SystemClock);
    let receipts = crate::receipts::spawn(NoticeSender::new(stores.outbox(), mailer, clock));
    let settler = crate::settle::spawn(crate::settle::function(&stores)?);

    tracing::info!(address = %local, store = %stores.describe(), "galley serving");
    println!("Galley listening on http://{local} ({})", stores.describe());

    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    loop {
        // A connection is accepted only with a free slot.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        tracing::warn!(%error, "accept failed; waiting before the next");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                let routes = routes.clone();
                let service = service_fn(move |request| {
                    let routes = routes.clone();
                    async move { Ok::<_, std::convert::Infallible>(routes.handle(request).await) }
                });
                let connection = http.serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    drop(slot);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    receipts.abort();
    settler.abort();
    upkeep.abort();
    if let Some(arrivals) = arrivals {
        arrivals.abort();
    }
    tracing::info!("shutting down");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => tracing::warn!("connections still open after 10 s"),
    }
    Ok(())
}

/// Where upload tickets point and who takes the bytes: over the embedded
/// store the local server plays S3 itself (and checks bytes as they
/// arrive); with `--aws` tickets are S3 presigned URLs (the bucket from
/// `UPLOAD_BUCKET`), and a task checks their objects once they are there.
type UploadStorage = (Arc<dyn UploadUrls>, Option<LocalS3>, Option<tokio::task::JoinHandle<()>>);

fn upload_storage(stores: &Stores, key: &SigningKey, public_url: &str) -> anyhow::Result<UploadStorage> {
    match stores {
        Stores::Embedded(store) => {
            let urls = LocalUploadUrls::new(public_url, key);
            let blobs = LocalBlobs::new(store.data_dir().join("blobs"));
            let check = ArrivalCheck::new(stores.upload_records(), Arc::new(blobs.clone()));
            Ok((Arc::new(urls.clone()), Some(LocalS3 { urls, blobs, check }), None))
        }
        #[cfg(feature = "aws")]
        Stores::Aws(_) => {
            let blobs = stores.blobs().context("uploads")?;
            let urls = crate::arrivals::WatchedUrls::new(stores.upload_urls().context("uploads")?);
            let watch = urls.watch(blobs.clone(), ArrivalCheck::new(stores.upload_records(), blobs));
            Ok((Arc::new(urls), None, Some(watch)))
        }
    }
}

/// What the server answers besides the API: image files, the local
/// stand-in for S3's upload URLs, and its metrics page.
struct Routes {
    dispatcher: Dispatcher,
    local_s3: Option<LocalS3>,
    images: crate::images::Images,
    metrics: MetricsPage,
}

impl Routes {
    async fn handle(&self, request: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
        let path = request.uri().path();
        if path.starts_with(crate::images::PATH_PREFIX) {
            return self.images.serve(&request).await;
        }
        if path == crate::metrics_page::PATH {
            return self.metrics.answer(&request);
        }
        if let Some(local_s3) = &self.local_s3
            && let Some(key) = path.strip_prefix(URL_PATH_PREFIX).map(str::to_owned)
        {
            return local_s3.handle(request, &key).await;
        }
        let (mut parts, body) = request.into_parts();
        let id = RequestId::generate();
        parts.extensions.insert(id.clone());
        // No API route takes more than 64 KiB: reading stops one byte past it.
        let response = match Limited::new(body, MAX_JSON_BODY).collect().await {
            Ok(collected) => self.dispatcher.dispatch(http::Request::from_parts(parts, collected.to_bytes())).await,
            Err(_) => finish(&id, Err(Error::PayloadTooLarge { limit: MAX_JSON_BODY })),
        };
        response.map(Full::new)
    }
}

async fn import_demo_catalog_if_empty(stores: &Stores) -> anyhow::Result<()> {
    let catalog = stores.catalog();
    if !catalog.is_empty().await.context("read catalog")? {
        return Ok(());
    }
    let demo = parse_catalog(DEMO_CATALOG);
    catalog.upsert(&demo.products).await.context("import demo catalog")?;
    tracing::info!(products = demo.products.len(), "imported the demo catalog into the empty store");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
