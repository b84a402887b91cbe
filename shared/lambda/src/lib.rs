//! What every entry point needs at cold start, outside the domain: logging,
//! the adapters the configuration selects, the keys, and the
//! conversion of Lambda events to and from the HTTP edge's plain `http`
//! types.
//!
//! | module      | what it is for                                                   |
//! |-------------|------------------------------------------------------------------|
//! | `start`     | the cold start of an HTTP function and `serve`, its request loop |
//! | `stores`    | picks and builds the adapters once per process                   |
//! | `keys`      | each function's keys, from its environment or the data dir       |
//! | `glue`      | API Gateway events ⇄ `galley_http` requests and responses         |
//! | `telemetry` | tracing set-up: JSON lines in Lambda, text elsewhere             |
//! | `metrics`   | the metrics as CloudWatch EMF lines, written after each invocation |
//! | `runtime`   | the one-thread async runtime a function process runs on          |

pub mod glue;
pub mod keys;
mod metrics;
mod runtime;
mod start;
pub mod stores;
pub mod telemetry;

pub use glue::{into_lambda_response, into_web_request, run, run_events};
pub use runtime::block_on;
pub use start::{Deployment, serve, start, start_without_key};
pub use stores::Stores;
