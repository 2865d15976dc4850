//! `model_router`: sends requests to a primary model and, while it is in trouble, some
//! intents to a fallback model — seed 000 scenario 2's switch: "when Sonnet timeout rate
//! exceeded 5 % for 2 consecutive minutes, the orchestrator automatically routed simple
//! intents to Claude Haiku".
//!
//! Every request calls `primary` under `policy`, except that while the router is switched, a
//! request whose intent is in `intents` calls `fallback` under `fallback_policy` instead. Each
//! `interval` (60 s) the router takes the share of its primary calls that ended in a timeout
//! in that interval; after `periods` (2) intervals in a row above `threshold` (0.05) it
//! switches, and after as many in a row at or below it, it switches back.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kinds::{Go, Kind, StepCx};
use crate::engine::SimTime;
use crate::model::KindBuilder;
use crate::model::program::RETURN;
use crate::model::quantity::Quantity;
use crate::sim::{Job, Outcome};

/// Settings of a `model_router` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelRouterSpec {
    pub primary: String,
    pub policy: Option<String>,
    pub fallback: String,
    pub fallback_policy: Option<String>,
    /// Intents sent to `fallback` while switched.
    pub intents: Vec<String>,
    /// Timeout share of primary calls that counts as trouble (default 0.05).
    #[serde(default = "five_percent")]
    pub threshold: f64,
    /// Intervals in a row above (or back at or below) the threshold that switch (default 2).
    #[serde(default = "two")]
    pub periods: u32,
    /// Length of an interval (default 60 s).
    pub interval: Option<Quantity>,
}

fn five_percent() -> f64 {
    0.05
}
fn two() -> u32 {
    2
}

/// Checked settings.
#[derive(Clone, Debug)]
pub struct ModelRouterDef {
    switchable: Vec<bool>,
    threshold: f64,
    periods: u32,
    interval_ns: u64,
}

const ADMIT: u16 = 0;
const DONE: u16 = 1;
const FAILED: u16 = 2;
/// A primary call's job carries this `kind_slot`; a fallback call's, 0.
const PRIMARY: u32 = 1;

/// Counters since warm-up.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct RouterCounts {
    pub requests: u64,
    pub to_primary: u64,
    pub to_fallback: u64,
    pub primary_timeouts: u64,
    pub switches_on: u64,
    /// Time spent switched [s].
    pub switched_s: f64,
}

/// A running router.
pub struct ModelRouter {
    def: ModelRouterDef,
    switched: bool,
    switched_at: u64,
    /// This interval's primary calls ended and timed out; intervals in a row on the other
    /// side of the threshold.
    ended: u64,
    timeouts: u64,
    streak: u32,
    counts: RouterCounts,
    since: u64,
    /// The first 100 switches: (time [s], switched on?).
    history: Vec<(f64, bool)>,
}

impl Kind for ModelRouter {
    type Spec = ModelRouterSpec;
    type Def = ModelRouterDef;

    fn compile(spec: &ModelRouterSpec, b: &mut KindBuilder) -> Option<ModelRouterDef> {
        let mut ok = true;
        let switchable = b.intent_flags("intents", &spec.intents).unwrap_or_else(|| {
            ok = false;
            Vec::new()
        });
        if !(spec.threshold.is_finite() && (0.0..1.0).contains(&spec.threshold)) {
            b.issue("threshold", format!("must be a share from 0 to below 1, got {}", spec.threshold));
            ok = false;
        }
        if spec.periods == 0 || spec.periods > 1440 {
            b.issue("periods", format!("must be from 1 to 1440 intervals, got {}", spec.periods));
            ok = false;
        }
        let interval = spec.interval.map_or(60.0, |q| q.0);
        if !(interval.is_finite() && (1.0..=86_400.0).contains(&interval)) {
            b.issue("interval", format!("must be a duration from 1 s to a day, got {interval} s"));
            ok = false;
        }
        let failed = b.step(FAILED, vec![]);
        let done = b.step(DONE, vec![RETURN]);
        let primary = b.call("primary", &spec.primary, spec.policy.as_deref(), done, Some(failed))?;
        let fallback = b.call_with(
            "fallback_policy",
            "fallback",
            &spec.fallback,
            spec.fallback_policy.as_deref(),
            done,
            Some(failed),
        )?;
        b.entry = b.step(ADMIT, vec![primary, fallback]);
        ok.then(|| ModelRouterDef {
            switchable,
            threshold: spec.threshold,
            periods: spec.periods,
            interval_ns: SimTime::from_secs(interval.clamp(1.0, 86_400.0)).0,
        })
    }

