//! `model_router`: sends each request to a primary model, a cheaper fallback model or a
//! template answer, by intent — seed 000's two routers:
//! - the router of the interview answer, always on: "sends chitchat to template responses
//!   (zero cost), simple formatting tasks to Claude Haiku (10x cheaper), and only complex
//!   reasoning to Sonnet" (`template`, `always`);
//! - scenario 2's switch: "when Sonnet timeout rate exceeded 5 % for 2 consecutive minutes,
//!   the orchestrator automatically routed simple intents to Claude Haiku" (`intents`).
//!
//! A request whose intent is in `template.intents` is answered after `template.wait`, at no
//! model cost; one whose intent is in `always` calls `fallback` under `fallback_policy`; while
//! the router is switched, so does one whose intent is in `intents`; every other request calls
//! `primary` under `policy`. Each `interval` (60 s) the router takes the share of its primary
//! calls that ended in a timeout in that interval; after `periods` (2) intervals in a row above
//! `threshold` (0.05) it switches, and after as many in a row at or below it, it switches back.
//!
//! With `saving` (the primary's and the fallback's token prices) it counts what routing saved:
//! for each request sent away from the primary, its tokens at the primary's prices less, for a
//! fallback call, the same tokens at the fallback's prices (a template costs nothing).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kinds::{Go, Kind, StepCx};
use crate::cost::Price;
use crate::engine::SimTime;
use crate::model::program::RETURN;
use crate::model::quantity::Quantity;
use crate::model::{Dist, KindBuilder};
use crate::sim::{Job, Outcome};

/// Settings of a `model_router` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelRouterSpec {
    pub primary: String,
    pub policy: Option<String>,
    pub fallback: String,
    pub fallback_policy: Option<String>,
    /// Intents sent to `fallback` while switched (default: none).
    #[serde(default)]
    pub intents: Vec<String>,
    /// Intents sent to `fallback` at all times (default: none).
    #[serde(default)]
    pub always: Vec<String>,
    /// Intents answered by a template, at no model cost (default: none).
    pub template: Option<TemplateSpec>,
    /// Token prices of the primary and the fallback, to count what routing saved (default:
    /// not counted).
    pub saving: Option<SavingSpec>,
    /// Timeout share of primary calls that counts as trouble (default 0.05).
    #[serde(default = "five_percent")]
    pub threshold: f64,
    /// Intervals in a row above (or back at or below) the threshold that switch (default 2).
    #[serde(default = "two")]
    pub periods: u32,
    /// Length of an interval (default 60 s).
    pub interval: Option<Quantity>,
}

/// Template answers: which intents get one, and how long it takes.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    pub intents: Vec<String>,
    /// Time to answer (default 5 ms, an assumption).
    pub wait: Option<Quantity>,
}

/// Price table entries per million input and output tokens of one model.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenPrices {
    pub input_price: String,
    pub output_price: String,
}

/// The primary's and the fallback's token prices.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SavingSpec {
    pub primary: TokenPrices,
    pub fallback: TokenPrices,
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
    /// Per intent index: where it goes.
    routes: Vec<Route>,
    /// The primary's and the fallback's prices (input, output), per token.
    saving: Option<[[Price; 2]; 2]>,
    threshold: f64,
    periods: u32,
    interval_ns: u64,
}

/// Where an intent's requests go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Route {
    /// The primary.
    #[default]
    Primary,
    /// The primary, or the fallback while switched.
    Switchable,
    Fallback,
    Template,
}

const ADMIT: u16 = 0;
const DONE: u16 = 1;
const FAILED: u16 = 2;
/// Admit's exits.
const TO_PRIMARY: usize = 0;
const TO_FALLBACK: usize = 1;
const TO_TEMPLATE: usize = 2;
/// A primary call's job carries this `kind_slot`; a fallback call's, 0.
const PRIMARY: u32 = 1;

