//! Orders and idempotency records. Each `Orders` transaction is one
//! `BEGIN IMMEDIATE` transaction over them, the stock and the notices, so
//! it is all or nothing across threads and processes.

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::id::{OrderId, UserId};
use galley_shared::idempotency::{
    Fingerprint, IdempotencyKey, IdempotencyScope, LeaseId, LeaseOutcome, LeaseRequest, PINNED_UNTIL, StoredResponse,
};
use galley_shared::orders::{HistoryEntry, Notice, NoticeKind, Order, OrderStatus};
use galley_shared::ports::{
    Hold, IdempotencyRecords, KeyNote, OrderBook, OrderFilter, OrderMove, Orders, PendingOrder,
};
use galley_shared::stock::check_distinct;
use rusqlite::{OptionalExtension, Transaction, params};

use crate::EmbeddedStore;
use crate::admin::put_audit;
use crate::catalog::{give_stock, take_stock};
use crate::db::store_error;
use crate::notices::put_notice;
use crate::promotions::{give_back, redeem};

fn to_json(order: &Order) -> Result<String, Error> {
    serde_json::to_string(order).map_err(|e| Error::internal(format!("order to JSON: {e}")))
}

fn entry_json(entry: &HistoryEntry) -> Result<String, Error> {
    serde_json::to_string(entry).map_err(|e| Error::internal(format!("history entry to JSON: {e}")))
}

/// The columns an order is read back from, in `order_from_row`'s order.
pub(crate) const ORDER_COLUMNS: &str = "doc, status, history, state, version";

pub(crate) fn order_from_row(row: &rusqlite::Row<'_>) -> Result<Order, Error> {
    let text = |i: usize| row.get::<_, String>(i).map_err(store_error);
    let corrupt = |e: serde_json::Error| Error::internal(format!("corrupt order row: {e}"));
    let mut order: Order = serde_json::from_str(&text(0)?).map_err(corrupt)?;
    order.status = OrderStatus::parse(&text(1)?).map_err(Error::internal)?;
    order.history = serde_json::from_str(&text(2)?).map_err(corrupt)?;
    order.state = serde_json::from_str(&text(3)?).map_err(corrupt)?;
    order.version = u64::try_from(row.get::<_, i64>(4).map_err(store_error)?).map_err(Error::internal)?;
    Ok(order)
}

pub(crate) fn orders_from_rows(mut rows: rusqlite::Rows<'_>) -> Result<Vec<Order>, Error> {
    let mut orders = Vec::new();
    while let Some(row) = rows.next().map_err(store_error)? {
        orders.push(order_from_row(row)?);
    }
    Ok(orders)
}

/// A pending order read with `ORDER_COLUMNS, idempotency_key`.
fn pending_from_row(row: &rusqlite::Row<'_>) -> Result<PendingOrder, Error> {
    let key: Option<String> = row.get(5).map_err(store_error)?;
    let key = key.map(|k| IdempotencyKey::parse(&k).map_err(Error::internal)).transpose()?;
    Ok(PendingOrder { order: order_from_row(row)?, key })
}

/// Notes `progress` on the held record (no pin: a refund's key expires as
/// usual; a retry within it resumes the refund).
fn note_progress(tx: &Transaction<'_>, hold: &Hold<'_>, progress: &str) -> Result<(), Error> {
    check_hold(tx, hold)?;
    tx.execute(
        "UPDATE idempotency SET progress = ?3 WHERE user_id = ?1 AND key = ?2",
        params![hold.scope.user.as_str(), hold.scope.key.as_str(), progress],
    )
    .map_err(store_error)?;
    Ok(())
}

/// When the oldest refund being asked of the gateway was asked, if any.
fn refunding_since(order: &Order) -> Option<i64> {
    order.state.pending_refunds.iter().map(|p| p.refund.created_at.unix_timestamp()).min()
}

/// Fails unless `hold` still holds its idempotency record (a lapsed holder
/// whose key a retry took over must change nothing).
fn check_hold(tx: &Transaction<'_>, hold: &Hold<'_>) -> Result<(), Error> {
    let held: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM idempotency WHERE user_id = ?1 AND key = ?2 AND claim = ?3 AND complete = 0",
            params![hold.scope.user.as_str(), hold.scope.key.as_str(), hold.lease.0],
            |row| row.get(0),
        )
        .optional()
        .map_err(store_error)?;
    held.map(|_| ()).ok_or(Error::RequestInProgress)
}

