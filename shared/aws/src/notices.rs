//! The outbox: one item per event's notice, `OUTBOX#<order>` / `<kind>`
//! (`RECEIPT`, `FULFILLED`, `CANCELLED`, `REFUND#<id>`), put by the event's
//! own transaction and in the sparse GSI1 partition `OUTBOX` while unsent;
//! the table's stream hands new ones to the `receipts` function.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use galley_shared::Error;
use galley_shared::idempotency::LeaseId;
use galley_shared::orders::{Notice, NoticeId, NoticeKind, Order};
use galley_shared::ports::{Outbox, OutboxEntry};

use crate::DynamoStore;
use crate::errors::{applied, sdk_error};
use crate::item::{Item, Reader, key, n, s};
use crate::table::{GSI1, GSI1_PARTITION_KEY, GSI1_SORT_KEY};

const OUTBOX_PENDING: &str = "OUTBOX";
/// The outbox item's partition key prefix and the attributes the stream
/// reader (`stream`) reads back.
pub(crate) const OUTBOX_PREFIX: &str = "OUTBOX#";
pub(crate) const OUTBOX_DOC: &str = "doc";
pub(crate) const OUTBOX_SENT: &str = "sent";

fn notice_key(id: &NoticeId) -> Item {
    key(format!("{OUTBOX_PREFIX}{}", id.order), &id.kind.key())
}

/// A notice's outbox item; an unsent one is in the sweep's GSI1 partition.
pub(crate) fn notice_item(notice: &Notice, sent: bool) -> Result<Item, Error> {
    let id = notice.id();
    let mut item = notice_key(&id);
    let doc = serde_json::to_string(notice).map_err(|e| Error::internal(format!("notice to JSON: {e}")))?;
    item.insert(OUTBOX_DOC.into(), s(doc));
    item.insert(OUTBOX_SENT.into(), n(u8::from(sent)));
    if !sent {
        item.insert(GSI1_PARTITION_KEY.into(), s(OUTBOX_PENDING));
        item.insert(GSI1_SORT_KEY.into(), s(id.to_string()));
    }
    Ok(item)
}

/// An outbox item as the table holds it.
fn entry_from_item(item: &Item) -> Result<OutboxEntry, Error> {
    let r = Reader(item);
    entry_from_doc(r.s(OUTBOX_DOC)?, r.n::<u8>(OUTBOX_SENT)? == 1)
}

/// An outbox entry from its notice document, as the item and its stream image hold it.
pub(crate) fn entry_from_doc(doc: &str, sent: bool) -> Result<OutboxEntry, Error> {
    let notice = match serde_json::from_str::<Notice>(doc) {
        Ok(notice) => notice,
        // Receipts written before notices had kinds hold the bare order.
        Err(e) => match serde_json::from_str::<Order>(doc) {
            Ok(order) => Notice { kind: NoticeKind::Receipt, order },
            Err(_) => return Err(Error::internal(format!("corrupt outbox item: {e}"))),
        },
    };
    Ok(OutboxEntry { notice, sent })
}

impl DynamoStore {
    /// `notice` put in the outbox, once, inside its event's transaction.
    pub(crate) fn notice_action(&self, notice: &Notice) -> Result<TransactWriteItem, Error> {
        self.table_put(notice_item(notice, false)?, "attribute_not_exists(pk)")
    }
}

#[async_trait]
impl Outbox for DynamoStore {
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxEntry>, Error> {
        let output = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .index_name(GSI1)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", GSI1_PARTITION_KEY)
            .expression_attribute_values(":pk", s(OUTBOX_PENDING))
            .limit(limit as i32)
            .send()
            .await
            .map_err(|e| sdk_error("Query", e))?;
        output.items().iter().map(entry_from_item).filter(|e| e.as_ref().map_or(true, |e| !e.sent)).collect()
    }

    async fn entry(&self, id: &NoticeId) -> Result<Option<OutboxEntry>, Error> {
        self.read_item(notice_key(id)).await?.as_ref().map(entry_from_item).transpose()
    }

    async fn take_send_lease(&self, id: &NoticeId, holder: &LeaseId, now: i64, until: i64) -> Result<bool, Error> {
        let take = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(notice_key(id)))
            .update_expression("SET sending_until = :until, sending_by = :holder")
            .condition_expression(
                "attribute_exists(pk) AND sent = :zero \
                 AND (attribute_not_exists(sending_until) OR sending_until <= :now OR sending_by = :holder)",
            )
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":holder", s(&holder.0))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":now", n(now));
        applied(take).await
    }

    async fn release_send_lease(&self, id: &NoticeId) -> Result<(), Error> {
        let release = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(notice_key(id)))
            .update_expression("REMOVE sending_until")
            .condition_expression("attribute_exists(pk) AND sent = :zero")
            .expression_attribute_values(":zero", n(0));
        // Sent meanwhile, or gone: nothing to give back.
        applied(release).await.map(|_| ())
    }

    async fn mark_sent(&self, id: &NoticeId, now: i64) -> Result<bool, Error> {
        let mark = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(notice_key(id)))
            .update_expression("SET sent = :one, sent_at = :now REMOVE #gpk, #gsk")
            .condition_expression("sent = :zero")
            .expression_attribute_names("#gpk", GSI1_PARTITION_KEY)
            .expression_attribute_names("#gsk", GSI1_SORT_KEY)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":now", n(now));
        applied(mark).await
    }
}
