//! The check applied to bytes once they are in storage.

use std::sync::Arc;

use crate::error::Error;
use crate::metrics;
use crate::ports::{BlobHead, Blobs, UploadRecords};
use crate::uploads::{ImageType, Upload, UploadStatus, parse_object_key};

/// Enough leading bytes for the magic numbers of every allowed type.
pub const SNIFF_BYTES: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    SizeMismatch { declared: u64, actual: u64 },
    WrongType { declared: &'static str, found: Option<&'static str> },
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::SizeMismatch { declared, actual } => write!(f, "declared {declared} bytes, got {actual}"),
            Rejection::WrongType { declared, found } => {
                write!(f, "declared {declared}, bytes look like {}", found.unwrap_or("no known type"))
            }
        }
    }
}

/// The bytes must be as long as declared and begin like the declared type.
pub fn inspect(upload: &Upload, head: &BlobHead) -> Result<(), Rejection> {
    let declared = upload.size.bytes();
    if head.size != declared {
        return Err(Rejection::SizeMismatch { declared, actual: head.size });
    }
    let found = ImageType::sniff(&head.first_bytes);
    if found != Some(upload.content_type.mime()) {
        return Err(Rejection::WrongType { declared: upload.content_type.mime(), found });
    }
    Ok(())
}

/// What a check did with an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arrival {
    Stored,
    Rejected(Option<Rejection>),
    /// No upload record claims the key: the object was deleted.
    Unclaimed,
    /// The object is gone (a later check removed it): nothing to do.
    Missing,
    /// Not under `uploads/`: not Galley's to judge.
    Ignored,
}

impl Arrival {
    pub fn outcome(&self) -> &'static str {
        match self {
            Arrival::Stored => "stored",
            Arrival::Rejected(_) => "rejected",
            Arrival::Unclaimed => "unclaimed",
            Arrival::Missing => "missing",
            Arrival::Ignored => "ignored",
        }
    }
}

/// Judges stored objects against their upload records.
#[derive(Clone)]
pub struct ArrivalCheck {
    records: Arc<dyn UploadRecords>,
    blobs: Arc<dyn Blobs>,
}

impl ArrivalCheck {
    pub fn new(records: Arc<dyn UploadRecords>, blobs: Arc<dyn Blobs>) -> Self {
        Self { records, blobs }
    }

    /// Judges whatever is stored under `key` now. Safe to repeat and to run
    /// out of order (storage notifies at least once, in no set order):
    /// every run re-reads the object, `rejected` is final, and the bytes are
    /// deleted before the record says so, so a crash in between is redone.
    pub async fn check(&self, key: &str) -> Result<Arrival, Error> {
        if !key.starts_with("uploads/") {
            return Ok(Arrival::Ignored);
        }
        let record = match parse_object_key(key) {
            Some((owner, id)) => self.records.upload(&owner, &id).await?,
            None => None,
        };
        let Some(upload) = record else {
            self.blobs.delete(key).await?;
            return Ok(Arrival::Unclaimed);
        };
        if upload.status == UploadStatus::Rejected {
            self.blobs.delete(key).await?;
            return Ok(Arrival::Rejected(None));
        }
        let Some(head) = self.blobs.head(key, SNIFF_BYTES).await? else {
            return Ok(Arrival::Missing);
        };
        let live = [UploadStatus::Pending, UploadStatus::Stored];
        match inspect(&upload, &head) {
            Ok(()) => {
                if self.records.set_status(&upload.owner, &upload.id, &live, UploadStatus::Stored).await? {
                    // Storage notifies at least once: count the first arrival only.
                    if upload.status == UploadStatus::Pending {
                        metrics::upload_checked(true);
                    }
                    Ok(Arrival::Stored)
                } else {
                    // Rejected meanwhile by a check of other bytes: those
                    // were deleted, and these must go too.
                    self.blobs.delete(key).await?;
                    Ok(Arrival::Rejected(None))
                }
            }
            Err(rejection) => {
                self.blobs.delete(key).await?;
                self.records.set_status(&upload.owner, &upload.id, &live, UploadStatus::Rejected).await?;
                metrics::upload_checked(false);
                Ok(Arrival::Rejected(Some(rejection)))
            }
        }
    }
}
