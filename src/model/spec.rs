//! The raw model file, exactly as serde reads it (stage one of two; see `validate`).
//!
//! Every struct denies unknown fields, so a typo is an error rather than a silent default.
//! Blocks are grouped by kind in maps keyed by name (`stations.server.servers`); a block's
//! `to` names the next block, of any kind, or `"end"`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::alarms::AlarmSpec;
use super::clock::ScheduleSpec;
use super::dist::DistSpec;
use super::policy_spec::{LimitSpec, PolicySpec};
use super::profile::{AfterProfile, SegmentSpec};
use super::quantity::Quantity;
use super::service_spec::ServiceSpec;
use super::workload_spec::{IntentSpec, KeySpaceSpec};
use crate::cost::{CostLineSpec, PriceSpec};

/// A whole model file.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Short name; the default output folder is `output/<name>/`.
    pub name: String,
    /// What the model is for.
    #[serde(default)]
    pub description: String,
    /// Run length, warm-up, seed and limits.
    #[serde(default)]
    pub run: RunSpec,
    /// Request classes in priority order (first = highest); default `["default"]`.
    #[serde(default)]
    pub classes: Vec<String>,
    /// Open-loop arrival processes.
    #[serde(default)]
    pub sources: BTreeMap<String, SourceSpec>,
    /// Closed-loop user populations.
    #[serde(default)]
    pub sessions: BTreeMap<String, SessionsSpec>,
    /// Queues with c identical servers.
    #[serde(default)]
    pub stations: BTreeMap<String, StationSpec>,
    /// Pure delays (infinitely many servers).
    #[serde(default)]
    pub delays: BTreeMap<String, DelaySpec>,
    /// Branch points: by probability or by request class.
    #[serde(default)]
    pub routers: BTreeMap<String, RouterSpec>,
    /// Parallel fan-out: each request splits into one child per branch.
    #[serde(default)]
    pub forks: BTreeMap<String, ForkSpec>,
    /// Where a fork's children meet; the parent continues when all have arrived.
    #[serde(default)]
    pub joins: BTreeMap<String, JoinSpec>,
    /// Services: concurrency slots, a queue, and a flow of work and calls to other services.
    #[serde(default)]
    pub services: BTreeMap<String, ServiceSpec>,
    /// Call policies (timeouts, retries, budgets, breakers, fallbacks), named by `call` steps.
    #[serde(default)]
    pub policies: BTreeMap<String, PolicySpec>,
    /// Token buckets, named by `limit` steps and by policies' `rate_limit`.
    #[serde(default)]
    pub limits: BTreeMap<String, LimitSpec>,
    /// Request intents with their shares and token counts (default: none).
    #[serde(default)]
    pub intents: BTreeMap<String, IntentSpec>,
    /// Key spaces (items, sessions …) with Zipf popularity and viral bursts.
    #[serde(default)]
    pub keys: BTreeMap<String, KeySpaceSpec>,
    /// Prices added to, or overriding, the built-in table (see docs/cost.md).
    #[serde(default)]
    pub prices: BTreeMap<String, PriceSpec>,
    /// Alarms on the time-series figures, evaluated on every run's windows (alarms.csv).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub alarms: BTreeMap<String, AlarmSpec>,
}

/// Run settings; each can be overridden on the command line.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RunSpec {
    /// Simulated time to run, warm-up included (default 1h).
    pub duration: Quantity,
    /// Initial period whose observations are discarded (default 0).
    pub warmup: Quantity,
    /// Base seed of every random stream (default 1).
    pub seed: u64,
    /// Width of a time-series window (default: a round value giving at most ~2,000 windows).
    pub window: Option<Quantity>,
    /// Requests in flight beyond which the run stops and reports the system overloaded.
    pub max_in_flight: u64,
    /// Local time of day at simulated time 0, `"HH:MM"` or `"HH:MM:SS"` (default `"00:00"`):
    /// where hourly schedules start.
    pub start: Option<String>,
    /// The model's time zone, e.g. `"+09:00"` (default UTC): schedules without their own
    /// `utc_offset` are in it.
    pub utc_offset: Option<String>,
    /// Named intervals of the run, each with its own request counts and latency percentiles
    /// (a load test's ramp, hold and step-down), whatever the warm-up.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<PhaseSpec>,
}

/// A named interval of simulated time [`from`, `to`): requests arriving in it are counted as
/// its arrivals, and requests ending in it give its outcomes and latencies.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhaseSpec {
    /// Letters, digits, `_` and `-`; unique.
    pub name: String,
    /// Start and end [s], from 0 to `run.duration`.
    pub from: Quantity,
    pub to: Quantity,
}

impl Default for RunSpec {
    fn default() -> Self {
        RunSpec {
            duration: Quantity(3600.0),
            warmup: Quantity(0.0),
            seed: 1,
            window: None,
            max_in_flight: 5_000_000,
            start: None,
            utc_offset: None,
            phases: Vec::new(),
        }
    }
}

