//! The settler: an order whose checkout ended without settling it (the
//! function timed out or crashed, and its client gave up) is settled by
//! asking the payment gateway, so no order stays pending and no stock is
//! held for good. Run on a schedule (the `settler` function), in the
//! background of `galley serve`, and by `galley settle`.
//!
//! It waits out the checkout's lease, then asks the gateway to settle the
//! order's payment: what was charged is confirmed (receipt and all), what
//! was not is closed first, so no late charge can follow, and declined
//! with its stock back. Each is one transaction that also completes the
//! key's record, so a retry that races it replays the same answer.

use std::sync::Arc;

use super::checkout::{AnswerError, CHECKOUT_LEASE, confirmed_answer};
use super::history::{HistoryEntry, Party};
use super::order::{Order, OrderStatus};
use crate::clock::Clock;
use crate::error::Error;
use crate::metrics;
use crate::ports::{Charge, Orders, PaymentGateway, PendingOrder};

/// What one pass settled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settled {
    pub confirmed: usize,
    pub declined: usize,
}

#[derive(Clone)]
pub struct Settler {
    orders: Arc<dyn Orders>,
    payments: Arc<dyn PaymentGateway>,
    clock: Arc<dyn Clock>,
    answer_error: AnswerError,
}

impl Settler {
    pub fn new(
        orders: Arc<dyn Orders>,
        payments: Arc<dyn PaymentGateway>,
        clock: Arc<dyn Clock>,
        answer_error: AnswerError,
    ) -> Self {
        Self { orders, payments, clock, answer_error }
    }

    /// Settles up to `batch` pending orders older than the checkout lease,
    /// oldest first. An order someone else settled meanwhile is skipped.
    pub async fn settle_pending(&self, batch: usize) -> Result<Settled, Error> {
        let cutoff = self.clock.unix_now() - CHECKOUT_LEASE.as_secs() as i64;
        let mut settled = Settled::default();
        for pending in self.orders.pending_before(cutoff, batch).await? {
            match self.settle(&pending, Party::Settler).await? {
                Some(OrderStatus::Confirmed) => settled.confirmed += 1,
                Some(_) => settled.declined += 1,
                None => {}
            }
        }
        Ok(settled)
    }

    /// One pending order settled from the gateway's answer; `None` when
    /// someone settled it first.
    async fn settle(&self, pending: &PendingOrder, by: Party) -> Result<Option<OrderStatus>, Error> {
        // A free order (a promotion took it all) was never the gateway's:
        // its checkout would have confirmed it, so the settler does.
        let charge = if pending.order.total.amount == 0 {
            Charge::Approved { reference: String::new() }
        } else {
            self.payments.settle(&pending.order.id).await?
        };
        self.settle_with(pending, charge, by).await
    }

    /// Settles a pending order as `charge` says (the webhook's way, from
    /// the gateway's `outcome`); `None` when someone settled it first.
    pub async fn settle_with(
        &self,
        pending: &PendingOrder,
        charge: Charge,
        by: Party,
    ) -> Result<Option<OrderStatus>, Error> {
        let order = &pending.order;
        let (to, answer) = match charge {
            Charge::Approved { .. } => {
                let confirmed = Order { status: OrderStatus::Confirmed, ..order.clone() };
                (OrderStatus::Confirmed, confirmed_answer(&confirmed)?)
            }
            Charge::Declined { code } => {
                (OrderStatus::Declined, (self.answer_error)(&Error::PaymentDeclined { decline_code: code }))
            }
            Charge::NeedsAction { .. } => {
                return Err(Error::internal(format!("the gateway left order {} waiting when settling it", order.id)));
            }
        };
        let entry = HistoryEntry::new(to, self.clock.stamp(), by);
        if !self.orders.settle(pending, &entry, &answer).await? {
            return Ok(None);
        }
        tracing::info!(order_id = %order.id, status = to.as_str(), by = %entry.by, "settled a pending order");
        if to == OrderStatus::Confirmed {
            metrics::order_confirmed(order.total, order.promotion.is_some());
        } else {
            metrics::order_declined();
        }
        Ok(Some(to))
    }
}
