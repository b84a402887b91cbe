//! The one shape of an HTTP function, which Lambda (`galley_lambda::serve`)
//! and the local server (`galley serve`) both dispatch through.

use std::time::Instant;

use async_trait::async_trait;
use galley_shared::{Error, metrics};
use tracing::Instrument as _;

use crate::request::{Request, RequestId, Response, finish, span};

#[async_trait]
pub trait Handler: Send + Sync {
    /// Answers one request; an error is answered as its problem.
    async fn respond(&self, request: &Request) -> Result<Response, Error>;

    /// The route a request is for, as `METHOD /pattern` (`route::pattern`),
    /// or `None` when no route's pattern and method fit it.
    fn route(&self, request: &Request) -> Option<String>;

    /// The response sent: `respond`'s, errors mapped to problem+json (server
    /// faults logged), with the request id attached; everything it logs is
    /// logged in the request's span, which names the request. Each answer
    /// is counted and timed by route (`metrics::request`).
    async fn handle(&self, request: Request) -> Response {
        let started = Instant::now();
        let id = RequestId::of(&request);
        let span = span(&id);
        let response = async { finish(&id, self.respond(&request).await) }.instrument(span).await;
        let route = self.route(&request).unwrap_or_else(|| "unmatched".to_owned());
        metrics::request(route, response.status().as_u16(), started.elapsed());
        response
    }
}
