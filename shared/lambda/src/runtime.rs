//! The async runtime a function process runs on.

use std::future::Future;

/// Runs a function's `main` to completion on one thread, with at most one
/// thread for blocking work. Lambda hands a process one request at a time,
/// so worker threads would only add their start-up to every cold start. On
/// this runtime the embedded store runs its queries inline, one after
/// another on one SQLite connection (see `galley_embedded::Db`); the
/// blocking thread is left to file I/O (the outbox, local blobs).
pub fn block_on<F>(main: F) -> Result<(), lambda_http::Error>
where
    F: Future<Output = Result<(), lambda_http::Error>>,
{
    tokio::runtime::Builder::new_current_thread().enable_all().max_blocking_threads(1).build()?.block_on(main)
}
