use serde::{Deserialize, Serialize};

use super::code::PromoCode;
use crate::money::Money;

/// A promotion as an order redeemed it: kept on the order, so that a
/// decline or a cancellation gives back exactly what its checkout took
/// (one redemption, and the customer's one use of a once-per-customer code).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    /// The code as its admin wrote it (the stores key it by `key()`).
    pub code: PromoCode,
    pub discount: Money,
    pub once_per_customer: bool,
}
