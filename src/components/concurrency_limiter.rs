//! `concurrency_limiter`: a caller-side pool of permits in front of a service — the
//! per-workload concurrency pools and the adaptive concurrency controller of seed 004
//! (runbooks 1 and 3). A request takes a permit and calls `target` under `policy`; with no
//! permit free it waits, first come first served; the permit returns when the call ends.
//!
//! The number of permits is `max_concurrency`, or with `adaptive` an AIMD limit bounded by it:
//! every `interval` the controller looks at the calls that ended in it —
//! - any throttled (after the policy's retries): limit ← max(min, ⌊limit × backoff⌋);
//! - else, if their P99 is under `target_p99`: limit ← min(max_concurrency, limit + increase);
//! - else (P99 at or over target): limit ← max(min, ⌊limit × backoff⌋);
//! - no call ended: unchanged.
//!
//! A manual cap (`max_concurrency` 15 while the controller wants more) holds the limit there:
//! "p99=600ms < target=1200ms, growing 15 -> 15" (runbook 3).
//!
//! A `schedule` lowers the cap by the hour of the day (runbook 4's
//! `BATCH_CONCURRENCY_SCHEDULE`): on each local hour the permits become that hour's entry (the
//! controller's limit still applies below it). Calls in flight when the cap falls finish; no new
//! permit is given until fewer than the cap are in flight. A cap of 0 holds every request
//! waiting (or rejects it past `queue_limit`).
//!
//! The controller watches whole calls, or — for answers streamed at `streamed_tokens_per_s` —
//! each call's time to its first token: the call's time less its output tokens (the request's
//! `tokens_out`) at that speed. For a target `llm` of that speed this is the model's own
//! first-token time (waiting for a slot, retries and backoff included).

use std::collections::VecDeque;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kinds::{Go, Kind, StepCx};
use crate::engine::{ReqId, SimTime};
use crate::metrics::latency::Latency;
use crate::model::KindBuilder;
use crate::model::clock::{Schedule, ScheduleSpec};
use crate::model::program::RETURN;
use crate::model::quantity::Quantity;
use crate::sim::{Job, Outcome};

/// Settings of a `concurrency_limiter` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencyLimiterSpec {
    /// The service called with each permit.
    pub target: String,
    /// The `policies` entry wrapping each call.
    pub policy: Option<String>,
    /// Most permits (the hard cap).
    pub max_concurrency: u32,
    /// An AIMD controller moving the limit under the cap (default: the cap, fixed).
    pub adaptive: Option<AdaptiveSpec>,
    /// Most requests waiting for a permit (default: no limit); beyond it, rejected.
    pub queue_limit: Option<u32>,
    /// With no permit free, call this service instead of waiting (ECS baseline capacity that
    /// spills to Lambda, seed 001; default: wait).
    pub overflow: Option<String>,
    /// The `policies` entry wrapping overflow calls.
    pub overflow_policy: Option<String>,
    /// The cap for each local hour (24 whole numbers from 0 to `max_concurrency`; default: the
    /// cap at all hours).
    pub schedule: Option<ScheduleSpec>,
}

/// The AIMD controller (Netflix concurrency-limits style; calibration sheet: initial 10,
/// backoff 0.9).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdaptiveSpec {
    /// Starting limit (default 10; above `max_concurrency`, it starts at the cap).
    #[serde(default = "ten")]
    pub initial: u32,
    /// Lowest limit (default 1).
    #[serde(default = "one")]
    pub min: u32,
    /// Decision period (default 5 s).
    pub interval: Option<Quantity>,
    /// Added while calls are fast and unthrottled (default 1).
    #[serde(default = "one")]
    pub increase: u32,
    /// Multiplies the limit on throttles or a slow P99 (default 0.9).
    #[serde(default = "backoff")]
    pub backoff: f64,
    /// The P99 the controller keeps calls (or their first tokens) under.
    pub target_p99: Quantity,
    /// Answers are streamed at this many tokens a second (the target model's `tokens_per_s`):
    /// the controller then watches time to first token instead of whole calls (default: whole
    /// calls).
    pub streamed_tokens_per_s: Option<f64>,
}

