//! The one shape of an HTTP function, which Lambda (`galley_lambda::serve`)
//! and the local server (`galley serve`) both dispatch through.

use async_trait::async_trait;
use galley_shared::Error;
use tracing::Instrument as _;

use crate::request::{Request, RequestId, Response, finish, span};

#[async_trait]
pub trait Handler: Send + Sync {
    /// Answers one request; an error is answered as its problem.
    async fn respond(&self, request: &Request) -> Result<Response, Error>;

    /// The response sent: `respond`'s, errors mapped to problem+json (server
    /// faults logged), with the request id attached; everything it logs is
    /// logged in the request's span, which names the request.
    async fn handle(&self, request: Request) -> Response {
        let id = RequestId::of(&request);
        let span = span(&id);
        async { finish(&id, self.respond(&request).await) }.instrument(span).await
    }
}