/// Completes a record: its answer stored, its lease and progress gone, and
/// its own expiry back (it was pinned while its order was pending).
const COMPLETE: &str = "UPDATE idempotency SET complete = 1, status = ?3, body = ?4, claim = NULL, lease_until = 0,
     progress = NULL, expires_at = COALESCE(keep_until, expires_at)
     WHERE user_id = ?1 AND key = ?2";

pub(crate) fn complete_record(tx: &Transaction<'_>, hold: &Hold<'_>, response: &StoredResponse) -> Result<(), Error> {
    check_hold(tx, hold)?;
    tx.execute(
        COMPLETE,
        params![hold.scope.user.as_str(), hold.scope.key.as_str(), response.status, response.body.as_ref()],
    )
    .map_err(store_error)?;
    Ok(())
}

/// Moves a pending order to `entry.status`, appending `entry` to its
/// history; `false` when it was not pending.
fn move_pending(tx: &Transaction<'_>, order: &Order, entry: &HistoryEntry) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "UPDATE orders SET status = ?2, history = json_insert(history, '$[#]', json(?3))
             WHERE id = ?1 AND status = 'pending'",
            params![order.id.as_str(), entry.status.as_str(), entry_json(entry)?],
        )
        .map_err(store_error)?;
    Ok(changed == 1)
}

/// Moves a pending order on; anything else is a broken invariant.
fn settle(tx: &Transaction<'_>, order: &Order, entry: &HistoryEntry) -> Result<(), Error> {
    if move_pending(tx, order, entry)? {
        Ok(())
    } else {
        Err(Error::internal(format!("order {} is not pending", order.id)))
    }
}

/// A declined order's promotion redemption, given back.
fn give_back_redemption(tx: &Transaction<'_>, order: &Order) -> Result<(), Error> {
    match &order.promotion {
        Some(redemption) => give_back(tx, redemption, &order.user_id, &order.id),
        None => Ok(()),
    }
}

/// Puts a confirmed order's receipt in the outbox (once).
fn put_receipt(tx: &Transaction<'_>, order: &Order) -> Result<(), Error> {
    let confirmed = Order { status: OrderStatus::Confirmed, ..order.clone() };
    put_notice(tx, &Notice { kind: NoticeKind::Receipt, order: confirmed })
}

