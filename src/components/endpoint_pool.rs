//! `endpoint_pool`: requests served on a fleet of instances that autoscales late and starts
//! cold — a SageMaker real-time endpoint (the DistilBERT intent classifier of seed 000
//! scenario 3) or an ECS service. The fleet, its start-up chain and its autoscaling are in
//! `fleet.rs`; this module routes requests to instances.
//!
//! Each instance has `slots` concurrent requests; a request's service time is drawn from
//! `service` and divided by the instance type's `speed`. Routing:
//! - `shared_queue` (default): one FIFO queue in front; a request starts on any serving
//!   instance with a free slot, instances taken in turn;
//! - `random`, `round_robin`, `least_outstanding`: the load balancer picks a serving instance
//!   at arrival (least outstanding: fewest requests started or queued there) and the request
//!   waits in that instance's own queue.
//!
//! Only instances that have joined take requests; with none serving, requests wait for the
//! first to join. A new instance that joined without warm-up makes the requests starting on it
//! before its first request's initialisation is over wait for it (`startup.first_request`):
//! the 55 s first request, and everyone queued behind it. Requests beyond `queue_limit`
//! waiting are rejected. Scale-in drains instances: they take no new requests, finish their
//! own, and stop (and stop costing) when idle.
//!
//! An ECS service orchestrating conversations: with `target`, a request keeps its slot after
//! its own work while it calls `target` (the rest of the conversation's flow), so slots are
//! conversations in flight and `cpu_utilization` is their share; with `overflow`, a request
//! that finds every slot busy (and `overflow_after` already waiting) calls the overflow service
//! instead — Lambda burst capacity.

use std::collections::VecDeque;

use rand::RngExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::fleet::{self, AutoscalingSpec, Fleet, FleetDef, FleetEvent, InstanceSpec, StartupSpec};
use super::kinds::{Go, Kind, StepCx};
use crate::engine::{ReqId, SimRng, SimTime, stream};
use crate::model::dist::DistSpec;
use crate::model::program::RETURN;
use crate::model::{Dist, KindBuilder};
use crate::sim::{Job, Outcome};

/// Settings of an `endpoint_pool` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointPoolSpec {
    /// The instance type.
    pub instance: InstanceSpec,
    /// Instances serving at the start (default: the autoscaling minimum, or 1).
    pub instances: Option<u32>,
    /// Service time of one request on an instance of speed 1.
    pub service: DistSpec,
    /// How requests reach instances (default `shared_queue`).
    #[serde(default)]
    pub routing: Routing,
    /// Most requests waiting (default: no limit); beyond it, rejected.
    pub queue_limit: Option<u32>,
    /// How a new instance starts (default: at once).
    #[serde(default)]
    pub startup: StartupSpec,
    /// Autoscaling (default: a fixed fleet).
    pub autoscaling: Option<AutoscalingSpec>,
    /// A service each request calls after its `service` time, keeping its slot until the call
    /// ends: an ECS task whose slots are the conversations it orchestrates (default: none).
    pub target: Option<String>,
    /// The `policies` entry wrapping the call to `target`.
    pub policy: Option<String>,
    /// A service a request calls instead of waiting when every slot is busy and
    /// `overflow_after` requests already wait: ECS baseline capacity spilling to Lambda
    /// (seed 001's "Overflow traffic can spill to Lambda for burst handling").
    pub overflow: Option<String>,
    /// The `policies` entry wrapping overflow calls.
    pub overflow_policy: Option<String>,
    /// Requests that may wait for a slot before the next one spills to `overflow` (default 0).
    #[serde(default)]
    pub overflow_after: u32,
}

/// How requests reach instances.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    #[default]
    SharedQueue,
    Random,
    RoundRobin,
    LeastOutstanding,
}

/// Checked settings.
#[derive(Clone, Debug)]
pub struct EndpointPoolDef {
    fleet: FleetDef,
    service: Dist,
    routing: Routing,
    queue_limit: usize,
    /// Whether requests spill to an overflow service, and how many may wait first.
    overflow: Option<usize>,
}

/// Kind step tags.
const ADMIT: u16 = 0;
const START: u16 = 1;
const DONE: u16 = 2;
/// The call to `target` failed: the slot is released and the request fails.
const FAILED: u16 = 3;
/// Most requests a queue limit may allow.
const MAX_QUEUE_LIMIT: u32 = 100_000_000;

/// Counters since warm-up.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PoolCounts {
    /// Requests that arrived, were served, were rejected (queue full).
    pub requests: u64,
    pub served: u64,
    pub rejected: u64,
    /// Requests that waited for an instance's first-request initialisation, and the longest
    /// such wait [s].
    pub cold_waits: u64,
    pub max_cold_wait_s: f64,
    /// The most requests waiting at once.
    pub max_waiting: u64,
    /// Requests sent to `overflow` because no slot was free.
    pub overflowed: u64,
}

