//! Orders (`ORDERS#<user>` / `ORDER#<id>`, listed by status in GSI2's
//! `ORDERS#<status>` partitions, found by id through `ORDER#<id>` / `USER`)
//! and idempotency records (`IDEMP#<user>#<key>` / `IDEMP`). Each `Orders`
//! method is one `TransactWriteItems`, with the notices (`notices`) its
//! events owe; the moves after checkout are in `lifecycle`.

use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use galley_shared::Error;
use galley_shared::id::{OrderId, UserId};
use galley_shared::idempotency::{
    Fingerprint, IdempotencyKey, IdempotencyScope, LeaseId, LeaseOutcome, LeaseRequest, PINNED_UNTIL, StoredResponse,
};
use galley_shared::orders::{HistoryEntry, Notice, NoticeKind, Order, OrderState, OrderStatus};
use galley_shared::ports::{Hold, IdempotencyRecords, OrderMove, Orders, PendingOrder};
use galley_shared::stock::check_distinct;

use crate::DynamoStore;
use crate::errors::{applied, condition_failure, sdk_error};
use crate::item::{Item, Reader, key, n, s};
use crate::table::{GSI1, GSI1_PARTITION_KEY, GSI1_SORT_KEY, GSI2_PARTITION_KEY, GSI2_SORT_KEY};
use crate::transact::{Outcome, RETRY, stock_refusal};

/// Pending orders sit in these sparse GSI1 partitions (`PENDING#0` to
/// `PENDING#7`, by the order id's last character, so checkouts spread over
/// partitions), sorted by creation time, until they are settled.
const PENDING_SHARDS: u8 = 8;

pub(crate) fn order_key(user: &UserId, id: &OrderId) -> Item {
    key(format!("ORDERS#{user}"), &format!("ORDER#{id}"))
}

/// The item that finds an order by id alone: it names the order's user.
pub(crate) fn order_pointer_key(id: &OrderId) -> Item {
    key(format!("ORDER#{id}"), "USER")
}

/// The item that finds an order by id alone.
pub(crate) fn order_pointer_item(order: &Order) -> Item {
    let mut pointer = order_pointer_key(&order.id);
    pointer.insert("user_id".into(), s(order.user_id.as_str()));
    pointer
}

/// An order's item as it stands: listed under its status; while pending
/// in the settler's partition from `settle_from` (Unix seconds); while a
/// refund is being asked in the `REFUNDING` partition; placed under the
/// idempotency `key` of its checkout.
pub(crate) fn order_item(order: &Order, key: Option<&IdempotencyKey>, settle_from: i64) -> Result<Item, Error> {
    let mut item = order_key(&order.user_id, &order.id);
    item.insert("id".into(), s(order.id.as_str()));
    item.insert("user_id".into(), s(order.user_id.as_str()));
    item.insert("status".into(), s(order.status.as_str()));
    item.insert("doc".into(), s(to_json(order)?));
    if let Some(key) = key {
        item.insert("idempotency_key".into(), s(key.as_str()));
    }
    if order.status == OrderStatus::Pending {
        item.insert(GSI1_PARTITION_KEY.into(), s(pending_partition(&order.id)));
        item.insert(GSI1_SORT_KEY.into(), s(pending_sort_key(settle_from, &order.id)));
    } else if let Some(since) = crate::lifecycle::refunding_since(order) {
        let (partition, sort) = crate::lifecycle::refunding_keys(order, since);
        item.insert(GSI1_PARTITION_KEY.into(), s(partition));
        item.insert(GSI1_SORT_KEY.into(), s(sort));
    }
    item.insert(GSI2_PARTITION_KEY.into(), s(status_partition(order.status)));
    item.insert(GSI2_SORT_KEY.into(), s(order.id.as_str()));
    item.insert("history".into(), history_value(&order.history)?);
    if order.state != OrderState::default() {
        item.insert("state".into(), s(serde_json::to_string(&order.state).map_err(Error::internal)?));
    }
    item.insert("version".into(), n(order.version));
    Ok(item)
}

