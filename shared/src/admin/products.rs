//! The product desk: the back office's product routes, each write one
//! atomic write with its audit entry.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::audit::{Actor, AuditEntry, AuditTarget};
use super::edits::{NewProduct, ProductPatch, RecordFilter, StockMove};
use super::images::ImageHost;
use super::record::{AdminProductView, ProductRecord};
use crate::backoff::{Backoff, RETRY};
use crate::catalog::Product;
use crate::clock::Clock;
use crate::error::{Error, FieldError};
use crate::id::{AuditId, ProductId};
use crate::idempotency::{Claim, Fingerprint, Guard, IdempotencyKey, IdempotencyScope, StoredResponse};
use crate::orders::AnswerError;
use crate::ports::{AdminWrite, IdempotencyRecords, ProductChange, ProductRecords};
use crate::stock::{MAX_STOCK, StockLevel};

/// Products one admin listing request reads at most (as `LIST_BUDGET`).
pub const RECORD_BUDGET: usize = 1_000;

/// How long a stock move holds its key: far longer than its few writes.
const STOCK_LEASE: Duration = Duration::from_secs(30);

/// A stock move reads, then writes on condition that nothing sold since:
/// under a burst of sales it may need more rounds than a write conflict.
const STOCK_RETRY: Backoff = Backoff { attempts: 20, ..RETRY };

/// The answer to a stock move: new, or replayed under its key.
#[derive(Debug)]
pub struct StockAnswer {
    pub response: StoredResponse,
    pub replayed: bool,
}

#[derive(Clone)]
pub struct ProductDesk {
    records: Arc<dyn ProductRecords>,
    keys: Arc<dyn IdempotencyRecords>,
    images: ImageHost,
    clock: Arc<dyn Clock>,
    answer_error: AnswerError,
}

impl ProductDesk {
    pub fn new(
        records: Arc<dyn ProductRecords>,
        keys: Arc<dyn IdempotencyRecords>,
        images: ImageHost,
        clock: Arc<dyn Clock>,
        answer_error: AnswerError,
    ) -> Self {
        Self { records, keys, images, clock, answer_error }
    }

    pub async fn create(&self, actor: &Actor, new: NewProduct) -> Result<ProductRecord, Error> {
        let now = self.clock.unix_now();
        let id = new.id.unwrap_or_else(ProductId::generate);
        let image_url = match &new.image_upload_id {
            Some(upload) => Some(self.images.publish(&actor.id, upload, &id).await?),
            None => None,
        };
        let record = ProductRecord {
            product: Product {
                id,
                title: new.title,
                description: new.description,
                category: new.category,
                price: new.price,
                image_url,
                stock: new.stock,
            },
            archived: false,
            version: 1,
            updated_at: now,
        };
        let audit = self.entry(actor, "product.create", &record.product.id, Value::Null, view(&record), now);
        let write = AdminWrite { change: ProductChange::Create(record.clone()), audit, completion: None };
        if self.records.apply(&write).await? { Ok(record) } else { Err(Error::ProductExists) }
    }

    pub async fn record(&self, id: &ProductId) -> Result<ProductRecord, Error> {
        self.records.product_record(id).await?.ok_or(Error::NotFound)
    }

    /// A page of records in title order after `after`, and the title key
    /// the next page starts after (`None` at the end).
    pub async fn records(
        &self,
        filter: &RecordFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<ProductRecord>, Option<String>), Error> {
        let listing = self.records.product_records(filter, after, limit + 1, RECORD_BUDGET).await?;
        let mut records = listing.records;
        let more = records.len() > limit;
        records.truncate(limit);
        let next = match records.last() {
            Some(last) if more => Some(last.product.title_order_key()),
            _ => listing.read_up_to,
        };
        Ok((records, next))
    }

