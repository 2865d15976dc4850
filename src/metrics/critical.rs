//! Critical-path breakdown: how much of each answered request's end-to-end time each service
//! accounts for ("which span is slow", seed 002). A job's time is its own time (queueing and
//! work at its service, or time outside any service: the `client` bucket) plus, for each wait,
//! the breakdown of the child that decided it; gaps inside a call (timed-out attempts, backoff)
//! go to the called service. The parts of a request add up to its end-to-end latency.
//!
//! Breakdowns live in a pool of fixed-width rows (one bucket per service, then `client`), taken
//! only by jobs that wait on children, so a request that never calls costs no row; rows are
//! reused, so there is no allocation per request once the pool has grown.

/// Rows of per-bucket times [ns].
#[derive(Debug, Default)]
pub struct BreakdownPool {
    width: usize,
    data: Vec<u64>,
    free: Vec<u32>,
}

/// No row.
pub const NO_ROW: u32 = u32::MAX;

impl BreakdownPool {
    /// A pool for `services` services (plus the client bucket).
    pub fn new(services: usize) -> BreakdownPool {
        BreakdownPool { width: services + 1, data: Vec::new(), free: Vec::new() }
    }

    /// The client bucket's index.
    pub fn client(&self) -> usize {
        self.width - 1
    }

    /// A zeroed row.
    pub fn take(&mut self) -> u32 {
        if let Some(r) = self.free.pop() {
            return r;
        }
        self.data.resize(self.data.len() + self.width, 0);
        (self.data.len() / self.width - 1) as u32
    }

    /// Row `r`.
    pub fn row(&mut self, r: u32) -> &mut [u64] {
        let a = r as usize * self.width;
        &mut self.data[a..a + self.width]
    }

    /// Adds row `from` (or, if it has none, `ns` in `bucket`) to row `to`.
    pub fn add(&mut self, to: u32, from: u32, bucket: usize, ns: u64) {
        if from == NO_ROW {
            self.row(to)[bucket] += ns;
            return;
        }
        let (w, a, b) = (self.width, to as usize * self.width, from as usize * self.width);
        for k in 0..w {
            self.data[a + k] += self.data[b + k];
        }
    }

    /// Returns row `r` to the pool, zeroed.
    pub fn give(&mut self, r: u32) {
        if r != NO_ROW {
            self.row(r).iter_mut().for_each(|x| *x = 0);
            self.free.push(r);
        }
    }
}

/// Bins of end-to-end latency: 16 per power of two (a bin spans a factor of 2^(1/16) ≈ 4.4 %),
/// read straight off the bits of the latency as a float (its exponent and first 4 mantissa bits).
const PER_OCTAVE: usize = 16;
/// Bins from 1 ns to 2^64 ns.
const BINS: usize = 64 * PER_OCTAVE;

/// Breakdowns of answered requests: their sum per bucket, and per latency bin (for the tail).
#[derive(Debug, Default)]
pub struct CriticalPath {
    width: usize,
    count: u64,
    sum: Vec<f64>,
    /// Requests per latency bin.
    bin_count: Vec<u64>,
    /// Per latency bin, the sum per bucket [ns] (`bin * width + bucket`).
    bin_sum: Vec<f64>,
}

/// One bucket's share of the critical path.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct PathPart {
    /// Mean time per answered request [s].
    pub mean_s: f64,
    /// Share of the mean end-to-end latency (0–1).
    pub share: f64,
    /// Mean time per request among those at or above the p99 latency [s].
    pub p99_tail_s: f64,
}

impl CriticalPath {
    /// An empty record for `width` buckets (about 8 KiB per bucket).
    pub fn new(width: usize) -> CriticalPath {
        CriticalPath {
            width,
            count: 0,
            sum: vec![0.0; width],
            bin_count: vec![0; BINS],
            bin_sum: vec![0.0; BINS * width],
        }
    }

    #[inline]
    fn bin(e2e_ns: u64) -> usize {
        let bits = (e2e_ns.max(1) as f64).to_bits() >> 48; // exponent and 4 mantissa bits
        (bits as usize - (1023 << 4)).min(BINS - 1)
    }

    /// A request that took `e2e_ns` with this breakdown (a row, or all of it in `bucket`).
    #[inline]
    pub fn record(&mut self, e2e_ns: u64, row: Option<&[u64]>, bucket: usize) {
        self.count += 1;
        let bin = Self::bin(e2e_ns);
        self.bin_count[bin] += 1;
        let at = bin * self.width;
        match row {
            Some(r) => {
                for (k, &ns) in r.iter().enumerate() {
                    self.sum[k] += ns as f64;
                    self.bin_sum[at + k] += ns as f64;
                }
            }
            None => {
                self.sum[bucket] += e2e_ns as f64;
                self.bin_sum[at + bucket] += e2e_ns as f64;
            }
        }
    }

    /// Forgets everything recorded (end of warm-up).
    pub fn reset(&mut self) {
        *self = CriticalPath::new(self.width);
    }

    /// Each bucket's part, given the p99 end-to-end latency [s]; `None` with no request.
    pub fn parts(&self, p99_s: f64) -> Option<Vec<PathPart>> {
        if self.count == 0 {
            return None;
        }
        let total: f64 = self.sum.iter().sum();
        let from = Self::bin((p99_s * 1e9) as u64);
        let n: u64 = self.bin_count[from..].iter().sum();
        let parts = (0..self.width)
            .map(|k| {
                let t: f64 = (from..BINS).map(|b| self.bin_sum[b * self.width + k]).sum();
                PathPart {
                    mean_s: self.sum[k] / self.count as f64 * 1e-9,
                    share: if total > 0.0 { self.sum[k] / total } else { f64::NAN },
                    p99_tail_s: if n > 0 { t / n as f64 * 1e-9 } else { f64::NAN },
                }
            })
            .collect();
        Some(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_add_and_are_reused_zeroed() {
        let mut p = BreakdownPool::new(2);
        let a = p.take();
        let b = p.take();
        p.add(a, NO_ROW, 0, 5);
        p.add(b, NO_ROW, 2, 7);
        p.add(a, b, 0, 0);
        assert_eq!(p.row(a), &[5, 0, 7]);
        p.give(b);
        assert_eq!(p.take(), b);
        assert_eq!(p.row(b), &[0, 0, 0]);
    }

    #[test]
    fn parts_split_the_mean_and_the_tail() {
        let mut c = CriticalPath::new(2);
        for _ in 0..99 {
            c.record(1_000_000, Some(&[600_000, 400_000]), 0);
        }
        c.record(1_000_000_000, Some(&[900_000_000, 100_000_000]), 0);
        let parts = c.parts(0.5).expect("requests recorded");
        let mean = (99.0 * 1e-3 + 1.0) / 100.0;
        assert!((parts[0].mean_s + parts[1].mean_s - mean).abs() < 1e-12);
        assert!((parts[0].p99_tail_s - 0.9).abs() < 1e-12, "only the slow request is in the tail");
    }
}