fn ten() -> u32 {
    10
}
fn one() -> u32 {
    1
}
fn backoff() -> f64 {
    0.9
}

/// Checked controller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aimd {
    pub initial: u32,
    pub min: u32,
    pub max: u32,
    pub interval_ns: u64,
    pub increase: u32,
    pub backoff: f64,
    pub target_p99_s: f64,
    /// Seconds per output token streamed (0: the controller watches whole calls).
    pub streamed_s_per_token: f64,
}

impl Aimd {
    /// The next limit after an interval with `ended` calls, `throttled` of them throttled,
    /// whose P99 was `p99_s`.
    pub fn next(&self, limit: u32, ended: u64, throttled: u64, p99_s: f64) -> u32 {
        let cut = || ((limit as f64 * self.backoff).floor() as u32).max(self.min);
        if ended == 0 {
            limit
        } else if throttled > 0 || p99_s >= self.target_p99_s {
            cut()
        } else {
            limit.saturating_add(self.increase).min(self.max)
        }
    }
}

/// Checked settings.
#[derive(Clone, Debug)]
pub struct ConcurrencyLimiterDef {
    max: u32,
    schedule: Option<Schedule>,
    adaptive: Option<Aimd>,
    queue_limit: usize,
    overflow: bool,
}

const ADMIT: u16 = 0;
const DONE: u16 = 1;
const FAILED: u16 = 2;
const MAX_PERMITS: u32 = 10_000_000;
const TICK: u32 = 0;
/// Timer token of the schedule's next hour.
const HOUR: u32 = 1;

/// Counters since warm-up.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct LimiterCounts {
    pub requests: u64,
    pub calls: u64,
    pub throttled: u64,
    pub failed: u64,
    pub rejected: u64,
    pub waited: u64,
    /// Requests sent to `overflow` because no permit was free.
    pub overflowed: u64,
    pub max_waiting: u64,
    pub limit_changes: u64,
}

/// When the limit first stood at the cap, since warm-up [ns] (0 if it did at warm-up's end).
fn at_cap(limit: u32, max: u32, now: u64, since: u64) -> Option<u64> {
    (limit >= max).then_some(now.saturating_sub(since))
}

/// A running limiter.
pub struct ConcurrencyLimiter {
    def: ConcurrencyLimiterDef,
    /// The controller's limit (the cap without one).
    limit: u32,
    /// The schedule's cap this hour (`max` without a schedule).
    cap: u32,
    in_flight: u32,
    queue: VecDeque<ReqId>,
    counts: LimiterCounts,
    /// The current interval's call times, ended calls and throttles.
    interval: Latency,
    ended: u64,
    throttled: u64,
    /// Time-weighted in-flight over the measured period and the window [ns × calls].
    area: f64,
    area_at: u64,
    since: u64,
    win_area: f64,
    win_at: u64,
    /// The limit's history: (time [s], limit), the first 1,000 changes.
    history: Vec<(f64, u32)>,
    /// Time from warm-up's end until the limit first reached the cap [ns].
    reached_cap: Option<u64>,
}

impl Kind for ConcurrencyLimiter {
    type Spec = ConcurrencyLimiterSpec;
    type Def = ConcurrencyLimiterDef;

