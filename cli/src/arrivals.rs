//! The arrival check for `galley serve --aws`. In AWS the bucket sends an
//! `ObjectCreated` event to the `upload-check` function; a local server has
//! no such event, and must not rewrite a real bucket's notifications. It
//! knows the tickets it handed out itself, though: it looks for each one's
//! object by key (a HEAD, never a listing of the bucket) until the bytes
//! arrive and the same check runs on them, or the ticket's URL has expired.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::ports::{Blobs, PresignedUpload, UploadUrls};
use galley_shared::uploads::ArrivalCheck;

/// How often the objects of the tickets out are looked for.
const EVERY: Duration = Duration::from_millis(500);

/// Presigns as `inner` does, and remembers each ticket for `watch`.
pub struct WatchedUrls {
    inner: Arc<dyn UploadUrls>,
    /// Each ticket's object key, and until when its URL works (Unix seconds).
    out: Arc<Mutex<Vec<(String, i64)>>>,
}

impl WatchedUrls {
    pub fn new(inner: Arc<dyn UploadUrls>) -> Self {
        Self { inner, out: Arc::default() }
    }

    /// Checks each ticket's object once it is there, until aborted.
    pub fn watch(&self, blobs: Arc<dyn Blobs>, check: ArrivalCheck) -> tokio::task::JoinHandle<()> {
        let out = self.out.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(EVERY).await;
                let tickets = out.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                for (key, until) in tickets {
                    let done = match blobs.head(&key, 0).await {
                        Ok(Some(_)) => match check.check(&key).await {
                            Ok(arrival) => {
                                tracing::info!(key = %key, arrival = ?arrival, "upload checked");
                                true
                            }
                            Err(error) => {
                                tracing::warn!(key = %key, %error, "upload check failed; trying again");
                                false
                            }
                        },
                        // The URL has expired with nothing put: nothing will arrive.
                        Ok(None) => now > until,
                        Err(error) => {
                            tracing::warn!(key = %key, %error, "looking for an upload failed; trying again");
                            false
                        }
                    };
                    if done {
                        out.lock().unwrap_or_else(|e| e.into_inner()).retain(|(k, _)| *k != key);
                    }
                }
            }
        })
    }
}

#[async_trait]
impl UploadUrls for WatchedUrls {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        signed_at: i64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, Error> {
        let presigned = self.inner.presign_put(key, content_type, size, signed_at, expires_in).await?;
        // A PUT started just before expiry may finish a little after it.
        let until = signed_at + expires_in.as_secs() as i64 + 60;
        self.out.lock().unwrap_or_else(|e| e.into_inner()).push((key.to_owned(), until));
        Ok(presigned)
    }
}
