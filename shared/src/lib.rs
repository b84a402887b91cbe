//! Galley's domain: the shop's rules and the ports its adapters implement.
//!
//! Nothing here knows about Lambda, HTTP frameworks or AWS. Adapters live in
//! sibling crates (`galley-embedded`, `galley-aws`) and the Lambda glue in
//! `galley-lambda`; function crates only wire them together.

pub mod auth;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod error;
pub mod id;
pub mod idempotency;
pub mod import;
pub mod json;
pub mod keys;
pub mod mail;
pub mod money;
pub mod orders;
pub mod ports;
pub mod problem;
pub mod sandbox_payments;
pub mod search;
pub mod stock;
pub mod telemetry;
pub mod uploads;
pub mod web;

pub use error::{Error, FieldError};
