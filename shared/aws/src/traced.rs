//! One log line per AWS call (`galley::call`, as `galley_shared::calls`
//! writes for the other adapters): the service, the operation, its outcome,
//! the HTTP status and how long it took, retries included. An SDK
//! interceptor on every client, so no call site can forget it; the line is
//! written inside the request's span, which names the request.

use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use galley_shared::calls::TARGET;

/// The interceptor each SDK client is built with.
#[derive(Debug)]
pub struct Traced;

/// When the call began, kept in the call's own configuration bag.
#[derive(Clone, Debug)]
struct Began(Instant);

impl Storable for Began {
    type Storer = StoreReplace<Self>;
}

impl Intercept for Traced {
    fn name(&self) -> &'static str {
        "Traced"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Began(Instant::now()));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let took_ms = cfg.load::<Began>().map(|began| began.0.elapsed().as_secs_f64() * 1000.0);
        let (dependency, operation) = cfg.load::<Metadata>().map(|m| (m.service(), m.name())).unwrap_or(("aws", "?"));
        let outcome = match context.output_or_error() {
            Some(Ok(_)) => "ok",
            _ => "error",
        };
        let status = context.response().map(|r| r.status().as_u16());
        tracing::info!(target: TARGET, dependency, operation, outcome, status, took_ms, "call ended");
        Ok(())
    }
}