/// A running pool.
pub struct EndpointPool {
    def: EndpointPoolDef,
    fleet: Fleet,
    rng: SimRng,
    /// Requests waiting for any instance, and per instance (per-instance routing).
    shared: VecDeque<ReqId>,
    queues: Vec<VecDeque<ReqId>>,
    waiting: u64,
    turn: usize,
    /// A buffer for the load balancer's list of serving instances.
    scratch: Vec<usize>,
    counts: PoolCounts,
    /// Simulated time of the run's first overflow [ns], warm-up included.
    first_overflow: Option<u64>,
}

impl Kind for EndpointPool {
    type Spec = EndpointPoolSpec;
    type Def = EndpointPoolDef;

    fn compile(spec: &EndpointPoolSpec, b: &mut KindBuilder) -> Option<EndpointPoolDef> {
        let service = b.dist("service", &spec.service);
        let fleet = fleet::check(b, &spec.instance, spec.instances, &spec.startup, spec.autoscaling.as_ref());
        let limit = spec.queue_limit.unwrap_or(MAX_QUEUE_LIMIT);
        if limit > MAX_QUEUE_LIMIT {
            b.issue("queue_limit", format!("must be at most {MAX_QUEUE_LIMIT} requests, got {limit}"));
            return None;
        }
        let done = b.step(DONE, vec![RETURN]);
        let after_work = b.target_call(spec.target.as_deref(), spec.policy.as_deref(), done, FAILED)?;
        let start = b.step(START, vec![after_work]);
        let overflow_call = b.overflow_call(spec.overflow.as_deref(), spec.overflow_policy.as_deref())?;
        b.entry = b.step(ADMIT, std::iter::once(start).chain(overflow_call).collect());
        let overflow = spec.overflow.as_ref().map(|_| spec.overflow_after as usize);
        let def = EndpointPoolDef {
            fleet: fleet?,
            service: service?,
            routing: spec.routing,
            queue_limit: limit as usize,
            overflow,
        };
        Some(def)
    }

    fn holds_while_waiting() -> bool {
        false
    }

    fn start(def: &EndpointPoolDef, seed: u64, service: &str) -> EndpointPool {
        let fleet = Fleet::new(&def.fleet);
        EndpointPool {
            def: def.clone(),
            queues: vec![VecDeque::new(); fleet.instances.len()],
            fleet,
            rng: stream(seed, service, "endpoint_pool"),
            shared: VecDeque::new(),
            waiting: 0,
            turn: 0,
            scratch: Vec::new(),
            counts: PoolCounts::default(),
            first_overflow: None,
        }
    }

    fn begin(&mut self, cx: &mut StepCx) {
        self.fleet.begin(&mut cx.out.timers);
    }

    fn step(&mut self, tag: u16, job: &mut Job, cx: &mut StepCx) -> Go {
        let now = cx.now.0;
        match tag {
            ADMIT => self.admit(now, job, cx),
            START => {
                let i = job.kind_slot as usize;
                let cold = self.fleet.cold_wait(now, i, &mut self.rng);
                if cold > 0 {
                    self.counts.cold_waits += 1;
                    self.counts.max_cold_wait_s = self.counts.max_cold_wait_s.max(cold as f64 * 1e-9);
                }
                let work = self.def.service.sample(&mut self.rng).max(0.0) / self.def.fleet.speed;
                Go::Hold { secs: cold as f64 * 1e-9 + work, exit: 0 }
            }
            _ => {
                let i = job.kind_slot as usize;
                self.fleet.busy_change(now, i, false);
                self.fleet.leave(now);
                self.counts.served += 1;
                self.feed(now, i, cx);
                if tag == FAILED {
                    return Go::Fail(job.failed.take().unwrap_or(Outcome::Error));
                }
                Go::Exit(0)
            }
        }
    }

    fn timer(&mut self, token: u32, cx: &mut StepCx) {
        let now = cx.now.0;
        let event = self.fleet.timer(now, token, &mut self.rng, &mut cx.out.timers);
        self.queues.resize_with(self.fleet.instances.len(), VecDeque::new);
        if let FleetEvent::Joined(i) = event {
            self.feed(now, i, cx);
        }
    }

    fn restart_stats(&mut self, now: SimTime) {
        self.counts = PoolCounts { max_waiting: self.waiting, ..PoolCounts::default() };
        self.fleet.restart_stats(now.0);
    }

    fn warnings(&self, name: &str) -> Vec<String> {
        self.fleet.warnings(name)
    }

