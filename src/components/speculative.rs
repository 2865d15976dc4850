//! `speculative`: a call started before it is known to be needed — RAG retrieval started in
//! parallel with intent classification (seed 000 scenario 7: about 70 % of intents need it).
//!
//! Put it in a `parallel` step beside the classifier. For a request whose intent is in
//! `needed_by`, it calls `target` under `policy` and replies with the call's outcome (the
//! parallel step waits for it as usual). For any other intent the retrieval still runs —
//! it was started before the classifier answered — but as a background call nobody waits for:
//! the step replies at once, and the call's time is counted as wasted work. (The request's
//! intent is drawn when it arrives, so capsim knows what the classifier will say; the waste is
//! what speculation costs.)

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kinds::{Go, Kind, StepCx};
use crate::engine::SimTime;
use crate::model::KindBuilder;
use crate::model::program::RETURN;
use crate::sim::{Job, Origin, Outcome};

/// Settings of a `speculative` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpeculativeSpec {
    /// The service called speculatively (retrieval).
    pub target: String,
    /// The `policies` entry wrapping the call.
    pub policy: Option<String>,
    /// Intents whose requests use the result; for the others it is wasted.
    pub needed_by: Vec<String>,
}

/// Checked settings: per intent index, whether the result is used.
#[derive(Clone, Debug)]
pub struct SpeculativeDef {
    needed: Vec<bool>,
}

const ADMIT: u16 = 0;
const DONE: u16 = 1;
const FAILED: u16 = 2;
/// Admit's exits.
const CALL: usize = 0;
const SKIP: usize = 1;

/// Counters since warm-up.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct SpeculationCounts {
    pub started: u64,
    pub used: u64,
    pub wasted: u64,
    /// Time of the wasted calls [s].
    pub wasted_s: f64,
}

/// A running speculation point.
pub struct Speculative {
    def: SpeculativeDef,
    counts: SpeculationCounts,
}

impl Kind for Speculative {
    type Spec = SpeculativeSpec;
    type Def = SpeculativeDef;

    fn compile(spec: &SpeculativeSpec, b: &mut KindBuilder) -> Option<SpeculativeDef> {
        let mut ok = true;
        let needed = b.intent_flags("needed_by", &spec.needed_by).unwrap_or_else(|| {
            ok = false;
            Vec::new()
        });
        if spec.needed_by.is_empty() {
            b.issue("needed_by", "name the intents that use the result (at least one)");
            ok = false;
        }
        let failed = b.step(FAILED, vec![]);
        let done = b.step(DONE, vec![RETURN]);
        let call = b.call("target", &spec.target, spec.policy.as_deref(), done, Some(failed))?;
        b.entry = b.step(ADMIT, vec![call, RETURN]);
        ok.then_some(SpeculativeDef { needed })
    }

    fn holds_while_waiting() -> bool {
        false
    }

    fn start(def: &SpeculativeDef, _seed: u64, _service: &str) -> Speculative {
        Speculative { def: def.clone(), counts: SpeculationCounts::default() }
    }

    fn step(&mut self, tag: u16, job: &mut Job, cx: &mut StepCx) -> Go {
        let background = matches!(job.origin, Origin::Detached);
        match tag {
            ADMIT => {
                self.counts.started += 1;
                if self.def.needed.get(job.attrs.intent as usize).copied().unwrap_or(false) {
                    self.counts.used += 1;
                    Go::Exit(CALL)
                } else {
                    cx.out.spawn(CALL);
                    Go::Exit(SKIP)
                }
            }
            DONE => {
                if background {
                    self.waste(cx.now, job);
                }
                Go::Exit(0)
            }
            _ => {
                let outcome = job.failed.take().unwrap_or(Outcome::Error);
                if background {
                    self.waste(cx.now, job);
                }
                Go::Fail(outcome)
            }
        }
    }

    fn restart_stats(&mut self, _now: SimTime) {
        self.counts = SpeculationCounts::default();
    }

    fn summary(&self, _now: SimTime) -> serde_json::Value {
        let mut v = serde_json::to_value(self.counts).unwrap_or_default();
        let c = &self.counts;
        v["wasted_share"] = serde_json::json!((c.started > 0).then(|| c.wasted as f64 / c.started as f64));
        v
    }
}

impl Speculative {
    /// A background call ended: its time was wasted.
    fn waste(&mut self, now: SimTime, job: &Job) {
        self.counts.wasted += 1;
        self.counts.wasted_s += now.since(job.call_born) as f64 * 1e-9;
    }
}