#[async_trait]
impl Orders for EmbeddedStore {
    async fn place(&self, order: &Order, hold: Hold<'_>) -> Result<(), Error> {
        let lines = order.stock_lines();
        check_distinct(&lines)?;
        let (order, scope, lease) = (order.clone(), hold.scope.clone(), hold.lease.clone());
        self.db
            .write(move |tx| {
                let hold = Hold { scope: &scope, lease: &lease };
                check_hold(tx, &hold)?;
                take_stock(tx, &lines)?;
                if let Some(redemption) = &order.promotion {
                    redeem(tx, redemption, &order.user_id, &order.id)?;
                }
                tx.execute(
                    "INSERT INTO orders (id, user_id, status, doc, settle_from, idempotency_key, history)
                     VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6)",
                    params![
                        order.id.as_str(),
                        order.user_id.as_str(),
                        to_json(&order)?,
                        order.created_at.unix_timestamp(),
                        scope.key.as_str(),
                        serde_json::to_string(&order.history).map_err(Error::internal)?
                    ],
                )
                .map_err(store_error)?;
                tx.execute(
                    "UPDATE idempotency SET progress = ?3, expires_at = ?4 WHERE user_id = ?1 AND key = ?2",
                    params![scope.user.as_str(), scope.key.as_str(), order.id.as_str(), PINNED_UNTIL],
                )
                .map_err(store_error)?;
                Ok(())
            })
            .await
    }

    async fn confirm(
        &self,
        order: &Order,
        entry: &HistoryEntry,
        hold: Hold<'_>,
        response: &StoredResponse,
    ) -> Result<(), Error> {
        let (order, scope, lease, response) = (order.clone(), hold.scope.clone(), hold.lease.clone(), response.clone());
        let entry = entry.clone();
        self.db
            .write(move |tx| {
                let hold = Hold { scope: &scope, lease: &lease };
                complete_record(tx, &hold, &response)?;
                settle(tx, &order, &entry)?;
                put_receipt(tx, &order)
            })
            .await
    }

    async fn decline(
        &self,
        order: &Order,
        entry: &HistoryEntry,
        hold: Hold<'_>,
        response: &StoredResponse,
    ) -> Result<(), Error> {
        let lines = order.stock_lines();
        let (order, scope, lease, response) = (order.clone(), hold.scope.clone(), hold.lease.clone(), response.clone());
        let entry = entry.clone();
        self.db
            .write(move |tx| {
                let hold = Hold { scope: &scope, lease: &lease };
                complete_record(tx, &hold, &response)?;
                settle(tx, &order, &entry)?;
                give_stock(tx, &lines)?;
                give_back_redemption(tx, &order)
            })
            .await
    }

    async fn await_customer(
        &self,
        order: &Order,
        hold: Hold<'_>,
        response: &StoredResponse,
        settle_from: i64,
    ) -> Result<(), Error> {
        let (id, scope, lease, response) = (order.id.clone(), hold.scope.clone(), hold.lease.clone(), response.clone());
        self.db
            .write(move |tx| {
                let hold = Hold { scope: &scope, lease: &lease };
                complete_record(tx, &hold, &response)?;
                tx.execute(
                    "UPDATE orders SET settle_from = ?2 WHERE id = ?1 AND status = 'pending'",
                    params![id.as_str(), settle_from],
                )
                .map_err(store_error)?;
                Ok(())
            })
            .await
    }

    async fn pending_order(&self, id: &OrderId) -> Result<Option<PendingOrder>, Error> {
        let id = id.clone();
        self.db
            .read(move |conn| {
                let mut statement = conn
                    .prepare_cached(&format!(
                        "SELECT {ORDER_COLUMNS}, idempotency_key FROM orders WHERE id = ?1 AND status = 'pending'"
                    ))
                    .map_err(store_error)?;
                let mut rows = statement.query(params![id.as_str()]).map_err(store_error)?;
                rows.next().map_err(store_error)?.map(pending_from_row).transpose()
            })
            .await
    }

    async fn order(&self, user: &UserId, id: &OrderId) -> Result<Option<Order>, Error> {
        let (user, id) = (user.clone(), id.clone());
        self.db
            .read(move |conn| {
                let mut statement = conn
                    .prepare_cached(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1 AND user_id = ?2"))
                    .map_err(store_error)?;
                let mut rows = statement.query(params![id.as_str(), user.as_str()]).map_err(store_error)?;
                rows.next().map_err(store_error)?.map(order_from_row).transpose()
            })
            .await
    }

    async fn pending_before(&self, cutoff: i64, limit: usize) -> Result<Vec<PendingOrder>, Error> {
        self.db
            .read(move |conn| {
                let mut statement = conn
                    .prepare_cached(&format!(
                        "SELECT {ORDER_COLUMNS}, idempotency_key FROM orders
                             WHERE status = 'pending' AND settle_from < ?1 ORDER BY settle_from LIMIT ?2"
                    ))
                    .map_err(store_error)?;
                let mut rows = statement.query(params![cutoff, limit as i64]).map_err(store_error)?;
                let mut found = Vec::new();
                while let Some(row) = rows.next().map_err(store_error)? {
                    found.push(pending_from_row(row)?);
                }
                Ok(found)
            })
            .await
    }

    async fn settle(
        &self,
        pending: &PendingOrder,
        entry: &HistoryEntry,
        response: &StoredResponse,
    ) -> Result<bool, Error> {
        let (pending, entry, response) = (pending.clone(), entry.clone(), response.clone());
        self.db
            .write(move |tx| {
                let order = &pending.order;
                if !move_pending(tx, order, &entry)? {
                    return Ok(false);
                }
                if let Some(scope) = pending.scope() {
                    tx.execute(
                        &format!("{COMPLETE} AND complete = 0 AND progress = ?5"),
                        params![
                            scope.user.as_str(),
                            scope.key.as_str(),
                            response.status,
                            response.body.as_ref(),
                            order.id.as_str()
                        ],
                    )
                    .map_err(store_error)?;
                }
                match entry.status {
                    OrderStatus::Confirmed => put_receipt(tx, order)?,
                    _ => {
                        give_stock(tx, &order.stock_lines())?;
                        give_back_redemption(tx, order)?;
                    }
                }
                Ok(true)
            })
            .await
    }

    async fn apply_move(&self, m: &OrderMove<'_>) -> Result<bool, Error> {
        let moved = m.moved.clone();
        let audit = m.audit.map(|a| serde_json::to_string(a).map(|doc| (a.id.clone(), doc))).transpose();
        let audit = audit.map_err(Error::internal)?;
        let key = m.key.as_ref().map(|note| match note {
            KeyNote::Complete(hold, response) => ((hold.scope.clone(), hold.lease.clone()), Ok(response.clone())),
            KeyNote::Progress(hold, progress) => ((hold.scope.clone(), hold.lease.clone()), Err(progress.clone())),
        });
        self.db
            .write(move |tx| {
                let order = &moved.order;
                let entry = moved.entry.as_ref().map(entry_json).transpose()?;
                let state = serde_json::to_string(&order.state).map_err(Error::internal)?;
                let version = i64::try_from(order.version).map_err(Error::internal)?;
                let changed = tx
                    .execute(
                        "UPDATE orders SET status = ?2, state = ?3, version = ?4, refunding_since = ?5,
                         history = CASE WHEN ?6 IS NULL THEN history ELSE json_insert(history, '$[#]', json(?6)) END
                         WHERE id = ?1 AND version = ?4 - 1",
                        params![
                            order.id.as_str(),
                            order.status.as_str(),
                            state,
                            version,
                            refunding_since(order),
                            entry
                        ],
                    )
                    .map_err(store_error)?;
                if changed == 0 {
                    return Ok(false);
                }
                if let Some(((scope, lease), note)) = &key {
                    let hold = Hold { scope, lease };
                    match note {
                        Ok(response) => complete_record(tx, &hold, response)?,
                        Err(progress) => note_progress(tx, &hold, progress)?,
                    }
                }
                give_stock(tx, &moved.restock)?;
                if let Some(redemption) = &moved.redemption_back {
                    give_back(tx, redemption, &order.user_id, &order.id)?;
                }
                if let Some(kind) = &moved.notice {
                    put_notice(tx, &Notice { kind: kind.clone(), order: order.clone() })?;
                }
                if let Some((id, doc)) = &audit {
                    put_audit(tx, id, doc)?;
                }
                Ok(true)
            })
            .await
    }

    async fn refunding_before(&self, cutoff: i64, limit: usize) -> Result<Vec<Order>, Error> {
        self.db
            .read(move |conn| {
                let mut statement = conn
                    .prepare_cached(&format!(
                        "SELECT {ORDER_COLUMNS} FROM orders WHERE refunding_since < ?1 ORDER BY refunding_since LIMIT ?2"
                    ))
                    .map_err(store_error)?;
                orders_from_rows(statement.query(params![cutoff, limit as i64]).map_err(store_error)?)
            })
            .await
    }

    async fn orders(&self, user: &UserId, before: Option<&OrderId>, limit: usize) -> Result<Vec<Order>, Error> {
        let filter = OrderFilter { status: None, user: Some(user.clone()) };
        Ok(self.all_orders(&filter, before, limit).await?.orders)
    }
}

