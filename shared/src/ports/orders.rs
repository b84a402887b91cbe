use async_trait::async_trait;

use crate::admin::AuditEntry;
use crate::error::Error;
use crate::id::{OrderId, UserId};
use crate::idempotency::{IdempotencyKey, IdempotencyScope, LeaseId, StoredResponse};
use crate::orders::{HistoryEntry, Moved, Order, OrderStatus};

/// The idempotency lease an order transaction runs under: each transaction
/// checks the lease is still this holder's, so a holder whose lease lapsed
/// (a retry took over) can change nothing.
#[derive(Clone, Copy, Debug)]
pub struct Hold<'a> {
    pub scope: &'a IdempotencyScope,
    pub lease: &'a LeaseId,
}

/// A pending order as the settler finds it: the order and the key its
/// checkout ran under (none for orders placed before keys were kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingOrder {
    pub order: Order,
    pub key: Option<IdempotencyKey>,
}

impl PendingOrder {
    /// The idempotency record the order's checkout ran under.
    pub fn scope(&self) -> Option<IdempotencyScope> {
        self.key.clone().map(|key| IdempotencyScope { user: self.order.user_id.clone(), key })
    }
}

/// What a lifecycle move does to the key record of the request that made it.
#[derive(Clone, Debug)]
pub enum KeyNote<'a> {
    /// Completed with the answer, if the lease still holds it.
    Complete(Hold<'a>, StoredResponse),
    /// Noted with what was done (a refund's id), so a retry resumes it.
    Progress(Hold<'a>, String),
}

/// A lifecycle move (fulfil, a refund asked or settled, a cancellation) as
/// one atomic write: the order's new status and state only if its stored
/// version is the one the move was judged on, the history entry, the stock
/// back, the notice in the outbox, the audit entry and the key record.
#[derive(Clone, Debug)]
pub struct OrderMove<'a> {
    pub moved: &'a Moved,
    pub audit: Option<&'a AuditEntry>,
    pub key: Option<KeyNote<'a>>,
}

/// Orders, and the transactions that move them along. Each method is one
/// atomic store transaction (DynamoDB: one `TransactWriteItems`).
#[async_trait]
pub trait Orders: Send + Sync {
    /// Takes every line's stock (only where `stock >= quantity`), writes the
    /// order as pending (findable by `pending_before`) with its history so
    /// far, and records its id
    /// on the held idempotency record, which then never expires while the
    /// order is pending; all or nothing. Short lines: `OutOfStock` naming
    /// each with what is left.
    async fn place(&self, order: &Order, hold: Hold<'_>) -> Result<(), Error>;

    /// Pending → confirmed, `entry` appended to its history; the
    /// idempotency record completed with `response`; the order's receipt put
    /// in the outbox (transactional outbox).
    async fn confirm(
        &self,
        order: &Order,
        entry: &HistoryEntry,
        hold: Hold<'_>,
        response: &StoredResponse,
    ) -> Result<(), Error>;

    /// Pending → declined, `entry` appended to its history, every line's
    /// stock given back, the idempotency record completed with `response`
    /// (compensating transaction).
    async fn decline(
        &self,
        order: &Order,
        entry: &HistoryEntry,
        hold: Hold<'_>,
        response: &StoredResponse,
    ) -> Result<(), Error>;

    /// The payment waits on the customer (3-D Secure): the order stays
    /// pending with its stock held, the idempotency record is completed
    /// with `response` (the 202), and the settler leaves the order alone
    /// until `settle_from` (Unix seconds; `pending_before` compares it
    /// where it would the creation time). A record completed meanwhile
    /// (the webhook settled the order first) is `RequestInProgress`,
    /// changing nothing: the retry replays that answer.
    async fn await_customer(
        &self,
        order: &Order,
        hold: Hold<'_>,
        response: &StoredResponse,
        settle_from: i64,
    ) -> Result<(), Error>;

    /// The order with this id, with the key its checkout ran under, while
    /// it is pending (the gateway's webhook settles it); else `None`.
    async fn pending_order(&self, id: &OrderId) -> Result<Option<PendingOrder>, Error>;

    /// The user's order, or `None` (also when it is another user's).
    async fn order(&self, user: &UserId, id: &OrderId) -> Result<Option<Order>, Error>;

    /// Up to `limit` of the user's orders, newest first, older than `before`.
    async fn orders(&self, user: &UserId, before: Option<&OrderId>, limit: usize) -> Result<Vec<Order>, Error>;

    /// Up to `limit` pending orders created before `cutoff` (Unix seconds),
    /// oldest first: those whose checkout ended without settling them. An
    /// order waiting on its customer counts from its `settle_from`.
    async fn pending_before(&self, cutoff: i64, limit: usize) -> Result<Vec<PendingOrder>, Error>;

    /// Settles a pending order without a lease, as the settler does, in one
    /// transaction: pending → `entry.status`, appended to its history
    /// (confirmed: its receipt in the outbox; declined: every line's stock
    /// back), and its key's record, while
    /// incomplete and pointing at the order, completed with `response` (a
    /// retry then replays it). `false`, changing nothing, when the order
    /// was no longer pending: someone settled it first.
    async fn settle(
        &self,
        pending: &PendingOrder,
        entry: &HistoryEntry,
        response: &StoredResponse,
    ) -> Result<bool, Error>;

    /// Applies `m` whole or not at all: `false`, writing nothing, when the
    /// order's version is no longer `m.moved.order.version - 1` (another
    /// move won: read again). A key whose lease lapsed is `RequestInProgress`.
    async fn apply_move(&self, m: &OrderMove<'_>) -> Result<bool, Error>;

    /// Up to `limit` orders with a refund asked of the gateway before
    /// `cutoff` (Unix seconds) and not settled, oldest first: the settler
    /// finishes what a request left half-way.
    async fn refunding_before(&self, cutoff: i64, limit: usize) -> Result<Vec<Order>, Error>;
}

/// Which orders an admin listing wants; both filters combine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub user: Option<UserId>,
}

/// One stretch of orders, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderListing {
    pub orders: Vec<Order>,
    /// Where a read that filtered as it went stopped before filling the
    /// page: the next page starts below it (as `Listing::read_up_to`).
    pub read_up_to: Option<OrderId>,
}

/// Every customer's orders, as the back office reads them: never by
/// scanning the store (docs/data-model.md).
#[async_trait]
pub trait OrderBook: Send + Sync {
    /// The order with this id, whoever placed it.
    async fn any_order(&self, id: &OrderId) -> Result<Option<Order>, Error>;

    /// Up to `limit` orders the filter admits, newest first, older than
    /// `before`.
    async fn all_orders(
        &self,
        filter: &OrderFilter,
        before: Option<&OrderId>,
        limit: usize,
    ) -> Result<OrderListing, Error>;
}