/// The GSI2 partition an order is listed in while it has `status`.
pub(crate) fn status_partition(status: OrderStatus) -> String {
    format!("ORDERS#{}", status.as_str())
}

pub(crate) fn history_value(entries: &[HistoryEntry]) -> Result<AttributeValue, Error> {
    entries
        .iter()
        .map(|entry| serde_json::to_string(entry).map(AttributeValue::S))
        .collect::<Result<Vec<_>, _>>()
        .map(AttributeValue::L)
        .map_err(|e| Error::internal(format!("history to JSON: {e}")))
}

pub(crate) fn record_key(scope: &IdempotencyScope) -> Item {
    key(format!("IDEMP#{}#{}", scope.user, scope.key.as_str()), "IDEMP")
}

fn pending_partition(id: &OrderId) -> String {
    format!("PENDING#{}", id.as_str().bytes().last().unwrap_or(0) % PENDING_SHARDS)
}

/// A pending order's place in its partition: creation time, then id.
fn pending_sort_key(created_at: i64, id: &OrderId) -> String {
    format!("{created_at:012}#{id}")
}

fn to_json(order: &Order) -> Result<String, Error> {
    serde_json::to_string(order).map_err(|e| Error::internal(format!("order to JSON: {e}")))
}

pub(crate) fn order_from_item(item: &Item) -> Result<Order, Error> {
    let r = Reader(item);
    let corrupt = |e: serde_json::Error| Error::internal(format!("corrupt order item: {e}"));
    let mut order: Order = serde_json::from_str(r.s("doc")?).map_err(corrupt)?;
    order.status = OrderStatus::parse(r.s("status")?).map_err(Error::internal)?;
    if let Some(state) = r.opt_s("state")? {
        order.state = serde_json::from_str(state).map_err(corrupt)?;
    }
    order.version = if item.contains_key("version") { r.n("version")? } else { 0 };
    if let Some(AttributeValue::L(entries)) = item.get("history") {
        for entry in entries {
            let json =
                entry.as_s().map_err(|_| Error::internal("corrupt order item: a history entry is not a string"))?;
            order.history.push(serde_json::from_str(json).map_err(corrupt)?);
        }
    }
    Ok(order)
}

/// An order item with the key its checkout ran under.
fn pending_from_item(item: &Item) -> Result<PendingOrder, Error> {
    let key = Reader(item).opt_s("idempotency_key")?.map(IdempotencyKey::parse).transpose();
    Ok(PendingOrder { order: order_from_item(item)?, key: key.map_err(Error::internal)? })
}

pub(crate) fn update(key: Item) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
    Update::builder()
        .set_key(Some(key))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
}

/// Completes a record: its answer stored, its lease and progress gone, and
/// its own expiry back (it was pinned while its order was pending).
const COMPLETE: &str = "SET complete = :one, #status = :status, body = :body, lease_until = :zero, \
     expires_at = if_not_exists(keep_until, expires_at) REMOVE claim, progress";

impl DynamoStore {
    pub(crate) fn table_update(
        &self,
        builder: aws_sdk_dynamodb::types::builders::UpdateBuilder,
    ) -> Result<TransactWriteItem, Error> {
        Ok(TransactWriteItem::builder()
            .update(builder.table_name(self.table.as_ref()).build().map_err(Error::internal)?)
            .build())
    }

    pub(crate) fn table_put(&self, item: Item, condition: &str) -> Result<TransactWriteItem, Error> {
        let put = Put::builder()
            .table_name(self.table.as_ref())
            .set_item(Some(item))
            .condition_expression(condition)
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The idempotency record completed with `response`, if `hold` still holds it.
    pub(crate) fn complete_action(
        &self,
        hold: &Hold<'_>,
        response: &StoredResponse,
    ) -> Result<TransactWriteItem, Error> {
        self.table_update(
            update(record_key(hold.scope))
                .update_expression(COMPLETE)
                .condition_expression("claim = :claim AND complete = :zero")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":status", n(response.status))
                .expression_attribute_values(":body", AttributeValue::B(Blob::new(response.body.to_vec())))
                .expression_attribute_values(":claim", s(&hold.lease.0)),
        )
    }

