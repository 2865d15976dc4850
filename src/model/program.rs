//! The compiled flow program: every way a request can move — the blocks of the foundation
//! (stations, delays, routers, forks, joins) and the flows of services — as one flat list of
//! small operations that the event loop interprets. There is one mechanism: a station is a
//! service whose flow is one `Work`, and a chain of blocks is a client flow that calls them in
//! turn.

use crate::components::kinds::{KindDef, KindStep};
use crate::cost::CostLine;
use crate::engine::SimTime;
use crate::model::{Discipline, Dist, Target};

/// A program counter: an index into [`Program::ops`].
pub type Pc = u32;

/// Program counter of the shared `Return` (the end of a flow, of a branch, or `"end"`).
pub const RETURN: Pc = 0;

/// One operation of the flow program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// The flow is over: reply to the caller (or end the request, or the parallel branch).
    Return,
    /// Hold for a time drawn from `works[work]`, then go on at `then`.
    Work { work: u32, then: Pc },
    /// Call the service of `sites[site]` under its policy, wait for the reply, then go on at
    /// `then`.
    Call { site: u32, then: Pc },
    /// Take a token from `limits[limit]`, then go on at `then`; without one the flow fails
    /// as `throttled`.
    Limit { limit: u32, then: Pc },
    /// Start `count` branches at the pcs in `branch_pcs[first..first + count]`; go on at
    /// `then` once `need` of them succeeded (fail as soon as that cannot happen).
    Parallel { first: u32, count: u16, need: u16, then: Pc },
    /// Jump to the pc picked by `routes[route]`.
    Route { route: u32 },
    /// Hand the job to service kind `kinds[kind]` at its step `kind_steps[step]`; the kind
    /// picks one of the step's exits, fails the job, or parks it (see `components::kinds`).
    Kind { kind: u32, step: u32 },
}

/// How a route picks its pc.
#[derive(Clone, Debug)]
pub enum RouteDef {
    /// Cumulative probabilities (last is 1.0) and their pcs.
    Probability { cumulative: Vec<f64>, pcs: Vec<Pc> },
    /// A pc per class index.
    Class { by_class: Vec<Pc> },
    /// A pc per intent index.
    Intent { by_intent: Vec<Pc> },
}

/// A work step or a delay block: a drawn holding time.
#[derive(Clone, Debug)]
pub struct WorkDef {
    /// Name of its random stream (the block or service step it comes from).
    pub stream: String,
    /// Purpose of its random stream: `service` for work, `delay` for delay blocks.
    pub purpose: &'static str,
    /// Holding time [s].
    pub dist: Dist,
    /// The delay block it implements, whose requests are counted (for `requests` cost lines).
    pub delay: Option<u32>,
    /// The service whose `cores` stretch it, if that service has `cores`.
    pub contended: Option<u32>,
}

/// Where a service comes from, which decides the summary sections it appears in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A foundation `stations.<name>` block (also summarised under `stations`).
    Station,
    /// A `services.<name>` entry.
    Service,
}

/// A checked service.
#[derive(Clone, Debug)]
pub struct ServiceDef {
    pub name: String,
    pub origin: Origin,
    /// Concurrency slots (≥ 1).
    pub servers: u32,
    pub discipline: Discipline,
    /// Waiting places (excluding those being served); `None` is unbounded.
    pub capacity: Option<u64>,
    /// Whether a request keeps its slot while waiting for its calls.
    pub hold_while_waiting: bool,
    /// Cores the slots share: work stretches by busy/cores when more slots are busy.
    pub cores: Option<u32>,
    /// First op of its flow.
    pub entry: Pc,
    pub faults: Faults,
    pub cost: Vec<CostLine>,
}

/// Checked injected failures; windows are [from, to) in simulated time.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    pub error_rate: f64,
    pub error_retryable: bool,
    pub outages: Vec<(SimTime, SimTime)>,
    /// (from, to, extra [s]).
    pub slowdowns: Vec<(SimTime, SimTime, f64)>,
    /// (from, to, share of slots left).
    pub capacity_drops: Vec<(SimTime, SimTime, f64)>,
    /// Probability that an arrival is throttled at once, independently.
    pub throttle_rate: f64,
    /// Throttle bursts: (mean on [s], mean off [s], share throttled during a burst).
    pub throttle_bursts: Option<(f64, f64, f64)>,
}

/// A call site: whom a `Call` op calls and under which policy.
#[derive(Clone, Debug)]
pub struct CallSite {
    pub service: u32,
    pub policy: Option<u32>,
    /// The breaker and budget of (policy, service), shared by every site with that pair.
    pub breaker: Option<u32>,
    pub budget: Option<u32>,
    /// Where a finally failed call goes on, if its policy has a fallback.
    pub fallback: Option<Pc>,
    /// Where a finally failed call without a fallback goes on, for a service kind that must
    /// hear of the failure (a cache's waiting readers); `None`: the flow fails.
    pub on_fail: Option<Pc>,
}

/// Jitter applied to a backoff v.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Jitter {
    None,
    Full,
    Equal,
    Decorrelated,
    /// Adds U(0, x) [s].
    Uniform(f64),
}

