use std::time::Duration;

use async_trait::async_trait;

use crate::error::Error;

/// A request the client makes itself, straight to storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignedUpload {
    pub method: String,
    pub url: String,
    /// Headers the client must send as given (they are signed).
    pub headers: Vec<(String, String)>,
    /// Form fields, for a presigned POST; empty for a PUT.
    pub fields: Vec<(String, String)>,
}

/// Signs the one request that may put an upload's bytes into storage.
/// Signing is local computation: no round trip.
#[async_trait]
pub trait UploadUrls: Send + Sync {
    /// A PUT of exactly `size` bytes of `content_type` to `key`, valid from
    /// `signed_at` (Unix seconds) for `expires_in`; storage refuses any other
    /// type or length.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        signed_at: i64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, Error>;
}

/// What a check needs of stored bytes: their size and how they begin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobHead {
    pub size: u64,
    pub first_bytes: Vec<u8>,
}

/// How a copy is served: the headers storage keeps with it (S3 object
/// metadata, which CloudFront passes on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServedAs<'a> {
    pub content_type: &'a str,
    pub cache_control: &'a str,
}

/// Object storage for uploaded files and product images. Keys are Galley's
/// own (`uploads/...`, `images/...`).
#[async_trait]
pub trait Blobs: Send + Sync {
    /// The object's size and up to `max_bytes` leading bytes (one ranged
    /// read), or `None` if there is no such object.
    async fn head(&self, key: &str, max_bytes: usize) -> Result<Option<BlobHead>, Error>;

    /// Removes the object; removing a missing one is not an error.
    async fn delete(&self, key: &str) -> Result<(), Error>;

    /// Copies `from` to `to` inside storage (S3 `CopyObject`: the bytes
    /// never pass through the caller), served as `served`; `false` when
    /// there is no `from`.
    async fn copy(&self, from: &str, to: &str, served: ServedAs<'_>) -> Result<bool, Error>;

    /// The whole object, or `None` (for the local server, which serves
    /// images itself; a function never reads an image whole).
    async fn read(&self, key: &str) -> Result<Option<bytes::Bytes>, Error>;
}
