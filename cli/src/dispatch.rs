//! The local stand-in for API Gateway: sends each request to the function
//! that owns its path, exactly as the template's routes do.

use std::sync::Arc;

use galley_http::Handler;
use galley_http::request::{Request, RequestId, Response, finish};
use galley_http::route::{Route, matches};
use galley_shared::Error;
use galley_shared::keys::Keys;
use galley_shared::ports::UploadUrls;

struct Mount {
    patterns: Vec<&'static str>,
    function: Arc<dyn Handler>,
}

#[derive(Default)]
pub struct Dispatcher {
    mounts: Vec<Mount>,
}

impl Dispatcher {
    /// Routes every path of `routes` to `function`.
    pub fn mount<R>(&mut self, routes: &[Route<R>], function: impl Handler + 'static) {
        let patterns = routes.iter().map(|r| r.pattern).collect();
        self.mounts.push(Mount { patterns, function: Arc::new(function) });
    }

    pub async fn dispatch(&self, request: Request) -> Response {
        let path = request.uri().path();
        let mount = self.mounts.iter().find(|m| m.patterns.iter().any(|p| matches(p, path)));
        match mount {
            Some(mount) => mount.function.handle(request).await,
            None => finish(&RequestId::of(&request), Err(Error::NotFound)),
        }
    }
}

/// Mounts every HTTP function over the given stores. Upload tickets point
/// at `upload_urls` (the local server itself, or S3); product images are
/// served by the local server at `public_url`, whichever the store.
pub fn mount_all(
    stores: &galley_lambda::Stores,
    keys: &Keys,
    upload_urls: Arc<dyn UploadUrls>,
    public_url: &str,
) -> Result<Dispatcher, Error> {
    let clock: Arc<dyn galley_shared::clock::Clock> = Arc::new(galley_shared::clock::SystemClock);
    let mut dispatcher = Dispatcher::default();
    let search = galley_search::SearchFunction::new(stores.catalog(), stores.search_index(), keys.cursor()?);
    dispatcher.mount(galley_search::ROUTES, search);
    dispatcher.mount(galley_login::ROUTES, galley_login::LoginFunction::new(stores.into(), keys, clock.clone())?);
    let every_payment = stores.payments()?;
    let payments = every_payment.gateway.clone();
    let checkout = galley_checkout::CheckoutFunction::new(stores.into(), payments.clone(), keys, clock.clone())?;
    dispatcher.mount(galley_checkout::ROUTES, checkout);
    let upload_stores = galley_upload::UploadStores {
        records: stores.upload_records(),
        sessions: stores.sessions(),
        urls: upload_urls,
    };
    dispatcher.mount(galley_upload::ROUTES, galley_upload::UploadFunction::new(upload_stores, keys, clock.clone()));
    let admin_stores = galley_admin::AdminStores::open(stores, public_url.to_owned())?;
    let admin = galley_admin::AdminFunction::new(admin_stores, payments, keys, clock.clone())?;
    dispatcher.mount(galley_admin::ROUTES, admin);
    let signing = stores.secret(galley_payments::WEBHOOK_SECRET)?;
    let webhook =
        galley_webhook::WebhookFunction::new(galley_webhook::event_stores(stores), every_payment, signing, clock);
    dispatcher.mount(galley_webhook::ROUTES, webhook);
    Ok(dispatcher)
}
