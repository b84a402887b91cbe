//! The target of a move from the box (`galley migrate`): each record's
//! items, built by the same functions the adapters write them with, put
//! whole by `BatchWriteItem` (a record written again replaces itself), and
//! its bytes put to S3; the counts read back by one scan of the table and
//! one listing of the bucket.

use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob as DynamoBlob;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use aws_sdk_s3::primitives::ByteStream;
use futures_util::{StreamExt, TryStreamExt, stream};
use galley_shared::Error;
use galley_shared::migration::{Blob, Counts, KeyRecord, Kind, Record};
use galley_shared::ports::Import;

use crate::DynamoStore;
use crate::admin::audit_item;
use crate::catalog::{index_items, record_item};
use crate::charges::{charge_item, event_item, intent_item, refund_item};
use crate::errors::{sdk_error, service_error};
use crate::item::{Item, Reader, n, s};
use crate::notices::notice_item;
use crate::orders::{order_item, order_pointer_item, record_key};
use crate::promotions::{promotion_item, use_item};
use crate::s3::S3Blobs;
use crate::uploads::upload_item;

/// Blobs put at once.
const PUTS_AT_ONCE: usize = 8;

/// The stack's table and bucket, as a move's target.
pub struct AwsImport {
    table: DynamoStore,
    bucket: S3Blobs,
}

impl AwsImport {
    pub fn new(table: DynamoStore, bucket: S3Blobs) -> Self {
        Self { table, bucket }
    }

    /// Names the target, so a checkpoint never resumes a move into another.
    pub fn name(&self) -> String {
        format!("dynamodb:{} s3:{}", self.table.table(), self.bucket.bucket())
    }
}

fn key_record_item(r: &KeyRecord) -> Item {
    let mut item = record_key(&r.scope);
    item.insert("fingerprint".into(), s(r.fingerprint.as_str()));
    item.insert("complete".into(), n(u8::from(r.complete)));
    if let Some(claim) = &r.claim {
        item.insert("claim".into(), s(claim));
    }
    item.insert("lease_until".into(), n(r.lease_until));
    if let Some(progress) = &r.progress {
        item.insert("progress".into(), s(progress));
    }
    if let Some(status) = r.status {
        item.insert("status".into(), n(status));
    }
    if let Some(body) = &r.body {
        item.insert("body".into(), AttributeValue::B(DynamoBlob::new(body.to_vec())));
    }
    item.insert("expires_at".into(), n(r.expires_at));
    if let Some(keep_until) = r.keep_until {
        item.insert("keep_until".into(), n(keep_until));
    }
    item
}

/// The items a record is kept as.
fn items(record: &Record) -> Result<Vec<Item>, Error> {
    Ok(match record {
        Record::Product(r) => {
            let mut items = vec![record_item(&r.product, r.archived, r.version, r.updated_at)];
            // An archived product is never found: it has no index items.
            if !r.archived {
                items.extend(index_items(&r.product));
            }
            items
        }
        Record::User(user) => vec![crate::accounts::user_item(user)],
        Record::Promotion(p) => vec![promotion_item(p)?],
        Record::Order(stored) => {
            vec![order_item(&stored.order, stored.key.as_ref(), stored.settle_from)?, order_pointer_item(&stored.order)]
        }
        Record::PromotionUse { code, user, order } => vec![use_item(code, user, order)],
        Record::IdempotencyRecord(r) => vec![key_record_item(r)],
        Record::Notice(entry) => vec![notice_item(&entry.notice, entry.sent)?],
        Record::Charge { order, entry } => vec![charge_item(order, entry)],
        Record::Refund { order, refund, amount } => vec![refund_item(order, refund, *amount)],
        Record::Intent { order, intent } => vec![intent_item(order, intent)],
        Record::Event { id, expires_at } => vec![event_item(id, *expires_at)],
        Record::Upload(upload) => vec![upload_item(upload)],
        Record::Audit(entry) => vec![audit_item(entry)?],
        Record::Blob(_) => Vec::new(),
    })
}

