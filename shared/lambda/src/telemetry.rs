//! Tracing, set up once per process by every entry point (the functions'
//! cold start, the `galley` CLI).

use std::io::IsTerminal as _;

use galley_http::request::SPAN_TARGET;
use galley_shared::calls::TARGET as CALL_TARGET;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{FilterExt as _, LevelFilter, Targets, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// JSON lines inside Lambda (CloudWatch parses them), readable text elsewhere.
/// The level comes from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, default `info`.
/// Calling it twice is harmless: the second call keeps the first subscriber.
pub fn init() {
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_default();
    // Colours only on a terminal: a log file or pipe gets plain text.
    let ansi = std::io::stderr().is_terminal();
    let _ = tracing_subscriber::registry().with(lines(&level, in_lambda, std::io::stderr, ansi)).try_init();
}

/// The layer that writes the log lines to `writer`, filtered by `level`.
fn lines<S, W>(level: &str, in_lambda: bool, writer: W, ansi: bool) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // The request span is recorded whatever the level or target list asks
    // for: it puts the request id on every line a request logs, and
    // `galley=debug,warn` once filtered the runtime's span out, and with it
    // the id (galley_http::request::span).
    let filter = filter(level, in_lambda).or(filter_fn(|meta| meta.is_span() && meta.target() == SPAN_TARGET));
    // A log line that cannot be written is dropped: by default the
    // subscriber reports it with `eprintln!`, which panics when stderr is a
    // file on a full disk, and the panic took the request's connection with
    // it (the embedded chaos run's full-disk episodes).
    let layer = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(ansi).log_internal_errors(false);
    if in_lambda {
        // Lambda adds its own timestamp; the request span's fields ride in
        // each line's `spans`.
        let json = layer.json().with_current_span(false).without_time().with_target(false);
        json.with_filter(filter).boxed()
    } else {
        layer.compact().with_filter(filter).boxed()
    }
}

/// A level (`debug`), or `RUST_LOG`'s target list (`galley=debug,warn`).
/// `Targets` rather than `EnvFilter`: it is all that either variable is used
/// for here, and it keeps `EnvFilter`'s directive engine (regex automata,
/// per-thread span scopes) out of every function's start and binary.
/// Unset, it is `info`, without the call lines (`galley::call`) outside
/// Lambda: a developer's terminal would be mostly SQLite reads.
fn filter(level: &str, in_lambda: bool) -> Targets {
    let level = level.trim().to_ascii_lowercase();
    match level.as_str() {
        "" if in_lambda => Targets::new().with_default(LevelFilter::INFO),
        "" => Targets::new().with_default(LevelFilter::INFO).with_target(CALL_TARGET, LevelFilter::WARN),
        // Lambda's own level names; FATAL has no tracing level.
        "fatal" => Targets::new().with_default(LevelFilter::ERROR),
        _ => level.parse().unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use galley_http::request::RequestId;
    use tracing::Level;
    use tracing_subscriber::layer::SubscriberExt;

    use super::{CALL_TARGET, filter, lines};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    // As a function writes them in Lambda, with a filter that keeps
    // warnings of galley's own targets only.
    #[test]
    fn a_json_line_names_its_request_whatever_the_filter_keeps() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(lines("galley=warn", true, captured.clone(), false));
        tracing::subscriber::with_default(subscriber, || {
            let span = galley_http::request::span(&RequestId("req-7".into()));
            let _inside = span.enter();
            tracing::info!(target: "galley::checkout", "filtered out");
            tracing::warn!(target: "galley::checkout", "kept");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert_eq!(lines[0]["fields"]["message"], "kept");
        assert_eq!(lines[0]["spans"][0]["request_id"], "req-7", "{text}");
    }

    // A store call's line, as a function writes it in Lambda under the
    // default filter: in the request's span, naming what it called.
    #[test]
    fn a_call_line_names_its_request_dependency_operation_outcome_and_time() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(lines("", true, captured.clone(), false));
        tracing::subscriber::with_default(subscriber, || {
            let span = galley_http::request::span(&RequestId("req-9".into()));
            let _inside = span.enter();
            let call = galley_shared::calls::traced("sqlite", "place", galley_shared::calls::result, async {
                Ok::<_, ()>(())
            });
            tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(call).unwrap();
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(line["fields"]["outcome"], "ok", "{text}");
        assert_eq!((&line["fields"]["dependency"], &line["fields"]["operation"]), (&"sqlite".into(), &"place".into()));
        assert!(line["fields"]["took_ms"].as_f64().is_some(), "{text}");
        assert_eq!(line["spans"][0]["request_id"], "req-9", "{text}");
        assert_eq!(line["spans"][1]["dependency"], "sqlite", "{text}");
        assert_eq!(line["spans"][1]["operation"], "place", "{text}");
        assert!(!filter("", false).would_enable(CALL_TARGET, &Level::INFO), "quiet in a terminal");
    }

    #[test]
    fn a_level_or_a_target_list_sets_what_is_logged_and_anything_else_means_info() {
        let default = filter("", true);
        assert!(default.would_enable("galley", &Level::INFO) && !default.would_enable("galley", &Level::DEBUG));

        assert!(filter("DEBUG", true).would_enable("aws_smithy_runtime", &Level::DEBUG));
        assert!(filter("FATAL", true).would_enable("galley", &Level::ERROR));
        assert!(!filter("FATAL", true).would_enable("galley", &Level::WARN));

        let listed = filter("galley=debug,warn", true);
        assert!(listed.would_enable("galley::checkout", &Level::DEBUG));
        assert!(!listed.would_enable("hyper", &Level::INFO) && listed.would_enable("hyper", &Level::WARN));

        let nonsense = filter("galley=loud", true);
        assert!(nonsense.would_enable("galley", &Level::INFO) && !nonsense.would_enable("galley", &Level::DEBUG));
    }
}
