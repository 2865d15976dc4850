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
use super::spec::Discipline;
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
    /// thread-per-request server or a Lambda does (default `true`); `false` models an
    /// event-loop server that frees the slot and queues again for one when the reply arrives.
    #[serde(default = "yes")]
    pub hold_while_waiting: bool,
    /// What the service does for each request, step after step (default: reply at once).
    #[serde(default)]
    pub flow: Vec<StepSpec>,
    /// Cost lines: `instance_hours`, `requests`.
    #[serde(default)]
    pub cost: Vec<CostLineSpec>,
}

/// One step of a flow. Give exactly one of `work`, `call`, `parallel` or `branch`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Work for a drawn time (holding the service's slot).
    pub work: Option<DistSpec>,
    /// Call this service and wait for its reply.
    pub call: Option<String>,
    /// Run these sub-flows at once and wait for them (see `wait`); each is one step or a list.
    pub parallel: Option<Vec<SubFlow>>,
    /// With `parallel`: wait for `all` branches (default), the `first` to succeed, or `{"k": n}`.
    pub wait: Option<WaitSpec>,
    /// Take one of several sub-flows, by probability or by class; the flow goes on after it.
    pub branch: Option<BranchSpec>,
}

/// A sub-flow: one step, or a list of steps run in sequence.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum SubFlow {
    One(Box<StepSpec>),
    Many(Vec<StepSpec>),
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
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum WaitSpec {
    /// `"all"` or `"first"`.
    Word(WaitWord),
    /// `{"k": n}`: the first n successes.
    K { k: u16 },
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
