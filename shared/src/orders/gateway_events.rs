//! The payment gateway's events (Stripe's webhook), applied to orders once
//! each. An event only says when to look: a payment event settles the
//! order from what the gateway says now (the settler's own step), so a
//! duplicate, late or out-of-order delivery moves nothing twice or wrongly.
//! A payment that succeeded after its order was declined is refunded at
//! once and the customer told; a refund made in the gateway's dashboard is
//! recorded on the order as the admin route would.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::history::Party;
use super::lifecycle::Lifecycle;
use super::order::{OrderStatus, Refund};
use super::settler::Settler;
use crate::clock::Clock;
use crate::error::Error;
use crate::id::{OrderId, RefundId};
use crate::ports::{AppliedEvents, Charge, GatewayEvent, IdempotencyRecords, OrderBook, Orders, PaymentGateway};

/// How long an applied event's id is kept: Stripe retries a delivery for
/// up to three days.
pub const APPLIED_EVENTS_KEPT: Duration = Duration::from_secs(7 * 24 * 3600);

/// What a refund made in the gateway's dashboard says on the order.
const DASHBOARD_REASON: &str = "refunded in the payment provider's dashboard";

#[derive(Clone)]
/// The stores the events are applied to.
pub struct EventStores {
    pub orders: Arc<dyn Orders>,
    pub book: Arc<dyn OrderBook>,
    pub keys: Arc<dyn IdempotencyRecords>,
    pub applied: Arc<dyn AppliedEvents>,
}

#[derive(Clone)]
pub struct GatewayEvents {
    settler: Settler,
    lifecycle: Lifecycle,
    orders: Arc<dyn Orders>,
    book: Arc<dyn OrderBook>,
    keys: Arc<dyn IdempotencyRecords>,
    payments: Arc<dyn PaymentGateway>,
    applied: Arc<dyn AppliedEvents>,
    clock: Arc<dyn Clock>,
}

impl GatewayEvents {
    pub fn new(
        stores: EventStores,
        payments: Arc<dyn PaymentGateway>,
        clock: Arc<dyn Clock>,
        answer_error: super::checkout::AnswerError,
    ) -> Self {
        let EventStores { orders, book, keys, applied } = stores;
        let settler = Settler::new(orders.clone(), payments.clone(), clock.clone(), answer_error);
        let lifecycle =
            Lifecycle::new(orders.clone(), book.clone(), keys.clone(), payments.clone(), clock.clone(), answer_error);
        Self { settler, lifecycle, orders, book, keys, payments, applied, clock }
    }

    /// Applies event `id`, read by `event`, unless it was applied before
    /// (then `event` is not even read: reading may ask the gateway). It is
    /// recorded as applied only once it was: a failure, or an order not
    /// ready for it yet (`Unavailable`), leaves it to the gateway's retry.
    pub async fn apply(
        &self,
        id: &str,
        event: impl Future<Output = Result<GatewayEvent, Error>> + Send,
    ) -> Result<(), Error> {
        if self.applied.applied(id).await? {
            tracing::info!(event_id = id, "gateway event delivered again; applied before");
            return Ok(());
        }
        let event = event.await?;
        tracing::info!(event_id = id, ?event, "applying a gateway event");
        match event {
            GatewayEvent::Payment { order, succeeded } => self.payment(&order, succeeded).await?,
            GatewayEvent::Refunded { order, refunds } => {
                for refund in refunds.into_iter().filter(|r| r.ours.is_none()) {
                    let id = RefundId::parse(&refund.reference)
                        .map_err(|e| Error::internal(format!("gateway refund id {}: {e}", refund.reference)))?;
                    let created_at = time::OffsetDateTime::from_unix_timestamp(refund.created)
                        .unwrap_or_else(|_| self.clock.stamp());
                    let refund = Refund { id, amount: refund.amount, reason: DASHBOARD_REASON.into(), created_at };
                    if self.lifecycle.record_gateway_refund(&order, refund).await? {
                        tracing::info!(order_id = %order, "recorded a refund made in the gateway");
                    }
                }
            }
            GatewayEvent::Other => {}
        }
        let keep_until = self.clock.unix_now() + APPLIED_EVENTS_KEPT.as_secs() as i64;
        self.applied.record_applied(id, keep_until).await
    }

    /// Settles a pending order from what the gateway says now (left alone
    /// while its payment may still succeed, and while its checkout is still
    /// at work: that checkout settles it); for a declined order, refunds a
    /// payment that succeeded all the same.
    async fn payment(&self, id: &OrderId, succeeded: bool) -> Result<(), Error> {
        if let Some(pending) = self.orders.pending_order(id).await? {
            if let Some(scope) = pending.scope()
                && self.keys.held(&scope, self.clock.unix_now()).await?
            {
                return Err(Error::unavailable("the order's checkout is still running; it settles the order"));
            }
            if let Some(charge) = self.payments.outcome(id).await? {
                self.settler.settle_with(&pending, charge, Party::Gateway).await?;
            }
            return Ok(());
        }
        if !succeeded {
            return Ok(());
        }
        let Some(order) = self.book.any_order(id).await? else {
            // Another shop's intent on the same account, or not ours.
            return Ok(());
        };
        if order.status != OrderStatus::Declined {
            return Ok(());
        }
        if let Some(Charge::Approved { .. }) = self.payments.outcome(id).await? {
            let refund = RefundId::parse(&format!("late_{id}")).map_err(Error::internal)?;
            self.payments.refund(id, &refund, order.total).await?;
            let late = Refund {
                id: refund,
                amount: order.total,
                reason: "the payment arrived after the order was declined".into(),
                created_at: self.clock.stamp(),
            };
            if self.lifecycle.record_late_refund(id, late).await? {
                tracing::warn!(order_id = %id, "refunded a payment that succeeded after its order was declined");
            }
        }
        Ok(())
    }
}
