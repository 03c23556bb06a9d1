//! Where cosignature timestamps come from. Injectable so tests can reproduce byte-exact
//! responses (Ed25519 is deterministic, so a fixed clock gives fixed cosignature lines).

use std::time::{SystemTime, UNIX_EPOCH};

/// A source of POSIX seconds.
pub trait Clock: Send + Sync + 'static {
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> u64;
}

/// The system wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> u64 {
        // A clock before 1970 is a broken host; 0 is then the honest "no freshness" value.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// A clock that always answers the same second (tests only need this, but it is harmless).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now_unix(&self) -> u64 {
        self.0
    }
}
