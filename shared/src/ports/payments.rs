use async_trait::async_trait;

use crate::error::Error;
use crate::id::{OrderId, RefundId};
use crate::money::Money;
use crate::orders::PaymentToken;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Charge {
    Approved {
        reference: String,
    },
    /// Refused; `code` is the gateway's reason (Stripe's `decline_code`,
    /// else its error `code`; the sandbox says `generic_decline`).
    Declined {
        code: String,
    },
    /// Waiting on the customer (3-D Secure): the order stays pending, its
    /// stock held, until the gateway says how it ended (its webhook, or
    /// the settler asking once `AUTHENTICATION_WINDOW` has passed).
    NeedsAction {
        reference: String,
        next_action: NextAction,
    },
}

/// What the customer's browser must do to finish a payment: API.md's
/// `next_action`, handed to Stripe.js.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct NextAction {
    #[serde(rename = "type")]
    pub kind: String,
    /// Lets the browser (and only the paying customer, who gets it) finish
    /// the payment; never logged.
    pub client_secret: String,
}

impl std::fmt::Debug for NextAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NextAction").field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// A payment provider. Every charge is idempotent on the order id: asking
/// again for the same order never charges twice, it reports the first outcome.
/// An unknown outcome (timeout) is `Error::Unavailable`.
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    async fn charge(&self, order: &OrderId, amount: Money, token: &PaymentToken) -> Result<Charge, Error>;

    /// What became of the order's payment, for an order its checkout left
    /// pending (or its customer never finished authenticating): `Approved`
    /// when it was charged; else `Declined` (never `NeedsAction`), and the
    /// payment is closed first, so no late charge for the order can
    /// succeed after the settler gave its stock back. Idempotent.
    async fn settle(&self, order: &OrderId) -> Result<Charge, Error>;

    /// What the order's payment has come to so far, without closing
    /// anything that may still succeed, as a webhook event asks: `Approved`
    /// when charged; `Declined` when it failed or was cancelled (closed
    /// then, so nothing can follow); `None` while it may still succeed
    /// (waiting on the customer, processing, not made yet).
    async fn outcome(&self, order: &OrderId) -> Result<Option<Charge>, Error>;

    /// Refunds `amount` of the order's charge, idempotent on `refund`:
    /// asking again never refunds twice; the gateway's reference. An
    /// unknown outcome (timeout) is `Error::Unavailable`: ask again.
    async fn refund(&self, order: &OrderId, refund: &RefundId, amount: Money) -> Result<String, Error>;
}

/// What one of the gateway's events (a webhook delivery) asks of Galley,
/// read by the gateway's adapter from the verified payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewayEvent {
    /// The payment of `order` moved on (succeeded, failed, canceled): the
    /// order is settled from what the gateway says now, not from the event,
    /// so a late or repeated delivery cannot move it wrongly. `succeeded`
    /// when the event says the payment went through (a declined order's
    /// late success is refunded).
    Payment { order: OrderId, succeeded: bool },
    /// The payment of `order` was refunded, in part or whole: every refund
    /// the gateway holds for it, Galley's own and others.
    Refunded { order: OrderId, refunds: Vec<GatewayRefund> },
    /// Nothing Galley acts on (answered 200 all the same).
    Other,
}

/// A refund as the gateway holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayRefund {
    /// The gateway's id for it (Stripe's `re_…`).
    pub reference: String,
    pub amount: Money,
    /// Galley's own refund id when Galley asked for it (its metadata).
    pub ours: Option<RefundId>,
    /// When the gateway made it (Unix seconds).
    pub created: i64,
}

/// What a gateway's own record (the sandbox's ledger) holds for an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LedgerEntry {
    /// Charged once, for this amount.
    Charged { amount: Money, reference: String },
    /// The card was declined.
    Declined,
    /// Closed unpaid by the settler: no charge may follow.
    Closed,
}

/// The sandbox gateway's ledger, in the store so its answers survive a
/// crash and tests can read what was charged. The first entry recorded for
/// an order is the one in force (a conditional put).
#[async_trait]
pub trait ChargeLedger: Send + Sync {
    /// Records `entry` for `order` unless one is there; the entry in force.
    async fn record(&self, order: &OrderId, entry: &LedgerEntry) -> Result<LedgerEntry, Error>;

    /// The entry in force for `order`, if any.
    async fn recorded(&self, order: &OrderId) -> Result<Option<LedgerEntry>, Error>;

    /// Records refund `refund` of `amount` unless it is there; the amount
    /// in force (the first recorded).
    async fn record_refund(&self, order: &OrderId, refund: &RefundId, amount: Money) -> Result<Money, Error>;

    /// Every refund recorded for `order`.
    async fn refunds(&self, order: &OrderId) -> Result<Vec<(RefundId, Money)>, Error>;

    /// Records the gateway's payment id for `order` (a Stripe
    /// PaymentIntent) unless one is there; the one in force. Recorded
    /// before the payment is confirmed, so a retry reuses it.
    async fn record_intent(&self, order: &OrderId, intent: &str) -> Result<String, Error>;

    /// The payment id recorded for `order`, if any.
    async fn intent(&self, order: &OrderId) -> Result<Option<String>, Error>;

    /// Replaces the recorded `from` with `to` (a conditional write: the
    /// marker a payment attempt writes before it makes the payment, by the
    /// payment's id); the one in force after.
    async fn replace_intent(&self, order: &OrderId, from: &str, to: &str) -> Result<String, Error>;
}
