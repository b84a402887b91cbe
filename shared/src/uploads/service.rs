//! The upload use cases the API serves: hand out a ticket, show an upload.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::clock::Clock;
use crate::error::Error;
use crate::id::{UploadId, UserId};
use crate::ports::{UploadRecords, UploadUrls};
use crate::uploads::{TICKET_TTL, Upload, UploadRequest, UploadStatus};

/// `POST /uploads`'s body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ticket {
    pub id: String,
    pub method: String,
    pub url: String,
    pub fields: Map<String, Value>,
    pub headers: Map<String, Value>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub max_size: u64,
}

fn object(pairs: Vec<(String, String)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
}

#[derive(Clone)]
pub struct UploadService {
    records: Arc<dyn UploadRecords>,
    urls: Arc<dyn UploadUrls>,
    clock: Arc<dyn Clock>,
}

impl UploadService {
    pub fn new(records: Arc<dyn UploadRecords>, urls: Arc<dyn UploadUrls>, clock: Arc<dyn Clock>) -> Self {
        Self { records, urls, clock }
    }

    /// Records a pending upload and presigns the one request that may fill
    /// it; a user holding `MAX_PENDING_UPLOADS` live pending ones gets
    /// `TooManyUploads` (the store counts them in the same write).
    pub async fn open(&self, owner: &UserId, request: UploadRequest) -> Result<Ticket, Error> {
        let now = self.clock.now();
        let upload = Upload {
            id: UploadId::generate(),
            owner: owner.clone(),
            filename: request.filename,
            content_type: request.content_type,
            size: request.size,
            status: UploadStatus::Pending,
            created_at: now,
        };
        let size = upload.size.bytes();
        // Presigning is local computation; only the record is a round trip.
        let presigned = self
            .urls
            .presign_put(&upload.object_key(), upload.content_type.mime(), size, now.unix_timestamp(), TICKET_TTL)
            .await?;
        self.records.create_upload(&upload).await?;
        Ok(Ticket {
            id: upload.id.to_string(),
            method: presigned.method,
            url: presigned.url,
            fields: object(presigned.fields),
            headers: object(presigned.headers),
            expires_at: now + TICKET_TTL,
            max_size: size,
        })
    }

    /// The time uploads are shown as of.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub async fn upload(&self, owner: &UserId, id: &UploadId) -> Result<Upload, Error> {
        self.records.upload(owner, id).await?.ok_or(Error::NotFound)
    }
}
