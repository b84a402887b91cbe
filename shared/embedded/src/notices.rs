//! The outbox: one row per event's notice (`notices`, keyed by order and
//! kind), written by the event's own transaction, sent once by whoever
//! holds its send lease.

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::idempotency::LeaseId;
use galley_shared::orders::{Notice, NoticeId};
use galley_shared::ports::{Outbox, OutboxEntry};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::EmbeddedStore;
use crate::db::store_error;

/// Puts `notice` in the outbox, once: a second put of the same event's
/// notice changes nothing.
pub(crate) fn put_notice(tx: &Transaction<'_>, notice: &Notice) -> Result<(), Error> {
    let doc = serde_json::to_string(notice).map_err(|e| Error::internal(format!("notice to JSON: {e}")))?;
    tx.execute(
        "INSERT INTO notices (order_id, kind, doc) VALUES (?1, ?2, ?3) ON CONFLICT (order_id, kind) DO NOTHING",
        params![notice.order.id.as_str(), notice.kind.key(), doc],
    )
    .map_err(store_error)?;
    Ok(())
}

pub(crate) fn notice_from_doc(doc: &str) -> Result<Notice, Error> {
    serde_json::from_str(doc).map_err(|e| Error::internal(format!("corrupt notice row: {e}")))
}

#[async_trait]
impl Outbox for EmbeddedStore {
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxEntry>, Error> {
        self.db
            .read(move |conn| {
                let mut statement = conn
                    .prepare_cached("SELECT doc FROM notices WHERE sent_at IS NULL ORDER BY order_id, kind LIMIT ?1")
                    .map_err(store_error)?;
                let rows = statement.query_map([limit as i64], |row| row.get::<_, String>(0)).map_err(store_error)?;
                rows.map(|doc| Ok(OutboxEntry { notice: notice_from_doc(&doc.map_err(store_error)?)?, sent: false }))
                    .collect()
            })
            .await
    }

    async fn entry(&self, id: &NoticeId) -> Result<Option<OutboxEntry>, Error> {
        let (order, kind) = (id.order.clone(), id.kind.key());
        self.db
            .read(move |conn| {
                let row: Option<(String, Option<i64>)> = conn
                    .query_row(
                        "SELECT doc, sent_at FROM notices WHERE order_id = ?1 AND kind = ?2",
                        params![order.as_str(), kind],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()
                    .map_err(store_error)?;
                row.map(|(doc, sent_at)| Ok(OutboxEntry { notice: notice_from_doc(&doc)?, sent: sent_at.is_some() }))
                    .transpose()
            })
            .await
    }

    async fn take_send_lease(&self, id: &NoticeId, holder: &LeaseId, now: i64, until: i64) -> Result<bool, Error> {
        let (order, kind, holder) = (id.order.clone(), id.kind.key(), holder.0.clone());
        self.db
            .write(move |tx| {
                let taken = tx
                    .execute(
                        "UPDATE notices SET sending_until = ?4, sending_by = ?5
                         WHERE order_id = ?1 AND kind = ?2 AND sent_at IS NULL
                         AND (sending_until IS NULL OR sending_until <= ?3 OR sending_by = ?5)",
                        params![order.as_str(), kind, now, until, holder],
                    )
                    .map_err(store_error)?;
                Ok(taken == 1)
            })
            .await
    }

    async fn release_send_lease(&self, id: &NoticeId) -> Result<(), Error> {
        let (order, kind) = (id.order.clone(), id.kind.key());
        self.db
            .write(move |tx| {
                tx.execute(
                    "UPDATE notices SET sending_until = NULL WHERE order_id = ?1 AND kind = ?2 AND sent_at IS NULL",
                    params![order.as_str(), kind],
                )
                .map_err(store_error)?;
                Ok(())
            })
            .await
    }

    async fn mark_sent(&self, id: &NoticeId, now: i64) -> Result<bool, Error> {
        let (order, kind) = (id.order.clone(), id.kind.key());
        self.db
            .write(move |tx| {
                let changed = tx
                    .execute(
                        "UPDATE notices SET sent_at = ?3 WHERE order_id = ?1 AND kind = ?2 AND sent_at IS NULL",
                        params![order.as_str(), kind, now],
                    )
                    .map_err(store_error)?;
                Ok(changed == 1)
            })
            .await
    }
}
