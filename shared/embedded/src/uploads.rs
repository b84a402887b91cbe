//! Upload records in the `uploads` table.

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::id::{UploadId, UserId};
use galley_shared::ports::UploadRecords;
use galley_shared::uploads::{MAX_PENDING_UPLOADS, PENDING_TTL, StoredUpload, Upload, UploadStatus};
use rusqlite::{OptionalExtension, params};

use crate::EmbeddedStore;
use crate::db::store_error;

pub(crate) type Row = (String, String, String, String, i64, String, i64);

pub(crate) fn restore(row: &Row) -> Result<Upload, Error> {
    let (id, owner, filename, content_type, size, status, created_at) = row;
    Upload::restore(StoredUpload {
        id,
        owner,
        filename,
        content_type,
        size: u64::try_from(*size).map_err(Error::internal)?,
        status,
        created_at: *created_at,
    })
}

#[async_trait]
impl UploadRecords for EmbeddedStore {
    async fn create_upload(&self, upload: &Upload) -> Result<(), Error> {
        let upload = upload.clone();
        self.db
            .write(move |tx| {
                let created = upload.created_at.unix_timestamp();
                let since = created - PENDING_TTL.as_secs() as i64;
                let (held, oldest): (i64, Option<i64>) = tx
                    .query_row(
                        "SELECT COUNT(*), MIN(created_at) FROM uploads
                         WHERE owner = ?1 AND status = 'pending' AND created_at > ?2",
                        params![upload.owner.as_str(), since],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .map_err(store_error)?;
                if held >= MAX_PENDING_UPLOADS as i64 {
                    let frees_at = oldest.unwrap_or(created) + PENDING_TTL.as_secs() as i64;
                    return Err(Error::TooManyUploads { retry_after_secs: (frees_at - created).max(1) as u64 });
                }
                let inserted = tx
                    .execute(
                        "INSERT INTO uploads (owner, id, filename, content_type, size, status, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                        params![
                            upload.owner.as_str(),
                            upload.id.as_str(),
                            upload.filename.as_str(),
                            upload.content_type.mime(),
                            i64::try_from(upload.size.bytes()).map_err(Error::internal)?,
                            upload.status.as_str(),
                            upload.created_at.unix_timestamp(),
                        ],
                    )
                    .map_err(store_error)?;
                if inserted == 0 {
                    // The same record again is the create retried (as a
                    // DynamoDB write whose answer was lost is); another
                    // record never takes an id that is taken.
                    let same: Option<(String, i64)> = tx
                        .query_row(
                            "SELECT filename, created_at FROM uploads WHERE owner = ?1 AND id = ?2",
                            params![upload.owner.as_str(), upload.id.as_str()],
                            |row| Ok((row.get(0)?, row.get(1)?)),
                        )
                        .optional()
                        .map_err(store_error)?;
                    if same != Some((upload.filename.as_str().to_owned(), created)) {
                        return Err(Error::internal("upload id already taken"));
                    }
                }
                Ok(())
            })
            .await
    }

    async fn upload(&self, owner: &UserId, id: &UploadId) -> Result<Option<Upload>, Error> {
        let (owner, id) = (owner.clone(), id.clone());
        self.db
            .read(move |conn| {
                let row: Option<Row> = conn
                    .query_row(
                        "SELECT id, owner, filename, content_type, size, status, created_at
                         FROM uploads WHERE owner = ?1 AND id = ?2",
                        params![owner.as_str(), id.as_str()],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
                    )
                    .optional()
                    .map_err(store_error)?;
                row.as_ref().map(restore).transpose()
            })
            .await
    }

    async fn set_status(
        &self,
        owner: &UserId,
        id: &UploadId,
        from: &[UploadStatus],
        to: UploadStatus,
    ) -> Result<bool, Error> {
        let (owner, id) = (owner.clone(), id.clone());
        let from: Vec<&'static str> = from.iter().map(|s| s.as_str()).collect();
        self.db
            .write(move |tx| {
                let current: Option<String> = tx
                    .query_row(
                        "SELECT status FROM uploads WHERE owner = ?1 AND id = ?2",
                        params![owner.as_str(), id.as_str()],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(store_error)?;
                if !current.is_some_and(|status| from.contains(&status.as_str())) {
                    return Ok(false);
                }
                tx.execute(
                    "UPDATE uploads SET status = ?3 WHERE owner = ?1 AND id = ?2",
                    params![owner.as_str(), id.as_str(), to.as_str()],
                )
                .map_err(store_error)?;
                Ok(true)
            })
            .await
    }
}
