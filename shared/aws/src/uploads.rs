//! Upload records: `UPLOADS#<owner>` / `UPLOAD#<id>`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use galley_shared::Error;
use galley_shared::id::{UploadId, UserId};
use galley_shared::ports::UploadRecords;
use galley_shared::uploads::{StoredUpload, Upload, UploadStatus};

use crate::DynamoStore;
use crate::errors::sdk_error;
use crate::item::{Item, Reader, key, n, s};

fn upload_key(owner: &UserId, id: &UploadId) -> Item {
    key(format!("UPLOADS#{owner}"), &format!("UPLOAD#{id}"))
}

fn upload_from_item(item: &Item) -> Result<Upload, Error> {
    let r = Reader(item);
    Upload::restore(StoredUpload {
        id: r.s("id")?,
        owner: r.s("owner")?,
        filename: r.s("filename")?,
        content_type: r.s("content_type")?,
        size: r.n("size")?,
        status: r.s("status")?,
        created_at: r.n("created_at")?,
    })
}

#[async_trait]
impl UploadRecords for DynamoStore {
    async fn create_upload(&self, upload: &Upload) -> Result<(), Error> {
        let mut item = upload_key(&upload.owner, &upload.id);
        item.insert("id".into(), s(upload.id.as_str()));
        item.insert("owner".into(), s(upload.owner.as_str()));
        item.insert("filename".into(), s(upload.filename.as_str()));
        item.insert("content_type".into(), s(upload.content_type.mime()));
        item.insert("size".into(), n(upload.size.bytes()));
        item.insert("status".into(), s(upload.status.as_str()));
        item.insert("created_at".into(), n(upload.created_at.unix_timestamp()));
        self.client
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| sdk_error("PutItem", e))?;
        Ok(())
    }

    async fn upload(&self, owner: &UserId, id: &UploadId) -> Result<Option<Upload>, Error> {
        let output = self
            .client
            .get_item()
            .table_name(self.table())
            .set_key(Some(upload_key(owner, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        output.item().map(upload_from_item).transpose()
    }

    async fn set_status(
        &self,
        owner: &UserId,
        id: &UploadId,
        from: &[UploadStatus],
        to: UploadStatus,
    ) -> Result<bool, Error> {
        if from.is_empty() {
            return Ok(false);
        }
        let names: Vec<String> = (0..from.len()).map(|i| format!(":from{i}")).collect();
        let mut update = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(upload_key(owner, id)))
            .update_expression("SET #status = :to")
            .condition_expression(format!("attribute_exists(pk) AND #status IN ({})", names.join(", ")))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", AttributeValue::S(to.as_str().into()));
        for (name, status) in names.iter().zip(from) {
            update = update.expression_attribute_values(name, s(status.as_str()));
        }
        match update.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(sdk_error("UpdateItem", e)),
        }
    }
}
