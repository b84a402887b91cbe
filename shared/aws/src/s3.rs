//! The blob port over Amazon S3: presigned PUTs that pin type and length,
//! ranged reads for the arrival check, deletes.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_s3::config::RequestChecksumCalculation;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use galley_shared::Error;
use galley_shared::ports::{BlobHead, Blobs, PresignedUpload, ServedAs, UploadUrls};

use crate::errors::service_error;

#[derive(Clone, Debug)]
pub struct S3Blobs {
    client: aws_sdk_s3::Client,
    bucket: String,
}

/// `bytes 0-63/1234` → 1234.
fn total_size(content_range: &str) -> Option<u64> {
    content_range.rsplit_once('/')?.1.parse().ok()
}

impl S3Blobs {
    pub fn new(config: &SdkConfig, bucket: impl Into<String>) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(config)
            // An endpoint override (an emulator on loopback) has no DNS for
            // virtual-hosted bucket names.
            .force_path_style(config.endpoint_url().is_some())
            // Otherwise a presigned PUT carries the checksum of an empty
            // body, and storage refuses every real file.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .interceptor(crate::Traced)
            .build();
        Self { client: aws_sdk_s3::Client::from_conf(s3), bucket: bucket.into() }
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Creates the bucket (as template.yaml does, minus what an emulator
    /// ignores) on the configured endpoint; `false` if it already exists.
    pub async fn create_bucket(&self) -> Result<bool, Error> {
        match self.client.create_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_bucket_already_owned_by_you()) => Ok(false),
            Err(e) => Err(service_error("s3", "CreateBucket", e)),
        }
    }
}

#[async_trait]
impl UploadUrls for S3Blobs {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        signed_at: i64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, Error> {
        let presigning = PresigningConfig::builder()
            .start_time(
                SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(signed_at).map_err(Error::internal)?),
            )
            .expires_in(expires_in)
            .build()
            .map_err(Error::internal)?;
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(i64::try_from(size).map_err(Error::internal)?)
            .presigned(presigning)
            .await
            .map_err(|e| service_error("s3", "presign PutObject", e))?;
        Ok(PresignedUpload {
            method: presigned.method().to_owned(),
            url: presigned.uri().to_owned(),
            headers: presigned.headers().map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned())).collect(),
            fields: Vec::new(),
        })
    }
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn head(&self, key: &str, max_bytes: usize) -> Result<Option<BlobHead>, Error> {
        let last = max_bytes.max(1) - 1;
        let read = self.client.get_object().bucket(&self.bucket).key(key).range(format!("bytes=0-{last}")).send().await;
        let output = match read {
            Ok(output) => output,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            // S3 answers an empty object's range with 416 InvalidRange.
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("InvalidRange") => {
                return Ok(Some(BlobHead { size: 0, first_bytes: Vec::new() }));
            }
            Err(e) => return Err(service_error("s3", "GetObject", e)),
        };
        let size = match output.content_range().and_then(total_size) {
            Some(size) => size,
            None => output.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or_default(),
        };
        let body = output.body.collect().await.map_err(|e| Error::unavailable(format!("s3 GetObject body: {e}")))?;
        let mut first_bytes = body.to_vec();
        first_bytes.truncate(max_bytes);
        Ok(Some(BlobHead { size, first_bytes }))
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| service_error("s3", "DeleteObject", e))?;
        Ok(())
    }

    async fn copy(&self, from: &str, to: &str, served: ServedAs<'_>) -> Result<bool, Error> {
        // Keys are Galley's own `[A-Za-z0-9_-/]`: nothing to escape in the source.
        let copied = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{from}", self.bucket))
            .key(to)
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .content_type(served.content_type)
            .cache_control(served.cache_control)
            .send()
            .await;
        match copied {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("NoSuchKey") => Ok(false),
            Err(e) => Err(service_error("s3", "CopyObject", e)),
        }
    }

    async fn read(&self, key: &str) -> Result<Option<bytes::Bytes>, Error> {
        let output = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(output) => output,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(service_error("s3", "GetObject", e)),
        };
        let body = output.body.collect().await.map_err(|e| Error::unavailable(format!("s3 GetObject body: {e}")))?;
        Ok(Some(body.into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_size_comes_from_the_content_range() {
        assert_eq!(total_size("bytes 0-63/1234"), Some(1234));
        assert_eq!(total_size("bytes 0-0/1"), Some(1));
        assert_eq!(total_size("bytes */0"), Some(0));
        assert_eq!(total_size("garbage"), None);
    }
}
