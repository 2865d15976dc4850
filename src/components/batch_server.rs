//! `batch_server`: a GPU model that serves requests in micro-batches — the cross-encoder
//! reranker of seed 000 scenario 7. Each request brings `items` candidates (the top-K of the
//! vector search: 50, or 20 after the fix); a batch of requests holding n candidates in all takes
//! a + b × n seconds (divided by the instance's speed), whatever the number of requests in it.
//!
//! Requests wait in one FIFO queue. A batch leaves for a free instance slot as soon as
//! `max_batch` requests wait, or when the oldest waiting request has waited `max_wait`; an
//! instance slot that frees takes the waiting requests at once (up to `max_batch`). So a lightly
//! loaded server answers one request in a + b × K plus up to `max_wait`, and a saturated one
//! completes max_batch ÷ (a + b × max_batch × K) requests per second per slot.
//!
//! The instances (type, start-up chain, autoscaling) are a [`Fleet`], as for `endpoint_pool`.

use std::collections::VecDeque;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::fleet::{self, AutoscalingSpec, Fleet, FleetDef, FleetEvent, InstanceSpec, StartupSpec};
use super::kinds::{Go, Kind, StepCx};
use crate::engine::{ReqId, SimRng, SimTime, stream};
use crate::model::KindBuilder;
use crate::model::program::RETURN;
use crate::model::quantity::Quantity;
use crate::sim::{Job, Outcome};

/// Settings of a `batch_server` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchServerSpec {
    /// The instance type; `slots` is the number of batches one instance runs at once.
    pub instance: InstanceSpec,
    /// Instances serving at the start (default: the autoscaling minimum, or 1).
    pub instances: Option<u32>,
    /// Candidates each request brings (top-K; default 1).
    #[serde(default = "one")]
    pub items: u32,
    /// Time of a batch: `fixed` + `per_item` × candidates in the batch.
    pub batch_time: BatchTimeSpec,
    /// Most requests in one batch (default 1: no batching).
    #[serde(default = "one")]
    pub max_batch: u32,
    /// Longest a request waits for its batch to fill (default 0).
    #[serde(default)]
    pub max_wait: Quantity,
    /// Most requests waiting (default: no limit); beyond it, rejected.
    pub queue_limit: Option<u32>,
    /// How a new instance starts (default: at once).
    #[serde(default)]
    pub startup: StartupSpec,
    /// Autoscaling (default: a fixed fleet).
    pub autoscaling: Option<AutoscalingSpec>,
}

/// A batch's time: a + b × n.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchTimeSpec {
    /// a: the fixed part [s].
    pub fixed: Quantity,
    /// b: the time per candidate [s].
    pub per_item: Quantity,
}

fn one() -> u32 {
    1
}

/// Checked settings.
#[derive(Clone, Debug)]
pub struct BatchServerDef {
    fleet: FleetDef,
    items: u32,
    /// a, b [s].
    fixed: f64,
    per_item: f64,
    max_batch: u32,
    max_wait_ns: u64,
    queue_limit: usize,
}

const ADMIT: u16 = 0;
const START: u16 = 1;
const DONE: u16 = 2;
const MAX_BATCH: u32 = 100_000;
const MAX_ITEMS: u32 = 1_000_000;
const MAX_QUEUE_LIMIT: u32 = 100_000_000;
/// Timer token of the batching deadline (the fleet's tokens use the top two bits 00, 01, 10).
const DEADLINE: u32 = 3 << 30;

/// A batch under way.
#[derive(Clone, Copy, Debug)]
struct Batch {
    instance: u32,
    /// When it ends [ns], and its requests still to finish.
    end: u64,
    left: u32,
}

/// Counters since warm-up.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct BatchCounts {
    pub requests: u64,
    pub served: u64,
    pub rejected: u64,
    pub batches: u64,
    /// Batches that left full, and because their oldest request had waited `max_wait`.
    pub full_batches: u64,
    pub timed_out_batches: u64,
    pub max_waiting: u64,
}

/// A running server.
pub struct BatchServer {
    def: BatchServerDef,
    fleet: Fleet,
    rng: SimRng,
    /// Waiting requests with their arrival times [ns].
    queue: VecDeque<(ReqId, u64)>,
    batches: Vec<Batch>,
    free_batches: Vec<u32>,
    /// Batch slots under way per instance.
    running: Vec<u32>,
    /// Whether a deadline timer is set, and for when.
    deadline: Option<u64>,
    counts: BatchCounts,
    turn: usize,
    /// The job at the current step, if a batch just took it (with the batch).
    taken: Option<(ReqId, u32)>,
}

