use async_trait::async_trait;

use crate::auth::{AttemptSlot, Email, LockoutPolicy};
use crate::error::Error;

/// Login attempts per email, counted in the store so every instance agrees.
#[async_trait]
pub trait LoginAttempts: Send + Sync {
    /// Takes one attempt for `email` under `policy`, atomically: opens a new
    /// window when none is live, counts into the live one while it has room,
    /// else answers `Locked` until the window closes.
    async fn take_attempt(&self, email: &Email, policy: &LockoutPolicy, now: i64) -> Result<AttemptSlot, Error>;

    /// Forgets the attempts (after a successful login).
    async fn clear(&self, email: &Email) -> Result<(), Error>;
}