#[async_trait]
impl IdempotencyRecords for EmbeddedStore {
    async fn lease(&self, request: &LeaseRequest) -> Result<LeaseOutcome, Error> {
        let r = request.clone();
        self.db
            .write(move |tx| {
                let (user, key) = (r.scope.user.as_str(), r.scope.key.as_str());
                type Row = (String, i64, i64, Option<String>, Option<u16>, Option<Vec<u8>>, i64, Option<String>);
                let existing: Option<Row> = tx
                    .query_row(
                        "SELECT fingerprint, complete, lease_until, progress, status, body, expires_at, claim
                         FROM idempotency WHERE user_id = ?1 AND key = ?2",
                        params![user, key],
                        |row| {
                            Ok((
                                row.get(0)?,
                                row.get(1)?,
                                row.get(2)?,
                                row.get(3)?,
                                row.get(4)?,
                                row.get(5)?,
                                row.get(6)?,
                                row.get(7)?,
                            ))
                        },
                    )
                    .optional()
                    .map_err(store_error)?;
                let resumed = match existing {
                    Some((_, _, _, _, _, _, expires_at, _)) if expires_at <= r.now => None,
                    None => None,
                    Some((fingerprint, complete, lease_until, progress, status, body, _, claim)) => {
                        if Fingerprint::from_stored(fingerprint) != r.fingerprint {
                            return Ok(LeaseOutcome::Mismatch);
                        }
                        if complete == 1 {
                            let status = status.ok_or_else(|| Error::internal("complete record without status"))?;
                            let body = body.unwrap_or_default().into();
                            return Ok(LeaseOutcome::Completed(StoredResponse { status, body }));
                        }
                        // This very lease, asked again (the first answer was lost): ours.
                        if claim.as_deref() == Some(r.lease.0.as_str()) {
                            return Ok(LeaseOutcome::Acquired { progress });
                        }
                        if lease_until > r.now {
                            return Ok(LeaseOutcome::InProgress);
                        }
                        Some(progress)
                    }
                };
                let progress = match resumed {
                    // Released or lapsed: taken again, its progress and expiry (or pin) kept.
                    Some(progress) => {
                        tx.execute(
                            "UPDATE idempotency SET claim = ?3, lease_until = ?4 WHERE user_id = ?1 AND key = ?2",
                            params![user, key, r.lease.0, r.lease_until],
                        )
                        .map_err(store_error)?;
                        progress
                    }
                    // Free or expired: taken fresh, nothing of its past life kept.
                    None => {
                        tx.execute(
                            "INSERT INTO idempotency
                                (user_id, key, fingerprint, complete, claim, lease_until, progress, expires_at, keep_until)
                             VALUES (?1, ?2, ?3, 0, ?4, ?5, NULL, ?6, ?6)
                             ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = excluded.fingerprint,
                                complete = 0, claim = excluded.claim, lease_until = excluded.lease_until,
                                progress = NULL, status = NULL, body = NULL, expires_at = excluded.expires_at,
                                keep_until = excluded.keep_until",
                            params![user, key, r.fingerprint.as_str(), r.lease.0, r.lease_until, r.expires_at],
                        )
                        .map_err(store_error)?;
                        None
                    }
                };
                Ok(LeaseOutcome::Acquired { progress })
            })
            .await
    }