impl Kind for BatchServer {
    type Spec = BatchServerSpec;
    type Def = BatchServerDef;

    fn compile(spec: &BatchServerSpec, b: &mut KindBuilder) -> Option<BatchServerDef> {
        let fleet = fleet::check(b, &spec.instance, spec.instances, &spec.startup, spec.autoscaling.as_ref());
        let mut ok = true;
        let (a, per) = (spec.batch_time.fixed.0, spec.batch_time.per_item.0);
        for (field, v) in [("batch_time.fixed", a), ("batch_time.per_item", per)] {
            if !(v.is_finite() && (0.0..=3600.0).contains(&v)) {
                b.issue(field, format!("must be a duration from 0 to an hour, got {v} s"));
                ok = false;
            }
        }
        if a + per <= 0.0 {
            b.issue("batch_time", "a batch must take some time: give `fixed` or `per_item` above 0");
            ok = false;
        }
        if spec.max_batch == 0 || spec.max_batch > MAX_BATCH {
            b.issue("max_batch", format!("must be from 1 to {MAX_BATCH} requests, got {}", spec.max_batch));
            ok = false;
        }
        if spec.items == 0 || spec.items > MAX_ITEMS {
            b.issue("items", format!("must be from 1 to {MAX_ITEMS} candidates, got {}", spec.items));
            ok = false;
        }
        let wait = spec.max_wait.0;
        if !(wait.is_finite() && (0.0..=3600.0).contains(&wait)) {
            b.issue("max_wait", format!("must be a duration from 0 to an hour, got {wait} s"));
            ok = false;
        }
        let limit = spec.queue_limit.unwrap_or(MAX_QUEUE_LIMIT);
        if limit > MAX_QUEUE_LIMIT {
            b.issue("queue_limit", format!("must be at most {MAX_QUEUE_LIMIT} requests, got {limit}"));
            ok = false;
        }
        let done = b.step(DONE, vec![RETURN]);
        let start = b.step(START, vec![done]);
        b.entry = b.step(ADMIT, vec![start]);
        let fleet = fleet?;
        ok.then(|| BatchServerDef {
            fleet,
            items: spec.items,
            fixed: a,
            per_item: per,
            max_batch: spec.max_batch,
            max_wait_ns: SimTime::from_secs(wait).0,
            queue_limit: limit as usize,
        })
    }

    fn holds_while_waiting() -> bool {
        false
    }

    fn start(def: &BatchServerDef, seed: u64, service: &str) -> BatchServer {
        let fleet = Fleet::new(&def.fleet);
        BatchServer {
            def: def.clone(),
            running: vec![0; fleet.instances.len()],
            fleet,
            rng: stream(seed, service, "batch_server"),
            queue: VecDeque::new(),
            batches: Vec::new(),
            free_batches: Vec::new(),
            deadline: None,
            counts: BatchCounts::default(),
            turn: 0,
            taken: None,
        }
    }

    fn begin(&mut self, cx: &mut StepCx) {
        self.fleet.begin(&mut cx.out.timers);
    }

    fn step(&mut self, tag: u16, job: &mut Job, cx: &mut StepCx) -> Go {
        let now = cx.now.0;
        match tag {
            ADMIT => {
                self.counts.requests += 1;
                self.fleet.arrive(now);
                self.queue.push_back((cx.id, now));
                self.dispatch(now, cx);
                if let Some(batch) = self.taken(cx.id) {
                    job.kind_slot = batch;
                    return Go::Exit(0);
                }
                if self.queue.len() > self.def.queue_limit {
                    // It waits, and the queue was already full: turned away.
                    self.queue.pop_back();
                    self.counts.rejected += 1;
                    self.fleet.leave(now);
                    return Go::Fail(Outcome::Rejected);
                }
                self.counts.max_waiting = self.counts.max_waiting.max(self.queue.len() as u64);
                Go::Park
            }
            START => {
                let end = self.batches[job.kind_slot as usize].end;
                Go::Hold { secs: end.saturating_sub(now) as f64 * 1e-9, exit: 0 }
            }
            _ => {
                let k = job.kind_slot as usize;
                self.fleet.leave(now);
                self.counts.served += 1;
                let b = &mut self.batches[k];
                b.left -= 1;
                if b.left == 0 {
                    let i = b.instance as usize;
                    self.free_batches.push(k as u32);
                    self.running[i] -= 1;
                    self.fleet.busy_change(now, i, false);
                    let inst = &self.fleet.instances[i];
                    if inst.draining && self.running[i] == 0 && inst.gone_at.is_none() {
                        self.fleet.retire(now, i);
                    }
                    self.dispatch(now, cx);
                }
                Go::Exit(0)
            }
        }
    }

