//! The order routes after checkout (API.md): an admin fulfils, cancels and
//! refunds; a customer cancels their own. Each runs under its
//! Idempotency-Key (the generic guard) and is one or two moves (`moves`),
//! each one conditional write judged on the order as read, retried on a
//! lost race. A refund or cancellation asks the gateway between its two
//! moves: first the refund is reserved and noted on the key, then the
//! gateway is asked (idempotent on the refund's id), then it is settled. A
//! crash anywhere leaves a reserved refund that the next retry with the key,
//! or the settler, finishes: the gateway refunds it once.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::checkout::AnswerError;
use super::history::Party;
use super::moves::{Moved, ask_cancel, ask_refund, fulfil, record_refund, refund_late_payment, settle_refund};
use super::order::{AdminOrderView, Fulfilment, Order, OrderStatus, OrderView, Refund};
use crate::admin::{Actor, AuditEntry, AuditTarget};
use crate::backoff::{Backoff, RETRY};
use crate::clock::Clock;
use crate::error::Error;
use crate::id::{AuditId, OrderId, RefundId, UserId};
use crate::idempotency::{Claim, Fingerprint, Guard, IdempotencyKey, IdempotencyScope, StoredResponse};
use crate::metrics;
use crate::money::Money;
use crate::ports::{IdempotencyRecords, KeyNote, OrderBook, OrderMove, Orders, PaymentGateway};

/// How long a move holds its key: far longer than a gateway call.
const MOVE_LEASE: Duration = Duration::from_secs(30);

/// Racing moves on one order each read, judge and write again.
const MOVE_RETRY: Backoff = Backoff { attempts: 20, ..RETRY };

/// Who asks for a move.
#[derive(Clone, Debug)]
pub enum Asker {
    /// The order's customer (only their own orders exist for them).
    Customer(UserId),
    /// An admin, whose writes are audited.
    Admin(Actor),
    /// The settler, finishing what a request left half-way.
    Settler,
    /// The payment gateway, telling of a refund made outside Galley.
    Gateway,
}

impl Asker {
    fn party(&self) -> Party {
        match self {
            Asker::Customer(_) => Party::Customer,
            Asker::Admin(actor) => Party::Admin(actor.id.clone()),
            Asker::Settler => Party::Settler,
            Asker::Gateway => Party::Gateway,
        }
    }
}

/// A request under its Idempotency-Key, parsed at the edge.
pub struct Keyed {
    pub key: IdempotencyKey,
    pub fingerprint: Fingerprint,
}

/// The answer to give, and whether it is a replay.
#[derive(Debug)]
pub struct MoveAnswer {
    pub response: StoredResponse,
    pub replayed: bool,
}

/// What the customer or admin asks.
#[derive(Clone, Debug)]
pub enum Ask {
    Fulfil { carrier: Option<String>, tracking_number: Option<String> },
    Cancel { reason: String, restock: bool },
    Refund { amount: Money, reason: String },
}

impl Ask {
    fn action(&self) -> &'static str {
        match self {
            Ask::Fulfil { .. } => "order.fulfil",
            Ask::Cancel { .. } => "order.cancel",
            Ask::Refund { .. } => "order.refund",
        }
    }
}

#[derive(Clone)]
pub struct Lifecycle {
    orders: Arc<dyn Orders>,
    book: Arc<dyn OrderBook>,
    keys: Arc<dyn IdempotencyRecords>,
    payments: Arc<dyn PaymentGateway>,
    clock: Arc<dyn Clock>,
    answer_error: AnswerError,
}

impl Lifecycle {
    pub fn new(
        orders: Arc<dyn Orders>,
        book: Arc<dyn OrderBook>,
        keys: Arc<dyn IdempotencyRecords>,
        payments: Arc<dyn PaymentGateway>,
        clock: Arc<dyn Clock>,
        answer_error: AnswerError,
    ) -> Self {
        Self { orders, book, keys, payments, clock, answer_error }
    }

