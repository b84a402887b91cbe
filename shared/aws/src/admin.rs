//! The back office on DynamoDB: product records (archived ones too) and the
//! audit log (`pk=AUDIT`, `sk=<ULID>`). Every admin write is one
//! `TransactWriteItems`: the product's conditional write, the audit entry's
//! put and the idempotency record's completion. A product's search index
//! items (up to ~150 of them) cannot fit in the same transaction; they are
//! rewritten right after it. So that a crash between the two cannot leave
//! the index stale for good, the transaction also notes the product under
//! `pk=REINDEX` with the index keys its previous version had; the rewrite
//! clears the note, and the settler repairs notes left behind (see
//! docs/data-model.md).

use std::collections::HashSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, TransactWriteItem, WriteRequest};
use galley_shared::Error;
use galley_shared::admin::{AuditEntry, ProductRecord, RecordFilter};
use galley_shared::id::{AuditId, ProductId};
use galley_shared::ports::{AdminWrite, AuditLog, ProductChange, ProductRecords, RecordListing};

use crate::DynamoStore;
use crate::catalog::{
    Condition, Keep, Partition, index_items, index_keys, is_archived, pk_sk, product_from_item, product_key,
    record_item,
};
use crate::errors::sdk_error;
use crate::item::{Item, Reader, key, n, s};
use crate::orders::update;
use crate::transact::Outcome;

const AUDIT_PARTITION: &str = "AUDIT";
const REINDEX_PARTITION: &str = "REINDEX";
/// Joins an index item's pk and sk in the note's string set.
const KEY_SEPARATOR: char = '\u{1f}';

fn reindex_key(id: &ProductId) -> Item {
    key(REINDEX_PARTITION.to_owned(), id.as_str())
}

pub(crate) fn audit_item(entry: &AuditEntry) -> Result<Item, Error> {
    let mut audit = key(AUDIT_PARTITION.to_owned(), entry.id.as_str());
    audit.insert("doc".into(), s(serde_json::to_string(entry).map_err(Error::internal)?));
    Ok(audit)
}

fn record_from_item(item: &Item) -> Result<ProductRecord, Error> {
    let r = Reader(item);
    Ok(ProductRecord {
        product: product_from_item(item)?,
        archived: is_archived(item),
        // Items written before #22 have neither: version 1, time unknown.
        version: if item.contains_key("version") { r.n("version")? } else { 1 },
        updated_at: if item.contains_key("updated_at") { r.n("updated_at")? } else { 0 },
    })
}

impl DynamoStore {
    /// The change's transaction action.
    fn change_action(&self, change: &ProductChange) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, Error> {
        match change {
            ProductChange::Create(r) => {
                self.table_put(record_item(&r.product, r.archived, r.version, r.updated_at), "attribute_not_exists(pk)")
            }
            ProductChange::Replace { record: r, previous } => {
                // Every attribute but the key and the stock, which sales move meanwhile.
                let item = record_item(&r.product, r.archived, r.version, r.updated_at);
                let mut sets = Vec::new();
                let mut builder = update(product_key(&r.product.id));
                for (i, (name, value)) in
                    item.into_iter().filter(|(k, _)| !matches!(k.as_str(), "pk" | "sk" | "stock")).enumerate()
                {
                    sets.push(format!("#a{i} = :a{i}"));
                    builder = builder
                        .expression_attribute_names(format!("#a{i}"), name)
                        .expression_attribute_values(format!(":a{i}"), value);
                }
                let mut removes = Vec::new();
                if r.product.image_url.is_none() {
                    removes.push("image_url");
                }
                let mut expression = format!("SET {}", sets.join(", "));
                if !removes.is_empty() {
                    expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
                }
                // Version 1 may be an item from before versions were kept.
                let condition = if previous.version == 1 {
                    "attribute_exists(pk) AND (#version = :expected OR attribute_not_exists(#version))"
                } else {
                    "attribute_exists(pk) AND #version = :expected"
                };
                self.table_update(
                    builder
                        .update_expression(expression)
                        .condition_expression(condition)
                        .expression_attribute_names("#version", "version")
                        .expression_attribute_values(":expected", n(previous.version)),
                )
            }
            ProductChange::Stock { id, from, to } => self.table_update(
                update(product_key(id))
                    .update_expression("SET stock = :to")
                    .condition_expression("stock = :from")
                    .expression_attribute_values(":from", n(*from))
                    .expression_attribute_values(":to", n(*to)),
            ),
        }
    }

