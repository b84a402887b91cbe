//! Tracing, set up once per process.

use tracing_subscriber::EnvFilter;

/// JSON lines inside Lambda (CloudWatch parses them), readable text elsewhere.
/// The level comes from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, default `info`.
/// Calling it twice is harmless: the second call keeps the first subscriber.
pub fn init() {
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into())
        .to_lowercase();
    let filter = EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if in_lambda {
        // Lambda adds its own timestamp and request id to each line.
        builder.json().with_current_span(false).without_time().with_target(false).try_init()
    } else {
        builder.compact().try_init()
    };
}
