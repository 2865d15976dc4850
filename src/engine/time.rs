//! Simulated time: an integer count of nanoseconds since the start of a run.

use std::fmt;

/// A point in simulated time [ns since the start of the run].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// Nanoseconds in one second.
pub const NS_PER_S: f64 = 1e9;

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// A time later than any run reaches (about 584 years).
    pub const NEVER: SimTime = SimTime(u64::MAX);

    /// Converts seconds to simulated time, rounding to the nearest nanosecond and saturating.
    #[inline]
    pub fn from_secs(s: f64) -> SimTime {
        SimTime(secs_to_ns(s))
    }

    /// This time in seconds.
    #[inline]
    pub fn as_secs(self) -> f64 {
        self.0 as f64 / NS_PER_S
    }

    /// This time plus a duration given in seconds (negative durations count as zero).
    #[inline]
    pub fn after_secs(self, s: f64) -> SimTime {
        SimTime(self.0.saturating_add(secs_to_ns(s)))
    }

    /// Nanoseconds from `earlier` to `self` (zero if `earlier` is later).
    #[inline]
    pub fn since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Seconds to whole nanoseconds, rounded; negative and NaN map to 0, huge values saturate.
#[inline]
pub fn secs_to_ns(s: f64) -> u64 {
    // For x ≥ 0, (x + 0.5) truncated is round-half-up, which equals `round()` there and avoids
    // a libm call on the hot path; `as` saturates on overflow and maps NaN and negatives to 0.
    (s * NS_PER_S + 0.5) as u64
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.9}s", self.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip() {
        assert_eq!(SimTime::from_secs(1.5).0, 1_500_000_000);
        assert_eq!(SimTime::from_secs(-3.0), SimTime::ZERO);
        assert_eq!(SimTime::from_secs(f64::NAN), SimTime::ZERO);
        assert_eq!(SimTime::from_secs(1e30), SimTime(u64::MAX));
        assert_eq!(SimTime(2_000_000_000).as_secs(), 2.0);
        assert_eq!(SimTime(5).since(SimTime(7)), 0);
        assert_eq!(SimTime(1).after_secs(1e-9), SimTime(2));
    }
}
