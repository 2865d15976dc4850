//! `lambda`: an AWS Lambda function (the orchestrator's overflow, seed 001; the cold starts of
//! seed 000 scenario 1; figures in reference/calibration.md).
//!
//! Each execution environment serves one request at a time. A request takes the most recently
//! used idle environment (warm); if none is idle, a new environment is created and the request
//! pays its cold start first. New environments are limited per function to `scale_per_10s`
//! (1,000) every 10 seconds, refilled continuously and never accumulating beyond that (the rule
//! since late 2023); `legacy_scaling` gives the older burst of `legacy_burst` (500-3,000 by
//! region) then +500 a minute. `regional_limit` (1,000) caps this function's concurrent
//! executions (the region's limit is shared by all its functions: give each function the share
//! it can count on). A request beyond either limit ends `throttled` (429) at once.
//!
//! An environment idle for `idle_timeout` is reclaimed (Lambda does not document this; 10
//! minutes is an assumption). `keep_warm` pings, every `every`, keep that many environments
//! alive (seed 000: pings every 5 minutes); `provisioned_concurrency` environments exist from
//! the start and are never reclaimed. With a `target`, the handler calls it (under `policy`)
//! after its own `service` time and keeps its environment until the call ends (a handler that
//! awaits DynamoDB and Bedrock): the function's concurrency is its rate × the whole duration.
//! Cost: `lambda.request` per request and `lambda.gb_second` per GB-second of duration (cold
//! start and the wait for the target included).

use std::collections::VecDeque;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kinds::{Go, Kind, StepCx};
use crate::cost::Price;
use crate::engine::{SimRng, SimTime, stream};
use crate::metrics::latency::Latency;
use crate::model::dist::DistSpec;
use crate::model::program::RETURN;
use crate::model::quantity::Quantity;
use crate::model::{Dist, KindBuilder};
use crate::policy::Tokens;
use crate::sim::{Job, Outcome};

/// Settings of a `lambda` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LambdaSpec {
    /// Time of one invocation in a warm environment.
    pub service: DistSpec,
    /// Extra time of an invocation in a new environment (calibration sheet: p50 150-300 ms for
    /// Python and Node, 1-3 s for Java).
    pub cold_start: DistSpec,
    /// Memory [MB] (128 to 10,240; default 1,024), for the GB-second price.
    #[serde(default = "mb")]
    pub memory_mb: u32,
    /// Concurrent executions of the region, shared by its functions (default 1,000).
    #[serde(default = "thousand")]
    pub regional_limit: u32,
    /// New environments per 10 s (default 1,000).
    #[serde(default = "thousand")]
    pub scale_per_10s: u32,
    /// The pre-2023 rule instead: a burst of `legacy_burst` new environments, then +500 a
    /// minute (default false).
    #[serde(default)]
    pub legacy_scaling: bool,
    /// The legacy burst (500 to 3,000 by region; default 3,000).
    #[serde(default = "three_thousand")]
    pub legacy_burst: u32,
    /// An idle environment is reclaimed after this (default 10 minutes, an assumption).
    pub idle_timeout: Option<Quantity>,
    /// Scheduled pings keeping environments warm (default none).
    pub keep_warm: Option<KeepWarmSpec>,
    /// Environments kept initialised at all times (default 0).
    #[serde(default)]
    pub provisioned_concurrency: u32,
    /// A service the handler calls after its own `service` time, holding its environment until
    /// the call ends (default none: the handler does not call out).
    pub target: Option<String>,
    /// Policy of the call to `target` (the SDK's retries, a timeout).
    pub policy: Option<String>,
}

/// Keep-warm pings: every `every`, `environments` concurrent pings.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeepWarmSpec {
    pub every: Quantity,
    pub environments: u32,
}

fn mb() -> u32 {
    1024
}
fn thousand() -> u32 {
    1000
}
fn three_thousand() -> u32 {
    3000
}