    /// Applies `patch` if `if_match` is the product's current ETag: none is
    /// `PreconditionRequired`, any other `PreconditionFailed`, and so is a
    /// concurrent edit that wins the race.
    pub async fn patch(
        &self,
        actor: &Actor,
        id: &ProductId,
        if_match: Option<&str>,
        patch: ProductPatch,
    ) -> Result<ProductRecord, Error> {
        let if_match = if_match.ok_or(Error::PreconditionRequired)?;
        let previous = self.record(id).await?;
        if if_match.trim() != previous.etag() {
            return Err(Error::PreconditionFailed);
        }
        let now = self.clock.unix_now();
        let mut record = previous.clone();
        let p = &mut record.product;
        p.title = patch.title.unwrap_or_else(|| p.title.clone());
        p.description = patch.description.unwrap_or_else(|| p.description.clone());
        p.category = patch.category.unwrap_or_else(|| p.category.clone());
        p.price = patch.price.unwrap_or(p.price);
        p.image_url = match &patch.image_upload_id {
            Some(Some(upload)) => Some(self.images.publish(&actor.id, upload, id).await?),
            Some(None) => None,
            None => p.image_url.take(),
        };
        record.archived = patch.archived.unwrap_or(record.archived);
        record.version = previous.version + 1;
        record.updated_at = now;
        let audit = self.entry(actor, "product.update", id, view(&previous), view(&record), now);
        let change = ProductChange::Replace { record: record.clone(), previous };
        let write = AdminWrite { change, audit, completion: None };
        if self.records.apply(&write).await? { Ok(record) } else { Err(Error::PreconditionFailed) }
    }

    /// Moves a product's stock by `delta` once per key: the move, its audit
    /// entry and the stored answer are one write, conditioned on the stock
    /// it read, so a sale racing it makes it read again and never takes the
    /// stock below zero. Every answer after the claim is stored (API.md).
    pub async fn move_stock(
        &self,
        actor: &Actor,
        id: &ProductId,
        stock_move: StockMove,
        key: IdempotencyKey,
        fingerprint: Fingerprint,
    ) -> Result<StockAnswer, Error> {
        let now = self.clock.unix_now();
        let scope = IdempotencyScope { user: actor.id.clone(), key };
        let guard = match Guard::claim(self.keys.clone(), scope, fingerprint, now, STOCK_LEASE).await? {
            Claim::Replay(response) => return Ok(StockAnswer { response, replayed: true }),
            Claim::Held(guard) => guard,
        };
        match self.move_held(actor, id, &stock_move, &guard, now).await {
            Ok(response) => Ok(StockAnswer { response, replayed: false }),
            // A move that would pass MAX_STOCK is refused by the state, not
            // the request's shape: stored like the other final answers.
            Err(error @ (Error::NotFound | Error::InsufficientStock { .. } | Error::Validation(_))) => {
                let response = (self.answer_error)(&error);
                guard.store(&response).await?;
                Ok(StockAnswer { response, replayed: false })
            }
            Err(error) => {
                guard.release().await;
                Err(error)
            }
        }
    }

    async fn move_held(
        &self,
        actor: &Actor,
        id: &ProductId,
        stock_move: &StockMove,
        guard: &Guard,
        now: i64,
    ) -> Result<StoredResponse, Error> {
        for attempt in 1..=STOCK_RETRY.attempts {
            let record = self.record(id).await?;
            let from = record.product.stock;
            let to = i64::from(from) + stock_move.delta;
            if to < 0 {
                return Err(Error::InsufficientStock { available: i64::from(from) });
            }
            let to = StockLevel::try_from(to).ok().filter(|n| *n <= MAX_STOCK).ok_or_else(|| {
                Error::Validation(vec![FieldError::new("delta", format!("would take stock above {MAX_STOCK}"))])
            })?;
            let body = json!({ "product_id": id, "stock": to });
            let response =
                StoredResponse { status: 200, body: serde_json::to_vec(&body).map_err(Error::internal)?.into() };
            let audit = self.entry(
                actor,
                "product.stock",
                id,
                json!({ "stock": from }),
                json!({ "stock": to, "delta": stock_move.delta, "reason": stock_move.reason }),
                now,
            );
            let write = AdminWrite {
                change: ProductChange::Stock { id: id.clone(), from, to },
                audit,
                completion: Some((guard.hold(), response.clone())),
            };
            if self.records.apply(&write).await? {
                return Ok(response);
            }
            // A sale moved the stock after the read: read again, after
            // the backoff, so racing moves spread out.
            STOCK_RETRY.wait(attempt).await;
        }
        Err(Error::unavailable(format!("the stock of {id} kept changing under the move")))
    }

    fn entry(&self, actor: &Actor, action: &str, id: &ProductId, before: Value, after: Value, now: i64) -> AuditEntry {
        AuditEntry {
            id: AuditId::generate(),
            at: OffsetDateTime::from_unix_timestamp(now).unwrap_or(OffsetDateTime::UNIX_EPOCH),
            actor: actor.clone(),
            action: action.to_owned(),
            target: AuditTarget { kind: "product".into(), id: id.to_string() },
            before,
            after,
        }
    }
}

fn view(record: &ProductRecord) -> Value {
    serde_json::to_value(AdminProductView::from(record)).unwrap_or(Value::Null)
}
