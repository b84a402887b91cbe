//! Stock quantities and the outcome of reserving them.

use serde::{Deserialize, Serialize};

use crate::id::ProductId;

/// How many units one order line asks for: 1 to 100, as the contract says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Quantity(u32);

impl From<Quantity> for u32 {
    fn from(quantity: Quantity) -> u32 {
        quantity.0
    }
}

impl TryFrom<u32> for Quantity {
    type Error = String;

    fn try_from(units: u32) -> Result<Self, String> {
        Self::new(units)
    }
}

impl Quantity {
    pub const MAX: u32 = 100;

    pub fn new(units: u32) -> Result<Self, String> {
        if (1..=Self::MAX).contains(&units) {
            Ok(Self(units))
        } else {
            Err(format!("must be an integer from 1 to {}", Self::MAX))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// Units on hand for a product; never negative by construction.
pub type StockLevel = u32;

/// The most stock one product may hold; keeps sums far from overflow in every store.
pub const MAX_STOCK: StockLevel = 1_000_000_000;

/// One product's units to take or give back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockLine {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// A line that could not be reserved, and what is left of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Shortage {
    pub product_id: ProductId,
    pub requested: u32,
    pub available: StockLevel,
}

/// Lines of one stock change must name distinct products: DynamoDB refuses
/// two actions on one item in a transaction, and every store keeps that rule.
pub fn check_distinct(lines: &[StockLine]) -> Result<(), crate::Error> {
    let mut seen = std::collections::HashSet::with_capacity(lines.len());
    match lines.iter().find(|line| !seen.insert(&line.product_id)) {
        Some(line) => Err(crate::Error::internal(format!("product {} twice in one stock change", line.product_id))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_is_one_to_a_hundred() {
        assert_eq!(Quantity::new(1).unwrap().get(), 1);
        assert_eq!(Quantity::new(100).unwrap().get(), 100);
        for bad in [0, 101, u32::MAX] {
            assert!(Quantity::new(bad).is_err(), "{bad} accepted");
        }
    }
}
