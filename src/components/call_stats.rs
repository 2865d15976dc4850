//! What callers saw of a service: calls and attempts, their outcomes and latencies, and every
//! policy action taken on calls to it. Counted at the callee, whoever the caller was.

use serde::Serialize;

use crate::metrics::{Latency, LatencySummary};
use crate::sim::Outcome;

/// Call counters of one service since warm-up.
#[derive(Debug, Default)]
pub struct CallStats {
    pub calls: u64,
    pub attempts: u64,
    pub retries: u64,
    /// Final outcome per call (after retries and before fallbacks), by `Outcome` order.
    pub outcomes: [u64; 6],
    /// Outcome per attempt (short-circuits and local throttles included).
    pub attempt_outcomes: [u64; 6],
    pub fallbacks: u64,
    /// Failures of optional calls, ignored.
    pub ignored: u64,
    /// Attempts the caller gave up on (its timeout or deadline passed first).
    pub timeouts: u64,
    /// Slot time spent after the caller had given up [ns].
    pub wasted_ns: u128,
    /// Per call, retries and backoff included [ns].
    pub latency: Latency,
    /// Per attempt [ns].
    pub attempt_latency: Latency,
    /// Tail calls (a client flow's last call, no policy): one call, one attempt and one stay at
    /// the service, so their latency is recorded once, here, and merged into the others when
    /// summarised [ns].
    pub tail: Latency,
    /// Per attempt, in the open time-series window [ns] (2 digits; reset by each window).
    pub window: Latency,
}

/// Outcome counts as `summary.json` names them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OutcomeCounts {
    pub ok: u64,
    pub rejected: u64,
    pub throttled: u64,
    pub timeout: u64,
    pub error: u64,
    pub unavailable: u64,
}

impl OutcomeCounts {
    /// From counts in `Outcome` order.
    pub fn from(c: &[u64; 6]) -> OutcomeCounts {
        OutcomeCounts { ok: c[0], rejected: c[1], throttled: c[2], timeout: c[3], error: c[4], unavailable: c[5] }
    }
}

impl CallStats {
    /// One attempt ended with `outcome` after `ns`.
    #[inline]
    pub fn attempt(&mut self, outcome: Outcome, ns: u64) {
        self.attempt_outcomes[outcome.index()] += 1;
        self.attempt_latency.record(ns);
        self.window.record(ns);
    }

    /// One call ended with `outcome` after `ns`.
    #[inline]
    pub fn call(&mut self, outcome: Outcome, ns: u64) {
        self.outcomes[outcome.index()] += 1;
        self.latency.record(ns);
    }

    /// Forgets everything gathered during warm-up.
    pub fn restart(&mut self) {
        let (mut l, mut a) = (std::mem::take(&mut self.latency), std::mem::take(&mut self.attempt_latency));
        l.reset();
        a.reset();
        let window = std::mem::take(&mut self.window); // windows run across the warm-up's end
        *self = CallStats { latency: l, attempt_latency: a, window, ..CallStats::default() };
    }

    /// The p99 attempt latency of the open window [s] (NaN if none ended), and a new window.
    pub fn take_window_p99(&mut self) -> f64 {
        let p = self.window.quantile_s(0.99);
        self.window.reset();
        p
    }

    /// The counters `timeseries.csv` shows per window, in `metrics::CALL_COLUMNS` order.
    pub fn window_counters(&self) -> [u64; 9] {
        let a = &self.attempt_outcomes;
        [self.attempts, self.retries, a[0], a[1], a[3], a[4], a[2], a[5], self.fallbacks]
    }

    /// Latency summaries (per call, per attempt) [s].
    pub fn latencies(&self) -> (LatencySummary, LatencySummary) {
        (self.latency.summary(), self.attempt_latency.summary())
    }
}