    /// Runs `ask` on order `id` once per key: a final refusal (404, 409,
    /// 400) is stored like a success; a fault releases the key, and the
    /// retry resumes what was done.
    pub async fn run(&self, asker: &Asker, id: &OrderId, ask: Ask, keyed: Keyed) -> Result<MoveAnswer, Error> {
        let user = match asker {
            Asker::Customer(user) => user,
            Asker::Admin(actor) => &actor.id,
            Asker::Settler | Asker::Gateway => return Err(Error::internal("the settler and gateway ask under no key")),
        };
        let scope = IdempotencyScope { user: user.clone(), key: keyed.key };
        let now = self.clock.unix_now();
        let guard = match Guard::claim(self.keys.clone(), scope, keyed.fingerprint, now, MOVE_LEASE).await? {
            Claim::Replay(response) => return Ok(MoveAnswer { response, replayed: true }),
            Claim::Held(guard) => guard,
        };
        match self.held(asker, id, &ask, &guard).await {
            Ok(response) => Ok(MoveAnswer { response, replayed: false }),
            Err(
                error @ (Error::NotFound
                | Error::InvalidTransition
                | Error::RefundExceedsBalance { .. }
                | Error::Validation(_)),
            ) => {
                let response = (self.answer_error)(&error);
                guard.store(&response).await?;
                Ok(MoveAnswer { response, replayed: false })
            }
            Err(error) => {
                guard.release().await;
                Err(error)
            }
        }
    }

    async fn held(&self, asker: &Asker, id: &OrderId, ask: &Ask, guard: &Guard) -> Result<StoredResponse, Error> {
        let refund_id = match (&guard.progress, ask) {
            // An earlier attempt reserved the refund: finish that one.
            (Some(progress), _) => RefundId::parse(progress).map_err(Error::internal)?,
            (None, Ask::Fulfil { carrier, tracking_number }) => {
                let fulfilment = Fulfilment {
                    carrier: carrier.clone(),
                    tracking_number: tracking_number.clone(),
                    fulfilled_at: self.clock.stamp(),
                };
                return self
                    .until_applied(asker, id, ask, guard, |order| fulfil(order, fulfilment.clone(), asker.party()))
                    .await;
            }
            (None, Ask::Cancel { reason, restock }) => {
                let refund = RefundId::generate();
                let at = (asker.party(), self.clock.stamp());
                self.reserve(asker, id, (ask, guard), &refund, |order| {
                    ask_cancel(order, refund.clone(), reason.clone(), *restock, at.clone())
                })
                .await?;
                refund
            }
            (None, Ask::Refund { amount, reason }) => {
                let refund = Refund {
                    id: RefundId::generate(),
                    amount: *amount,
                    reason: reason.clone(),
                    created_at: self.clock.stamp(),
                };
                let id_of = refund.id.clone();
                self.reserve(asker, id, (ask, guard), &id_of, |order| ask_refund(order, refund.clone(), asker.party()))
                    .await?;
                id_of
            }
        };
        self.refund_and_settle(asker, id, ask, guard, &refund_id).await
    }

    /// The order as the asker may see it: a customer's own only.
    async fn read(&self, asker: &Asker, id: &OrderId) -> Result<Order, Error> {
        let order = match asker {
            Asker::Customer(user) => self.orders.order(user, id).await?,
            Asker::Admin(_) | Asker::Settler | Asker::Gateway => self.book.any_order(id).await?,
        };
        order.ok_or(Error::NotFound)
    }

