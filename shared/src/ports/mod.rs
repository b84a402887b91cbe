//! The ports: one trait per concern, shaped after DynamoDB's semantics
//! (conditional put, all-or-nothing transaction, TTL) so every adapter maps
//! to them one to one. Adapters return domain errors: a dependency outage is
//! `Error::Unavailable`, anything unexpected `Error::Internal`. A time a
//! port takes is Unix seconds (`i64`, `Clock::unix_now`): the unit every
//! store keeps and DynamoDB's TTL reads.

mod admin;
mod blobs;
mod catalog;
mod events;
mod idempotency;
mod login_attempts;
mod mail;
mod migration;
mod orders;
mod payments;
mod promotions;
mod search;
mod secrets;
mod sessions;
mod stock;
mod uploads;
mod users;

pub use admin::{AdminWrite, AuditLog, ProductChange, ProductRecords, RecordListing};
pub use blobs::{BlobHead, Blobs, PresignedUpload, ServedAs, UploadUrls};
pub use catalog::{Catalog, ImportReport, Listing};
pub use events::AppliedEvents;
pub use idempotency::IdempotencyRecords;
pub use login_attempts::LoginAttempts;
pub use mail::{Mailer, Outbox, OutboxEntry};
pub use migration::{Export, Import};
pub use orders::{Hold, KeyNote, OrderBook, OrderFilter, OrderListing, OrderMove, Orders, PendingOrder};
pub use payments::{Charge, ChargeLedger, GatewayEvent, GatewayRefund, LedgerEntry, NextAction, PaymentGateway};
pub use promotions::{PromotionChange, Promotions};
pub use search::SearchIndex;
pub use secrets::{FixedKey, FixedSecret, KeySource, SecretSource};
pub use sessions::{Rotation, Sessions};
pub use stock::Stock;
pub use uploads::UploadRecords;
pub use users::Users;

/// The outcome of a conditional put: the key was free, or already taken
/// (in which case nothing was written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    Created,
    AlreadyExists,
}