    fn compile(spec: &ConcurrencyLimiterSpec, b: &mut KindBuilder) -> Option<ConcurrencyLimiterDef> {
        let mut ok = true;
        if spec.max_concurrency == 0 || spec.max_concurrency > MAX_PERMITS {
            b.issue("max_concurrency", format!("must be from 1 to {MAX_PERMITS}, got {}", spec.max_concurrency));
            ok = false;
        }
        let adaptive = spec.adaptive.as_ref().map(|a| {
            let interval = a.interval.map_or(5.0, |q| q.0);
            if !(interval.is_finite() && (0.1..=3600.0).contains(&interval)) {
                b.issue("adaptive.interval", format!("must be a duration from 0.1 s to an hour, got {interval} s"));
                ok = false;
            }
            if !(a.backoff.is_finite() && a.backoff > 0.0 && a.backoff < 1.0) {
                b.issue("adaptive.backoff", format!("must be a factor between 0 and 1, got {}", a.backoff));
                ok = false;
            }
            if a.min == 0 || a.min > spec.max_concurrency {
                b.issue(
                    "adaptive.min",
                    format!("must be from 1 to max_concurrency ({}), got {}", spec.max_concurrency, a.min),
                );
                ok = false;
            }
            // An initial limit above the cap starts at the cap (a cap lowered by hand).
            if a.initial < a.min {
                b.issue("adaptive.initial", format!("must be at least min ({}), got {}", a.min, a.initial));
                ok = false;
            }
            if a.increase == 0 || a.increase > MAX_PERMITS {
                b.issue("adaptive.increase", format!("must be from 1 to {MAX_PERMITS}, got {}", a.increase));
                ok = false;
            }
            if !(a.target_p99.0.is_finite() && a.target_p99.0 > 0.0) {
                b.issue("adaptive.target_p99", format!("must be a duration above 0, got {} s", a.target_p99.0));
                ok = false;
            }
            let tps = a.streamed_tokens_per_s.unwrap_or(f64::INFINITY);
            if tps.is_nan() || tps <= 0.0 {
                b.issue("adaptive.streamed_tokens_per_s", format!("must be a speed above 0 tokens/s, got {tps}"));
                ok = false;
            }
            Aimd {
                initial: a.initial.min(spec.max_concurrency),
                min: a.min,
                max: spec.max_concurrency,
                interval_ns: SimTime::from_secs(interval.clamp(0.1, 3600.0)).0,
                increase: a.increase,
                backoff: a.backoff,
                target_p99_s: a.target_p99.0,
                streamed_s_per_token: if tps > 0.0 && tps.is_finite() { 1.0 / tps } else { 0.0 },
            }
        });
        let limit = spec.queue_limit.unwrap_or(u32::MAX);
        let failed = b.step(FAILED, vec![]);
        let done = b.step(DONE, vec![RETURN]);
        let call = b.call("target", &spec.target, spec.policy.as_deref(), done, Some(failed))?;
        let overflow_call = b.overflow_call(spec.overflow.as_deref(), spec.overflow_policy.as_deref())?;
        b.entry = b.step(ADMIT, std::iter::once(call).chain(overflow_call).collect());
        let overflow = spec.overflow.is_some();
        let max = spec.max_concurrency;
        let schedule = spec.schedule.as_ref().and_then(|s| {
            let whole = |v: f64| v >= 0.0 && v <= f64::from(max) && v.fract() == 0.0;
            Schedule::checked(
                s,
                b.clock(),
                whole,
                &format!("whole numbers of permits from 0 to max_concurrency, {max}"),
            )
            .map_err(|e| {
                b.issue("schedule", e);
                ok = false;
            })
            .ok()
        });
        ok.then_some(ConcurrencyLimiterDef {
            max: spec.max_concurrency,
            schedule,
            adaptive,
            queue_limit: limit as usize,
            overflow,
        })
    }

    fn holds_while_waiting() -> bool {
        false
    }

    fn start(def: &ConcurrencyLimiterDef, _seed: u64, _service: &str) -> ConcurrencyLimiter {
        let limit = def.adaptive.map_or(def.max, |a| a.initial);
        let cap = def.schedule.as_ref().map_or(def.max, |s| s.value_at(0.0) as u32);
        ConcurrencyLimiter {
            def: def.clone(),
            limit,
            cap,
            in_flight: 0,
            queue: VecDeque::new(),
            counts: LimiterCounts::default(),
            interval: Latency::with_digits(2),
            ended: 0,
            throttled: 0,
            area: 0.0,
            area_at: 0,
            since: 0,
            win_area: 0.0,
            win_at: 0,
            history: vec![(0.0, limit.min(cap))],
            reached_cap: at_cap(limit, def.max, 0, 0),
        }
    }