    /// Reads, judges and writes `decide`'s move, with `note` for the key,
    /// until the write wins a race or the judgement refuses.
    async fn apply<'g>(
        &self,
        asker: &Asker,
        id: &OrderId,
        decide: impl Fn(&Order) -> Result<(Moved, Option<AuditEntry>), Error>,
        note: impl Fn(&Moved) -> Result<Option<KeyNote<'g>>, Error>,
    ) -> Result<Moved, Error> {
        for attempt in 1..=MOVE_RETRY.attempts {
            let order = self.read(asker, id).await?;
            let (moved, audit) = decide(&order)?;
            let write = OrderMove { moved: &moved, audit: audit.as_ref(), key: note(&moved)? };
            if self.orders.apply_move(&write).await? {
                count(&order, &moved.order);
                return Ok(moved);
            }
            MOVE_RETRY.wait(attempt).await;
        }
        Err(Error::unavailable(format!("order {id} kept changing under the move")))
    }

    /// A one-write move (fulfil): the move, its audit entry and the answer.
    async fn until_applied(
        &self,
        asker: &Asker,
        id: &OrderId,
        ask: &Ask,
        guard: &Guard,
        decide: impl Fn(&Order) -> Result<Moved, Error>,
    ) -> Result<StoredResponse, Error> {
        let moved = self
            .apply(
                asker,
                id,
                |order| {
                    let moved = decide(order)?;
                    let audit = self.audit(asker, ask, order, &moved.order);
                    Ok((moved, audit))
                },
                |moved| Ok(Some(KeyNote::Complete(guard.hold(), answer(asker, &moved.order, 200)?))),
            )
            .await?;
        answer(asker, &moved.order, 200)
    }

    /// The first move of a refund: reserve it, and note its id on the key.
    /// An admin's refund or cancel is audited here, where the decision
    /// lands; its settling (by the request or the settler) follows from it.
    async fn reserve(
        &self,
        asker: &Asker,
        id: &OrderId,
        (ask, guard): (&Ask, &Guard),
        refund: &RefundId,
        decide: impl Fn(&Order) -> Result<Moved, Error>,
    ) -> Result<(), Error> {
        self.apply(
            asker,
            id,
            |order| {
                let moved = decide(order)?;
                let audit = self.audit(asker, ask, order, &moved.order);
                Ok((moved, audit))
            },
            |_| Ok(Some(KeyNote::Progress(guard.hold(), refund.to_string()))),
        )
        .await
        .map(|_| ())
    }

    /// Asks the gateway to refund `amount` (idempotent on the refund's id);
    /// nothing to ask when a promotion made the order free: it charged nothing.
    async fn gateway_refund(&self, id: &OrderId, refund: &RefundId, amount: Money) -> Result<(), Error> {
        if amount.amount == 0 {
            return Ok(());
        }
        self.payments.refund(id, refund, amount).await.map(|_| ())
    }

    /// Asks the gateway for reserved refund `refund`, then settles it with
    /// the audit entry and the answer. One settled meanwhile (the settler
    /// finished it) is answered as the order now stands.
    async fn refund_and_settle(
        &self,
        asker: &Asker,
        id: &OrderId,
        ask: &Ask,
        guard: &Guard,
        refund: &RefundId,
    ) -> Result<StoredResponse, Error> {
        let status = if matches!(ask, Ask::Refund { .. }) { 201 } else { 200 };
        let order = self.read(asker, id).await?;
        let Some(pending) = order.state.pending_refunds.iter().find(|p| p.refund.id == *refund) else {
            return self.answer_finished(guard, asker, &order, refund, status).await;
        };
        self.gateway_refund(id, refund, pending.refund.amount).await?;
        let settled = self
            .apply(
                asker,
                id,
                |order| Ok((settle_refund(order, refund, self.clock.stamp()).ok_or(Error::InvalidTransition)?, None)),
                |moved| Ok(Some(KeyNote::Complete(guard.hold(), answer(asker, &moved.order, status)?))),
            )
            .await;
        match settled {
            Ok(moved) => answer(asker, &moved.order, status),
            // Settled by someone else between the read and the write.
            Err(Error::InvalidTransition) => {
                let order = self.read(asker, id).await?;
                self.answer_finished(guard, asker, &order, refund, status).await
            }
            Err(error) => Err(error),
        }
    }

    /// The answer for a refund someone else settled (the settler): stored
    /// under the key like any other, so a later retry replays it.
    async fn answer_finished(
        &self,
        guard: &Guard,
        asker: &Asker,
        order: &Order,
        refund: &RefundId,
        status: u16,
    ) -> Result<StoredResponse, Error> {
        let response = finished(asker, order, refund, status)?;
        guard.store(&response).await?;
        Ok(response)
    }

    /// Finishes refunds reserved before `cutoff` whose request never came
    /// back (the settler's pass): asks the gateway (which refunds each once)
    /// and settles them. A request that retries later finds it done.
    pub async fn finish_refunds(&self, cutoff: i64, batch: usize) -> Result<usize, Error> {
        let mut finished = 0;
        for order in self.orders.refunding_before(cutoff, batch).await? {
            for pending in &order.state.pending_refunds {
                if pending.refund.created_at.unix_timestamp() >= cutoff {
                    continue;
                }
                let refund = &pending.refund.id;
                // One refund the gateway will not take must not stop the others.
                if let Err(error) = self.gateway_refund(&order.id, refund, pending.refund.amount).await {
                    tracing::warn!(order_id = %order.id, refund_id = %refund, %error, "refund not finished; next run");
                    continue;
                }
                let applied = self
                    .apply(
                        &Asker::Settler,
                        &order.id,
                        |order| {
                            let mut moved =
                                settle_refund(order, refund, self.clock.stamp()).ok_or(Error::InvalidTransition)?;
                            if let Some(entry) = moved.entry.as_mut() {
                                entry.by = Party::Settler;
                            }
                            if let Some(last) = moved.order.history.last_mut() {
                                last.by = Party::Settler;
                            }
                            Ok((moved, None))
                        },
                        // Its request's key is left to that request's retry,
                        // which finds the refund done and answers from it.
                        |_| Ok(None),
                    )
                    .await;
                match applied {
                    Ok(_) => {
                        tracing::info!(order_id = %order.id, refund_id = %refund, "finished a refund left half-way");
                        finished += 1;
                    }
                    Err(Error::InvalidTransition) => {}
                    Err(error) => {
                        tracing::warn!(order_id = %order.id, refund_id = %refund, %error, "refund not settled; next run");
                    }
                }
            }
        }
        Ok(finished)
    }

    /// Records on order `id` a refund the gateway made without Galley (in
    /// Stripe's dashboard), as the admin route would have: status, history
    /// (by `gateway`), the customer's notice. `false` when it was recorded
    /// before (a redelivered event) or the order is not Galley's.
    pub async fn record_gateway_refund(&self, id: &OrderId, refund: Refund) -> Result<bool, Error> {
        let recorded = self
            .apply(
                &Asker::Gateway,
                id,
                // Recorded before: nothing to move.
                |order| {
                    Ok((record_refund(order, refund.clone(), Party::Gateway)?.ok_or(Error::InvalidTransition)?, None))
                },
                |_| Ok(None),
            )
            .await;
        match recorded {
            Ok(_) => Ok(true),
            Err(Error::InvalidTransition | Error::NotFound) => Ok(false),
            // Stripe refunded more than Galley thinks is left (a refund
            // asked of both at once): the order keeps what it holds, and
            // the operator is told by the log.
            Err(Error::RefundExceedsBalance { refundable }) => {
                tracing::error!(order_id = %id, refund_id = %refund.id, refundable = ?refundable, "a gateway refund exceeds what is left");
                Ok(false)
            }
            Err(error) => Err(error),
        }
    }

    /// Records on the declined order `id` the refund of a payment that
    /// succeeded after the decline, which the gateway has made; the
    /// customer's notice goes with it. `false` when recorded before.
    pub async fn record_late_refund(&self, id: &OrderId, refund: Refund) -> Result<bool, Error> {
        let recorded = self
            .apply(
                &Asker::Gateway,
                id,
                |order| Ok((refund_late_payment(order, refund.clone()).ok_or(Error::InvalidTransition)?, None)),
                |_| Ok(None),
            )
            .await;
        match recorded {
            Ok(_) => Ok(true),
            Err(Error::InvalidTransition | Error::NotFound) => Ok(false),
            Err(error) => Err(error),
        }
    }

    fn audit(&self, asker: &Asker, ask: &Ask, before: &Order, after: &Order) -> Option<AuditEntry> {
        let Asker::Admin(actor) = asker else { return None };
        let state = |o: &Order| json!({"status": o.status, "refunded": o.refunded()});
        let mut after_json = state(after);
        if let Value::Object(map) = &mut after_json {
            match ask {
                Ask::Refund { amount, reason } => {
                    map.insert("amount".into(), json!(amount));
                    map.insert("reason".into(), json!(reason));
                }
                Ask::Cancel { reason, restock } => {
                    map.insert("reason".into(), json!(reason));
                    map.insert("restock".into(), json!(restock));
                }
                Ask::Fulfil { .. } => {
                    map.insert("fulfilment".into(), json!(after.state.fulfilment));
                }
            }
        }
        Some(AuditEntry {
            id: AuditId::generate(),
            at: self.clock.stamp(),
            actor: actor.clone(),
            action: ask.action().into(),
            target: AuditTarget { kind: "order".into(), id: before.id.to_string() },
            before: state(before),
            after: after_json,
        })
    }
}