/// Checked settings.
#[derive(Clone, Debug)]
pub struct LambdaDef {
    service: Dist,
    cold: Dist,
    gb: f64,
    regional: u32,
    per_10s: u32,
    legacy: Option<u32>,
    idle_ns: u64,
    keep_warm: Option<(u64, u32)>,
    provisioned: u32,
    prices: [Option<Price>; 2],
    /// Whether the handler calls a `target`.
    calls: bool,
}

const ADMIT: u16 = 0;
const DONE: u16 = 1;
/// The call to `target` failed: the environment is released and the handler fails.
const FAILED: u16 = 2;
const MAX_ENVIRONMENTS: u32 = 1_000_000;
/// The scaling rule's window [ns].
const SCALE_WINDOW_NS: u64 = 10_000_000_000;
/// Timer token: keep-warm pings.
const PING: u32 = 0;

/// Counters since warm-up.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct LambdaCounts {
    pub invocations: u64,
    pub cold_starts: u64,
    pub environments_created: u64,
    pub reclaimed: u64,
    pub throttled_concurrency: u64,
    pub throttled_scaling: u64,
    pub max_concurrency: u32,
    /// Duration billed [s] (cold starts included).
    pub billed_s: f64,
}

/// A running function.
pub struct Lambda {
    def: LambdaDef,
    rng: SimRng,
    /// Idle on-demand environments by the time they became idle [ns], most recent last; and
    /// idle provisioned ones (never reclaimed).
    idle: VecDeque<u64>,
    idle_provisioned: u32,
    busy: u32,
    /// Environments in existence (busy and idle).
    existing: u32,
    /// The current rule: creation times over the last 10 s (each new environment's credit
    /// comes back 10 s after it was used, so any 10 s sees at most `scale_per_10s`); or, with
    /// the legacy rule, a bucket.
    created: VecDeque<u64>,
    legacy: Option<Tokens>,
    counts: LambdaCounts,
    /// Cold starts in the open time-series window.
    window_cold: u64,
    /// Initialisation time of each invocation since warm-up [ns]: a cold start's, 0 in a warm
    /// environment (its p99 is the seeds' "cold start P99").
    init: Latency,
    /// Simulated time of the run's first cold start [ns], warm-up included.
    first_cold_start: Option<u64>,
}

impl Kind for Lambda {
    type Spec = LambdaSpec;
    type Def = LambdaDef;

    fn compile(spec: &LambdaSpec, b: &mut KindBuilder) -> Option<LambdaDef> {
        let mut ok = true;
        let service = b.dist("service", &spec.service);
        let cold = b.dist("cold_start", &spec.cold_start);
        if !(128..=10_240).contains(&spec.memory_mb) {
            b.issue("memory_mb", format!("must be from 128 to 10,240 MB, got {}", spec.memory_mb));
            ok = false;
        }
        for (f, v) in [("regional_limit", spec.regional_limit), ("scale_per_10s", spec.scale_per_10s)] {
            if v == 0 || v > MAX_ENVIRONMENTS {
                b.issue(f, format!("must be from 1 to {MAX_ENVIRONMENTS}, got {v}"));
                ok = false;
            }
        }
        if spec.legacy_scaling && !(1..=MAX_ENVIRONMENTS).contains(&spec.legacy_burst) {
            b.issue("legacy_burst", format!("must be from 1 to {MAX_ENVIRONMENTS}, got {}", spec.legacy_burst));
            ok = false;
        }
        let idle = spec.idle_timeout.map_or(600.0, |q| q.0);
        if !(idle.is_finite() && (0.0..=86_400.0).contains(&idle)) {
            b.issue("idle_timeout", format!("must be a duration from 0 to a day, got {idle} s"));
            ok = false;
        }
        let keep_warm = spec.keep_warm.as_ref().map(|k| {
            if !(k.every.0.is_finite() && (1.0..=86_400.0).contains(&k.every.0)) {
                b.issue("keep_warm.every", format!("must be a duration from 1 s to a day, got {} s", k.every.0));
                ok = false;
            }
            if k.environments == 0 {
                b.issue("keep_warm.environments", "must be at least 1 (or leave `keep_warm` out)");
                ok = false;
            }
            if k.environments > spec.regional_limit {
                b.issue(
                    "keep_warm.environments",
                    format!("must be at most the regional limit ({})", spec.regional_limit),
                );
                ok = false;
            }
            (SimTime::from_secs(k.every.0.clamp(1.0, 86_400.0)).0, k.environments)
        });
        if spec.provisioned_concurrency > spec.regional_limit {
            let msg = format!("must be at most the regional limit ({})", spec.regional_limit);
            b.issue("provisioned_concurrency", msg);
            ok = false;
        }
        let prices = [b.price("lambda.request"), b.price("lambda.gb_second")];
        let done = b.step(DONE, vec![RETURN]);
        let after_work = b.target_call(spec.target.as_deref(), spec.policy.as_deref(), done, FAILED)?;
        b.entry = b.step(ADMIT, vec![after_work]);
        let (service, cold) = (service?, cold?);
        ok.then(|| LambdaDef {
            service,
            cold,
            gb: spec.memory_mb as f64 / 1024.0,
            regional: spec.regional_limit,
            per_10s: spec.scale_per_10s,
            legacy: spec.legacy_scaling.then_some(spec.legacy_burst),
            idle_ns: SimTime::from_secs(idle.clamp(0.0, 86_400.0)).0,
            keep_warm,
            provisioned: spec.provisioned_concurrency,
            prices,
            calls: spec.target.is_some(),
        })
    }

