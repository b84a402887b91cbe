//! Tracing, set up once per process by every entry point (the functions'
//! cold start, the `galley` CLI).

use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::{FilterExt as _, LevelFilter, Targets, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use std::io::IsTerminal as _;

use galley_http::request::SPAN_TARGET;

/// JSON lines inside Lambda (CloudWatch parses them), readable text elsewhere.
/// The level comes from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, default `info`.
/// Calling it twice is harmless: the second call keeps the first subscriber.
pub fn init() {
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_default();
    // The request span is recorded whatever the level or target list asks
    // for: it puts the request id on every line a request logs, and
    // `galley=debug,warn` once filtered the runtime's span out, and with it
    // the id (galley_http::request::span).
    let filter = filter(&level).or(filter_fn(|meta| meta.is_span() && meta.target() == SPAN_TARGET));
    // A log line that cannot be written is dropped: by default the
    // subscriber reports it with `eprintln!`, which panics when stderr is a
    // file on a full disk, and the panic took the request's connection with
    // it (the embedded chaos run's full-disk episodes).
    // Colours only on a terminal: a log file or pipe gets plain text.
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .log_internal_errors(false);
    let registry = tracing_subscriber::registry();
    let _ = if in_lambda {
        // Lambda adds its own timestamp; the request span's fields ride in
        // each line's `spans`.
        let json = layer.json().with_current_span(false).without_time().with_target(false);
        registry.with(json.with_filter(filter)).try_init()
    } else {
        registry.with(layer.compact().with_filter(filter)).try_init()
    };
}

/// A level (`debug`), or `RUST_LOG`'s target list (`galley=debug,warn`).
/// `Targets` rather than `EnvFilter`: it is all that either variable is used
/// for here, and it keeps `EnvFilter`'s directive engine (regex automata,
/// per-thread span scopes) out of every function's start and binary.
fn filter(level: &str) -> Targets {
    let level = level.trim().to_ascii_lowercase();
    match level.as_str() {
        "" => Targets::new().with_default(LevelFilter::INFO),
        // Lambda's own level names; FATAL has no tracing level.
        "fatal" => Targets::new().with_default(LevelFilter::ERROR),
        _ => level.parse().unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO)),
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::filter;

    #[test]
    fn a_level_or_a_target_list_sets_what_is_logged_and_anything_else_means_info() {
        let default = filter("");
        assert!(default.would_enable("galley", &Level::INFO) && !default.would_enable("galley", &Level::DEBUG));

        assert!(filter("DEBUG").would_enable("aws_smithy_runtime", &Level::DEBUG));
        assert!(filter("FATAL").would_enable("galley", &Level::ERROR));
        assert!(!filter("FATAL").would_enable("galley", &Level::WARN));

        let listed = filter("galley=debug,warn");
        assert!(listed.would_enable("galley::checkout", &Level::DEBUG));
        assert!(!listed.would_enable("hyper", &Level::INFO) && listed.would_enable("hyper", &Level::WARN));

        let nonsense = filter("galley=loud");
        assert!(nonsense.would_enable("galley", &Level::INFO) && !nonsense.would_enable("galley", &Level::DEBUG));
    }
}
