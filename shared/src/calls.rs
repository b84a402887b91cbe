//! One span and one log line per call to a store, the mail service, the
//! blob store or the payment gateway: which dependency, which operation,
//! its outcome and how long it took. The line is written inside the
//! request's span, so it carries the request id and trace id too.
//!
//! The AWS clients are traced by an SDK interceptor (galley-aws), the
//! other adapters through [`traced`].

use std::future::Future;
use std::time::Instant;

use tracing::Instrument as _;

/// The target of call spans and lines: `RUST_LOG=galley::call=warn` keeps
/// them out of a developer's terminal, `galley::call=info` shows them.
pub const TARGET: &str = "galley::call";

/// Runs `call` inside a `call` span naming `dependency` and `operation`, and
/// logs its outcome (`outcome` names a result: `ok`, `error`, `declined`…)
/// and duration when it ends.
pub async fn traced<T, F>(
    dependency: &'static str,
    operation: &str,
    outcome: impl FnOnce(&T) -> &'static str,
    call: F,
) -> T
where
    F: Future<Output = T>,
{
    let span = tracing::info_span!(target: TARGET, "call", dependency, operation);
    async {
        let started = Instant::now();
        let result = call.await;
        let took_ms = started.elapsed().as_secs_f64() * 1000.0;
        // The names again on the line itself, as the AWS clients' lines
        // have them: one query finds every call, whoever wrote it.
        tracing::info!(target: TARGET, dependency, operation, outcome = outcome(&result), took_ms, "call ended");
        result
    }
    .instrument(span)
    .await
}

/// The outcome of a `Result`: `ok` or `error`.
pub fn result<T, E>(result: &Result<T, E>) -> &'static str {
    if result.is_ok() { "ok" } else { "error" }
}
