use async_trait::async_trait;

use crate::error::Error;
use crate::id::{OrderId, UserId};
use crate::idempotency::{IdempotencyScope, LeaseId, StoredResponse};
use crate::orders::Order;

/// The idempotency lease an order transaction runs under: each transaction
/// checks the lease is still this holder's, so a holder whose lease lapsed
/// (a retry took over) can change nothing.
#[derive(Clone, Copy, Debug)]
pub struct Hold<'a> {
    pub scope: &'a IdempotencyScope,
    pub lease: &'a LeaseId,
}

/// Orders, and the transactions that move them along. Each method is one
/// atomic store transaction (DynamoDB: one `TransactWriteItems`).
#[async_trait]
pub trait Orders: Send + Sync {
    /// Takes every line's stock (only where `stock >= quantity`), writes the
    /// order as pending, and records its id on the held idempotency record;
    /// all or nothing. Short lines: `OutOfStock` naming each with what is left.
    async fn place(&self, order: &Order, hold: Hold<'_>) -> Result<(), Error>;

    /// Pending → confirmed; the idempotency record completed with `response`;
    /// the order's receipt put in the outbox (transactional outbox).
    async fn confirm(&self, order: &Order, hold: Hold<'_>, response: &StoredResponse) -> Result<(), Error>;

    /// Pending → declined, every line's stock given back, the idempotency
    /// record completed with `response` (compensating transaction).
    async fn decline(&self, order: &Order, hold: Hold<'_>, response: &StoredResponse) -> Result<(), Error>;

    /// The user's order, or `None` (also when it is another user's).
    async fn order(&self, user: &UserId, id: &OrderId) -> Result<Option<Order>, Error>;

    /// Up to `limit` of the user's orders, newest first, older than `before`.
    async fn orders(&self, user: &UserId, before: Option<&OrderId>, limit: usize) -> Result<Vec<Order>, Error>;
}
