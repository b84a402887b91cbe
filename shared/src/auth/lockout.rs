//! Brute-force protection: how many password checks one email gets.
//!
//! Each login attempt takes a slot in the store *before* the password is
//! checked, so a burst of parallel guesses cannot all slip through between
//! a read and a write. The window slides: the store keeps the times of the
//! latest attempts, and at most `max_attempts` checks run in any span of
//! `window`, whatever the concurrency and however many Lambda instances
//! serve them (a fixed window let 4 guesses at its end and 5 at the next
//! one's start through in a second). A successful login frees the slots.

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

    /// One attempt at `now`, given the times of the latest ones (any order):
    /// the times to keep (this one added, those out of the window dropped),
    /// or when the oldest one in the window leaves it.
    pub fn admit(&self, times: &[i64], now: i64) -> Admission {
        let mut recent: Vec<i64> = times.iter().copied().filter(|&at| at > now - self.window_secs()).collect();
        recent.sort_unstable();
        if recent.len() >= self.max_attempts as usize {
            let oldest = recent[recent.len() - self.max_attempts as usize];
            return Admission::Locked { until: oldest + self.window_secs() };
        }
        recent.push(now);
        Admission::Granted { times: recent }
    }
}

/// What one attempt comes to under a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Go on, and keep these times.
    Granted { times: Vec<i64> },
    /// No check until `until` (Unix seconds).
    Locked { until: i64 },
}

impl From<&Admission> for AttemptSlot {
    fn from(admission: &Admission) -> Self {
        match admission {
            Admission::Granted { .. } => AttemptSlot::Granted,
            Admission::Locked { until } => AttemptSlot::Locked { until: *until },
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_over_any_span_of_the_window() {
        let policy = LOGIN_LOCKOUT;
        let window = policy.window_secs();
        let mut times = Vec::new();
        let mut granted = Vec::new();
        // One attempt, then a burst at the end of its window and at the start of the next.
        let attempts = [0].into_iter().chain((window - 4)..window).chain(window..window + 5);
        for now in attempts {
            if let Admission::Granted { times: kept } = policy.admit(&times, now) {
                times = kept;
                granted.push(now);
            }
        }
        for (i, start) in granted.iter().enumerate() {
            let in_span = granted[i..].iter().take_while(|&&at| at < start + window).count();
            assert!(in_span <= 5, "{in_span} attempts within {window} s of {start}: {granted:?}");
        }
        assert_eq!(policy.admit(&times, window + 5), Admission::Locked { until: window - 4 + window });
    }

    #[test]
    fn a_lock_lifts_when_the_oldest_attempt_leaves_the_window() {
        let policy = LOGIN_LOCKOUT;
        let times = [100, 101, 102, 103, 104];
        assert_eq!(policy.admit(&times, 200), Admission::Locked { until: 100 + policy.window_secs() });
        let later = 100 + policy.window_secs();
        assert_eq!(policy.admit(&times, later), Admission::Granted { times: vec![101, 102, 103, 104, later] });
    }
}
