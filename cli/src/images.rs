//! The local server's stand-in for the image CDN (CloudFront in AWS):
//! `GET /images/<product>/<upload>` from storage (the blob folder, or with
//! `--aws` the bucket), typed by its bytes, with the cache headers the
//! distribution passes on. Only `images/` keys are reachable here: uploads
//! stay private.

use std::sync::Arc;

use bytes::Bytes;
use galley_http::request::{RequestId, Response, finish};
use galley_shared::Error;
use galley_shared::admin::IMAGE_CACHE_CONTROL;
use galley_shared::ports::Blobs;
use galley_shared::uploads::{ALLOWED_TYPES, ImageType};
use http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::{Method, StatusCode};
use http_body_util::Full;

pub const PATH_PREFIX: &str = "/images/";

/// `images/<product id>/<upload id>`: two segments of id characters.
fn image_key(path: &str) -> Option<&str> {
    let key = path.strip_prefix('/')?;
    let segments: Vec<&str> = key.strip_prefix("images/")?.split('/').collect();
    let id = |s: &&str| {
        !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    (segments.len() == 2 && segments.iter().all(id)).then_some(key)
}

pub struct Images {
    blobs: Arc<dyn Blobs>,
}

impl Images {
    pub fn new(blobs: Arc<dyn Blobs>) -> Self {
        Self { blobs }
    }

    pub async fn serve<B>(&self, request: &hyper::Request<B>) -> hyper::Response<Full<Bytes>> {
        let id = RequestId::generate();
        finish(&id, self.answer(request.method(), request.uri().path()).await).map(Full::new)
    }

    async fn answer(&self, method: &Method, path: &str) -> Result<Response, Error> {
        if method != Method::GET && method != Method::HEAD {
            return Err(Error::MethodNotAllowed { allow: vec!["GET", "HEAD"] });
        }
        let key = image_key(path).ok_or(Error::NotFound)?;
        let bytes = self.blobs.read(key).await?.ok_or(Error::NotFound)?;
        // The arrival check let only these types in; anything else is not served.
        let mime = ImageType::sniff(&bytes).filter(|m| ALLOWED_TYPES.contains(m)).ok_or(Error::NotFound)?;
        let length = bytes.len();
        let body = if method == Method::HEAD { Bytes::new() } else { bytes };
        let mut response = http::Response::new(body);
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(mime));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(IMAGE_CACHE_CONTROL));
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::image_key;

    #[test]
    fn only_image_keys_are_reachable() {
        assert_eq!(image_key("/images/mug-blue-350/01JABC"), Some("images/mug-blue-350/01JABC"));
        for path in
            ["/uploads/u/a", "/images/a", "/images/a/b/c", "/images/../uploads/x", "/images/a/b%2e", "/images//b"]
        {
            assert_eq!(image_key(path), None, "{path}");
        }
    }
}
