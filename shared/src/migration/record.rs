//! The kinds of data a shop holds, and one record of each as both stores
//! read and write it.

use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::admin::{AuditEntry, ProductRecord};
use crate::auth::User;
use crate::id::{OrderId, RefundId, UserId};
use crate::idempotency::{Fingerprint, IdempotencyKey, IdempotencyScope};
use crate::money::Money;
use crate::orders::Order;
use crate::ports::{LedgerEntry, OutboxEntry};
use crate::promotions::{PromoCode, Promotion};
use crate::uploads::Upload;

/// A kind of data, in the order `run` copies them: what a record refers
/// to comes before it (a product before the orders of it), so a target
/// that is read while the copy runs never shows an order of a product it
/// lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Products,
    Users,
    Promotions,
    Orders,
    PromotionUses,
    IdempotencyRecords,
    Notices,
    Charges,
    Refunds,
    Intents,
    Events,
    Uploads,
    Blobs,
    Audit,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::Products,
        Kind::Users,
        Kind::Promotions,
        Kind::Orders,
        Kind::PromotionUses,
        Kind::IdempotencyRecords,
        Kind::Notices,
        Kind::Charges,
        Kind::Refunds,
        Kind::Intents,
        Kind::Events,
        Kind::Uploads,
        Kind::Blobs,
        Kind::Audit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Products => "products",
            Kind::Users => "users",
            Kind::Promotions => "promotions",
            Kind::Orders => "orders",
            Kind::PromotionUses => "promotion_uses",
            Kind::IdempotencyRecords => "idempotency_records",
            Kind::Notices => "notices",
            Kind::Charges => "charges",
            Kind::Refunds => "refunds",
            Kind::Intents => "intents",
            Kind::Events => "events",
            Kind::Uploads => "uploads",
            Kind::Blobs => "blobs",
            Kind::Audit => "audit",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An order with what the settler needs of it besides the order itself.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredOrder {
    pub order: Order,
    /// The idempotency key its checkout ran under.
    pub key: Option<IdempotencyKey>,
    /// Unix seconds from which the settler may take it while it is pending:
    /// its creation, or the end of its customer's 3-D Secure wait.
    pub settle_from: i64,
}

/// An idempotency record as a store keeps it, lease and all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    pub scope: IdempotencyScope,
    pub fingerprint: Fingerprint,
    pub complete: bool,
    pub claim: Option<String>,
    pub lease_until: i64,
    /// What a checkout got to before its answer (the order it placed).
    pub progress: Option<String>,
    /// The answer, once complete.
    pub status: Option<u16>,
    pub body: Option<Bytes>,
    pub expires_at: i64,
    /// The expiry a pinned record returns to when it completes.
    pub keep_until: Option<i64>,
}

/// Stored bytes: an upload's or a product image's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    pub key: String,
    pub bytes: Bytes,
    pub content_type: String,
    pub cache_control: Option<String>,
}

/// One record of one kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Product(ProductRecord),
    User(User),
    Promotion(Promotion),
    Order(StoredOrder),
    PromotionUse { code: PromoCode, user: UserId, order: OrderId },
    IdempotencyRecord(KeyRecord),
    Notice(OutboxEntry),
    Charge { order: OrderId, entry: LedgerEntry },
    Refund { order: OrderId, refund: RefundId, amount: Money },
    Intent { order: OrderId, intent: String },
    Event { id: String, expires_at: i64 },
    Upload(Upload),
    Blob(Blob),
    Audit(AuditEntry),
}

impl Record {
    pub fn kind(&self) -> Kind {
        match self {
            Record::Product(_) => Kind::Products,
            Record::User(_) => Kind::Users,
            Record::Promotion(_) => Kind::Promotions,
            Record::Order(_) => Kind::Orders,
            Record::PromotionUse { .. } => Kind::PromotionUses,
            Record::IdempotencyRecord(_) => Kind::IdempotencyRecords,
            Record::Notice(_) => Kind::Notices,
            Record::Charge { .. } => Kind::Charges,
            Record::Refund { .. } => Kind::Refunds,
            Record::Intent { .. } => Kind::Intents,
            Record::Event { .. } => Kind::Events,
            Record::Upload(_) => Kind::Uploads,
            Record::Blob(_) => Kind::Blobs,
            Record::Audit(_) => Kind::Audit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_and_named_as_serde_names_it() {
        let mut seen = std::collections::HashSet::new();
        for kind in Kind::ALL {
            assert!(seen.insert(kind), "{kind} twice");
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.as_str()));
        }
        let mut sorted = Kind::ALL;
        sorted.sort();
        assert_eq!(sorted, Kind::ALL, "ALL is in copy order, which is the declaration order");
    }
}