    /// The confirmed order's receipt put in the outbox (once).
    fn receipt_action(&self, order: &Order) -> Result<TransactWriteItem, Error> {
        let confirmed = Order { status: OrderStatus::Confirmed, ..order.clone() };
        self.notice_action(&Notice { kind: NoticeKind::Receipt, order: confirmed })
    }

    /// Pending → `entry.status`: the order leaves the settler's partition,
    /// moves to its new status's listing, and its history gains `entry`.
    fn settle_action(&self, order: &Order, entry: &HistoryEntry) -> Result<TransactWriteItem, Error> {
        self.table_update(
            update(order_key(&order.user_id, &order.id))
                .update_expression(
                    "SET #status = :to, #listed = :listed, \
                     history = list_append(if_not_exists(history, :none), :entry) REMOVE gsi1pk, gsi1sk",
                )
                .condition_expression("#status = :pending")
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#listed", GSI2_PARTITION_KEY)
                .expression_attribute_values(":to", s(entry.status.as_str()))
                .expression_attribute_values(":listed", s(status_partition(entry.status)))
                .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
                .expression_attribute_values(":entry", history_value(std::slice::from_ref(entry))?)
                .expression_attribute_values(":pending", s(OrderStatus::Pending.as_str())),
        )
    }

    /// Runs an order transaction whose last `tail` actions are not stock lines:
    /// a failed stock condition is `OutOfStock`, a lost lease `RequestInProgress`.
    async fn transact_order(
        &self,
        order: &Order,
        actions: Vec<TransactWriteItem>,
        stock_lines: usize,
    ) -> Result<(), Error> {
        let lines = order.stock_lines();
        match self.transact(actions).await? {
            Outcome::Committed => Ok(()),
            refused if refused.failed_in(0..stock_lines) => Err(stock_refusal(&lines, &refused)?),
            // The lease (or the order's state) changed under us: a retry took over.
            Outcome::Refused(_) => Err(Error::RequestInProgress),
        }
    }
}

#[async_trait]
impl Orders for DynamoStore {
    async fn place(&self, order: &Order, hold: Hold<'_>) -> Result<(), Error> {
        let lines = order.stock_lines();
        check_distinct(&lines)?;
        let mut actions = lines.iter().map(|line| self.take_stock(line)).collect::<Result<Vec<_>, Error>>()?;
        let placed = Order { status: OrderStatus::Pending, ..order.clone() };
        let item = order_item(&placed, Some(&hold.scope.key), order.created_at.unix_timestamp())?;
        actions.push(self.table_put(item, "attribute_not_exists(pk)")?);
        actions.push(self.table_put(order_pointer_item(order), "attribute_not_exists(pk)")?);
        actions.push(
            self.table_update(
                update(record_key(hold.scope))
                    .update_expression("SET progress = :order, expires_at = :pinned")
                    .condition_expression("claim = :claim AND complete = :zero")
                    .expression_attribute_values(":order", s(order.id.as_str()))
                    .expression_attribute_values(":pinned", n(PINNED_UNTIL))
                    .expression_attribute_values(":claim", s(&hold.lease.0))
                    .expression_attribute_values(":zero", n(0)),
            )?,
        );
        // The redemption last: 50 lines, the order, its pointer, the key
        // record and two promotion items are 55 actions, within
        // DynamoDB's 100 (and moto's).
        let redeemed_from = actions.len();
        if let Some(redemption) = &order.promotion {
            actions.extend(self.redeem_actions(redemption, &order.user_id, &order.id)?);
        }
        match self.transact(actions).await? {
            Outcome::Committed => Ok(()),
            refused if refused.failed_in(0..lines.len()) => Err(stock_refusal(&lines, &refused)?),
            refused if refused.failed_in(redeemed_from..usize::MAX) => Err(Error::PromoCodeExhausted),
            // The lease changed under us: a retry took over.
            Outcome::Refused(_) => Err(Error::RequestInProgress),
        }
    }

