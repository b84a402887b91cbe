use async_trait::async_trait;

use crate::error::Error;
use crate::id::{UploadId, UserId};
use crate::uploads::{Upload, UploadStatus};

/// Upload records, keyed by owner and id.
#[async_trait]
pub trait UploadRecords: Send + Sync {
    /// Writes a new pending record, only while its owner holds fewer than
    /// `MAX_PENDING_UPLOADS` pending ones younger than `PENDING_TTL`
    /// (counted in the same atomic write, so racing tickets never pass the
    /// cap): else `TooManyUploads`, retry when the oldest expires. Its id
    /// is fresh, so an existing one is a bug.
    async fn create_upload(&self, upload: &Upload) -> Result<(), Error>;

    /// The owner's upload, or `None` (also when it is another user's).
    async fn upload(&self, owner: &UserId, id: &UploadId) -> Result<Option<Upload>, Error>;

    /// Sets the status to `to` only if it is one of `from` (one conditional
    /// write); `false` when it was not, or the record is gone.
    async fn set_status(
        &self,
        owner: &UserId,
        id: &UploadId,
        from: &[UploadStatus],
        to: UploadStatus,
    ) -> Result<bool, Error>;
}