    async fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: &LeaseId,
        response: &StoredResponse,
    ) -> Result<(), Error> {
        let (scope, lease, response) = (scope.clone(), lease.clone(), response.clone());
        self.db.write(move |tx| complete_record(tx, &Hold { scope: &scope, lease: &lease }, &response)).await
    }

    async fn release_lease(&self, scope: &IdempotencyScope, lease: &LeaseId) -> Result<(), Error> {
        let (scope, lease) = (scope.clone(), lease.clone());
        self.db
            .write(move |tx| {
                tx.execute(
                    "UPDATE idempotency SET lease_until = 0, claim = NULL
                     WHERE user_id = ?1 AND key = ?2 AND claim = ?3 AND complete = 0",
                    params![scope.user.as_str(), scope.key.as_str(), lease.0],
                )
                .map_err(store_error)?;
                Ok(())
            })
            .await
    }

    async fn held(&self, scope: &IdempotencyScope, now: i64) -> Result<bool, Error> {
        let scope = scope.clone();
        self.db
            .read(move |conn| {
                let held: Option<i64> = conn
                    .query_row(
                        "SELECT 1 FROM idempotency
                         WHERE user_id = ?1 AND key = ?2 AND complete = 0 AND lease_until > ?3",
                        params![scope.user.as_str(), scope.key.as_str(), now],
                        |row| row.get(0),
                    )
                    .optional()
                    .map_err(store_error)?;
                Ok(held.is_some())
            })
            .await
    }
}
