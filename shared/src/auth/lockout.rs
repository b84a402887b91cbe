//! Brute-force protection: how many password checks one email gets.
//!
//! Each login attempt claims a slot in the store *before* the password is
//! checked, so a burst of parallel guesses cannot all slip through between
//! a read and a write: at most `max_attempts` checks run per window,
//! whatever the concurrency and however many Lambda instances serve them.
//! The window opens with the first attempt; a successful login frees it.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub max_attempts: u32,
    pub window: Duration,
}

/// API.md: 5 failed logins for one email within 15 minutes lock it.
pub const LOGIN_LOCKOUT: LockoutPolicy = LockoutPolicy { max_attempts: 5, window: Duration::from_secs(15 * 60) };

impl LockoutPolicy {
    pub fn window_secs(&self) -> i64 {
        self.window.as_secs() as i64
    }
}

/// What the store answered to a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptSlot {
    /// The password may be checked.
    Granted,
    /// No more checks until `until` (Unix seconds).
    Locked { until: i64 },
}
