use async_trait::async_trait;

use crate::admin::{AuditEntry, ProductRecord, RecordFilter};
use crate::error::Error;
use crate::id::{AuditId, ProductId};
use crate::idempotency::StoredResponse;
use crate::ports::Hold;
use crate::stock::StockLevel;

/// A change to one product, as one conditional write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProductChange {
    /// Only if no product has its id.
    Create(ProductRecord),
    /// Every field but the stock, only if the stored version is
    /// `previous.version`; the search index follows (on DynamoDB, in the
    /// writes right after the transaction: see docs/data-model.md).
    Replace { record: ProductRecord, previous: ProductRecord },
    /// The stock from `from` to `to`, only if it is still `from` (a sale
    /// racing the move makes the desk read again and retry).
    Stock { id: ProductId, from: StockLevel, to: StockLevel },
}

impl ProductChange {
    /// The product whose search index the change rewrites, if any (a stock
    /// move changes no word a search reads).
    pub fn reindexed(&self) -> Option<&ProductId> {
        match self {
            Self::Create(record) | Self::Replace { record, .. } => Some(&record.product.id),
            Self::Stock { .. } => None,
        }
    }
}

/// An admin write: the change, its audit entry, and the idempotency record
/// it completes, all in one atomic write (a transaction on both stores).
#[derive(Clone, Debug)]
pub struct AdminWrite<'a> {
    pub change: ProductChange,
    pub audit: AuditEntry,
    /// For a route under an Idempotency-Key: the record completed with the
    /// answer, if the lease still holds it.
    pub completion: Option<(Hold<'a>, StoredResponse)>,
}

/// One stretch of product records in title order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordListing {
    pub records: Vec<ProductRecord>,
    /// As `Listing::read_up_to`: where the read budget ran out.
    pub read_up_to: Option<String>,
}

/// The back office's view of the catalog: every product, archived ones too.
#[async_trait]
pub trait ProductRecords: Send + Sync {
    /// One product's record, archived or not.
    async fn product_record(&self, id: &ProductId) -> Result<Option<ProductRecord>, Error>;

    /// Records the filter admits in title order after `after`, reading at
    /// most `budget` (as `Catalog::list`).
    async fn product_records(
        &self,
        filter: &RecordFilter,
        after: Option<&str>,
        limit: usize,
        budget: usize,
    ) -> Result<RecordListing, Error>;

    /// Applies `write` whole or not at all: `false` when the change's
    /// condition did not hold (nothing written, the audit entry neither).
    /// A completion whose lease lapsed is `RequestInProgress`.
    async fn apply(&self, write: &AdminWrite<'_>) -> Result<bool, Error>;

    /// Repairs, up to `batch` of them, the search index of products whose
    /// write committed before `noted_before` (Unix seconds) but whose index
    /// rewrite never finished (the writer crashed between the two); returns
    /// how many. A store that changes a product and its index in one
    /// transaction never leaves one to repair.
    async fn repair_index(&self, noted_before: i64, batch: usize) -> Result<usize, Error>;
}

/// The audit log, newest first.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Up to `limit` entries older than `before` (the newest when `None`).
    async fn entries(&self, before: Option<&AuditId>, limit: usize) -> Result<Vec<AuditEntry>, Error>;
}
