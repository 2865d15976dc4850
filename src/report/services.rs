//! `services.<name>` in summary.json: what callers saw of each service (calls, attempts,
//! outcomes, policy actions, latency per call and per attempt) and how busy it was. Field
//! names are a contract; docs/metrics.md documents each.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::components::Service;
use crate::components::call_stats::OutcomeCounts;
use crate::engine::SimTime;
use crate::metrics::{LatencySummary, WindowRow};
use crate::model::Model;

/// One service's figures after warm-up.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceSummary {
    /// Concurrency slots.
    pub servers: u32,
    /// Calls made to it (a call is every attempt until its final outcome).
    pub calls: u64,
    /// Attempts sent to it (first attempts and retries).
    pub attempts: u64,
    pub retries: u64,
    /// Final outcome of each call, before any fallback.
    pub outcomes: OutcomeCounts,
    /// Outcome of each attempt, short-circuits and local throttles included.
    pub attempt_outcomes: OutcomeCounts,
    /// Calls that finally failed and were answered by their fallback.
    pub fallbacks: u64,
    /// Failed optional calls whose failure was ignored.
    pub ignored: u64,
    /// Attempts refused by an open breaker without being sent.
    pub short_circuits: u64,
    /// Retries a retry budget refused.
    pub budget_refusals: u64,
    /// Times a breaker on calls to it opened.
    pub breaker_opened: u64,
    /// Attempts whose caller gave up waiting (timeout or deadline).
    pub timeouts: u64,
    /// Share of calls whose final outcome was a timeout (null without calls).
    pub timeout_share: Option<f64>,
    /// Slot time spent on attempts after their caller had given up [s].
    pub wasted_s: f64,
    /// Per call, retries and backoff included [s].
    pub latency_s: LatencySummary,
    /// Per attempt [s].
    pub attempt_latency_s: LatencySummary,
    /// The highest per-window p99 of attempts after warm-up [s] (`run.window` wide; null if no
    /// attempt ended): the p99 "during the incident" of a run with a brief one.
    pub worst_window_p99_s: Option<f64>,
    /// Time-averaged busy slots divided by slots.
    pub utilization: f64,
    /// Time-averaged number waiting for a slot.
    pub mean_queue_len: f64,
    /// Mean wait for a slot of requests that got one [s].
    pub mean_wait_s: f64,
    /// A service kind's own figures, under the kind's name (e.g. `cache`).
    #[serde(flatten)]
    pub kind: BTreeMap<String, serde_json::Value>,
}

/// Policy counters kept outside the service (breakers and budgets on calls to it).
#[derive(Clone, Copy, Debug, Default)]
pub struct PolicyCounts {
    pub short_circuits: u64,
    pub budget_refusals: u64,
    pub breaker_opened: u64,
}

impl ServiceSummary {
    /// The summary of `s` at `now`.
    pub fn build(s: &Service, now: SimTime, policy: PolicyCounts) -> ServiceSummary {
        let c = &s.calls;
        let st = s.summary(now);
        let (latency_s, attempt_latency_s) = c.latencies();
        ServiceSummary {
            servers: s.def.servers,
            calls: c.calls,
            attempts: c.attempts,
            retries: c.retries,
            outcomes: OutcomeCounts::from(&c.outcomes),
            attempt_outcomes: OutcomeCounts::from(&c.attempt_outcomes),
            fallbacks: c.fallbacks,
            ignored: c.ignored,
            short_circuits: policy.short_circuits,
            budget_refusals: policy.budget_refusals,
            breaker_opened: policy.breaker_opened,
            timeouts: c.timeouts,
            timeout_share: (c.calls > 0).then(|| OutcomeCounts::from(&c.outcomes).timeout as f64 / c.calls as f64),
            wasted_s: c.wasted_ns as f64 * 1e-9,
            latency_s,
            attempt_latency_s,
            worst_window_p99_s: None,
            utilization: st.utilization,
            mean_queue_len: st.mean_queue_len,
            mean_wait_s: st.mean_wait_s,
            kind: BTreeMap::new(),
        }
    }
}

/// Sets each service's `worst_window_p99_s`: the highest of its per-window p99s in `rows` after
/// `model`'s warm-up (windows where no attempt ended have none).
pub fn worst_window_p99s(model: &Model, rows: &[WindowRow], services: &mut BTreeMap<String, ServiceSummary>) {
    let warmup_s = model.warmup.as_secs();
    for (i, s) in model.program.services.iter().enumerate() {
        let measured = rows.iter().filter(|r| r.t_start >= warmup_s);
        let worst = measured.filter_map(|r| r.p99s.get(i).copied().filter(|p| p.is_finite())).reduce(f64::max);
        if let Some(out) = services.get_mut(&s.name) {
            out.worst_window_p99_s = worst;
        }
    }
}