    async fn confirm(
        &self,
        order: &Order,
        entry: &HistoryEntry,
        hold: Hold<'_>,
        response: &StoredResponse,
    ) -> Result<(), Error> {
        let actions = vec![
            self.complete_action(&hold, response)?,
            self.settle_action(order, entry)?,
            self.receipt_action(order)?,
        ];
        self.transact_order(order, actions, 0).await
    }

    async fn decline(
        &self,
        order: &Order,
        entry: &HistoryEntry,
        hold: Hold<'_>,
        response: &StoredResponse,
    ) -> Result<(), Error> {
        let lines = order.stock_lines();
        let mut actions = lines.iter().map(|line| self.give_back_stock(line)).collect::<Result<Vec<_>, Error>>()?;
        actions.push(self.complete_action(&hold, response)?);
        actions.push(self.settle_action(order, entry)?);
        if let Some(redemption) = &order.promotion {
            actions.extend(self.give_back_actions(redemption, &order.user_id)?);
        }
        match self.transact(actions).await? {
            Outcome::Committed => Ok(()),
            Outcome::Refused(_) => Err(Error::RequestInProgress),
        }
    }

    async fn await_customer(
        &self,
        order: &Order,
        hold: Hold<'_>,
        response: &StoredResponse,
        settle_from: i64,
    ) -> Result<(), Error> {
        // The settler's place moves on while the order is still pending;
        // an order settled first (its record then completed too) is left.
        let wait = self.table_update(
            update(order_key(&order.user_id, &order.id))
                .update_expression("SET #sk = :sk")
                .condition_expression("#status = :pending")
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#sk", GSI1_SORT_KEY)
                .expression_attribute_values(":sk", s(pending_sort_key(settle_from, &order.id)))
                .expression_attribute_values(":pending", s(OrderStatus::Pending.as_str())),
        )?;
        match self.transact(vec![self.complete_action(&hold, response)?, wait]).await? {
            Outcome::Committed => Ok(()),
            refused if refused.failed_in(1..2) => {
                match self.transact(vec![self.complete_action(&hold, response)?]).await? {
                    Outcome::Committed => Ok(()),
                    Outcome::Refused(_) => Err(Error::RequestInProgress),
                }
            }
            Outcome::Refused(_) => Err(Error::RequestInProgress),
        }
    }

    async fn pending_order(&self, id: &OrderId) -> Result<Option<PendingOrder>, Error> {
        let pointer = self.read_item(order_pointer_key(id)).await?;
        let Some(pointer) = pointer.as_ref() else { return Ok(None) };
        let user = UserId::parse(Reader(pointer).s("user_id")?).map_err(Error::internal)?;
        let Some(item) = self.read_item(order_key(&user, id)).await? else { return Ok(None) };
        let found = pending_from_item(&item)?;
        Ok(Some(found).filter(|p| p.order.status == OrderStatus::Pending))
    }

    async fn order(&self, user: &UserId, id: &OrderId) -> Result<Option<Order>, Error> {
        let output = self.read_item(order_key(user, id)).await?;
        output.as_ref().map(order_from_item).transpose()
    }

