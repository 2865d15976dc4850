//! Service kinds: services whose flow and state come from a module of their own (a cache, a
//! partitioned table, an autoscaled endpoint pool…), registered here with one line each.
//!
//! A model names a kind under its service: `"catalog_cache": {"servers": 64, "kind": {"cache":
//! {…}}}`. The kind's module then supplies everything else, through the [`Kind`] trait:
//! - its settings (`Spec`, read by serde, so unknown fields are errors and the JSON schema
//!   lists them);
//! - `compile`: checks the settings (each problem at its field's path, through the
//!   [`KindBuilder`]) and writes the service's flow into the one flow program — ordinary work
//!   steps and calls (with their policies, so a cache's origin call retries and times out like
//!   any call), plus *kind steps*: ops at which the flow interpreter hands the job to the kind,
//!   which answers with one of the step's exits, a failure, or "park";
//! - `start`: its running state for one run, with random streams derived from the service's
//!   name;
//! - `step`: what happens at each kind step. Besides its own job's fate, a step can wake jobs
//!   it parked earlier (a cache's coalesced readers when the origin answers) and start
//!   background jobs at one of its exits (a cache's early refresh), through [`StepOut`];
//! - `summary`: its figures, written under `services.<name>.<kind>` in summary.json.
//!
//! Adding a kind: write `src/components/<kind>.rs` implementing [`Kind`], add `pub mod <kind>;`
//! to `components/mod.rs`, and one line to the `kinds!` list at the bottom of this file.
//! docs/architecture.md walks through the cache as the example.

use std::fmt::Debug;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::engine::{ReqId, SimTime};
use crate::model::KindBuilder;
use crate::model::Pc;
use crate::sim::Attrs;
use crate::sim::Job;
use crate::sim::Outcome;

/// What a kind step decides for the job that reached it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Go {
    /// Go on at the step's exit `i` (as listed when the step was compiled).
    Exit(usize),
    /// End the job's flow with this outcome (its caller sees it).
    Fail(Outcome),
    /// The job waits until the kind wakes it (see [`StepOut::wake`]).
    Park,
    /// The job holds (keeping any slot it has) for `secs` seconds, then goes on at exit
    /// `exit`: a duration the kind computes itself (an instance's service time at its speed,
    /// a batch's time).
    Hold { secs: f64, exit: usize },
}

/// What a kind step does to jobs other than the one at the step. Filled by the kind and
/// carried out by the flow interpreter, in order, right after the step.
#[derive(Debug, Default)]
pub struct StepOut {
    /// Parked jobs to wake: each goes on at exit i of the step it parked at (its
    /// `kind_slot` set to the value given, if any), or fails.
    pub wakes: Vec<(ReqId, Result<usize, Outcome>, Option<u32>)>,
    /// Background jobs to start at exit i of the current step, carrying the current job's
    /// attributes; nobody waits for them (a refresh the reader does not wait on). Not from a
    /// timer (there is no current step).
    pub spawns: Vec<usize>,
    /// Timers to set: at each time, the kind's [`Kind::timer`] is called with the token.
    pub timers: Vec<(SimTime, u32)>,
    /// Background jobs to start at a pc the kind compiled (from a step or a timer), each
    /// with its own `kind_slot`, attributes and class (a queue's message being processed).
    pub starts: Vec<Start>,
}

/// A background job a kind starts at a pc of its own flow (see [`StepOut::start`]).
#[derive(Clone, Copy, Debug)]
pub struct Start {
    pub pc: Pc,
    /// The job's `kind_slot`.
    pub slot: u32,
    pub attrs: Attrs,
    pub class: u16,
}

impl StepOut {
    /// Wakes parked job `id`: it goes on at exit `exit` of the step it parked at.
    pub fn wake(&mut self, id: ReqId, exit: usize) {
        self.wakes.push((id, Ok(exit), None));
    }

    /// Wakes parked job `id` at exit `exit`, its `kind_slot` set to `slot` (the instance
    /// that will serve it).
    pub fn wake_with(&mut self, id: ReqId, exit: usize, slot: u32) {
        self.wakes.push((id, Ok(exit), Some(slot)));
    }

    /// Wakes parked job `id` with a failure.
    pub fn wake_failed(&mut self, id: ReqId, outcome: Outcome) {
        self.wakes.push((id, Err(outcome), None));
    }