/// An open-loop source: Poisson with a rate or rate profile, or a renewal process.
/// Give exactly one of `rate`, `profile` or `interarrival`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Constant Poisson rate [requests/s].
    pub rate: Option<f64>,
    /// Poisson arrivals whose rate follows these segments.
    pub profile: Option<Vec<SegmentSpec>>,
    /// What the rate does after the profile ends (default `hold`).
    #[serde(default)]
    pub after_profile: AfterProfile,
    /// Time between arrivals, for a renewal (non-Poisson) source.
    pub interarrival: Option<DistSpec>,
    /// Stop after this many arrivals.
    pub limit: Option<u64>,
    /// Class of the requests (default: the first class).
    pub class: Option<String>,
    /// Users the arrivals are spread over, uniformly (for per-user limits; default: none).
    pub users: Option<u32>,
    /// Class shares (e.g. Prime / authenticated / guest) instead of one `class`; add up to 1.
    pub class_shares: Option<BTreeMap<String, f64>>,
    /// The `keys` space each request's item is drawn from.
    pub keys: Option<String>,
    /// The intent of every request (a name in `intents`), instead of the model's intent shares:
    /// a caller whose requests are all of one kind (a batch job's long prompts).
    pub intent: Option<String>,
    /// First block the requests enter.
    pub to: String,
}

/// A closed-loop population: each user sends a message, waits for the answer, thinks, and
/// repeats; after a session's messages it pauses and starts a new session.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionsSpec {
    /// Users of the population: all of them, or the bound of `users_profile`.
    pub users: u32,
    /// Messages per session (a count distribution, rounded, at least 1; default: endless).
    pub messages: Option<DistSpec>,
    /// Think time between an answer and the next message.
    pub think: DistSpec,
    /// Pause between sessions (default: one think time).
    pub pause: Option<DistSpec>,
    /// Class of the requests (default: the first class).
    pub class: Option<String>,
    /// Class shares instead of one `class`; add up to 1.
    pub class_shares: Option<BTreeMap<String, f64>>,
    /// The `keys` space each message's item is drawn from.
    pub keys: Option<String>,
    /// The intent of every message (a name in `intents`), instead of the model's intent shares.
    pub intent: Option<String>,
    /// First block each message enters.
    pub to: String,
    /// Cost lines: `messages`, `connection_minutes`.
    #[serde(default)]
    pub cost: Vec<CostLineSpec>,
    /// The share of `users` active each local hour (24 entries from 0 to 1; default: all users,
    /// always): a diurnal population. Users beyond the hour's share start no new session; they
    /// look again after the next hour begins.
    pub active: Option<ScheduleSpec>,
    /// The number of active users over time, as rate-profile segments whose values are user
    /// counts (rounded, at most `users`; the last value holds after the profile): a load test's
    /// ramp of users. Users numbered at or above the count send nothing; they look again after
    /// a think time. Default: all `users`, always.
    pub users_profile: Option<Vec<SegmentSpec>>,
}

/// Queueing discipline of a station.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Discipline {
    /// First come, first served.
    #[default]
    Fifo,
    /// Non-preemptive priority by class (order of `classes`), FIFO within a class.
    Priority,
}

/// A station: `servers` identical servers in front of one queue.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StationSpec {
    /// Number of servers c (≥ 1).
    pub servers: u32,
    /// Service time.
    pub service: DistSpec,
    /// Order in which waiting requests are served (default `fifo`).
    #[serde(default)]
    pub discipline: Discipline,
    /// Waiting places, not counting those in service; arrivals beyond are rejected (default: unbounded).
    pub capacity: Option<u64>,
    /// Next block, or `"end"` (default).
    #[serde(default = "end")]
    pub to: String,
    /// Cost lines: `instance_hours`, `requests`.
    #[serde(default)]
    pub cost: Vec<CostLineSpec>,
}

/// A pure delay: every request waits a drawn time, with no queueing.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DelaySpec {
    /// Time each request spends here.
    pub delay: DistSpec,
    /// Next block, or `"end"` (default).
    #[serde(default = "end")]
    pub to: String,
    /// Cost lines: `requests`.
    #[serde(default)]
    pub cost: Vec<CostLineSpec>,
}

/// A router, picked by its `by` field.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum RouterSpec {
    /// Each request takes route i with probability weight_i / Σ weights.
    Probability { routes: Vec<WeightedRoute> },
    /// Requests go where their class says; classes not listed go to `default`.
    Class { routes: BTreeMap<String, String>, default: Option<String> },
}

/// One route of a probability router.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightedRoute {
    /// Relative weight (≥ 0).
    pub weight: f64,
    /// Target block or `"end"`.
    pub to: String,
}

/// A fork: one child per branch; the children must all reach `join`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForkSpec {
    /// First block of each branch.
    pub branches: Vec<String>,
    /// The join where the branches meet.
    pub join: String,
}

/// A join: the parent request continues to `to` once all its children have arrived.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinSpec {
    /// Next block, or `"end"` (default).
    #[serde(default = "end")]
    pub to: String,
}

fn end() -> String {
    "end".to_string()
}