    fn begin(&mut self, cx: &mut StepCx) {
        if let Some(a) = self.def.adaptive {
            cx.out.timer(SimTime(a.interval_ns), TICK);
        }
        if let Some(s) = &self.def.schedule {
            cx.out.timer(SimTime::from_secs(s.next_hour_after(0.0)), HOUR);
        }
    }

    fn step(&mut self, tag: u16, job: &mut Job, cx: &mut StepCx) -> Go {
        let now = cx.now.0;
        match tag {
            ADMIT => {
                self.counts.requests += 1;
                if self.in_flight < self.permits() {
                    self.take(now);
                    return Go::Exit(0);
                }
                if self.def.overflow {
                    self.counts.overflowed += 1;
                    return Go::Exit(1);
                }
                if self.queue.len() >= self.def.queue_limit {
                    self.counts.rejected += 1;
                    return Go::Fail(Outcome::Rejected);
                }
                self.queue.push_back(cx.id);
                self.counts.waited += 1;
                self.counts.max_waiting = self.counts.max_waiting.max(self.queue.len() as u64);
                Go::Park
            }
            DONE => {
                self.release(now, job, None, cx);
                Go::Exit(0)
            }
            _ => {
                let outcome = job.failed.take().unwrap_or(Outcome::Error);
                self.release(now, job, Some(outcome), cx);
                Go::Fail(outcome)
            }
        }
    }

    fn timer(&mut self, token: u32, cx: &mut StepCx) {
        if token == HOUR {
            let Some(s) = &self.def.schedule else { return };
            let (cap, next) = s.on_the_hour(cx.now.as_secs());
            let cap = cap as u32;
            cx.out.timer(SimTime::from_secs(next), HOUR);
            if cap != self.cap {
                self.cap = cap;
                self.note_limit(cx.now.as_secs());
                self.feed(cx.now.0, cx);
            }
            return;
        }
        let Some(a) = self.def.adaptive else { return };
        let p99 = self.interval.quantile_s(0.99);
        let next = a.next(self.limit, self.ended, self.throttled, p99);
        let changed = next != self.limit;
        self.limit = next;
        if changed {
            self.note_limit(cx.now.as_secs());
        }
        self.reached_cap = self.reached_cap.or_else(|| at_cap(next, self.def.max, cx.now.0, self.since));
        (self.ended, self.throttled) = (0, 0);
        self.interval.reset();
        cx.out.timer(SimTime(cx.now.0 + a.interval_ns), TICK);
        self.feed(cx.now.0, cx);
    }

    fn restart_stats(&mut self, now: SimTime) {
        self.advance(now.0);
        self.counts = LimiterCounts { max_waiting: self.queue.len() as u64, ..LimiterCounts::default() };
        (self.area, self.since) = (0.0, now.0);
        self.reached_cap = at_cap(self.limit, self.def.max, now.0, now.0);
    }

    fn summary(&self, now: SimTime) -> serde_json::Value {
        let mut v = serde_json::to_value(self.counts).unwrap_or_default();
        v["limit"] = serde_json::json!(self.permits());
        let dt = now.0.saturating_sub(self.area_at) as f64;
        let secs = now.0.saturating_sub(self.since) as f64;
        let area = self.area + self.in_flight as f64 * dt;
        v["mean_in_flight"] = serde_json::json!((secs > 0.0).then(|| area / secs));
        v["calls_per_min"] = serde_json::json!((secs > 0.0).then(|| self.counts.calls as f64 * 6e10 / secs));
        v["limit_history"] = serde_json::json!(self.history);
        v["reached_cap_s"] = serde_json::json!(self.reached_cap.map(|ns| ns as f64 * 1e-9));
        v
    }

