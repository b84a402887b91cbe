//! The local stand-in for API Gateway: sends each request to the function
//! that owns its path, exactly as the template's routes do.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use galley_shared::Error;
use galley_shared::keys::SigningKey;
use galley_shared::ports::UploadUrls;
use galley_shared::web::{self, Request, RequestId, Response};

type BoxedHandler = Arc<dyn Fn(Request) -> Pin<Box<dyn Future<Output = Response> + Send>> + Send + Sync>;

struct Mount {
    patterns: Vec<&'static str>,
    handler: BoxedHandler,
}

#[derive(Default)]
pub struct Dispatcher {
    mounts: Vec<Mount>,
}

impl Dispatcher {
    /// Routes every path matching one of `patterns` to `handler`.
    pub fn mount<H, F>(&mut self, patterns: impl IntoIterator<Item = &'static str>, handler: H)
    where
        H: Fn(Request) -> F + Send + Sync + 'static,
        F: Future<Output = Response> + Send + 'static,
    {
        let handler: BoxedHandler = Arc::new(move |request| Box::pin(handler(request)));
        self.mounts.push(Mount { patterns: patterns.into_iter().collect(), handler });
    }

    pub async fn dispatch(&self, request: Request) -> Response {
        let path = request.uri().path();
        let mount = self.mounts.iter().find(|m| m.patterns.iter().any(|p| web::matches(p, path)));
        match mount {
            Some(mount) => (mount.handler)(request).await,
            None => web::finish(&RequestId::of(&request), Err(Error::NotFound)),
        }
    }
}

/// Mounts every HTTP function over the given stores. Upload tickets point
/// at `upload_urls` (the local server itself, or S3).
pub fn mount_all(stores: &galley_lambda::Stores, key: &SigningKey, upload_urls: Arc<dyn UploadUrls>) -> Dispatcher {
    let mut dispatcher = Dispatcher::default();
    let search = Arc::new(galley_search::SearchFunction::new(stores.catalog(), stores.search_index(), key));
    dispatcher.mount(galley_search::ROUTES.iter().map(|r| r.pattern), move |request| {
        let search = search.clone();
        async move { search.handle(request).await }
    });
    let clock: Arc<dyn galley_shared::clock::Clock> = Arc::new(galley_shared::clock::SystemClock);
    let login = Arc::new(galley_login::LoginFunction::new(stores.into(), key, clock.clone()));
    dispatcher.mount(galley_login::ROUTES.iter().map(|r| r.pattern), move |request| {
        let login = login.clone();
        async move { login.handle(request).await }
    });
    let payments = Arc::new(galley_shared::sandbox_payments::SandboxGateway);
    let checkout = Arc::new(galley_checkout::CheckoutFunction::new(stores.into(), payments, key, clock.clone()));
    dispatcher.mount(galley_checkout::ROUTES.iter().map(|r| r.pattern), move |request| {
        let checkout = checkout.clone();
        async move { checkout.handle(request).await }
    });
    let upload_stores = galley_upload::UploadStores {
        records: stores.upload_records(),
        sessions: stores.sessions(),
        urls: upload_urls,
    };
    let upload = Arc::new(galley_upload::UploadFunction::new(upload_stores, key, clock));
    dispatcher.mount(galley_upload::ROUTES.iter().map(|r| r.pattern), move |request| {
        let upload = upload.clone();
        async move { upload.handle(request).await }
    });
    dispatcher
}