    fn holds_while_waiting() -> bool {
        false
    }

    fn start(def: &LambdaDef, seed: u64, service: &str) -> Lambda {
        Lambda {
            def: def.clone(),
            rng: stream(seed, service, "lambda"),
            idle: VecDeque::new(),
            idle_provisioned: def.provisioned,
            busy: 0,
            existing: def.provisioned,
            created: VecDeque::new(),
            legacy: def.legacy.map(|burst| Tokens::full(500.0 / 60.0, burst as f64)),
            counts: LambdaCounts::default(),
            window_cold: 0,
            init: Latency::with_digits(3),
            first_cold_start: None,
        }
    }

    fn begin(&mut self, cx: &mut StepCx) {
        if self.def.keep_warm.is_some() {
            self.ping(cx.now.0);
            let (every, _) = self.def.keep_warm.expect("checked");
            cx.out.timer(SimTime(every), PING);
        }
    }

    fn step(&mut self, tag: u16, job: &mut Job, cx: &mut StepCx) -> Go {
        let now = cx.now.0;
        if tag == DONE || tag == FAILED {
            self.busy -= 1;
            if job.kind_slot == 1 {
                self.idle_provisioned += 1;
            } else {
                self.idle.push_back(now);
            }
            if self.def.calls {
                // The wait for the target since its first attempt (the handler's own time was
                // billed when it started).
                self.counts.billed_s += now.saturating_sub(job.call_born.0) as f64 / 1e9;
            }
            if tag == FAILED {
                return Go::Fail(job.failed.take().unwrap_or(Outcome::Error));
            }
            return Go::Exit(0);
        }
        self.reclaim(now);
        if self.busy >= self.def.regional {
            self.counts.throttled_concurrency += 1;
            return Go::Fail(Outcome::Throttled);
        }
        let mut secs = self.def.service.sample(&mut self.rng).max(0.0);
        if self.idle_provisioned > 0 {
            self.idle_provisioned -= 1;
            job.kind_slot = 1;
            self.init.record(0);
        } else if self.idle.pop_back().is_some() {
            job.kind_slot = 0;
            self.init.record(0);
        } else {
            if !self.may_create(now) {
                self.counts.throttled_scaling += 1;
                return Go::Fail(Outcome::Throttled);
            }
            self.existing += 1;
            let c = &mut self.counts;
            (c.cold_starts, c.environments_created) = (c.cold_starts + 1, c.environments_created + 1);
            self.window_cold += 1;
            let init = self.def.cold.sample(&mut self.rng).max(0.0);
            self.init.record(SimTime::from_secs(init).0);
            self.first_cold_start.get_or_insert(now);
            secs += init;
            job.kind_slot = 0;
        }
        self.busy += 1;
        self.counts.invocations += 1;
        self.counts.max_concurrency = self.counts.max_concurrency.max(self.busy);
        self.counts.billed_s += secs;
        Go::Hold { secs, exit: 0 }
    }

