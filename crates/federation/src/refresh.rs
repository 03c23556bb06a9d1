//! One refresh cycle (fetch, parse, anti-rollback) and the polling interval.
//!
//! The interval follows the accepted bundle's `spiffe_refresh_hint`, clamped to bounds so a
//! hint of 0 does not mean "poll constantly" and a huge one does not mean "never"; without
//! a hint the spec's suggested 5 minutes is used. A failed poll is retried at the next
//! interval, not sooner (Federation spec §4.1).

use std::time::Duration;

use crate::bundle::{BundleError, SpiffeBundle};
use crate::fetch::{BundleSource, FetchError};
use crate::rollback::{Ingested, Refusal, RollbackGuard};

/// Interval used when a bundle carries no refresh hint.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(300);
/// Default lower bound on a hinted interval.
pub const DEFAULT_MIN_REFRESH: Duration = Duration::from_secs(60);
/// Default upper bound on any interval.
pub const DEFAULT_MAX_REFRESH: Duration = Duration::from_secs(24 * 3600);
/// Shortest explicit override accepted.
pub const MIN_OVERRIDE: Duration = Duration::from_secs(1);

/// Bounds applied to refresh intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshBounds {
    /// Floor for a hinted interval.
    pub min: Duration,
    /// Ceiling for any interval.
    pub max: Duration,
    /// Interval without a hint.
    pub default: Duration,
}

impl Default for RefreshBounds {
    fn default() -> Self {
        RefreshBounds {
            min: DEFAULT_MIN_REFRESH,
            max: DEFAULT_MAX_REFRESH,
            default: DEFAULT_REFRESH,
        }
    }
}

impl RefreshBounds {
    /// The next polling interval. An explicit `override_interval` (an operator choice) wins
    /// over the hint and is clamped to `[1 s, max]`; a hint is clamped to `[min, max]`.
    pub fn interval(
        &self,
        hint_secs: Option<u64>,
        override_interval: Option<Duration>,
    ) -> Duration {
        if let Some(o) = override_interval {
            return o.clamp(MIN_OVERRIDE, self.max.max(MIN_OVERRIDE));
        }
        match hint_secs {
            Some(secs) => Duration::from_secs(secs).clamp(self.min, self.max.max(self.min)),
            None => self.default.clamp(self.min, self.max.max(self.min)),
        }
    }
}

/// Why a refresh did not accept a bundle. In every case the keys in force are kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// The fetch failed (network, TLS, status, size, redirect).
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The body is not a valid bundle.
    #[error(transparent)]
    Malformed(#[from] BundleError),
    /// The anti-rollback rules refused it.
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// Fetches from `source`, parses and offers the bundle to `guard`.
pub async fn refresh_once<S: BundleSource>(
    source: &S,
    guard: &mut RollbackGuard,
) -> Result<Ingested, RefreshError> {
    let bytes = source.fetch().await?;
    let bundle = SpiffeBundle::parse(&bytes)?;
    Ok(guard.ingest(bundle)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_clamped_and_absent_hints_default_to_five_minutes() {
        let b = RefreshBounds::default();
        assert_eq!(b.interval(None, None), Duration::from_secs(300));
        assert_eq!(b.interval(Some(0), None), Duration::from_secs(60));
        assert_eq!(b.interval(Some(600), None), Duration::from_secs(600));
        assert_eq!(
            b.interval(Some(u64::MAX), None),
            Duration::from_secs(24 * 3600)
        );
    }

    #[test]
    fn an_override_wins_but_stays_bounded() {
        let b = RefreshBounds::default();
        assert_eq!(
            b.interval(Some(600), Some(Duration::from_secs(5))),
            Duration::from_secs(5)
        );
        assert_eq!(
            b.interval(None, Some(Duration::ZERO)),
            Duration::from_secs(1)
        );
        assert_eq!(
            b.interval(None, Some(Duration::from_secs(10 * 24 * 3600))),
            Duration::from_secs(24 * 3600)
        );
    }
}
