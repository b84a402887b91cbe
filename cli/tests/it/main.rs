//! The `galley` binary driven over HTTP and its other commands, one binary
//! for every suite (`common` starts and stops `galley serve`).

mod admin_http;
mod auth_http;
mod auth_logs;
mod backup;
mod catalog_http;
mod common;
mod import;
mod lifecycle_http;
mod migrate;
mod orders_http;
mod promotions_http;
mod replay;
mod serve_limits;
mod stripe_http;
mod uploads_http;
mod webhook_http;