/// Checked retries.
#[derive(Clone, Debug)]
pub struct RetryDef {
    /// Attempts in all (≥ 1).
    pub max_attempts: u32,
    /// First backoff and largest backoff [s]; `base` 0 means no backoff.
    pub base: f64,
    pub cap: f64,
    /// Whether the backoff doubles with each retry.
    pub exponential: bool,
    pub jitter: Jitter,
    /// Retried outcomes, as a bit per `Outcome` discriminant.
    pub on: u8,
}

/// Checked breaker settings.
#[derive(Clone, Debug)]
pub struct BreakerDef {
    /// Count window (`Some(n)`: the last n attempts) or time window [s].
    pub calls: Option<u32>,
    pub duration_s: f64,
    pub failure_rate: f64,
    /// (threshold [s], rate) of the slow-call rule.
    pub slow: Option<(f64, f64)>,
    pub min_calls: u32,
    pub open_for_s: f64,
    pub probes: u32,
    /// Classes (indices) never refused; their attempts are still recorded.
    pub exempt: Vec<u16>,
}

/// Checked retry budget.
#[derive(Clone, Debug)]
pub struct BudgetDef {
    pub ratio: f64,
    pub window_s: f64,
    pub min_per_s: f64,
}

/// A checked policy.
#[derive(Clone, Debug)]
pub struct PolicyDef {
    pub name: String,
    /// Per-attempt timeout and overall deadline [s].
    pub timeout: Option<f64>,
    pub deadline: Option<f64>,
    pub retry: Option<RetryDef>,
    pub budget: Option<BudgetDef>,
    pub breaker: Option<BreakerDef>,
    pub optional: bool,
    /// The `limits` entry each attempt draws a token from.
    pub rate_limit: Option<u32>,
}

/// A checked token bucket.
#[derive(Clone, Debug)]
pub struct LimitDef {
    pub name: String,
    /// Refill [tokens/s] and capacity [tokens].
    pub rate: f64,
    pub burst: f64,
    pub per: crate::model::policy_spec::LimitScope,
}

/// A checked delay block (counted for its `requests` cost lines).
#[derive(Clone, Debug)]
pub struct DelayDef {
    pub name: String,
    pub cost: Vec<CostLine>,
}

/// The whole compiled program of a model.
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub ops: Vec<Op>,
    pub services: Vec<ServiceDef>,
    pub works: Vec<WorkDef>,
    pub routes: Vec<RouteDef>,
    /// Random-stream name of each route (its router block or flow step), parallel to `routes`.
    pub route_streams: Vec<String>,
    pub delays: Vec<DelayDef>,
    /// Entry pcs of parallel branches, referenced by `Op::Parallel`.
    pub branch_pcs: Vec<Pc>,
    pub sites: Vec<CallSite>,
    pub policies: Vec<PolicyDef>,
    pub limits: Vec<LimitDef>,
    /// (policy, service) of each breaker and of each budget.
    pub breakers: Vec<(u32, u32)>,
    pub budgets: Vec<(u32, u32)>,
    /// Per `services` entry (in name order): the pc of `[call it, return]`, where a `to`
    /// naming a service leads.
    pub stubs: Vec<Pc>,
    /// Services of a kind: (service index, checked settings), referenced by `Op::Kind`.
    pub kinds: Vec<(u32, KindDef)>,
    /// Kind steps, referenced by `Op::Kind`.
    pub kind_steps: Vec<KindStep>,
}

impl Program {
    /// A program holding only the shared `Return` at pc 0.
    pub fn new() -> Program {
        Program { ops: vec![Op::Return], ..Program::default() }
    }

    /// Appends `op` and returns its pc.
    pub fn push(&mut self, op: Op) -> Pc {
        self.ops.push(op);
        (self.ops.len() - 1) as Pc
    }

    /// Appends a work step drawing from `dist` and returns its index.
    pub fn work(&mut self, stream: String, dist: Dist, delay: Option<u32>) -> u32 {
        let purpose = if delay.is_some() { "delay" } else { "service" };
        self.works.push(WorkDef { stream, purpose, dist, delay, contended: None });
        (self.works.len() - 1) as u32
    }

    /// The pc where a request sent to `t` goes: block i sits at pc 1 + i.
    pub fn pc_of(&self, t: Target) -> Pc {
        match (t.block(), t.as_service()) {
            (Some(b), _) => 1 + b as Pc,
            (_, Some(s)) => self.stubs[s],
            _ => RETURN,
        }
    }

    /// Adds a call site for `service` under `policy` and returns its index; sites with the same
    /// (policy, service) share one breaker and one budget.
    pub fn site(&mut self, service: u32, policy: Option<u32>) -> u32 {
        let shared = |list: &mut Vec<(u32, u32)>, p: u32| match list.iter().position(|&k| k == (p, service)) {
            Some(i) => i as u32,
            None => {
                list.push((p, service));
                (list.len() - 1) as u32
            }
        };
        let (mut breaker, mut budget) = (None, None);
        if let Some(p) = policy {
            let def = &self.policies[p as usize];
            let (has_breaker, has_budget) = (def.breaker.is_some(), def.budget.is_some());
            if has_breaker {
                breaker = Some(shared(&mut self.breakers, p));
            }
            if has_budget {
                budget = Some(shared(&mut self.budgets, p));
            }
        }
        self.sites.push(CallSite { service, policy, breaker, budget, fallback: None, on_fail: None });
        (self.sites.len() - 1) as u32
    }

    /// Index of the service called `name`.
    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
    }
}