    fn holds_while_waiting() -> bool {
        false
    }

    fn start(def: &ModelRouterDef, _seed: u64, _service: &str) -> ModelRouter {
        ModelRouter {
            def: def.clone(),
            switched: false,
            switched_at: 0,
            ended: 0,
            timeouts: 0,
            streak: 0,
            counts: RouterCounts::default(),
            since: 0,
            history: Vec::new(),
        }
    }

    fn begin(&mut self, cx: &mut StepCx) {
        cx.out.timer(SimTime(self.def.interval_ns), 0);
    }

    fn step(&mut self, tag: u16, job: &mut Job, _cx: &mut StepCx) -> Go {
        match tag {
            ADMIT => {
                self.counts.requests += 1;
                let moved =
                    self.switched && self.def.switchable.get(job.attrs.intent as usize).copied().unwrap_or(false);
                if moved {
                    self.counts.to_fallback += 1;
                    job.kind_slot = 0;
                    Go::Exit(1)
                } else {
                    self.counts.to_primary += 1;
                    job.kind_slot = PRIMARY;
                    Go::Exit(0)
                }
            }
            DONE => {
                if job.kind_slot == PRIMARY {
                    self.ended += 1;
                }
                Go::Exit(0)
            }
            _ => {
                let outcome = job.failed.take().unwrap_or(Outcome::Error);
                if job.kind_slot == PRIMARY {
                    self.ended += 1;
                    if outcome == Outcome::Timeout {
                        self.timeouts += 1;
                        self.counts.primary_timeouts += 1;
                    }
                }
                Go::Fail(outcome)
            }
        }
    }

    fn timer(&mut self, _token: u32, cx: &mut StepCx) {
        let now = cx.now.0;
        let rate = if self.ended > 0 { self.timeouts as f64 / self.ended as f64 } else { 0.0 };
        let trouble = rate > self.def.threshold;
        if trouble != self.switched {
            self.streak += 1;
            if self.streak >= self.def.periods {
                self.switched = trouble;
                self.streak = 0;
                if self.history.len() < 100 {
                    self.history.push((cx.now.as_secs(), trouble));
                }
                if trouble {
                    self.counts.switches_on += 1;
                    self.switched_at = now;
                } else {
                    self.counts.switched_s += now.saturating_sub(self.switched_at.max(self.since)) as f64 * 1e-9;
                }
            }
        } else {
            self.streak = 0;
        }
        (self.ended, self.timeouts) = (0, 0);
        cx.out.timer(SimTime(now + self.def.interval_ns), 0);
    }

    fn restart_stats(&mut self, now: SimTime) {
        self.counts = RouterCounts::default();
        self.since = now.0;
    }

    fn summary(&self, now: SimTime) -> serde_json::Value {
        let mut v = serde_json::to_value(self.counts).unwrap_or_default();
        let open =
            if self.switched { now.0.saturating_sub(self.switched_at.max(self.since)) as f64 * 1e-9 } else { 0.0 };
        v["switched_s"] = serde_json::json!(self.counts.switched_s + open);
        v["switched"] = serde_json::json!(self.switched);
        v["switch_history"] = serde_json::json!(self.history);
        let c = &self.counts;
        v["fallback_share"] = serde_json::json!((c.requests > 0).then(|| c.to_fallback as f64 / c.requests as f64));
        v
    }
}
