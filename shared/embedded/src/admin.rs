//! The back office on SQLite: product records (archived ones too) and the
//! audit log. Every admin write is one transaction: the change, its audit
//! row and the idempotency record it completes.

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::admin::{AuditEntry, ProductRecord, RecordFilter};
use galley_shared::id::{AuditId, ProductId};
use galley_shared::ports::{AdminWrite, AuditLog, ProductChange, ProductRecords, RecordListing};
use rusqlite::{Row, Transaction, params};

use crate::EmbeddedStore;
use crate::catalog::{PRODUCT_COLUMNS, TitleWalk, corrupt, index_product, product_from_row, write_product};
use crate::db::store_error;
use crate::orders::complete_record;

pub(crate) fn record_from_row(row: &Row<'_>) -> Result<ProductRecord, Error> {
    let product = product_from_row(row)?;
    let archived: i64 = row.get(8).map_err(store_error)?;
    let version: i64 = row.get(9).map_err(store_error)?;
    Ok(ProductRecord {
        product,
        archived: archived != 0,
        version: u64::try_from(version).map_err(corrupt)?,
        updated_at: row.get(10).map_err(store_error)?,
    })
}

pub(crate) const RECORD_COLUMNS: &str = "archived, version, updated_at";

/// The change's own write; `false` when its condition did not hold.
fn change(tx: &Transaction<'_>, change: &ProductChange) -> Result<bool, Error> {
    match change {
        ProductChange::Create(record) => {
            if !write_product(tx, &record.product, false)? {
                return Ok(false);
            }
            let version = i64::try_from(record.version).map_err(Error::internal)?;
            tx.execute(
                "UPDATE products SET updated_at = ?2, archived = ?3, version = ?4 WHERE id = ?1",
                params![record.product.id.as_str(), record.updated_at, i64::from(record.archived), version],
            )
            .map_err(store_error)?;
            if record.archived {
                index_product(tx, &record.product, false)?;
            }
            Ok(true)
        }
        ProductChange::Replace { record, previous } => {
            let p = &record.product;
            let version = i64::try_from(record.version).map_err(Error::internal)?;
            let previous_version = i64::try_from(previous.version).map_err(Error::internal)?;
            // Every field but the stock, which sales move meanwhile.
            let changed = tx
                .execute(
                    "UPDATE products SET title = ?2, description = ?3, category = ?4, price_amount = ?5, \
                     price_currency = ?6, image_url = ?7, title_key = ?8, archived = ?9, version = ?10, \
                     updated_at = ?11 WHERE id = ?1 AND version = ?12",
                    params![
                        p.id.as_str(),
                        p.title,
                        p.description,
                        p.category.as_str(),
                        p.price.amount,
                        p.price.currency.as_str(),
                        p.image_url,
                        p.title_order_key(),
                        i64::from(record.archived),
                        version,
                        record.updated_at,
                        previous_version,
                    ],
                )
                .map_err(store_error)?;
            if changed == 0 {
                return Ok(false);
            }
            index_product(tx, p, !record.archived)?;
            Ok(true)
        }
        ProductChange::Stock { id, from, to } => {
            let changed = tx
                .execute(
                    "UPDATE products SET stock = ?3 WHERE id = ?1 AND stock = ?2",
                    params![id.as_str(), i64::from(*from), i64::from(*to)],
                )
                .map_err(store_error)?;
            Ok(changed == 1)
        }
    }
}

/// Appends an audit entry, inside the transaction of the change it records.
pub(crate) fn put_audit(tx: &Transaction<'_>, id: &AuditId, doc: &str) -> Result<(), Error> {
    tx.execute("INSERT INTO audit (id, doc) VALUES (?1, ?2)", params![id.as_str(), doc]).map_err(store_error)?;
    Ok(())
}

#[async_trait]
impl ProductRecords for EmbeddedStore {
    async fn product_record(&self, id: &ProductId) -> Result<Option<ProductRecord>, Error> {
        let id = id.clone();
        self.db
            .read(move |conn| {
                let sql = format!("SELECT {PRODUCT_COLUMNS}, {RECORD_COLUMNS} FROM products WHERE id = ?1");
                let mut stmt = conn.prepare_cached(&sql).map_err(store_error)?;
                let mut rows = stmt.query(params![id.as_str()]).map_err(store_error)?;
                rows.next().map_err(store_error)?.map(record_from_row).transpose()
            })
            .await
    }

    async fn product_records(
        &self,
        filter: &RecordFilter,
        after: Option<&str>,
        limit: usize,
        budget: usize,
    ) -> Result<RecordListing, Error> {
        let filter = filter.clone();
        let after = after.unwrap_or("").to_owned();
        self.db
            .read(move |conn| {
                let columns = format!("{PRODUCT_COLUMNS}, {RECORD_COLUMNS}");
                let walk = TitleWalk { columns: &columns, live_only: false, limit, budget };
                let category = filter.category.as_ref().map(|c| c.as_str());
                let (records, read_up_to) = walk.run(conn, category, &after, |row| {
                    let record = record_from_row(row)?;
                    let admitted = filter.admits(&record);
                    Ok((record.product.title_order_key(), admitted.then_some(record)))
                })?;
                Ok(RecordListing { records, read_up_to })
            })
            .await
    }

    async fn apply(&self, write: &AdminWrite<'_>) -> Result<bool, Error> {
        let changed = write.change.clone();
        let audit = serde_json::to_string(&write.audit).map_err(Error::internal)?;
        let audit_id = write.audit.id.clone();
        let completion = write
            .completion
            .as_ref()
            .map(|(hold, response)| ((hold.scope.clone(), hold.lease.clone()), response.clone()));
        self.db
            .write(move |tx| {
                if !change(tx, &changed)? {
                    return Ok(false);
                }
                put_audit(tx, &audit_id, &audit)?;
                if let Some(((scope, lease), response)) = &completion {
                    let hold = galley_shared::ports::Hold { scope, lease };
                    complete_record(tx, &hold, response)?;
                }
                Ok(true)
            })
            .await
    }

    /// Nothing to repair: a product row and its `search_terms` change in
    /// one SQLite transaction, so no crash leaves them apart.
    async fn repair_index(&self, _noted_before: i64, _batch: usize) -> Result<usize, Error> {
        Ok(0)
    }
}

#[async_trait]
impl AuditLog for EmbeddedStore {
    async fn entries(&self, before: Option<&AuditId>, limit: usize) -> Result<Vec<AuditEntry>, Error> {
        // Ids are ULIDs (ASCII letters and digits): "~" sorts above them all.
        let before = before.map_or_else(|| "~".to_owned(), |id| id.to_string());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT doc FROM audit WHERE id < ?1 ORDER BY id DESC LIMIT ?2")
                    .map_err(store_error)?;
                let mut rows = stmt.query(params![before, limit]).map_err(store_error)?;
                let mut entries = Vec::new();
                while let Some(row) = rows.next().map_err(store_error)? {
                    let doc: String = row.get(0).map_err(store_error)?;
                    entries.push(serde_json::from_str(&doc).map_err(corrupt)?);
                }
                Ok(entries)
            })
            .await
    }
}