    /// Starts a background job at exit `exit` of the current step.
    pub fn spawn(&mut self, exit: usize) {
        self.spawns.push(exit);
    }

    /// Starts a background job at `pc` (an op of the kind's own flow), its `kind_slot` set to
    /// `slot`; unlike [`StepOut::spawn`] it works from a timer too.
    pub fn start(&mut self, pc: Pc, slot: u32, attrs: Attrs, class: u16) {
        self.starts.push(Start { pc, slot, attrs, class });
    }

    /// Calls the kind's [`Kind::timer`] with `token` at `at` (not before now).
    pub fn timer(&mut self, at: SimTime, token: u32) {
        self.timers.push((at, token));
    }

    /// Whether there is nothing to carry out.
    pub fn is_empty(&self) -> bool {
        self.wakes.is_empty() && self.spawns.is_empty() && self.timers.is_empty() && self.starts.is_empty()
    }
}

/// A kind step's (or timer's) view of the run.
pub struct StepCx<'a> {
    /// Now.
    pub now: SimTime,
    /// The job at the step ([`ReqId::NONE`] in a timer).
    pub id: ReqId,
    pub out: &'a mut StepOut,
}

/// A service kind: its settings, how they compile, its running state.
pub trait Kind: Sized {
    /// Settings, as written under `"kind": {"<kind>": …}`.
    type Spec: Clone + Debug + Serialize + DeserializeOwned + JsonSchema;
    /// Checked settings, kept in the compiled program.
    type Def: Clone + Debug;

    /// Checks `spec` and compiles the service's flow; `None` if a problem was reported. The
    /// builder's entry point must be set (the first op a request arriving at the service runs).
    fn compile(spec: &Self::Spec, b: &mut KindBuilder) -> Option<Self::Def>;

    /// Whether a request keeps its slot while waiting on its calls, unless the model says
    /// otherwise (a cache holds it only for its own GET: `false`).
    fn holds_while_waiting() -> bool {
        true
    }

    /// The running state for one run seeded with `seed`, for the service called `service`.
    fn start(def: &Self::Def, seed: u64, service: &str) -> Self;

    /// Job `job` reached the step tagged `tag`.
    fn step(&mut self, tag: u16, job: &mut Job, cx: &mut StepCx) -> Go;

    /// The run starts (time zero): set first timers (an autoscaler's first metric period).
    fn begin(&mut self, _cx: &mut StepCx) {}

    /// A timer set through [`StepOut::timer`] fires; it may wake parked jobs and set timers.
    fn timer(&mut self, _token: u32, _cx: &mut StepCx) {}

    /// End of warm-up: statistics restart.
    fn restart_stats(&mut self, now: SimTime);

    /// Figures since warm-up, at `now`, for `services.<name>.<kind>`.
    fn summary(&self, now: SimTime) -> serde_json::Value;

    /// What it cost since warm-up [USD], beside the service's own cost lines (a table's
    /// capacity units or request units); added to `cost_usd.by_component.<service>`. `None`
    /// for a kind with no cost of its own.
    fn cost_usd(&self, _now: SimTime) -> Option<f64> {
        None
    }

    /// What a reader of its figures must know (a bound it met, a cut it made), each a sentence
    /// about the service `name`; written to summary.json's `warnings`.
    fn warnings(&self, _name: &str) -> Vec<String> {
        Vec::new()
    }

    /// Its columns in `timeseries.csv` (written `<service>.<column>`).
    const COLUMNS: &'static [&'static str] = &[];

    /// Appends its [`Kind::COLUMNS`] values over the window that ends `now`, and starts a new
    /// one.
    fn window(&mut self, _now: SimTime, _out: &mut Vec<f64>) {}
}

/// One compiled kind step: the kind's tag for it and the pcs of its exits.
#[derive(Clone, Debug)]
pub struct KindStep {
    pub tag: u16,
    pub exits: Vec<Pc>,
}

