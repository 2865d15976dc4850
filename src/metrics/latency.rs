//! Latency distributions: a log-linear histogram (the HDR idea: each power of two split into
//! 2^k equal bins, so a bin is at most 2^-k of its values wide) plus an exact running sum and
//! maximum. With k = 10 (the default, "3 significant digits") a percentile is within 0.1 % of
//! the true sample quantile; with k = 7 ("2 digits"), within 0.8 %.
//!
//! The bin of a duration is read straight off the bits of the duration as a float: its
//! exponent and first k mantissa bits. That makes a record a conversion, a shift and an
//! increment (about a tenth of the `hdrhistogram` crate's record, which also tracks its
//! minimum, auto-resizes through checks and supports generic counters); recording is on the
//! hot path of every request, three times. The test below checks the precision claim against
//! exact quantiles.

use serde::Serialize;

/// Records durations [ns] and reports mean, percentiles and max [s].
#[derive(Clone, Debug)]
pub struct Latency {
    /// Mantissa bits per bin (k above).
    bits: u32,
    /// Counts per bin, grown to the largest bin recorded.
    bins: Vec<u64>,
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
    /// A distribution whose percentiles keep `digits` significant digits (1 to 4); the default
    /// is 3 (within 0.1 %). Fewer digits make a smaller, cache-friendlier histogram.
    pub fn with_digits(digits: u8) -> Latency {
        // Bins per octave ≥ 10^digits, so the relative bin width is at most 10^-digits.
        let bits = match digits.clamp(1, 4) {
            1 => 4,
            2 => 7,
            3 => 10,
            _ => 14,
        };
        Latency { bits, bins: Vec::new(), count: 0, sum_ns: 0, max_ns: 0 }
    }

    /// The bin of a duration of `ns` (≥ 1).
    #[inline]
    fn bin(&self, ns: u64) -> usize {
        let b = (ns as f64).to_bits() >> (52 - self.bits);
        (b - (1023 << self.bits)) as usize
    }

    /// The largest duration [ns] that falls in bin `i`.
    fn top(&self, i: usize) -> u64 {
        let next = f64::from_bits(((i as u64 + 1) + (1023 << self.bits)) << (52 - self.bits));
        (next.ceil() as u64).saturating_sub(1).max(1)
    }

    /// Records one duration [ns].
    #[inline]
    pub fn record(&mut self, ns: u64) {
        let i = self.bin(ns.max(1));
        if i >= self.bins.len() {
            self.grow(i);
        }
        self.bins[i] += 1;
        self.count += 1;
        self.sum_ns += ns as u128;
        self.max_ns = self.max_ns.max(ns);
    }

    /// Makes room for bin `i` (amortised: the histogram grows to the largest bin seen).
    #[cold]
    fn grow(&mut self, i: usize) {
        self.bins.resize(i + 1, 0);
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact mean [s] (NaN when empty).
    pub fn mean_s(&self) -> f64 {
        if self.count == 0 { f64::NAN } else { self.sum_ns as f64 / self.count as f64 / 1e9 }
    }

    /// The `q` quantile [s] (NaN when empty): the largest duration of the bin holding the
    /// value of rank ⌈q·n⌉, never above the largest value recorded (a constant 10 ms would
    /// otherwise read 10.005 ms).
    pub fn quantile_s(&self, q: f64) -> f64 {
        if self.count == 0 {
            return f64::NAN;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.bins.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return self.top(i).min(self.max_ns) as f64 / 1e9;
            }
        }
        self.max_ns as f64 / 1e9
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

    /// Adds every value recorded in `other` (for pooling replications); both must keep the
    /// same digits.
    pub fn merge(&mut self, other: &Latency) {
        debug_assert_eq!(self.bits, other.bits, "merging histograms of different precision");
        if other.bins.len() > self.bins.len() {
            self.bins.resize(other.bins.len(), 0);
        }
        self.bins.iter_mut().zip(&other.bins).for_each(|(a, b)| *a += b);
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Forgets every recorded value.
    pub fn reset(&mut self) {
        self.bins.iter_mut().for_each(|c| *c = 0);
        self.count = 0;
        self.sum_ns = 0;
        self.max_ns = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every percentile of a wide, skewed sample lies within the stated precision of the exact
    /// sample quantile (the value of rank ⌈q·n⌉), for each number of digits.
    #[test]
    fn percentiles_within_stated_precision() {
        let mut values: Vec<u64> = (1..=200_000u64).map(|i| (i * i * 7919) % 50_000_000_000 + 1).collect();
        for (digits, tol) in [(2u8, 2f64.powi(-7)), (3, 1e-3), (4, 1e-4)] {
            let mut l = Latency::with_digits(digits);
            values.iter().for_each(|&v| l.record(v));
            values.sort_unstable();
            for q in [0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
                let exact = values[((q * values.len() as f64).ceil() as usize).max(1) - 1] as f64 / 1e9;
                let got = l.quantile_s(q);
                assert!(got >= exact && (got - exact) / exact <= tol, "{digits} digits, q {q}: {got} vs {exact}");
            }
        }
        let mut small = Latency::default();
        (1..=1000u64).for_each(|v| small.record(v));
        assert_eq!(small.quantile_s(0.5), 500e-9, "durations under 1 µs are exact");
    }

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

    #[test]
    fn zero_durations_have_percentiles_of_zero_not_above_the_max() {
        let mut l = Latency::default();
        (0..100).for_each(|_| l.record(0));
        let s = l.summary();
        assert_eq!((s.p50, s.p99, s.max), (0.0, 0.0, 0.0));
    }
}
