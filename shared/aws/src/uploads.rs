//! Upload records: `UPLOADS#<owner>` / `UPLOAD#<id>`, and beside them the
//! owner's pending-upload quota (`UPLOADS#<owner>` / `PENDING`): a map of the
//! tickets it holds (upload id → creation time). A ticket takes its slot
//! with one conditional update (`size(held) < 20`), so racing tickets never
//! pass the cap and never wait on each other; slots of expired tickets, of
//! uploads whose bytes arrived, and of records never written (a crash after
//! the slot) are given back when the map is full.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use galley_shared::Error;
use galley_shared::id::{UploadId, UserId};
use galley_shared::ports::UploadRecords;
use galley_shared::uploads::{MAX_PENDING_UPLOADS, PENDING_TTL, StoredUpload, Upload, UploadStatus};

use crate::DynamoStore;
use crate::errors::{applied, sdk_error};
use crate::item::{Item, Reader, key, n, s};
use crate::transact::RETRY;

fn upload_key(owner: &UserId, id: &UploadId) -> Item {
    key(format!("UPLOADS#{owner}"), &format!("UPLOAD#{id}"))
}

pub(crate) fn upload_item(upload: &Upload) -> Item {
    let mut item = upload_key(&upload.owner, &upload.id);
    item.insert("id".into(), s(upload.id.as_str()));
    item.insert("owner".into(), s(upload.owner.as_str()));
    item.insert("filename".into(), s(upload.filename.as_str()));
    item.insert("content_type".into(), s(upload.content_type.mime()));
    item.insert("size".into(), n(upload.size.bytes()));
    item.insert("status".into(), s(upload.status.as_str()));
    item.insert("created_at".into(), n(upload.created_at.unix_timestamp()));
    item
}

fn quota_key(owner: &UserId) -> Item {
    key(format!("UPLOADS#{owner}"), "PENDING")
}

