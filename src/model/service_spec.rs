//! The raw `services` section: services with capacity, a queue and a flow of steps — work,
//! calls to other services, parallel calls, branches — read as serde gives it (stage one).
//!
//! A flow reads like the architecture diagram it models:
//!
//! ```json
//! "orchestrator": {
//!   "servers": 200,
//!   "flow": [
//!     { "work": { "dist": "constant", "value": "5ms" } },
//!     { "call": "intent" },
//!     { "parallel": [ { "call": "catalog" }, { "call": "reco" }, { "call": "rag" } ] },
//!     { "call": "llm" }
//!   ]
//! }
//! ```

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::dist::DistSpec;
use super::either;
use super::quantity::Quantity;
use super::spec::Discipline;
use crate::components::kinds::KindSpec;
use crate::cost::CostLineSpec;

/// A service: `servers` concurrency slots in front of one queue, running its `flow` for every
/// request it serves.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Concurrency slots: requests served at once (threads, workers, Lambda environments) (≥ 1).
    pub servers: u32,
    /// Order in which waiting requests are served (default `fifo`).
    #[serde(default)]
    pub discipline: Discipline,
    /// Waiting places, not counting those being served; arrivals beyond are `rejected`
    /// (default: unbounded).
    pub capacity: Option<u64>,
    /// Whether a request keeps its slot while it waits for the services it calls, as a
    /// thread-per-request server or a Lambda does (default `true`, or the kind's default);
    /// `false` models an event-loop server that frees the slot and queues again for one when
    /// the reply arrives.
    pub hold_while_waiting: Option<bool>,
    /// CPU cores the slots share (default: as many as slots). A work step that starts while
    /// more than `cores` slots are busy takes longer, by busy/cores (the load-dependent service
    /// time of a thread pool larger than its CPU): an origin whose latency grows with
    /// concurrency.
    pub cores: Option<u32>,
    /// What the service does for each request, step after step (default: reply at once).
    #[serde(default)]
    pub flow: Vec<StepSpec>,
    /// A service kind whose module supplies the flow and state: `{"cache": {…}}` (see
    /// docs/services.md). Without it the service runs `flow`.
    pub kind: Option<KindSpec>,
    /// Failures injected into this service (all settable with `--set`, so a sweep can vary them).
    #[serde(default)]
    pub faults: FaultSpec,
    /// Cost lines: `instance_hours`, `requests`.
    #[serde(default)]
    pub cost: Vec<CostLineSpec>,
}

/// Injected failures.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Probability that a request the service served ends in `error` instead of `ok` (0–1).
    #[serde(default)]
    pub error_rate: f64,
    /// Whether those errors may be retried (default true; false models e.g. a 400).
    #[serde(default = "yes")]
    pub error_retryable: bool,
    /// Windows during which the service is down: every arrival gets `unavailable` at once.
    #[serde(default)]
    pub outages: Vec<WindowSpec>,
    /// Windows during which every request it starts first holds its slot for `extra` longer.
    #[serde(default)]
    pub slowdowns: Vec<SlowdownSpec>,
    /// Windows during which only `fraction` of its slots serve (rounded down, at least 0).
    #[serde(default)]
    pub capacity_drops: Vec<CapacityDropSpec>,
    /// Probability that an arrival is `throttled` at once, each independently (0–1).
    #[serde(default)]
    pub throttle_rate: f64,
    /// Throttle bursts that come and go: an on/off process with exponential on and off
    /// durations; during a burst each arrival is `throttled` with probability `share`.
    pub throttle_bursts: Option<ThrottleBurstSpec>,
}

/// Correlated throttling: bursts of throttles that come and go.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThrottleBurstSpec {
    /// Mean length of a burst (exponential).
    pub on_mean: Quantity,
    /// Mean time between bursts (exponential).
    pub off_mean: Quantity,
    /// Share of arrivals throttled during a burst (0–1, default 1: all).
    #[serde(default = "one")]
    pub share: f64,
}

fn one() -> f64 {
    1.0
}

/// A stretch of simulated time.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    pub from: Quantity,
    pub to: Quantity,
}

/// Extra latency during a window.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlowdownSpec {
    pub from: Quantity,
    pub to: Quantity,
    /// Added to each request's time at the service.
    pub extra: Quantity,
}

/// A capacity drop during a window.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityDropSpec {
    pub from: Quantity,
    pub to: Quantity,
    /// Share of the slots left (0–1).
    pub fraction: f64,
}

/// One step of a flow. Give exactly one of `work`, `call`, `parallel`, `branch` or `limit`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Work for a drawn time (holding the service's slot).
    pub work: Option<DistSpec>,
    /// Call this service and wait for its reply.
    pub call: Option<String>,
    /// With `call`: the `policies` entry wrapping the call.
    pub policy: Option<String>,
    /// Take a token from this `limits` entry; without one the request is `throttled` (429).
    pub limit: Option<String>,
    /// Run these sub-flows at once and wait for them (see `wait`); each is one step or a list.
    pub parallel: Option<Vec<SubFlow>>,
    /// With `parallel`: wait for `all` branches (default), the `first` to succeed, or `{"k": n}`.
    pub wait: Option<WaitSpec>,
    /// Take one of several sub-flows, by probability, class or intent; the flow goes on after it.
    pub branch: Option<BranchSpec>,
}

/// A sub-flow: one step, or a list of steps run in sequence.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum SubFlow {
    One(Box<StepSpec>),
    Many(Vec<StepSpec>),
}

impl<'de> Deserialize<'de> for SubFlow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        match v {
            serde_json::Value::Array(_) => either::read(v, "list of steps").map(SubFlow::Many),
            serde_json::Value::Object(_) => either::read(v, "step").map(SubFlow::One),
            other => Err(serde::de::Error::custom(format!(
                "expected a step (an object such as {{\"call\": \"catalog\"}}) or a list of steps, got {}",
                either::kind_of(&other)
            ))),
        }
    }
}

impl SubFlow {
    /// The steps, in order.
    pub fn steps(&self) -> &[StepSpec] {
        match self {
            SubFlow::One(s) => std::slice::from_ref(s),
            SubFlow::Many(v) => v,
        }
    }
}

/// How many branches of a `parallel` step must succeed before the flow goes on.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum WaitSpec {
    /// `"all"` or `"first"`.
    Word(WaitWord),
    /// `{"k": n}`: the first n successes.
    K { k: u16 },
}

impl<'de> Deserialize<'de> for WaitSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        if v.is_string() {
            return either::read(v, "wait").map(WaitSpec::Word);
        }
        let (_, k) = either::one_key(v, &["k"], "a wait (\"all\", \"first\" or {\"k\": n})", "{\"k\": 2}")?;
        either::read(k, "wait's k").map(|k| WaitSpec::K { k })
    }
}

/// `all` or `first`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WaitWord {
    All,
    First,
}

/// A branch, picked by its `by` field.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum BranchSpec {
    /// Case i with probability weight_i / Σ weights.
    Probability { cases: Vec<WeightedCase> },
    /// The case named by the request's class; classes not listed take `default` (or nothing).
    Class { cases: BTreeMap<String, SubFlow>, default: Option<SubFlow> },
    /// The case named by the request's intent; intents not listed take `default` (or nothing).
    Intent { cases: BTreeMap<String, SubFlow>, default: Option<SubFlow> },
}

/// One case of a probability branch.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightedCase {
    /// Relative weight (≥ 0).
    pub weight: f64,
    /// What to do in this case (an empty list: nothing).
    pub flow: SubFlow,
}

fn yes() -> bool {
    true
}