/// Counters since warm-up.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct RouterCounts {
    pub requests: u64,
    pub to_primary: u64,
    pub to_fallback: u64,
    pub to_template: u64,
    pub primary_timeouts: u64,
    pub switches_on: u64,
    /// Time spent switched [s].
    pub switched_s: f64,
    /// What sending requests away from the primary saved [USD] (with `saving`).
    pub saved_usd: f64,
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
        let routes = routes(spec, b).unwrap_or_else(|| {
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
        let saving = spec.saving.as_ref().and_then(|s| {
            let p = [prices(b, "saving.primary", &s.primary), prices(b, "saving.fallback", &s.fallback)];
            let got = matches!(p, [Some(_), Some(_)]);
            ok &= got;
            got.then(|| p.map(|x| x.unwrap_or([Price::PerUnit(0.0); 2])))
        });
        let wait = spec.template.as_ref().and_then(|t| t.wait).map_or(0.005, |q| q.0);
        if !(wait.is_finite() && (0.0..=3600.0).contains(&wait)) {
            b.issue("template.wait", format!("must be a duration from 0 to an hour, got {wait} s"));
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
        let template = b.work("template.wait", Dist::Constant(wait.clamp(0.0, 3600.0)), done);
        b.entry = b.step(ADMIT, vec![primary, fallback, template]);
        ok.then(|| ModelRouterDef {
            routes,
            saving,
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
                let route = self.def.routes.get(job.attrs.intent as usize).copied().unwrap_or_default();
                let exit = match route {
                    Route::Template => TO_TEMPLATE,
                    Route::Fallback => TO_FALLBACK,
                    Route::Switchable if self.switched => TO_FALLBACK,
                    _ => TO_PRIMARY,
                };
                job.kind_slot = if exit == TO_PRIMARY { PRIMARY } else { 0 };
                match exit {
                    TO_PRIMARY => self.counts.to_primary += 1,
                    TO_FALLBACK => self.counts.to_fallback += 1,
                    _ => self.counts.to_template += 1,
                }
                if let Some([primary, fallback]) = self.def.saving.filter(|_| exit != TO_PRIMARY) {
                    let cost = |[pin, pout]: [Price; 2]| {
                        pin.usd(job.attrs.tokens_in as f64) + pout.usd(job.attrs.tokens_out as f64)
                    };
                    let there = if exit == TO_FALLBACK { cost(fallback) } else { 0.0 };
                    self.counts.saved_usd += cost(primary) - there;
                }
                Go::Exit(exit)
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
        v["saved_usd_per_1k_requests"] = serde_json::json!(
            (self.def.saving.is_some() && c.requests > 0).then(|| c.saved_usd * 1000.0 / c.requests as f64)
        );
        v
    }
}

/// Per intent index, where its requests go; an intent named twice, or an unknown one, is an
/// issue (and `None`).
fn routes(spec: &ModelRouterSpec, b: &mut KindBuilder) -> Option<Vec<Route>> {
    let none = Vec::new();
    let template = spec.template.as_ref().map_or(&none, |t| &t.intents);
    let lists = [
        ("intents", &spec.intents, Route::Switchable),
        ("always", &spec.always, Route::Fallback),
        ("template.intents", template, Route::Template),
    ];
    let mut routes = Vec::new();
    let mut ok = true;
    for (field, names, route) in lists {
        let Some(flags) = b.intent_flags(field, names) else {
            ok = false;
            continue;
        };
        routes.resize(routes.len().max(flags.len()), Route::Primary);
        for (k, _) in flags.iter().enumerate().filter(|(_, f)| **f) {
            if routes[k] != Route::Primary {
                let name = names.iter().find(|n| b.intent_index(n) == Some(k)).cloned().unwrap_or_default();
                b.issue(field, format!("intent `{name}` is routed twice (each intent goes to one place)"));
                ok = false;
            }
            routes[k] = route;
        }
    }
    ok.then_some(routes)
}

/// The input and output prices named at `field`, or `None` (reported) if either is unknown.
fn prices(b: &mut KindBuilder, field: &str, p: &TokenPrices) -> Option<[Price; 2]> {
    let mut one = |f: &str, name: &str| {
        let got = b.price(name);
        if got.is_none() {
            b.issue(&format!("{field}.{f}"), format!("`{name}` is not in the price table"));
        }
        got
    };
    Some([one("input_price", &p.input_price)?, one("output_price", &p.output_price)?])
}
