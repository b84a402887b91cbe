//! An upload as stored and as shown, and where its bytes live.

use serde::Serialize;
use time::OffsetDateTime;

use crate::error::Error;
use crate::id::{UploadId, UserId};
use crate::uploads::{Filename, ImageType, UploadSize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UploadStatus {
    /// Ticket handed out; nothing (checked) has arrived.
    Pending,
    /// The bytes arrived and are what was declared.
    Stored,
    /// The bytes were not what was declared; they were deleted. Final.
    Rejected,
    /// No bytes arrived within `PENDING_TTL`. Never stored: a pending
    /// record is shown so once it is that old (`Upload::status_at`).
    Expired,
}

impl UploadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadStatus::Pending => "pending",
            UploadStatus::Stored => "stored",
            UploadStatus::Rejected => "rejected",
            UploadStatus::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "pending" => Ok(UploadStatus::Pending),
            "stored" => Ok(UploadStatus::Stored),
            "rejected" => Ok(UploadStatus::Rejected),
            other => Err(format!("unknown upload status {other}")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub id: UploadId,
    pub owner: UserId,
    pub filename: Filename,
    pub content_type: ImageType,
    pub size: UploadSize,
    pub status: UploadStatus,
    pub created_at: OffsetDateTime,
}

impl Upload {
    /// The status as of `now`: a pending upload past `PENDING_TTL` is expired.
    pub fn status_at(&self, now: OffsetDateTime) -> UploadStatus {
        match self.status {
            UploadStatus::Pending if now >= self.created_at + crate::uploads::PENDING_TTL => UploadStatus::Expired,
            status => status,
        }
    }

    /// The storage key of the bytes: built from ids only, so no filename can
    /// choose where bytes go.
    pub fn object_key(&self) -> String {
        object_key(&self.owner, &self.id)
    }

    /// Rebuilds a record from its stored columns; a value that no longer
    /// parses is corruption, not bad input.
    pub fn restore(stored: StoredUpload<'_>) -> Result<Self, Error> {
        let corrupt = |what: &str| Error::internal(format!("corrupt upload record: {what}"));
        Ok(Self {
            id: UploadId::parse(stored.id).map_err(|_| corrupt("id"))?,
            owner: UserId::parse(stored.owner).map_err(|_| corrupt("owner"))?,
            filename: Filename::parse(stored.filename).map_err(|_| corrupt("filename"))?,
            content_type: ImageType::parse(stored.content_type).map_err(|_| corrupt("content_type"))?,
            size: UploadSize::new(stored.size).map_err(|_| corrupt("size"))?,
            status: UploadStatus::parse(stored.status).map_err(|_| corrupt("status"))?,
            created_at: OffsetDateTime::from_unix_timestamp(stored.created_at).map_err(|_| corrupt("created_at"))?,
        })
    }
}

/// An upload record's columns as a store holds them.
pub struct StoredUpload<'a> {
    pub id: &'a str,
    pub owner: &'a str,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub size: u64,
    pub status: &'a str,
    pub created_at: i64,
}

pub fn object_key(owner: &UserId, id: &UploadId) -> String {
    format!("uploads/{owner}/{id}")
}

/// The owner and upload a storage key belongs to, if it has the shape
/// `object_key` gives (ids cannot hold `/`, so the split is unambiguous).
pub fn parse_object_key(key: &str) -> Option<(UserId, UploadId)> {
    let mut parts = key.strip_prefix("uploads/")?.split('/');
    let (owner, id) = (parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some((UserId::parse(owner).ok()?, UploadId::parse(id).ok()?))
}

/// `GET /uploads/{id}`'s body.
#[derive(Serialize)]
pub struct UploadView<'a> {
    pub id: &'a str,
    pub status: UploadStatus,
    pub filename: &'a str,
    pub content_type: &'static str,
    pub size: u64,
}

impl<'a> UploadView<'a> {
    /// How `upload` is shown at `now`.
    pub fn at(upload: &'a Upload, now: OffsetDateTime) -> Self {
        Self {
            id: upload.id.as_str(),
            status: upload.status_at(now),
            filename: upload.filename.as_str(),
            content_type: upload.content_type.mime(),
            size: upload.size.bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_upload_no_bytes_reached_in_24_hours_shows_as_expired() {
        let created = OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
        let upload = Upload {
            id: UploadId::generate(),
            owner: UserId::generate(),
            filename: Filename::parse("a.png").unwrap(),
            content_type: ImageType::Png,
            size: UploadSize::new(1).unwrap(),
            status: UploadStatus::Pending,
            created_at: created,
        };
        let ttl = crate::uploads::PENDING_TTL;
        assert_eq!(upload.status_at(created + ttl - std::time::Duration::from_secs(1)), UploadStatus::Pending);
        assert_eq!(upload.status_at(created + ttl), UploadStatus::Expired);
        let stored = Upload { status: UploadStatus::Stored, ..upload };
        assert_eq!(stored.status_at(created + ttl * 2), UploadStatus::Stored, "only a pending one expires");
    }

    #[test]
    fn keys_round_trip_and_nothing_else_parses() {
        let (owner, id) = (UserId::generate(), UploadId::generate());
        assert_eq!(parse_object_key(&object_key(&owner, &id)), Some((owner, id)));
        for bad in ["uploads/a", "uploads/a/b/c", "other/a/b", "uploads/../b", "uploads//b", "uploads/a/b%2F"] {
            assert_eq!(parse_object_key(bad), None, "{bad}");
        }
    }
}
