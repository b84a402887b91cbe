//! The AWS adapters: DynamoDB (one table, single-table design; see
//! `docs/data-model.md`), and behind features S3 (`s3`), SES v2 (`ses`) and
//! Secrets Manager (`secrets`), so each function links only the SDK clients
//! it calls. Clients are built once per process from `aws-config`, so the
//! standard `AWS_ENDPOINT_URL*` variables point the same binary at moto or
//! at AWS.
//!
//! | module       | what it is for                                                  |
//! |--------------|-----------------------------------------------------------------|
//! | `table`      | the table's keys and indexes, and creating it                   |
//! | `item`       | reading and writing attribute values                            |
//! | `transact`   | the transaction runner, its reasons, stock updates, the backoff |
//! | `catalog`    | products, stock and the search index                            |
//! | `accounts`   | users, sessions and login attempts                              |
//! | `admin`      | the back office: product records, admin writes, the audit log   |
//! | `orders`     | orders, idempotency records                                     |
//! | `lifecycle`  | the moves after checkout: fulfil, refunds, cancellations        |
//! | `notices`    | the outbox: one notice per order event, sent once               |
//! | `order_book` | every customer's orders for the back office, by index           |
//! | `charges`    | the sandbox gateway's ledger                                    |
//! | `promotions` | discount codes, their redemptions and uses                      |
//! | `stream`     | the table's stream read back: which records are receipts        |
//! | `uploads`    | upload records                                                  |
//! | `errors`     | SDK errors as domain errors                                     |
//! | `migration`  | the target of a move from the box: items, bytes, counts (`s3`)  |
//! | `s3`         | upload bytes and presigned PUTs (feature `s3`)                  |
//! | `ses`        | mail through SES v2 (feature `ses`)                             |
//! | `secrets`    | Secrets Manager reads (feature `secrets`)                       |
//! | `sdk_config` | the SDK configuration, built once per process                   |
//! | `traced`     | one log line per AWS call: operation, outcome, status, time     |
//! | `https`      | the HTTPS client the SDK clients share                          |

mod accounts;
mod admin;
mod catalog;
mod charges;
mod errors;
pub mod https;
mod item;
mod lifecycle;
#[cfg(feature = "s3")]
pub mod migration;
mod notices;
mod order_book;
pub mod orders;
mod promotions;
#[cfg(feature = "s3")]
pub mod s3;
mod sdk_config;
#[cfg(feature = "secrets")]
pub mod secrets;
#[cfg(feature = "ses")]
pub mod ses;
pub mod stream;
pub mod table;
mod traced;
mod transact;
mod uploads;

use std::sync::Arc;

use aws_config::SdkConfig;
pub use sdk_config::load_sdk_config;
pub use traced::Traced;

/// Every DynamoDB-backed port over one table.
#[derive(Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: Arc<str>,
    config: SdkConfig,
}

impl DynamoStore {
    pub fn new(config: &SdkConfig, table: impl Into<Arc<str>>) -> Self {
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(config).interceptor(Traced).build();
        Self { client: aws_sdk_dynamodb::Client::from_conf(dynamodb), table: table.into(), config: config.clone() }
    }

    /// Over a client built elsewhere (tests add interceptors to see requests).
    pub fn with_client(client: aws_sdk_dynamodb::Client, table: impl Into<Arc<str>>, config: &SdkConfig) -> Self {
        Self { client, table: table.into(), config: config.clone() }
    }

    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    /// The SDK configuration the store was built with, for the other clients
    /// a process builds at start-up.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.config
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}
