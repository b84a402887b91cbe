//! The local server's stand-in for S3: takes the PUTs that upload tickets
//! presign, checks them as S3 would (signature over key, type and length;
//! expiry), stores the bytes under `blobs/`, and then runs the same arrival
//! check S3's `ObjectCreated` event triggers in AWS.

use bytes::Bytes;
use galley_embedded::{LocalBlobs, LocalPut, LocalUploadUrls, PutRefused};
use galley_shared::uploads::{ArrivalCheck, MAX_UPLOAD_BYTES};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use time::OffsetDateTime;

pub struct LocalS3 {
    pub urls: LocalUploadUrls,
    pub blobs: LocalBlobs,
    pub check: ArrivalCheck,
}

fn s3_error(status: StatusCode, xml: String) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(xml)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, http::HeaderValue::from_static("application/xml"));
    response
}

fn refused(refusal: PutRefused) -> hyper::Response<Full<Bytes>> {
    let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::FORBIDDEN);
    s3_error(status, refusal.s3_error_xml())
}

impl LocalS3 {
    /// Handles a request under `/blobs/`; `key` is the rest of the path.
    pub async fn handle(&self, request: hyper::Request<Incoming>, key: &str) -> hyper::Response<Full<Bytes>> {
        if request.method() != Method::PUT {
            let xml =
                "<Error><Code>MethodNotAllowed</Code><Message>Only presigned PUTs are accepted here.</Message></Error>";
            return s3_error(StatusCode::METHOD_NOT_ALLOWED, xml.into());
        }
        let header = |name| request.headers().get(name).and_then(|v: &http::HeaderValue| v.to_str().ok());
        let put = LocalPut {
            key,
            query: request.uri().query(),
            content_type: header(CONTENT_TYPE),
            content_length: header(CONTENT_LENGTH).and_then(|v| v.parse().ok()),
        };
        // Refused before a byte of the body is read, as S3 does.
        if let Err(refusal) = self.urls.authorize_put(put, OffsetDateTime::now_utc()) {
            tracing::info!(key, refusal = ?refusal, "local S3 refused a PUT");
            return refused(refusal);
        }
        let limit = usize::try_from(MAX_UPLOAD_BYTES).unwrap_or(usize::MAX);
        let Ok(body) = Limited::new(request.into_body(), limit).collect().await else {
            let xml = "<Error><Code>IncompleteBody</Code><Message>The body ended before Content-Length bytes.</Message></Error>";
            return s3_error(StatusCode::BAD_REQUEST, xml.into());
        };
        let body = body.to_bytes();
        if let Err(e) = self.blobs.store(key, body).await {
            tracing::error!(key, error = %e, "local S3 could not store a body");
            return s3_error(StatusCode::SERVICE_UNAVAILABLE, "<Error><Code>ServiceUnavailable</Code></Error>".into());
        }
        // S3 notifies after the PUT has answered; checking first here makes
        // the status final by the time the client asks, which only helps.
        match self.check.check(key).await {
            Ok(arrival) => tracing::info!(key, arrival = ?arrival, "upload checked"),
            Err(e) => tracing::error!(key, error = %e, "upload check failed"),
        }
        hyper::Response::new(Full::new(Bytes::new()))
    }
}
