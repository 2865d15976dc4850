//! `guardrail`: Bedrock Guardrails checking an answer (seed 001's "guardrail block rate > 10 %
//! for 15 min" alarm).
//!
//! Each request holds its slot for a drawn `check` time, then is blocked with probability
//! `block_share` (or its intent's share in `by_intent`). With `block_bursts`, campaigns of
//! prompt injection come and go (the on/off process of `faults.throttle_bursts`, see
//! `components/bursts.rs`): during one, each request is also blocked with probability
//! `block_bursts.share`, so the block share is p + (1 − p)·share while a campaign is on.
//!
//! A blocked request is answered, not failed: the user receives a safe refusal, so the call
//! replies `ok`. It is counted here (`checked`, `blocked`), and the request is marked so that
//! `requests.blocked` counts it among the answered requests. The flow of the caller goes on as
//! after any successful call: put the guardrail last, on the answer.
//!
//! Cost: `text_units` per check (a text unit is up to 1,000 characters) at the price table's
//! `price` (default `bedrock.guardrail.text_unit`, $0.15 per 1,000 text units for content
//! filters: an assumption from AWS's public Bedrock price page, not the calibration sheet).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::bursts::Bursts;
use super::kinds::{Go, Kind, StepCx};
use crate::cost::Price;
use crate::engine::{SimRng, SimTime, stream};
use crate::model::program::RETURN;
use crate::model::service_spec::ThrottleBurstSpec;
use crate::model::{DistSpec, KindBuilder};
use crate::sim::Job;
use rand::RngExt;

/// Settings of a `guardrail` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardrailSpec {
    /// Time to check one answer (a distribution).
    pub check: DistSpec,
    /// Share of answers blocked (0–1, default 0).
    #[serde(default)]
    pub block_share: f64,
    /// Per-intent block shares, replacing `block_share` for those intents.
    #[serde(default)]
    pub by_intent: BTreeMap<String, f64>,
    /// Campaigns (prompt injection) that come and go: exponential on and off periods; while one
    /// is on, each answer is also blocked with probability `share`.
    pub block_bursts: Option<ThrottleBurstSpec>,
    /// Text units checked per answer (a text unit is up to 1,000 characters; default 1).
    #[serde(default = "one")]
    pub text_units: f64,
    /// Price table entry per text unit (default `bedrock.guardrail.text_unit`).
    pub price: Option<String>,
}

fn one() -> f64 {
    1.0
}

/// The built-in price of a text unit.
const DEFAULT_PRICE: &str = "bedrock.guardrail.text_unit";

/// Checked settings.
#[derive(Clone, Debug)]
pub struct GuardrailDef {
    /// Block share per intent index, and for a request with none listed.
    by_intent: Vec<f64>,
    share: f64,
    /// Campaigns: (mean on [s], mean off [s], share blocked while on).
    bursts: Option<(f64, f64, f64)>,
    text_units: f64,
    price: Option<Price>,
}

const CHECK: u16 = 0;

/// Counters since warm-up.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct GuardrailCounts {
    /// Answers checked.
    pub requests: u64,
    /// Of these, blocked (answered with a refusal).
    pub blocked: u64,
}

/// A running guardrail.
pub struct Guardrail {
    def: GuardrailDef,
    rng: SimRng,
    bursts: Option<Bursts>,
    counts: GuardrailCounts,
    /// (checked, blocked) in the open time-series window.
    window: (u64, u64),
}

impl Kind for Guardrail {
    type Spec = GuardrailSpec;
    type Def = GuardrailDef;

    fn compile(spec: &GuardrailSpec, b: &mut KindBuilder) -> Option<GuardrailDef> {
        let mut ok = true;
        if !(0.0..=1.0).contains(&spec.block_share) {
            b.issue("block_share", format!("must be a share from 0 to 1, got {}", spec.block_share));
            ok = false;
        }
        let by_intent = b.intent_shares("by_intent", spec.block_share, &spec.by_intent);
        let bursts = spec.block_bursts.as_ref().map(|s| b.bursts("block_bursts", s));
        if !(spec.text_units.is_finite() && spec.text_units >= 0.0) {
            b.issue("text_units", format!("must be a number of text units ≥ 0, got {}", spec.text_units));
            ok = false;
        }
        let name = spec.price.as_deref().unwrap_or(DEFAULT_PRICE);
        let price = b.price(name);
        if price.is_none() {
            b.issue("price", format!("`{name}` is not in the price table"));
            ok = false;
        }
        let check = b.dist("check", &spec.check);
        let step = b.step(CHECK, vec![RETURN]);
        b.entry = b.work("check", check?, step);
        let def =
            GuardrailDef { by_intent: by_intent?, share: spec.block_share, bursts, text_units: spec.text_units, price };
        ok.then_some(def)
    }

    fn start(def: &GuardrailDef, seed: u64, service: &str) -> Guardrail {
        let timeline = || stream(seed, service, "guardrail.block_bursts");
        Guardrail {
            def: def.clone(),
            rng: stream(seed, service, "guardrail.blocks"),
            bursts: def.bursts.map(|(on, off, share)| Bursts::new(on, off, share, timeline())),
            counts: GuardrailCounts::default(),
            window: (0, 0),
        }
    }

    fn step(&mut self, _tag: u16, job: &mut Job, cx: &mut StepCx) -> Go {
        self.counts.requests += 1;
        self.window.0 += 1;
        let p = self.def.by_intent.get(job.attrs.intent as usize).copied().unwrap_or(self.def.share);
        let blocked = (p > 0.0 && self.rng.random::<f64>() < p)
            || self.bursts.as_mut().is_some_and(|b| b.hit(cx.now, &mut self.rng));
        if blocked {
            job.blocked = true;
            self.counts.blocked += 1;
            self.window.1 += 1;
        }
        Go::Exit(0)
    }

    fn restart_stats(&mut self, _now: SimTime) {
        self.counts = GuardrailCounts::default();
    }

    fn summary(&self, _now: SimTime) -> serde_json::Value {
        let c = &self.counts;
        let mut v = serde_json::to_value(c).unwrap_or_default();
        v["block_share"] = serde_json::json!((c.requests > 0).then(|| c.blocked as f64 / c.requests as f64));
        v["text_units"] = serde_json::json!(c.requests as f64 * self.def.text_units);
        v
    }

    fn cost_usd(&self, _now: SimTime) -> Option<f64> {
        self.def.price.map(|p| p.usd(self.counts.requests as f64 * self.def.text_units))
    }

    const COLUMNS: &'static [&'static str] = &["checked", "blocked"];

    fn window(&mut self, _now: SimTime, out: &mut Vec<f64>) {
        let (checked, blocked) = std::mem::take(&mut self.window);
        out.extend([checked as f64, blocked as f64]);
    }
}
