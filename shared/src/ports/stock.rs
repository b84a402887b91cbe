use async_trait::async_trait;

use crate::error::Error;
use crate::id::ProductId;
use crate::stock::{StockLevel, StockLine};

/// Stock levels, changed only atomically.
#[async_trait]
pub trait Stock: Send + Sync {
    /// Takes every line's quantity in one transaction, each under the
    /// condition that enough is left. Either all lines are taken, or none is
    /// and the error is `Error::OutOfStock` naming each short line with what
    /// was available at that moment (0 for a product that does not exist).
    async fn reserve(&self, lines: &[StockLine]) -> Result<(), Error>;

    /// Gives the lines' quantities back, in one transaction (the
    /// compensation for a reservation that will not become a sale).
    async fn release(&self, lines: &[StockLine]) -> Result<(), Error>;

    /// The current level, or `None` for an unknown product.
    async fn level(&self, id: &ProductId) -> Result<Option<StockLevel>, Error>;
}