    /// The note that goes in the transaction of a create or replace: when
    /// (`at`), by which write (`token`), and the index keys the previous
    /// version had, added to any a write before it left unrepaired.
    fn reindex_note(&self, change: &ProductChange, at: i64, token: &str) -> Result<Option<TransactWriteItem>, Error> {
        let (id, previous) = match change {
            ProductChange::Create(record) => (&record.product.id, None),
            ProductChange::Replace { record, previous } => (&record.product.id, Some(previous)),
            ProductChange::Stock { .. } => return Ok(None),
        };
        let stale: Vec<String> = previous
            .filter(|p| !p.archived)
            .map(|p| index_keys(&p.product).iter().map(|k| joined(&pk_sk(k))).collect())
            .unwrap_or_default();
        let mut builder = update(reindex_key(id))
            .expression_attribute_names("#at", "at")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":at", n(at))
            .expression_attribute_values(":token", s(token));
        // DynamoDB has no empty sets: a new product has nothing stale.
        builder = if stale.is_empty() {
            builder.update_expression("SET #at = :at, #token = :token")
        } else {
            builder
                .update_expression("SET #at = :at, #token = :token ADD stale :stale")
                .expression_attribute_values(":stale", AttributeValue::Ss(stale))
        };
        self.table_update(builder).map(Some)
    }

    /// Rewrites a noted product's index items from its item as it is now
    /// (none when archived or gone), deletes every stale key the note holds
    /// that the product no longer has, then clears the note unless a newer
    /// write has noted it again meanwhile. Safe to run any number of times.
    async fn reindex(&self, id: &ProductId) -> Result<bool, Error> {
        let Some(note) = self.read_item(reindex_key(id)).await? else { return Ok(false) };
        let token = Reader(&note).s("token")?.to_owned();
        let mut stale: Vec<String> = match note.get("stale") {
            Some(AttributeValue::Ss(keys)) => keys.clone(),
            _ => Vec::new(),
        };
        loop {
            let current = self.product_item(id).await?;
            let version = current.as_ref().map(version_of).transpose()?;
            let fresh = match &current {
                Some(item) if !is_archived(item) => index_items(&product_from_item(item)?),
                _ => Vec::new(),
            };
            let keep: HashSet<String> = fresh.iter().map(|item| joined(&pk_sk(item))).collect();
            let mut writes = Vec::new();
            for stale in stale.iter().filter(|k| !keep.contains(*k)) {
                let Some((pk, sk)) = stale.split_once(KEY_SEPARATOR) else { continue };
                let delete =
                    DeleteRequest::builder().set_key(Some(key(pk.to_owned(), sk))).build().map_err(Error::internal)?;
                writes.push(WriteRequest::builder().delete_request(delete).build());
            }
            for item in fresh {
                let put = PutRequest::builder().set_item(Some(item)).build().map_err(Error::internal)?;
                writes.push(WriteRequest::builder().put_request(put).build());
            }
            self.batch_write(writes).await?;
            // A write that committed while these items were being written
            // may have finished its own rewrite first, and these would then
            // be the stale ones: write again from the newer version, with
            // what was just written as its stale set.
            let after = self.product_item(id).await?.as_ref().map(version_of).transpose()?;
            if after == version {
                break;
            }
            stale = keep.into_iter().collect();
        }
        let cleared = self
            .client
            .delete_item()
            .table_name(self.table.as_ref())
            .set_key(Some(reindex_key(id)))
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":token", s(&token))
            .send()
            .await;
        match cleared {
            Ok(_) => Ok(true),
            // A newer write noted the product again; its own rewrite (or
            // the next repair) clears it.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(true),
            Err(e) => Err(sdk_error("DeleteItem", e)),
        }
    }
}

fn version_of(item: &Item) -> Result<u64, Error> {
    if item.contains_key("version") { Reader(item).n("version") } else { Ok(1) }
}

fn joined((pk, sk): &(String, String)) -> String {
    format!("{pk}{KEY_SEPARATOR}{sk}")
}

#[async_trait]
impl ProductRecords for DynamoStore {
    async fn product_record(&self, id: &ProductId) -> Result<Option<ProductRecord>, Error> {
        self.product_item(id).await?.as_ref().map(record_from_item).transpose()
    }

    /// Live and archived products sit in separate partitions: with no
    /// `archived` filter both are read (half the budget each) and merged in
    /// title order.
    async fn product_records(
        &self,
        filter: &RecordFilter,
        after: Option<&str>,
        limit: usize,
        budget: usize,
    ) -> Result<RecordListing, Error> {
        let kinds: &[bool] = match filter.archived {
            Some(archived) => {
                if archived {
                    &[true]
                } else {
                    &[false]
                }
            }
            None => &[false, true],
        };
        let mut conditions: Vec<Condition> = Vec::new();
        if let Some(below) = filter.stock_below {
            conditions.push(("stock < :below", ":below", n(below)));
        }
        // Words are matched on the product as read: no expression can.
        let words = |item: &Item| Ok(galley_shared::search::matches(&filter.words, &product_from_item(item)?));
        let keep: Option<Keep<'_>> = if filter.words.is_empty() { None } else { Some(&words) };
        let share = (budget / kinds.len()).max(1);
        let mut records = Vec::new();
        let mut read_up_to: Option<String> = None;
        for &archived in kinds {
            let partition = match &filter.category {
                Some(category) => Partition::category(category, archived),
                None => Partition::catalog(archived),
            };
            let (items, stopped) = self.title_ordered(&partition, after, (&conditions, keep), limit, share).await?;
            for item in &items {
                records.push(record_from_item(item)?);
            }
            // Where the merged page may end: the earlier of the stops, so
            // nothing of either partition before it is skipped.
            if let Some(stopped) = stopped {
                read_up_to = Some(match read_up_to {
                    Some(earlier) if earlier <= stopped => earlier,
                    _ => stopped,
                });
            }
        }
        records.sort_by_key(|r| r.product.title_order_key());
        if let Some(stop) = &read_up_to {
            records.retain(|r| r.product.title_order_key() <= *stop);
        }
        records.truncate(limit);
        Ok(RecordListing { records, read_up_to })
    }

