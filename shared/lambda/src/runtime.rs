//! The async runtime a function process runs on.

use std::future::Future;

/// Runs a function's `main` to completion on one thread, with at most one
/// thread for blocking work. Lambda hands a process one request at a time,
/// so worker threads would only add their start-up to every cold start. On
/// this runtime the embedded adapters run their SQLite and file work inline
/// (`galley_embedded`'s `run_blocking`); the blocking thread is left to the
/// AWS clients' DNS lookups.
pub fn block_on<F>(main: F) -> Result<(), lambda_http::Error>
where
    F: Future<Output = Result<(), lambda_http::Error>>,
{
    tokio::runtime::Builder::new_current_thread().enable_all().max_blocking_threads(1).build()?.block_on(main)
}