/// The kind an item counts as, if it is a record's own (not an index
/// item, a pointer, a quota or a note); lapsed items count as gone.
fn kind_of(item: &Item, now: i64) -> Option<Kind> {
    let r = Reader(item);
    let (pk, sk) = (r.s("pk").ok()?, r.s("sk").ok()?);
    let live = || !item.contains_key("expires_at") || r.n::<i64>("expires_at").is_ok_and(|at| at > now);
    let (prefix, _) = pk.split_once('#').unwrap_or((pk, ""));
    match (prefix, sk) {
        ("PRODUCT", "PRODUCT") => Some(Kind::Products),
        ("USER", "USER") => Some(Kind::Users),
        ("PROMO", "PROMO") => Some(Kind::Promotions),
        ("ORDERS", _) => Some(Kind::Orders),
        // A redemption given back keeps its item without the order.
        ("PROMOUSE", "USE") => item.contains_key("order_id").then_some(Kind::PromotionUses),
        ("IDEMP", "IDEMP") => live().then_some(Kind::IdempotencyRecords),
        ("OUTBOX", _) => Some(Kind::Notices),
        ("CHARGE", "CHARGE") => Some(Kind::Charges),
        ("CHARGE", "INTENT") => Some(Kind::Intents),
        ("CHARGE", refund) if refund.starts_with("REFUND#") => Some(Kind::Refunds),
        ("EVENT", "EVENT") => live().then_some(Kind::Events),
        ("UPLOADS", upload) if upload.starts_with("UPLOAD#") => Some(Kind::Uploads),
        ("AUDIT", _) => Some(Kind::Audit),
        _ => None,
    }
}

impl AwsImport {
    async fn put_blob(&self, blob: &Blob) -> Result<(), Error> {
        self.bucket
            .client()
            .put_object()
            .bucket(self.bucket.bucket())
            .key(&blob.key)
            .content_type(&blob.content_type)
            .set_cache_control(blob.cache_control.clone())
            .body(ByteStream::from(blob.bytes.clone()))
            .send()
            .await
            .map_err(|e| service_error("s3", "PutObject", e))?;
        Ok(())
    }

    async fn count_items(&self, now: i64, counts: &mut Counts) -> Result<(), Error> {
        let mut start = None;
        loop {
            let output = self
                .table
                .client()
                .scan()
                .table_name(self.table.table())
                .projection_expression("pk, sk, expires_at, order_id")
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("Scan", e))?;
            for kind in output.items().iter().filter_map(|item| kind_of(item, now)) {
                *counts.entry(kind).or_default() += 1;
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(());
            }
        }
    }

    async fn count_blobs(&self) -> Result<u64, Error> {
        let mut pages = self.bucket.client().list_objects_v2().bucket(self.bucket.bucket()).into_paginator().send();
        let mut blobs = 0;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| service_error("s3", "ListObjectsV2", e))?;
            blobs += page.contents().len() as u64;
        }
        Ok(blobs)
    }
}

#[async_trait]
impl Import for AwsImport {
    async fn write(&self, records: &[Record]) -> Result<(), Error> {
        let mut writes = Vec::new();
        for record in records {
            for item in items(record)? {
                let put = PutRequest::builder().set_item(Some(item)).build().map_err(Error::internal)?;
                writes.push(WriteRequest::builder().put_request(put).build());
            }
        }
        self.table.batch_write(writes).await?;
        let blobs: Vec<Blob> =
            records.iter().filter_map(|r| if let Record::Blob(blob) = r { Some(blob.clone()) } else { None }).collect();
        stream::iter(blobs)
            .map(|blob| async move { self.put_blob(&blob).await })
            .buffer_unordered(PUTS_AT_ONCE)
            .try_collect::<()>()
            .await
    }

    async fn counts(&self, now: i64) -> Result<Counts, Error> {
        let mut counts: Counts = Kind::ALL.iter().map(|kind| (*kind, 0)).collect();
        self.count_items(now, &mut counts).await?;
        counts.insert(Kind::Blobs, self.count_blobs().await?);
        Ok(counts)
    }
}