    async fn apply(&self, write: &AdminWrite<'_>) -> Result<bool, Error> {
        let committed = self.commit(write).await?;
        if committed
            && let Some(id) = write.change.reindexed()
            && let Err(error) = self.reindex(id).await
        {
            // The change is stored: answering an error would make the client
            // retry a write that is done (412 or 409 the second time). The
            // note stays, and the settler finishes the rewrite.
            tracing::warn!(product_id = %id, %error, "search index rewrite failed; the settler repairs it");
        }
        Ok(committed)
    }

    async fn repair_index(&self, noted_before: i64, batch: usize) -> Result<usize, Error> {
        let mut repaired = 0;
        let mut start = None;
        loop {
            // `Limit` counts notes read before the filter: page on, so recent
            // notes never hide older ones.
            let output = self
                .client
                .query()
                .table_name(self.table.as_ref())
                .key_condition_expression("pk = :reindex")
                .filter_expression("#at < :before")
                .expression_attribute_names("#at", "at")
                .expression_attribute_values(":reindex", s(REINDEX_PARTITION))
                .expression_attribute_values(":before", n(noted_before))
                .consistent_read(true)
                .limit(i32::try_from(batch).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))?;
            for note in output.items() {
                let id = ProductId::parse(Reader(note).s("sk")?).map_err(Error::internal)?;
                // One product that fails waits for the next run; the rest go on.
                match self.reindex(&id).await {
                    Ok(true) => {
                        tracing::info!(product_id = %id, "repaired a search index a lost write left stale");
                        repaired += 1;
                    }
                    Ok(false) => {}
                    Err(error) => tracing::warn!(product_id = %id, %error, "search index not repaired"),
                }
                if repaired >= batch {
                    return Ok(repaired);
                }
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(repaired);
            }
        }
    }
}

impl DynamoStore {
    /// An audit entry appended, inside the transaction of its change.
    pub(crate) fn audit_action(&self, entry: &AuditEntry) -> Result<TransactWriteItem, Error> {
        self.table_put(audit_item(entry)?, "attribute_not_exists(pk)")
    }

    /// The transaction of an admin write, without the index rewrite that
    /// follows it: `apply` is this, then `reindex`. Public so that a test
    /// can stop where a crash would.
    #[doc(hidden)]
    pub async fn commit(&self, write: &AdminWrite<'_>) -> Result<bool, Error> {
        let mut actions = vec![self.change_action(&write.change)?, self.audit_action(&write.audit)?];
        if let Some((hold, response)) = &write.completion {
            actions.push(self.complete_action(hold, response)?);
        }
        // The audit entry's id is unique to this write: the note's token.
        if let Some(note) =
            self.reindex_note(&write.change, write.audit.at.unix_timestamp(), write.audit.id.as_str())?
        {
            actions.push(note);
        }
        match self.transact(actions).await? {
            Outcome::Committed => {}
            refused if refused.failed_in(0..1) => return Ok(false),
            // The lease lapsed and a retry took the key over.
            Outcome::Refused(_) => return Err(Error::RequestInProgress),
        }
        Ok(true)
    }
}

#[async_trait]
impl AuditLog for DynamoStore {
    async fn entries(&self, before: Option<&AuditId>, limit: usize) -> Result<Vec<AuditEntry>, Error> {
        let mut entries = Vec::with_capacity(limit);
        let mut start = None;
        // A Query answers at most 1 MB: entries with long before/after views
        // can come back fewer than asked, with more to read.
        loop {
            let mut query = self
                .client
                .query()
                .table_name(self.table.as_ref())
                .expression_attribute_values(":audit", s(AUDIT_PARTITION))
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(i32::try_from(limit - entries.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start);
            query = match before {
                Some(before) => query
                    .key_condition_expression("pk = :audit AND sk < :before")
                    .expression_attribute_values(":before", s(before.as_str())),
                None => query.key_condition_expression("pk = :audit"),
            };
            let output = query.send().await.map_err(|e| sdk_error("Query", e))?;
            for item in output.items() {
                let entry = serde_json::from_str(Reader(item).s("doc")?)
                    .map_err(|e| Error::internal(format!("corrupt audit entry: {e}")))?;
                entries.push(entry);
            }
            start = output.last_evaluated_key;
            if start.is_none() || entries.len() >= limit {
                return Ok(entries);
            }
        }
    }
}
