//! The functions' metrics as CloudWatch Embedded Metric Format lines: the
//! recorder is installed at cold start and its figures written to stdout
//! after each invocation, where Lambda's log agent turns them into metrics
//! (no API call, no added latency). Every metric carries the function's
//! name as its `Function` dimension.

use std::sync::OnceLock;

use galley_shared::metrics;
use metrics_cloudwatch_embedded::Collector;

static COLLECTOR: OnceLock<&'static Collector> = OnceLock::new();

/// Installs the EMF recorder for `function` and counts the cold start. The
/// namespace is `GALLEY_METRICS_NAMESPACE` (template.yaml: `Galley/<stack>`)
/// or `Galley`. Outside Lambda (tests, `cargo lambda watch`) it does the
/// same: the lines go to stdout, which nothing reads as metrics there.
pub fn install(function: &'static str) {
    let namespace = std::env::var("GALLEY_METRICS_NAMESPACE").unwrap_or_else(|_| metrics::NAMESPACE.to_owned());
    let built = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(namespace)
        .with_dimension("Function", function)
        .init();
    match built {
        Ok(collector) => {
            let _ = COLLECTOR.set(collector);
            metrics::describe();
            metrics::cold_start();
        }
        // A second install in one process (tests) keeps the first recorder.
        Err(error) => tracing::debug!(%error, "metrics recorder not installed"),
    }
}

/// Writes what the invocation recorded as one EMF document, tagged with
/// its request id and X-Ray trace id (properties, not dimensions: they
/// find the invocation's logs without adding a metric per request).
pub fn flush(request_id: &str) {
    let Some(collector) = COLLECTOR.get() else { return };
    collector.set_property("requestId", request_id);
    if let Ok(trace) = std::env::var("_X_AMZN_TRACE_ID") {
        collector.set_property("traceId", trace);
    }
    if let Err(error) = collector.flush(std::io::stdout().lock()) {
        tracing::warn!(%error, "metrics not written");
    }
}
