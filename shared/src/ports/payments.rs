use async_trait::async_trait;

use crate::error::Error;
use crate::id::OrderId;
use crate::money::Money;
use crate::orders::PaymentToken;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Charge {
    Approved { reference: String },
    Declined,
}

/// A payment provider. Every charge is idempotent on the order id: asking
/// again for the same order never charges twice, it reports the first outcome.
/// An unknown outcome (timeout) is `Error::Unavailable`.
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    async fn charge(&self, order: &OrderId, amount: Money, token: &PaymentToken) -> Result<Charge, Error>;
}
