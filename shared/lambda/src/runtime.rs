//! The async runtime a function process runs on.

use std::future::Future;

/// Runs a function's `main` to completion on one thread, with one thread
/// for blocking work. Lambda hands a process one request at a time, so
/// worker threads would only add their start-up to every cold start; and
/// with one blocking thread the embedded store's queries of one request run
/// one after another on one SQLite connection, where a thread each would
/// open a connection each, with its own page cache, on the first request.
pub fn block_on<F>(main: F) -> Result<(), lambda_http::Error>
where
    F: Future<Output = Result<(), lambda_http::Error>>,
{
    tokio::runtime::Builder::new_current_thread().enable_all().max_blocking_threads(1).build()?.block_on(main)
}
