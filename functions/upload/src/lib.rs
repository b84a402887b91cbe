//! The `upload` function: `POST /uploads` hands out a presigned PUT,
//! `GET /uploads/{id}` shows how the upload fared. `check` judges the bytes
//! after they arrive (fed by S3 `ObjectCreated` events in AWS).

pub mod check;

use std::sync::Arc;

use async_trait::async_trait;
use galley_http::Handler;
use galley_http::documents::upload_request;
use galley_http::request::{Request, Response, bearer_token, json_body, json_response};
use galley_http::route::{Route, pattern, resolve};
use galley_shared::Error;
use galley_shared::auth::Authenticator;
use galley_shared::clock::Clock;
use galley_shared::id::UploadId;
use galley_shared::keys::Keys;
use galley_shared::ports::{Sessions, UploadRecords, UploadUrls};
use galley_shared::uploads::{UploadService, UploadView};
use http::{Method, StatusCode};

pub use check::CheckFunction;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Open,
    Show,
}

pub const ROUTES: &[Route<Endpoint>] =
    &[Route::new(Method::POST, "/uploads", Endpoint::Open), Route::new(Method::GET, "/uploads/{id}", Endpoint::Show)];

/// The ports the function uses, built once at cold start.
pub struct UploadStores {
    pub records: Arc<dyn UploadRecords>,
    pub sessions: Arc<dyn Sessions>,
    pub urls: Arc<dyn UploadUrls>,
}

impl UploadStores {
    pub fn new(stores: &galley_lambda::Stores) -> Result<Self, Error> {
        Ok(Self { records: stores.upload_records(), sessions: stores.sessions(), urls: stores.upload_urls()? })
    }
}

#[derive(Clone)]
pub struct UploadFunction {
    uploads: UploadService,
    authenticator: Authenticator,
}

impl UploadFunction {
    pub fn new(stores: UploadStores, keys: &Keys, clock: Arc<dyn Clock>) -> Self {
        let authenticator = Authenticator::new(keys.access.clone(), stores.sessions, clock.clone());
        Self { uploads: UploadService::new(stores.records, stores.urls, clock), authenticator }
    }
}

#[async_trait]
impl Handler for UploadFunction {
    fn route(&self, request: &Request) -> Option<String> {
        pattern(ROUTES, request)
    }

    async fn respond(&self, request: &Request) -> Result<Response, Error> {
        let (endpoint, params) = resolve(ROUTES, request.method(), request.uri().path())?;
        let user = self.authenticator.authenticate(bearer_token(request)?).await?.user;
        match endpoint {
            Endpoint::Open => {
                let wanted = json_body(request, upload_request)?;
                let ticket = self.uploads.open(&user.id, wanted).await?;
                Ok(json_response(StatusCode::CREATED, &ticket))
            }
            Endpoint::Show => {
                let id = params.get("id").and_then(|raw| UploadId::parse(raw).ok()).ok_or(Error::NotFound)?;
                let upload = self.uploads.upload(&user.id, &id).await?;
                Ok(json_response(StatusCode::OK, &UploadView::at(&upload, self.uploads.now())))
            }
        }
    }
}
