//! The one backoff policy every retry loop waits by, in the domain and in
//! the adapters.

use std::time::Duration;

/// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential
/// Backoff and Jitter"): before retry `k` (from 1) wait a uniformly random
/// time in `[0, min(cap, first × 2^(k-1))]`, at most `attempts` tries in all.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub first: Duration,
    pub cap: Duration,
    pub attempts: u32,
}

/// The policy of every retry: unprocessed batch items, conflicting
/// transactions, contended conditional updates, a stock move racing sales.
pub const RETRY: Backoff = Backoff { first: Duration::from_millis(10), cap: Duration::from_secs(1), attempts: 8 };

impl Backoff {
    /// The longest wait before retry `retry` (from 1).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let doubled = self.first.saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        doubled.min(self.cap)
    }

    /// Waits before retry `retry` (from 1).
    pub async fn wait(&self, retry: u32) {
        let ceiling = u64::try_from(self.ceiling(retry).as_micros()).unwrap_or(u64::MAX);
        tokio::time::sleep(Duration::from_micros(rand::random_range(0..=ceiling))).await;
    }
}