    const COLUMNS: &'static [&'static str] = &["limit", "in_flight", "waiting"];

    fn window(&mut self, now: SimTime, out: &mut Vec<f64>) {
        self.advance(now.0);
        let w = now.0.saturating_sub(self.win_at).max(1) as f64;
        out.extend([self.permits() as f64, self.win_area / w, self.queue.len() as f64]);
        (self.win_area, self.win_at) = (0.0, now.0);
    }
}

impl ConcurrencyLimiter {
    /// Permits in force: the controller's limit under this hour's cap.
    fn permits(&self) -> u32 {
        self.limit.min(self.cap)
    }

    /// The permits in force changed at `t` [s]: counted, and kept in the first 1,000 changes.
    fn note_limit(&mut self, t: f64) {
        self.counts.limit_changes += 1;
        if self.history.len() < 1000 {
            self.history.push((t, self.permits()));
        }
    }

    fn advance(&mut self, now: u64) {
        let dt = now.saturating_sub(self.area_at) as f64;
        self.area += self.in_flight as f64 * dt;
        self.win_area += self.in_flight as f64 * dt;
        self.area_at = now;
    }

    fn take(&mut self, now: u64) {
        self.advance(now);
        self.in_flight += 1;
        self.counts.calls += 1;
    }

    /// A call ended (failed with `outcome`, if any): the permit returns.
    fn release(&mut self, now: u64, job: &Job, outcome: Option<Outcome>, cx: &mut StepCx) {
        self.advance(now);
        self.in_flight -= 1;
        self.ended += 1;
        // The tokens after the first (which came at the first-token time).
        let after_first = job.attrs.tokens_out.saturating_sub(1) as f64;
        let streaming = self.def.adaptive.map_or(0.0, |a| a.streamed_s_per_token * after_first);
        let took = now.saturating_sub(job.call_born.0).saturating_sub(SimTime::from_secs(streaming).0);
        self.interval.record(took.max(1));
        match outcome {
            Some(Outcome::Throttled) => {
                self.throttled += 1;
                self.counts.throttled += 1;
            }
            Some(_) => self.counts.failed += 1,
            None => {}
        }
        self.feed(now, cx);
    }

    /// Waiting requests take the free permits.
    fn feed(&mut self, now: u64, cx: &mut StepCx) {
        while self.in_flight < self.permits() {
            let Some(id) = self.queue.pop_front() else { break };
            self.take(now);
            cx.out.wake(id, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aimd_follows_the_exact_limit_sequence_for_a_scripted_pattern() {
        let a = Aimd {
            initial: 10,
            min: 2,
            max: 14,
            interval_ns: 1,
            increase: 1,
            backoff: 0.9,
            target_p99_s: 1.2,
            streamed_s_per_token: 0.0,
        };
        // (ended, throttled, p99): fast ×3, a throttle, fast, slow, idle, fast ×5 (to the cap).
        let script = [
            (50, 0, 0.6),
            (50, 0, 0.6),
            (50, 0, 0.6),
            (50, 3, 0.6),
            (50, 0, 0.6),
            (50, 0, 1.5),
            (0, 0, f64::NAN),
            (50, 0, 0.6),
            (50, 0, 0.6),
            (50, 0, 0.6),
            (50, 0, 0.6),
            (50, 0, 0.6),
        ];
        let mut limit = a.initial;
        let seq: Vec<u32> = script
            .iter()
            .map(|&(n, t, p)| {
                limit = a.next(limit, n, t, p);
                limit
            })
            .collect();
        // 10 → 11, 12, 13; throttle: ⌊13 × 0.9⌋ = 11; 12; slow: ⌊12 × 0.9⌋ = 10; idle: 10;
        // then 11, 12, 13, 14, 14 (the cap).
        assert_eq!(seq, vec![11, 12, 13, 11, 12, 10, 10, 11, 12, 13, 14, 14]);
        // The floor holds: from 2, a cut stays at 2.
        assert_eq!(a.next(2, 5, 1, 0.1), 2);
    }
}
