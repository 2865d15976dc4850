//! Latency distributions: an HDR histogram (3 significant digits, so percentiles are within
//! 0.1 % of the true sample quantile) plus an exact running sum and maximum.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Records durations [ns] and reports mean, percentiles and max [s].
#[derive(Clone, Debug)]
pub struct Latency {
    hist: Histogram<u64>,
    count: u64,
    sum_ns: u128,
    max_ns: u64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency::with_digits(3)
    }
}

/// Mean, percentiles and maximum of a latency distribution [s]; NaN when empty, which
/// summary.json writes as null (no request, no figure: never a made-up zero).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct LatencySummary {
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    /// A distribution whose percentiles keep `digits` significant digits (1 to 5); the
    /// default is 3 (within 0.1 %). Fewer digits make a smaller, cache-friendlier histogram.
    pub fn with_digits(digits: u8) -> Latency {
        // Auto-resizing, so any duration fits.
        let hist = Histogram::new(digits.clamp(1, 5)).expect("1 to 5 significant digits is a valid HDR setting");
        Latency { hist, count: 0, sum_ns: 0, max_ns: 0 }
    }

    /// Records one duration [ns].
    #[inline]
    pub fn record(&mut self, ns: u64) {
        // Auto-resizing: grows to the largest value seen; only values near u64::MAX can fail,
        // and those are clamped.
        if self.hist.record(ns.max(1)).is_err() {
            self.hist.saturating_record(ns);
        }
        self.count += 1;
        self.sum_ns += ns as u128;
        self.max_ns = self.max_ns.max(ns);
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact mean [s] (NaN when empty).
    pub fn mean_s(&self) -> f64 {
        if self.count == 0 { f64::NAN } else { self.sum_ns as f64 / self.count as f64 / 1e9 }
    }

    /// The `q` quantile [s] (NaN when empty).
    pub fn quantile_s(&self, q: f64) -> f64 {
        // The histogram answers with its bucket's highest value, which can exceed the largest
        // value recorded (a constant 10 ms would read 10.002 ms): never report above the max.
        if self.count == 0 { f64::NAN } else { self.hist.value_at_quantile(q).min(self.max_ns.max(1)) as f64 / 1e9 }
    }

    /// All summary figures [s].
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            mean: self.mean_s(),
            p50: self.quantile_s(0.50),
            p95: self.quantile_s(0.95),
            p99: self.quantile_s(0.99),
            p999: self.quantile_s(0.999),
            max: if self.count == 0 { f64::NAN } else { self.max_ns as f64 / 1e9 },
        }
    }

    /// Adds every value recorded in `other` (for pooling replications).
    pub fn merge(&mut self, other: &Latency) {
        // Both histograms auto-resize, so adding cannot fail short of u64 overflow of counts.
        let _ = self.hist.add(&other.hist);
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Forgets every recorded value.
    pub fn reset(&mut self) {
        self.hist.reset();
        self.count = 0;
        self.sum_ns = 0;
        self.max_ns = 0;
    }

    /// The quantile `q` [s] of all values, for plotting a CDF.
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.hist
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_within_hdr_precision() {
        let mut l = Latency::default();
        for v in 1..=10_000u64 {
            l.record(v * 1_000_000); // 1 ms … 10 s
        }
        let s = l.summary();
        assert!((s.mean - 5.0005).abs() < 1e-9, "exact mean");
        assert!((s.p50 - 5.0).abs() / 5.0 < 1e-3, "p50 {}", s.p50);
        assert!((s.p99 - 9.9).abs() / 9.9 < 1e-3, "p99 {}", s.p99);
        assert_eq!(s.max, 10.0);
        l.reset();
        let empty = l.summary();
        assert!([empty.mean, empty.p50, empty.p99, empty.max].iter().all(|x| x.is_nan()), "no data, no figure");
    }
}