/// Declares the registered kinds: for each, the variant name (its JSON name in snake case)
/// and its type. Generates the settings, definition and state enums and their dispatch.
macro_rules! kinds {
    ($($variant:ident => $ty:ty),* $(,)?) => {
        /// A service kind's settings: `{"<kind>": {…}}`.
        #[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
        #[serde(rename_all = "snake_case", deny_unknown_fields)]
        pub enum KindSpec {
            $($variant(Box<<$ty as Kind>::Spec>)),*
        }

        /// A kind's checked settings.
        #[derive(Clone, Debug)]
        pub enum KindDef {
            $($variant(Box<<$ty as Kind>::Def>)),*
        }

        /// A kind's running state (boxed: kinds differ widely in size).
        pub enum KindState {
            $($variant(Box<$ty>)),*
        }

        impl KindSpec {
            /// Checks and compiles (see [`Kind::compile`]).
            pub fn compile(&self, b: &mut KindBuilder) -> Option<KindDef> {
                match self {
                    $(KindSpec::$variant(s) => <$ty as Kind>::compile(s, b).map(|d| KindDef::$variant(Box::new(d)))),*
                }
            }

            /// The kind's name in model files and in summary.json.
            pub fn name(&self) -> String {
                let json = match self {
                    $(KindSpec::$variant(_) => stringify!($variant)),*
                };
                snake(json)
            }

            /// See [`Kind::holds_while_waiting`].
            pub fn holds_while_waiting(&self) -> bool {
                match self {
                    $(KindSpec::$variant(_) => <$ty as Kind>::holds_while_waiting()),*
                }
            }
        }

        impl KindDef {
            /// The kind's name in model files and in summary.json.
            pub fn name(&self) -> String {
                let json = match self {
                    $(KindDef::$variant(_) => stringify!($variant)),*
                };
                snake(json)
            }

            /// Its columns in `timeseries.csv`.
            pub fn columns(&self) -> &'static [&'static str] {
                match self {
                    $(KindDef::$variant(_) => <$ty as Kind>::COLUMNS),*
                }
            }

            /// Its running state for one run.
            pub fn start(&self, seed: u64, service: &str) -> KindState {
                match self {
                    $(KindDef::$variant(d) => KindState::$variant(Box::new(<$ty as Kind>::start(d, seed, service)))),*
                }
            }
        }

        impl KindState {
            /// See [`Kind::step`].
            #[inline]
            pub fn step(&mut self, tag: u16, job: &mut Job, cx: &mut StepCx) -> Go {
                match self {
                    $(KindState::$variant(k) => k.step(tag, job, cx)),*
                }
            }

            /// See [`Kind::begin`].
            pub fn begin(&mut self, cx: &mut StepCx) {
                match self {
                    $(KindState::$variant(k) => k.begin(cx)),*
                }
            }

            /// See [`Kind::timer`].
            pub fn timer(&mut self, token: u32, cx: &mut StepCx) {
                match self {
                    $(KindState::$variant(k) => k.timer(token, cx)),*
                }
            }

            /// See [`Kind::restart_stats`].
            pub fn restart_stats(&mut self, now: SimTime) {
                match self {
                    $(KindState::$variant(k) => k.restart_stats(now)),*
                }
            }

            /// See [`Kind::window`].
            pub fn window(&mut self, now: SimTime, out: &mut Vec<f64>) {
                match self {
                    $(KindState::$variant(k) => k.window(now, out)),*
                }
            }

            /// See [`Kind::cost_usd`].
            pub fn cost_usd(&self, now: SimTime) -> Option<f64> {
                match self {
                    $(KindState::$variant(k) => k.cost_usd(now)),*
                }
            }

            /// See [`Kind::summary`].
            pub fn summary(&self, now: SimTime) -> serde_json::Value {
                match self {
                    $(KindState::$variant(k) => k.summary(now)),*
                }
            }

            /// See [`Kind::warnings`].
            pub fn warnings(&self, name: &str) -> Vec<String> {
                match self {
                    $(KindState::$variant(k) => k.warnings(name)),*
                }
            }
        }
    };
}

/// `KvStore` → `kv_store`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, ch) in name.chars().enumerate() {
        if ch.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}

// The registry: one line per kind.
kinds! {
    Cache => super::cache::Cache,
    KvStore => super::kv_store::KvStore,
    Dax => super::dax::Dax,
    EndpointPool => super::endpoint_pool::EndpointPool,
    BatchServer => super::batch_server::BatchServer,
    Llm => super::llm::Llm,
    ConcurrencyLimiter => super::concurrency_limiter::ConcurrencyLimiter,
    Lambda => super::lambda::Lambda,
    Speculative => super::speculative::Speculative,
    ModelRouter => super::model_router::ModelRouter,
    ProcessorSharing => super::processor_sharing::ProcessorSharing,
    Gateway => super::gateway::Gateway,
    Queue => super::queue::Queue,
    Guardrail => super::guardrail::Guardrail,
}
