//! The ports: one trait per concern, shaped after DynamoDB's semantics
//! (conditional put, all-or-nothing transaction, TTL) so every adapter maps
//! to them one to one. Adapters return domain errors: a dependency outage is
//! `Error::Unavailable`, anything unexpected `Error::Internal`.

mod catalog;
mod search;
mod stock;

pub use catalog::{Catalog, ImportReport};
pub use search::SearchIndex;
pub use stock::Stock;

/// The outcome of a conditional put: the key was free, or already taken
/// (in which case nothing was written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    Created,
    AlreadyExists,
}
