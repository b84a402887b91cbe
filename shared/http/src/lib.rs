//! Galley's HTTP edge: everything between a request and the domain, over
//! plain `http` types so Lambda, the local server and tests drive the same
//! code. Outside input is parsed here into domain values, and domain
//! results and errors become answers here; the domain crate knows none of it.
//!
//! | module      | what it is for                                                      |
//! |-------------|---------------------------------------------------------------------|
//! | `request`   | request and response types, JSON bodies, the request id, `finish`   |
//! | `route`     | a function's routes: match by method and path, 404 and 405          |
//! | `api`       | every route of the API and its function; unmatched requests       |
//! | `handler`   | the `Handler` trait every HTTP function implements                  |
//! | `problem`   | the one mapping from the domain's `Error` to problem+json           |
//! | `json`      | parsing a JSON object field by field, naming every bad field        |
//! | `documents` | the JSON documents Galley reads (cart, upload, product, catalog)    |
//! | `query`     | query strings: decoded, each parameter once, unknown ones named     |
//! | `paging`    | `limit` and `cursor` for every listing, cursor sealing, page bodies |
//! | `idempotency` | the `Idempotency-Key` header and stored answers sent back       |

pub mod api;
pub mod documents;
pub mod handler;
pub mod idempotency;
pub mod json;
pub mod paging;
pub mod problem;
pub mod query;
pub mod request;
pub mod route;

pub use handler::Handler;
pub use request::{Request, RequestId, Response};
