//! The part of S3 the local server plays: presigned PUT URLs, signed with a
//! key derived from the deployment's signing key, that pin the key, content
//! type, length and expiry exactly as an S3 presigned PUT does.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use galley_shared::Error;
use galley_shared::keys::SigningKey;
use galley_shared::ports::{PresignedUpload, UploadUrls};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::local_blobs::checked_segments;

/// Where the local server accepts uploads: `<public url>/blobs/<key>`.
pub const URL_PATH_PREFIX: &str = "/blobs/";
const EXPIRES: &str = "X-Galley-Expires";
const SIGNATURE: &str = "X-Galley-Signature";

#[derive(Clone)]
pub struct LocalUploadUrls {
    public_url: String,
    url_key: [u8; 32],
}

/// An incoming PUT, as the local server sees it before reading the body.
#[derive(Clone, Copy, Debug)]
pub struct LocalPut<'a> {
    /// The URL path after `URL_PATH_PREFIX`.
    pub key: &'a str,
    pub query: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub content_length: Option<u64>,
}

/// Why the local server refuses a PUT, in S3's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutRefused {
    /// Signature missing or not matching the key, type and length sent.
    SignatureDoesNotMatch,
    Expired,
    MissingContentLength,
}

impl PutRefused {
    pub fn status(self) -> u16 {
        match self {
            PutRefused::SignatureDoesNotMatch | PutRefused::Expired => 403,
            PutRefused::MissingContentLength => 411,
        }
    }

    /// The XML error body S3 answers with, so a client sees the same thing.
    pub fn s3_error_xml(self) -> String {
        let (code, message) = match self {
            PutRefused::SignatureDoesNotMatch => (
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            ),
            PutRefused::Expired => ("AccessDenied", "Request has expired"),
            PutRefused::MissingContentLength => {
                ("MissingContentLength", "You must provide the Content-Length HTTP header.")
            }
        };
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        )
    }
}

impl LocalUploadUrls {
    /// `public_url` is the local server's base URL, e.g. `http://127.0.0.1:3000`.
    pub fn new(public_url: &str, key: &SigningKey) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            url_key: key.derive("galley/local-upload-url/v1"),
        }
    }

    fn mac(&self, key: &str, content_type: &str, size: u64, expires: i64) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.url_key).expect("HMAC takes any key length");
        mac.update(format!("PUT\n{key}\n{content_type}\n{size}\n{expires}").as_bytes());
        mac
    }

    /// Checks a PUT the way S3 checks a presigned one: the signature must
    /// cover exactly this key, content type and length, and must not have
    /// expired. Nothing is read or written here.
    pub fn authorize_put(&self, put: LocalPut<'_>, now: OffsetDateTime) -> Result<(), PutRefused> {
        let Some(length) = put.content_length else { return Err(PutRefused::MissingContentLength) };
        let mut expires = None;
        let mut signature = None;
        for (name, value) in form_urlencoded::parse(put.query.unwrap_or_default().as_bytes()) {
            match name.as_ref() {
                EXPIRES => expires = value.parse::<i64>().ok(),
                SIGNATURE => signature = URL_SAFE_NO_PAD.decode(value.as_bytes()).ok(),
                _ => {}
            }
        }
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return Err(PutRefused::SignatureDoesNotMatch);
        };
        let content_type = put.content_type.unwrap_or_default();
        if checked_segments(put.key).is_none()
            || self.mac(put.key, content_type, length, expires).verify_slice(&signature).is_err()
        {
            return Err(PutRefused::SignatureDoesNotMatch);
        }
        if now.unix_timestamp() >= expires {
            return Err(PutRefused::Expired);
        }
        Ok(())
    }
}

#[async_trait]
impl UploadUrls for LocalUploadUrls {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        signed_at: i64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, Error> {
        if checked_segments(key).is_none() {
            return Err(Error::internal("blob key outside the blob folder"));
        }
        let expires = signed_at + i64::try_from(expires_in.as_secs()).map_err(Error::internal)?;
        let signature = URL_SAFE_NO_PAD.encode(self.mac(key, content_type, size, expires).finalize().into_bytes());
        Ok(PresignedUpload {
            method: "PUT".into(),
            url: format!("{}{URL_PATH_PREFIX}{key}?{EXPIRES}={expires}&{SIGNATURE}={signature}", self.public_url),
            headers: vec![("content-length".into(), size.to_string()), ("content-type".into(), content_type.into())],
            fields: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls() -> LocalUploadUrls {
        LocalUploadUrls::new("http://127.0.0.1:3000/", &SigningKey::new(vec![7; 32]).unwrap())
    }

    fn query(url: &str) -> &str {
        url.split_once('?').unwrap().1
    }

    #[tokio::test]
    async fn a_presigned_put_is_accepted_once_and_only_as_signed() {
        let blobs = urls();
        let now = OffsetDateTime::now_utc();
        let ticket = blobs
            .presign_put("uploads/u1/a1", "image/png", 10, now.unix_timestamp(), Duration::from_secs(900))
            .await
            .unwrap();
        assert!(ticket.url.starts_with("http://127.0.0.1:3000/blobs/uploads/u1/a1?"));
        let put = LocalPut {
            key: "uploads/u1/a1",
            query: Some(query(&ticket.url)),
            content_type: Some("image/png"),
            content_length: Some(10),
        };
        assert_eq!(blobs.authorize_put(put, now), Ok(()));
        let refused = |put: LocalPut<'_>, at| blobs.authorize_put(put, at).unwrap_err();
        assert_eq!(
            refused(LocalPut { content_type: Some("image/jpeg"), ..put }, now),
            PutRefused::SignatureDoesNotMatch
        );
        assert_eq!(refused(LocalPut { content_length: Some(11), ..put }, now), PutRefused::SignatureDoesNotMatch);
        assert_eq!(refused(LocalPut { content_length: None, ..put }, now), PutRefused::MissingContentLength);
        assert_eq!(refused(LocalPut { key: "uploads/u1/a2", ..put }, now), PutRefused::SignatureDoesNotMatch);
        assert_eq!(refused(LocalPut { query: None, ..put }, now), PutRefused::SignatureDoesNotMatch);
        let later = now + Duration::from_secs(900);
        assert_eq!(refused(put, later), PutRefused::Expired);
        let stretched = query(&ticket.url)
            .replace(&format!("{}", now.unix_timestamp() + 900), &format!("{}", now.unix_timestamp() + 9000));
        assert_eq!(refused(LocalPut { query: Some(&stretched), ..put }, later), PutRefused::SignatureDoesNotMatch);
    }
}