/// The quota item's tickets: upload id → creation time.
fn held_from_item(item: Option<&Item>) -> Result<Vec<(String, i64)>, Error> {
    let corrupt = || Error::internal("corrupt upload quota item");
    match item.and_then(|item| item.get("held")) {
        Some(AttributeValue::M(held)) => held
            .iter()
            .map(|(id, at)| Ok((id.clone(), at.as_n().ok().and_then(|n| n.parse().ok()).ok_or_else(corrupt)?)))
            .collect(),
        _ => Ok(Vec::new()),
    }
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

impl DynamoStore {
    /// Takes a slot of the owner's quota for `id`, giving back stale ones
    /// when the map is full.
    async fn take_slot(&self, owner: &UserId, id: &UploadId, now: i64) -> Result<(), Error> {
        let ttl = PENDING_TTL.as_secs() as i64;
        let mut made_quota = false;
        for round in 1..=RETRY.attempts {
            if round > 1 {
                RETRY.wait(round - 1).await;
            }
            let taken = self
                .client
                .update_item()
                .table_name(self.table())
                .set_key(Some(quota_key(owner)))
                .update_expression("SET held.#id = :at, expires_at = :expires")
                .condition_expression("attribute_not_exists(held.#id) AND size(held) < :max")
                .expression_attribute_names("#id", id.as_str())
                .expression_attribute_values(":at", n(now))
                .expression_attribute_values(":expires", n(now + ttl))
                .expression_attribute_values(":max", n(MAX_PENDING_UPLOADS))
                .send()
                .await;
            let error = match taken {
                Ok(_) => return Ok(()),
                Err(error) => error,
            };
            if !error.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) {
                // No quota item yet (moto answers a map path without its map
                // so): make an empty one, or let the racer that did, and try
                // again once; a second such error is a real one.
                if made_quota {
                    return Err(sdk_error("UpdateItem", error));
                }
                self.create_quota(owner).await?;
                made_quota = true;
                continue;
            }
            let read = self
                .client
                .get_item()
                .table_name(self.table())
                .set_key(Some(quota_key(owner)))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| sdk_error("GetItem", e))?;
            if read.item().is_none() {
                // DynamoDB fails the condition on a missing item (`size` of
                // nothing): the first ticket makes the quota item.
                self.create_quota(owner).await?;
                continue;
            }
            let held = held_from_item(read.item())?;
            if held.iter().any(|(held_id, _)| held_id == id.as_str()) {
                // The id is this ticket's own, new (a ULID): the slot is
                // ours, taken by a first write whose answer was lost and
                // which the SDK's retry then found (the chaos run's
                // reset-after-forwarding; it answered 500).
                return Ok(());
            }
            let live: Vec<(String, i64)> = held.iter().filter(|(_, at)| *at > now - ttl).cloned().collect();
            let pending = self.still_pending(owner, live).await?;
            let stale: Vec<&String> =
                held.iter().map(|(held_id, _)| held_id).filter(|h| !pending.iter().any(|(p, _)| p == *h)).collect();
            if stale.is_empty() {
                let oldest = pending.iter().map(|(_, at)| *at).min().unwrap_or(now);
                return Err(Error::TooManyUploads { retry_after_secs: (oldest + ttl - now).max(1) as u64 });
            }
            self.give_back(owner, &stale).await?;
        }
        Err(Error::unavailable("upload quota too contended"))
    }

    /// Creates the owner's empty quota item; `false` if one was there.
    async fn create_quota(&self, owner: &UserId) -> Result<bool, Error> {
        let mut item = quota_key(owner);
        item.insert("held".into(), AttributeValue::M(Default::default()));
        let put = self
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(sdk_error("PutItem", e)),
        }
    }

    /// Removes slots (idempotent: a slot already gone is no error).
    async fn give_back(&self, owner: &UserId, ids: &[&String]) -> Result<(), Error> {
        let paths: Vec<String> = (0..ids.len()).map(|i| format!("held.#s{i}")).collect();
        let mut update = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(quota_key(owner)))
            .update_expression(format!("REMOVE {}", paths.join(", ")));
        for (i, id) in ids.iter().enumerate() {
            update = update.expression_attribute_names(format!("#s{i}"), id.as_str());
        }
        update.send().await.map_err(|e| sdk_error("UpdateItem", e))?;
        Ok(())
    }

    /// The tickets of `held` whose upload record exists and is still pending.
    async fn still_pending(&self, owner: &UserId, held: Vec<(String, i64)>) -> Result<Vec<(String, i64)>, Error> {
        if held.is_empty() {
            return Ok(held);
        }
        let keys =
            held.iter().filter_map(|(id, _)| UploadId::parse(id).ok()).map(|id| upload_key(owner, &id)).collect();
        let pending: std::collections::HashSet<String> = self
            .batch_get(keys)
            .await?
            .iter()
            .filter(|item| Reader(item).s("status").is_ok_and(|status| status == UploadStatus::Pending.as_str()))
            .filter_map(|item| Reader(item).s("id").ok().map(str::to_owned))
            .collect();
        Ok(held.into_iter().filter(|(id, _)| pending.contains(id)).collect())
    }
}

#[async_trait]
impl UploadRecords for DynamoStore {
    async fn create_upload(&self, upload: &Upload) -> Result<(), Error> {
        let now = upload.created_at.unix_timestamp();
        self.take_slot(&upload.owner, &upload.id, now).await?;
        let item = upload_item(upload);
        let put = self
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            // The record is there: if it is this one, the first write
            // applied and its answer was lost before the SDK retried.
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                match self.upload(&upload.owner, &upload.id).await? {
                    Some(found) if found.created_at.unix_timestamp() == now && found.filename == upload.filename => {
                        Ok(())
                    }
                    _ => Err(sdk_error("PutItem", e)),
                }
            }
            Err(e) => Err(sdk_error("PutItem", e)),
        }
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
        applied(update).await
    }
}
