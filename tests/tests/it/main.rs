//! Galley's integration tests, one binary (each rule its own `#[test]`):
//! the port contract over both stores, event replay, template and OpenAPI
//! checks, fault and race tests. Linked once instead of once per file.

mod auth_clock;
mod checkout_faults;
mod consistent_reads;
mod contract;
mod data_dir;
mod index_repair;
mod lifecycle_faults;
mod mail_contract;
mod multi_process;
mod openapi;
mod parse_fuzz;
mod quote_property;
mod receipts_outage;
mod receipts_stream;
mod replay;
mod search_bounds;
mod search_property;
mod signing_secret;
mod stripe_gateway;
mod stripe_webhook;
mod template;
mod throttling;
mod uploads;
