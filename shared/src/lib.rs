//! Galley's domain: the shop's rules and the ports its adapters implement.
//!
//! Nothing here knows about Lambda, HTTP or AWS (`scripts/test` checks the
//! dependency tree). The HTTP edge is `galley-http`; adapters live in
//! sibling crates (`galley-embedded`, `galley-aws`, `galley-payments`) and
//! the start-up wiring in `galley-lambda`; function crates only wire them
//! together.
//!
//! | module        | what it is for                                                 |
//! |---------------|----------------------------------------------------------------|
//! | `error`       | the one error type, and a fault's cause chain                  |
//! | `ports`       | one trait per concern, each adapter implements them            |
//! | `id`          | the ids: users, sessions, products, orders, uploads            |
//! | `money`       | amounts in minor units of one currency                         |
//! | `catalog`     | products and categories                                        |
//! | `stock`       | quantities, stock lines and shortages                          |
//! | `search`      | words, the inverted index's postings, ranking, paging positions |
//! | `orders`      | carts, pricing, orders, checkout, receipts                     |
//! | `promotions`  | discount codes: when one applies, what it takes, line by line  |
//! | `idempotency` | idempotency keys, request fingerprints and leases              |
//! | `admin`       | the back office: product records, stock moves, the audit log   |
//! | `backoff`     | the one retry policy: exponential backoff with full jitter      |
//! | `auth`        | accounts, passwords, sessions, access tokens, lockout          |
//! | `uploads`     | upload tickets and the check of arrived bytes                  |
//! | `mail`        | email messages                                                 |
//! | `keys`        | the deployment's secret, the keys derived from it, who holds which |
//! | `clock`       | time as a port                                                 |
//! | `metrics`     | the business and technical figures, through the `metrics` facade |
//! | `calls`       | one span and one log line per call to a dependency             |
//! | `config`      | which backend the environment selects                          |
//! | `migration`   | a shop moved from one store to another, resumably              |

pub mod admin;
pub mod auth;
pub mod backoff;
pub mod calls;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod error;
pub mod id;
pub mod idempotency;
pub mod keys;
pub mod mail;
pub mod metrics;
pub mod migration;
pub mod money;
pub mod orders;
pub mod ports;
pub mod promotions;
pub mod search;
pub mod stock;
pub mod uploads;

pub use error::{Chain, Error, FieldError};