    async fn pending_before(&self, cutoff: i64, limit: usize) -> Result<Vec<PendingOrder>, Error> {
        // The shards are read at once; each answers its oldest first.
        let shards: Vec<_> = (0..PENDING_SHARDS)
            .map(|shard| {
                self.client
                    .query()
                    .table_name(self.table.as_ref())
                    .index_name(GSI1)
                    .key_condition_expression("#pk = :pk AND #sk < :cutoff")
                    .expression_attribute_names("#pk", GSI1_PARTITION_KEY)
                    .expression_attribute_names("#sk", GSI1_SORT_KEY)
                    .expression_attribute_values(":pk", s(format!("PENDING#{shard}")))
                    .expression_attribute_values(":cutoff", s(format!("{cutoff:012}")))
                    .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                    .send()
            })
            .collect();
        let outputs = futures_util::future::try_join_all(shards).await.map_err(|e| sdk_error("Query", e))?;
        let mut found = Vec::new();
        for output in &outputs {
            for item in output.items() {
                let sort = Reader(item).s(GSI1_SORT_KEY)?.to_owned();
                found.push((sort, pending_from_item(item)?));
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(found.into_iter().take(limit).map(|(_, pending)| pending).collect())
    }

    async fn settle(
        &self,
        pending: &PendingOrder,
        entry: &HistoryEntry,
        response: &StoredResponse,
    ) -> Result<bool, Error> {
        let order = &pending.order;
        // The record is completed only while it still points at the order
        // (a retry may have completed it, or it may be gone): read it first,
        // and a change between the read and the write refuses the whole
        // transaction, which is read again.
        for _ in 0..RETRY.attempts {
            let mut actions = vec![self.settle_action(order, entry)?];
            if let Some(scope) = pending.scope() {
                let record = self.read_item(record_key(&scope)).await?;
                let points_here = record.as_ref().is_some_and(|item| {
                    Reader(item).n::<u8>("complete").is_ok_and(|c| c == 0)
                        && Reader(item).opt_s("progress").ok().flatten() == Some(order.id.as_str())
                });
                if points_here {
                    actions.push(
                        self.table_update(
                            update(record_key(&scope))
                                .update_expression(COMPLETE)
                                .condition_expression("complete = :zero AND progress = :order")
                                .expression_attribute_names("#status", "status")
                                .expression_attribute_values(":one", n(1))
                                .expression_attribute_values(":zero", n(0))
                                .expression_attribute_values(":status", n(response.status))
                                .expression_attribute_values(
                                    ":body",
                                    AttributeValue::B(Blob::new(response.body.to_vec())),
                                )
                                .expression_attribute_values(":order", s(order.id.as_str())),
                        )?,
                    );
                }
            }
            match entry.status {
                OrderStatus::Confirmed => actions.push(self.receipt_action(order)?),
                _ => {
                    for line in order.stock_lines() {
                        actions.push(self.give_back_stock(&line)?);
                    }
                    if let Some(redemption) = &order.promotion {
                        actions.extend(self.give_back_actions(redemption, &order.user_id)?);
                    }
                }
            }
            match self.transact(actions).await? {
                Outcome::Committed => return Ok(true),
                refused if refused.failed_in(0..1) => return Ok(false),
                Outcome::Refused(_) => continue,
            }
        }
        Err(Error::unavailable("settling an order kept racing its key's record"))
    }

    async fn apply_move(&self, m: &OrderMove<'_>) -> Result<bool, Error> {
        self.write_move(m).await
    }

    async fn refunding_before(&self, cutoff: i64, limit: usize) -> Result<Vec<Order>, Error> {
        self.orders_refunding_before(cutoff, limit).await
    }

    async fn orders(&self, user: &UserId, before: Option<&OrderId>, limit: usize) -> Result<Vec<Order>, Error> {
        // Unfiltered, the read never stops short of the page.
        Ok(self.of_user(user, None, before, limit).await?.orders)
    }
}

#[async_trait]
impl IdempotencyRecords for DynamoStore {
    /// A free or expired key is taken with one conditional write that also
    /// clears anything of its past life (progress, answer). When the record
    /// is live, the old item (`ALL_OLD`) tells which answer to give, and a
    /// released or lapsed one with the same fingerprint is taken again with
    /// a second write that keeps its progress, to resume, and its pin.
    async fn lease(&self, r: &LeaseRequest) -> Result<LeaseOutcome, Error> {
        let fresh = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(record_key(&r.scope)))
            .update_expression(
                "SET fingerprint = :fp, complete = :zero, claim = :claim, lease_until = :lease, \
                 expires_at = :expires, keep_until = :expires REMOVE progress, body, #status",
            )
            .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":fp", s(r.fingerprint.as_str()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":claim", s(&r.lease.0))
            .expression_attribute_values(":lease", n(r.lease_until))
            .expression_attribute_values(":expires", n(r.expires_at))
            .expression_attribute_values(":now", n(r.now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let live = match fresh {
            Ok(_) => return Ok(LeaseOutcome::Acquired { progress: None }),
            Err(e) => match condition_failure(&e) {
                Some(Some(live)) => live,
                Some(None) => return Err(Error::internal("idempotency lease refused without an item")),
                None => return Err(sdk_error("UpdateItem", e)),
            },
        };
        let live = Reader(&live);
        if Fingerprint::from_stored(live.s("fingerprint")?.to_owned()) != r.fingerprint {
            return Ok(LeaseOutcome::Mismatch);
        }
        if live.n::<u8>("complete")? == 1 {
            let body = match live.0.get("body") {
                Some(AttributeValue::B(blob)) => blob.clone().into_inner().into(),
                _ => bytes::Bytes::new(),
            };
            return Ok(LeaseOutcome::Completed(StoredResponse { status: live.n("status")?, body }));
        }
        // This very lease, written by an attempt whose answer was lost (the
        // SDK retried the write): it is ours.
        if live.opt_s("claim")? == Some(r.lease.0.as_str()) {
            return Ok(LeaseOutcome::Acquired { progress: live.opt_s("progress")?.map(str::to_owned) });
        }
        if live.n::<i64>("lease_until")? > r.now {
            return Ok(LeaseOutcome::InProgress);
        }
        let resumed = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(record_key(&r.scope)))
            .update_expression("SET claim = :claim, lease_until = :lease")
            .condition_expression("fingerprint = :fp AND complete = :zero AND lease_until <= :now")
            .expression_attribute_values(":fp", s(r.fingerprint.as_str()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":claim", s(&r.lease.0))
            .expression_attribute_values(":lease", n(r.lease_until))
            .expression_attribute_values(":now", n(r.now))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match resumed {
            Ok(output) => {
                let item = output.attributes().ok_or_else(|| Error::internal("UpdateItem returned no item"))?;
                Ok(LeaseOutcome::Acquired { progress: Reader(item).opt_s("progress")?.map(str::to_owned) })
            }
            Err(e) => match condition_failure(&e) {
                // Our own write, applied by an attempt whose answer was lost.
                Some(Some(item)) if Reader(&item).opt_s("claim")? == Some(r.lease.0.as_str()) => {
                    Ok(LeaseOutcome::Acquired { progress: Reader(&item).opt_s("progress")?.map(str::to_owned) })
                }
                // Another retry took it between the two writes.
                Some(_) => Ok(LeaseOutcome::InProgress),
                None => Err(sdk_error("UpdateItem", e)),
            },
        }
    }

    async fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: &LeaseId,
        response: &StoredResponse,
    ) -> Result<(), Error> {
        // The same conditional update the confirming transaction carries, on its own.
        match self.transact(vec![self.complete_action(&Hold { scope, lease }, response)?]).await? {
            Outcome::Committed => Ok(()),
            Outcome::Refused(_) => Err(Error::RequestInProgress),
        }
    }

    async fn release_lease(&self, scope: &IdempotencyScope, lease: &LeaseId) -> Result<(), Error> {
        let release = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(record_key(scope)))
            .update_expression("SET lease_until = :zero REMOVE claim")
            .condition_expression("claim = :claim AND complete = :zero")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":claim", s(&lease.0));
        // Someone else holds it now, or it completed: nothing of ours to release.
        applied(release).await.map(|_| ())
    }

    async fn held(&self, scope: &IdempotencyScope, now: i64) -> Result<bool, Error> {
        let Some(item) = self.read_item(record_key(scope)).await? else { return Ok(false) };
        let r = Reader(&item);
        Ok(r.n::<u8>("complete")? == 0 && r.n::<i64>("lease_until")? > now)
    }
}