/// The answer a move gives: the admin's view with history, the customer's without.
fn answer(asker: &Asker, order: &Order, status: u16) -> Result<StoredResponse, Error> {
    let body = match asker {
        Asker::Admin(_) | Asker::Settler | Asker::Gateway => serde_json::to_vec(&AdminOrderView::from(order)),
        Asker::Customer(_) => serde_json::to_vec(&OrderView::from(order)),
    };
    Ok(StoredResponse { status, body: body.map_err(Error::internal)?.into() })
}

/// A retry's answer for a refund settled before it came back.
fn finished(asker: &Asker, order: &Order, refund: &RefundId, status: u16) -> Result<StoredResponse, Error> {
    if order.state.refunds.iter().any(|r| r.id == *refund) {
        answer(asker, order, status)
    } else {
        Err(Error::internal(format!("refund {refund} of order {} is neither pending nor done", order.id)))
    }
}

/// The metrics of one applied move: a cancellation, and each refund it
/// settled (a cancellation's refund too: money went back).
fn count(before: &Order, after: &Order) {
    if after.status == OrderStatus::Cancelled && before.status != OrderStatus::Cancelled {
        metrics::order_cancelled();
    }
    for refund in after.state.refunds.iter().skip(before.state.refunds.len()) {
        metrics::refund_settled(refund.amount);
    }
}