    fn timer(&mut self, token: u32, cx: &mut StepCx) {
        let now = cx.now.0;
        if token == DEADLINE {
            self.deadline = None;
            self.dispatch(now, cx);
            return;
        }
        let event = self.fleet.timer(now, token, &mut self.rng, &mut cx.out.timers);
        self.running.resize(self.fleet.instances.len(), 0);
        if let FleetEvent::Joined(_) = event {
            self.dispatch(now, cx);
        }
    }

    fn restart_stats(&mut self, now: SimTime) {
        self.counts = BatchCounts { max_waiting: self.queue.len() as u64, ..BatchCounts::default() };
        self.fleet.restart_stats(now.0);
    }

    fn warnings(&self, name: &str) -> Vec<String> {
        self.fleet.warnings(name)
    }

    fn summary(&self, now: SimTime) -> serde_json::Value {
        let mut v = self.fleet.summary_with(serde_json::to_value(self.counts).unwrap_or_default(), now.0);
        let c = &self.counts;
        let mean = (c.batches > 0).then(|| c.served as f64 / c.batches as f64);
        v["mean_batch_size"] = serde_json::json!(mean);
        v["waiting"] = serde_json::json!(self.queue.len());
        v
    }

    fn cost_usd(&self, now: SimTime) -> Option<f64> {
        self.fleet.cost_usd(now.0)
    }

    const COLUMNS: &'static [&'static str] = Fleet::COLUMNS;

    fn window(&mut self, now: SimTime, out: &mut Vec<f64>) {
        self.fleet.window(now.0, self.queue.len() as u64, out);
    }
}

impl BatchServer {
    /// Starts batches while an instance slot is free and a batch is due: `max_batch` waiting,
    /// or the oldest has waited `max_wait`. Otherwise sets the deadline timer.
    fn dispatch(&mut self, now: u64, cx: &mut StepCx) {
        while let Some(&(_, oldest)) = self.queue.front() {
            let full = self.queue.len() >= self.def.max_batch as usize;
            let due = now.saturating_sub(oldest) >= self.def.max_wait_ns;
            if !(full || due) {
                let at = oldest + self.def.max_wait_ns;
                if self.deadline.is_none_or(|d| d > at) {
                    self.deadline = Some(at);
                    cx.out.timer(SimTime(at), DEADLINE);
                }
                return;
            }
            let Some(i) = self.free_instance() else { return };
            let n = self.queue.len().min(self.def.max_batch as usize);
            let items = (n as u64 * self.def.items as u64) as f64;
            let secs = (self.def.fixed + self.def.per_item * items) / self.def.fleet.speed;
            let mut end = now.saturating_add(SimTime::from_secs(secs).0);
            end = end.saturating_add(self.fleet.cold_wait(now, i, &mut self.rng));
            let batch = Batch { instance: i as u32, end, left: n as u32 };
            let k = match self.free_batches.pop() {
                Some(k) => {
                    self.batches[k as usize] = batch;
                    k
                }
                None => {
                    self.batches.push(batch);
                    (self.batches.len() - 1) as u32
                }
            };
            self.running[i] += 1;
            self.fleet.busy_change(now, i, true);
            self.counts.batches += 1;
            if full {
                self.counts.full_batches += 1;
            } else {
                self.counts.timed_out_batches += 1;
            }
            for _ in 0..n {
                let (id, _) = self.queue.pop_front().expect("n ≤ queue length");
                if id == cx.id {
                    self.taken = Some((id, k));
                } else {
                    cx.out.wake_with(id, 0, k);
                }
            }
        }
    }

    /// Whether the job at the step was put in a batch just now: the batch.
    fn taken(&mut self, id: ReqId) -> Option<u32> {
        match self.taken.take() {
            Some((t, k)) if t == id => Some(k),
            _ => None,
        }
    }

    /// A serving instance with a free batch slot, taken in turn.
    fn free_instance(&mut self) -> Option<usize> {
        let n = self.fleet.live.len();
        for k in 0..n {
            let at = (self.turn + k) % n;
            let i = self.fleet.live[at];
            let inst = &self.fleet.instances[i];
            if inst.joined && !inst.draining && self.running[i] < self.def.fleet.slots {
                self.turn = (at + 1) % n;
                return Some(i);
            }
        }
        None
    }
}
