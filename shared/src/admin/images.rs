//! Product images: a `stored` upload of the admin's becomes a public copy
//! under `images/`, which a CDN (CloudFront in AWS) or the local server
//! serves. The copy happens inside storage; the function never holds the
//! bytes. Each copy has its own key (product and upload ids), so it never
//! changes once written and may be cached for good.

use std::sync::Arc;

use crate::error::{Error, FieldError};
use crate::id::{ProductId, UploadId, UserId};
use crate::ports::{Blobs, ServedAs, UploadRecords};
use crate::uploads::UploadStatus;

/// Where images live in storage; the public URL path is the same.
pub const IMAGES_PREFIX: &str = "images/";

/// A copy's key never holds other bytes: cache it for a year.
pub const IMAGE_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

pub fn image_key(product: &ProductId, upload: &UploadId) -> String {
    format!("{IMAGES_PREFIX}{product}/{upload}")
}

#[derive(Clone)]
pub struct ImageHost {
    uploads: Arc<dyn UploadRecords>,
    blobs: Arc<dyn Blobs>,
    /// The public origin of `images/` keys, without a trailing `/`.
    base_url: String,
}

impl ImageHost {
    pub fn new(uploads: Arc<dyn UploadRecords>, blobs: Arc<dyn Blobs>, base_url: &str) -> Self {
        Self { uploads, blobs, base_url: base_url.trim_end_matches('/').to_owned() }
    }

    /// Copies `owner`'s stored upload to the product's image key and gives
    /// its public URL. An upload that is not `owner`'s, not stored, or whose
    /// bytes are gone is a validation error naming `image_upload_id`.
    pub async fn publish(&self, owner: &UserId, upload: &UploadId, product: &ProductId) -> Result<String, Error> {
        let unusable =
            || Error::Validation(vec![FieldError::new("image_upload_id", "must name a stored upload of yours")]);
        let upload = self.uploads.upload(owner, upload).await?.ok_or_else(unusable)?;
        if upload.status != UploadStatus::Stored {
            return Err(unusable());
        }
        let key = image_key(product, &upload.id);
        let served = ServedAs { content_type: upload.content_type.mime(), cache_control: IMAGE_CACHE_CONTROL };
        if !self.blobs.copy(&upload.object_key(), &key, served).await? {
            return Err(unusable());
        }
        Ok(format!("{}/{key}", self.base_url))
    }
}
