//! What every entry point needs at cold start, outside the domain: choosing
//! the adapters from configuration (`stores`) and converting Lambda events
//! to and from the plain `http` types the handlers take (`glue`).

pub mod glue;
pub mod keys;
mod runtime;
mod start;
pub mod stores;

pub use glue::{into_lambda_response, into_web_request, run};
pub use runtime::block_on;
pub use start::{Deployment, serve, start, start_without_key};
pub use stores::Stores;