    fn summary(&self, now: SimTime) -> serde_json::Value {
        let mut v = self.fleet.summary_with(serde_json::to_value(self.counts).unwrap_or_default(), now.0);
        let cost = self.fleet.cost_usd(now.0);
        let per = cost.filter(|_| self.counts.served > 0).map(|c| c / self.counts.served as f64);
        v["cost_per_inference_usd"] = serde_json::json!(per);
        v["waiting"] = serde_json::json!(self.waiting);
        v["first_overflow_s"] = serde_json::json!(self.first_overflow.map(|t| t as f64 * 1e-9));
        v
    }

    fn cost_usd(&self, now: SimTime) -> Option<f64> {
        self.fleet.cost_usd(now.0)
    }

    const COLUMNS: &'static [&'static str] = Fleet::COLUMNS;

    fn window(&mut self, now: SimTime, out: &mut Vec<f64>) {
        self.fleet.window(now.0, self.waiting, out);
    }
}

impl EndpointPool {
    /// A request arrives: it starts on an instance, waits, or is rejected.
    fn admit(&mut self, now: u64, job: &mut Job, cx: &mut StepCx) -> Go {
        self.counts.requests += 1;
        let pick = match self.def.routing {
            Routing::SharedQueue => self.free_instance(),
            _ => self.balance(),
        };
        let shared = self.def.routing == Routing::SharedQueue;
        let free = pick.is_some_and(|i| self.fleet.instances[i].busy < self.def.fleet.slots);
        if !free && self.def.overflow.is_some_and(|after| self.waiting as usize >= after) {
            // Spilled: it never reaches the pool, so it is not an invocation of it.
            self.counts.overflowed += 1;
            self.first_overflow.get_or_insert(now);
            return Go::Exit(1);
        }
        self.fleet.arrive(now);
        match pick {
            Some(i) if free => {
                self.fleet.busy_change(now, i, true);
                job.kind_slot = i as u32;
                return Go::Exit(0);
            }
            _ if self.waiting as usize >= self.def.queue_limit => {
                self.counts.rejected += 1;
                self.fleet.leave(now);
                return Go::Fail(Outcome::Rejected);
            }
            Some(i) if !shared => self.queues[i].push_back(cx.id),
            _ => self.shared.push_back(cx.id),
        }
        self.waiting += 1;
        self.counts.max_waiting = self.counts.max_waiting.max(self.waiting);
        Go::Park
    }

    /// Whether instance `i` takes new requests.
    fn open(&self, i: usize) -> bool {
        let inst = &self.fleet.instances[i];
        inst.joined && !inst.draining && inst.gone_at.is_none()
    }

    /// Shared queue: a serving instance with a free slot, taken in turn.
    fn free_instance(&mut self) -> Option<usize> {
        let n = self.fleet.live.len();
        for k in 0..n {
            let at = (self.turn + k) % n;
            let i = self.fleet.live[at];
            if self.open(i) && self.fleet.instances[i].busy < self.def.fleet.slots {
                self.turn = (at + 1) % n;
                return Some(i);
            }
        }
        None
    }

    /// Per-instance routing: the load balancer's pick among the serving instances.
    fn balance(&mut self) -> Option<usize> {
        // The serving instances in index order, in a buffer kept between requests.
        let mut open = std::mem::take(&mut self.scratch);
        open.clear();
        open.extend(self.fleet.live.iter().copied().filter(|&i| self.open(i)));
        open.sort_unstable();
        let pick = self.pick(&open);
        self.scratch = open;
        pick
    }

    /// The load balancer's rule over `open` (serving instances, in index order).
    fn pick(&mut self, open: &[usize]) -> Option<usize> {
        if open.is_empty() {
            return None;
        }
        Some(match self.def.routing {
            Routing::Random => open[self.rng.random_range(0..open.len())],
            Routing::RoundRobin => {
                let i = *open.iter().find(|&&i| i >= self.turn).unwrap_or(&open[0]);
                self.turn = i + 1;
                i
            }
            _ => *open
                .iter()
                .min_by_key(|&&i| (self.fleet.instances[i].busy as usize + self.queues[i].len(), i))
                .unwrap_or(&open[0]),
        })
    }

    /// Instance `i` has a free slot (a request ended there, or it joined): start waiting
    /// requests on it; a draining instance left idle stops.
    fn feed(&mut self, now: u64, i: usize, cx: &mut StepCx) {
        let slots = self.def.fleet.slots;
        while self.fleet.instances[i].busy < slots {
            let next = if let Some(id) = self.queues[i].pop_front() {
                Some(id)
            } else if self.open(i) {
                self.shared.pop_front()
            } else {
                None
            };
            let Some(id) = next else { break };
            self.waiting -= 1;
            self.fleet.busy_change(now, i, true);
            cx.out.wake_with(id, 0, i as u32);
        }
        let inst = &self.fleet.instances[i];
        if inst.draining && inst.busy == 0 && inst.gone_at.is_none() && self.queues[i].is_empty() {
            self.fleet.retire(now, i);
        }
    }
}
