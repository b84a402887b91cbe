//! Where the embedded adapters run their blocking work (SQLite, files).

use galley_shared::Error;

/// Runs blocking `work`: on the blocking pool, so it stalls no other task,
/// except on a current-thread runtime. That is a function process
/// (`galley_lambda::block_on`), which answers one request at a time and has
/// no other task to stall; there the hand-off only added a thread's start to
/// the first request and two context switches to every query (checkout's
/// cold start, `POST /checkout`: 0.5 ms of about 3). The local server and
/// the tests' multi-thread runtimes keep the pool.
pub(crate) async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    if answers_one_request_at_a_time() {
        return work();
    }
    tokio::task::spawn_blocking(work).await.map_err(|e| Error::internal(format!("blocking task: {e}")))?
}

/// Whether this process runs on a current-thread runtime: a function
/// process, where nothing else runs while a request waits on a query.
pub(crate) fn answers_one_request_at_a_time() -> bool {
    tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread
}
