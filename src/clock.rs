//! Time as the rest of the code sees it: epoch milliseconds from a [`Clock`] that tests control.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, UTC. AWS keeps millisecond precision, so do we.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub i64);

pub const MILLIS_PER_DAY: i64 = 86_400_000;

impl Millis {
    /// Midnight UTC of the same day: AWS reports LastAccessedDate at day granularity.
    pub fn start_of_day(self) -> Millis {
        Millis(self.0.div_euclid(MILLIS_PER_DAY) * MILLIS_PER_DAY)
    }

    pub fn plus_days(self, days: i64) -> Millis {
        Millis(self.0 + days * MILLIS_PER_DAY)
    }

    pub fn as_seconds_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// `2026-11-27T09:00:00Z`: how IAM's dates, CloudTrail's `eventTime` and the
    /// `aws:CurrentTime` condition key are written.
    pub fn to_iso8601_seconds(self) -> String {
        jiff::Timestamp::from_millisecond(self.0)
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    }
}

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Millis;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Millis(since.as_millis() as i64)
    }
}

/// A clock that only moves when told to; shared by clones.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start: Millis) -> Self {
        ManualClock(Arc::new(AtomicI64::new(start.0)))
    }

    pub fn set(&self, to: Millis) {
        self.0.store(to.0, Ordering::SeqCst);
    }

    pub fn advance_millis(&self, by: i64) {
        self.0.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        Millis(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_of_day_cuts_back_to_midnight_utc() {
        // 2026-02-03T13:45:10.123Z
        let t = Millis(1_770_126_310_123);
        assert_eq!(t.start_of_day(), Millis(1_770_076_800_000));
        assert_eq!(
            Millis(1_770_076_800_000).start_of_day(),
            Millis(1_770_076_800_000)
        );
    }
}