    fn timer(&mut self, _token: u32, cx: &mut StepCx) {
        let now = cx.now.0;
        self.ping(now);
        if let Some((every, _)) = self.def.keep_warm {
            cx.out.timer(SimTime(now + every), PING);
        }
    }

    fn restart_stats(&mut self, _now: SimTime) {
        self.counts = LambdaCounts { max_concurrency: self.busy, ..LambdaCounts::default() };
        self.init.reset();
    }

    fn summary(&self, now: SimTime) -> serde_json::Value {
        let mut v = serde_json::to_value(self.counts).unwrap_or_default();
        v["environments"] = serde_json::json!(self.existing);
        let c = &self.counts;
        v["cold_start_share"] =
            serde_json::json!((c.invocations > 0).then(|| c.cold_starts as f64 / c.invocations as f64));
        v["cost_usd"] = serde_json::json!(self.cost_usd(now));
        v["init_s"] = serde_json::to_value(self.init.summary()).unwrap_or_default();
        v["first_cold_start_s"] = serde_json::json!(self.first_cold_start.map(|t| t as f64 * 1e-9));
        v
    }

    fn cost_usd(&self, _now: SimTime) -> Option<f64> {
        let usd = |p: Option<Price>, q: f64| p.map_or(0.0, |p| p.usd(q));
        let [req, gbs] = self.def.prices;
        Some(usd(req, self.counts.invocations as f64) + usd(gbs, self.counts.billed_s * self.def.gb))
    }

    const COLUMNS: &'static [&'static str] = &["environments", "busy", "cold_starts"];

    fn window(&mut self, now: SimTime, out: &mut Vec<f64>) {
        self.reclaim(now.0);
        out.extend([self.existing as f64, self.busy as f64, self.window_cold as f64]);
        self.window_cold = 0;
    }
}

impl Lambda {
    /// Whether a new environment may be created now (and counts it if so).
    fn may_create(&mut self, now: u64) -> bool {
        if let Some(t) = &mut self.legacy {
            t.refill(SimTime(now));
            if !t.has(1.0) {
                return false;
            }
            t.take(1.0);
            return true;
        }
        while self.created.front().is_some_and(|&t| now - t >= SCALE_WINDOW_NS) {
            self.created.pop_front();
        }
        if self.created.len() >= self.def.per_10s as usize {
            return false;
        }
        self.created.push_back(now);
        true
    }

    /// Reclaims on-demand environments idle for `idle_timeout` (the oldest idle first).
    fn reclaim(&mut self, now: u64) {
        while let Some(&since) = self.idle.front() {
            if now.saturating_sub(since) < self.def.idle_ns {
                break;
            }
            self.idle.pop_front();
            self.existing -= 1;
            self.counts.reclaimed += 1;
        }
    }

    /// Keep-warm pings: the idle environments they reach count as used now; missing ones
    /// are created (their cold starts off any user's path).
    fn ping(&mut self, now: u64) {
        let Some((_, n)) = self.def.keep_warm else { return };
        self.reclaim(now);
        let mut touched = 0;
        for since in self.idle.iter_mut().rev().take(n as usize) {
            *since = now;
            touched += 1;
        }
        let warm = touched + self.busy + self.idle_provisioned;
        let missing = n.saturating_sub(warm).min(self.def.regional.saturating_sub(self.existing));
        for _ in 0..missing {
            self.idle.push_back(now);
            self.existing += 1;
            self.counts.environments_created += 1;
        }
    }
}
