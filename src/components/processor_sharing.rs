//! `processor_sharing`: a service whose requests share its CPU cores — an API such as the
//! Catalog API of seed 000 scenario 6, whose threads (`servers`) outnumber its cores, so every
//! request in service slows down as more arrive.
//!
//! Each request admitted to a slot needs a drawn amount of CPU time (`work`, the time it takes
//! alone). While n requests are in service, each progresses at min(1, cores ÷ n) seconds of
//! work per second, and the rate changes at every arrival and departure (egalitarian processor
//! sharing): a request that started alone is slowed down by the ones that come after it, which
//! is what makes a stampede's first origin calls slow, and slow calls let more readers miss.
//! Requests beyond `servers` wait in the service's queue without using the CPU.
//!
//! Implementation: a virtual clock V advances at the per-request rate, dV/dt = min(1, c/n); a
//! request arriving at V₀ with work w finishes when V reaches V₀ + w, so requests finish in
//! the order of these tags, kept in a heap. One timer is pending for the earliest tag; a new
//! arrival or departure sets a new one and the old one is recognised as stale by its token.
//! O(log n) per request. With one core and Poisson arrivals the mean time in service is
//! E[S] / (1 − ρ) whatever the law of S (M/G/1-PS); with c cores the number in service is that
//! of an M/M/c queue for any work law.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kinds::{Go, Kind, StepCx};
use crate::engine::{ReqId, SimRng, SimTime, stream};
use crate::model::dist::DistSpec;
use crate::model::program::RETURN;
use crate::model::{Dist, KindBuilder};
use crate::sim::Job;

/// Settings of a `processor_sharing` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessorSharingSpec {
    /// CPU cores the requests in service share (above 0, up to 1,000,000; may be fractional).
    pub cores: f64,
    /// CPU time a request needs [s]: the time it takes when it has a core to itself.
    pub work: DistSpec,
}

/// Checked settings.
#[derive(Clone, Debug)]
pub struct ProcessorSharingDef {
    cores: f64,
    work: Dist,
}

const ADMIT: u16 = 0;
const MAX_CORES: f64 = 1e6;
/// Work left below which a request counts as done [s] (1 ns: timers are whole nanoseconds).
const DONE_EPS: f64 = 1e-9;

/// A request in service: its finish tag (the bits of a non-negative f64, which order as the
/// number) and arrival order, which alone decide its place in the heap.
#[derive(Clone, Copy, Debug)]
struct InService {
    tag: u64,
    seq: u64,
    id: ReqId,
}

impl PartialEq for InService {
    fn eq(&self, other: &Self) -> bool {
        (self.tag, self.seq) == (other.tag, other.seq)
    }
}

impl Eq for InService {}

impl PartialOrd for InService {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for InService {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.tag, self.seq).cmp(&(other.tag, other.seq))
    }
}

/// Counters since warm-up.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PsCounts {
    pub requests: u64,
    pub served: u64,
    /// The most requests in service at once.
    pub max_in_service: u64,
}

/// A running service.
pub struct ProcessorSharing {
    def: ProcessorSharingDef,
    rng: SimRng,
    /// Virtual time: work each request in service has received since the start [s].
    virt: f64,
    /// When `virt` was last brought up to date [ns].
    at: u64,
    /// Requests in service, earliest finish first.
    heap: BinaryHeap<Reverse<InService>>,
    seq: u64,
    /// Token of the one timer that counts; older ones are stale.
    token: u32,
    counts: PsCounts,
    /// ∫ busy cores dt since warm-up [core·s], and its start [ns].
    core_area: f64,
    since: u64,
}

impl Kind for ProcessorSharing {
    type Spec = ProcessorSharingSpec;
    type Def = ProcessorSharingDef;

    fn compile(spec: &ProcessorSharingSpec, b: &mut KindBuilder) -> Option<ProcessorSharingDef> {
        let mut ok = true;
        if !(spec.cores.is_finite() && spec.cores > 0.0 && spec.cores <= MAX_CORES) {
            b.issue("cores", format!("must be above 0 and at most 1,000,000 cores, got {}", spec.cores));
            ok = false;
        }
        let work = b.dist("work", &spec.work);
        b.entry = b.step(ADMIT, vec![RETURN]);
        let work = work?;
        ok.then_some(ProcessorSharingDef { cores: spec.cores, work })
    }

    fn start(def: &ProcessorSharingDef, seed: u64, service: &str) -> ProcessorSharing {
        ProcessorSharing {
            def: def.clone(),
            rng: stream(seed, service, "processor_sharing"),
            virt: 0.0,
            at: 0,
            heap: BinaryHeap::new(),
            seq: 0,
            token: 0,
            counts: PsCounts::default(),
            core_area: 0.0,
            since: 0,
        }
    }

    fn step(&mut self, _tag: u16, _job: &mut Job, cx: &mut StepCx) -> Go {
        let now = cx.now.0;
        self.catch_up(now);
        self.counts.requests += 1;
        let w = self.def.work.sample(&mut self.rng).max(0.0);
        if w <= DONE_EPS {
            self.counts.served += 1;
            return Go::Exit(0);
        }
        self.heap.push(Reverse(InService { tag: (self.virt + w).to_bits(), seq: self.seq, id: cx.id }));
        self.seq += 1;
        self.counts.max_in_service = self.counts.max_in_service.max(self.heap.len() as u64);
        self.next_timer(now, cx);
        Go::Park
    }

    fn timer(&mut self, token: u32, cx: &mut StepCx) {
        if token != self.token {
            return; // an arrival or departure since has set a later timer
        }
        let now = cx.now.0;
        self.catch_up(now);
        while let Some(&Reverse(InService { tag, id, .. })) = self.heap.peek() {
            if f64::from_bits(tag) - self.virt > DONE_EPS {
                break;
            }
            self.heap.pop();
            self.counts.served += 1;
            cx.out.wake(id, 0);
        }
        self.next_timer(now, cx);
    }

    fn restart_stats(&mut self, now: SimTime) {
        self.catch_up(now.0);
        self.counts = PsCounts { max_in_service: self.heap.len() as u64, ..PsCounts::default() };
        self.core_area = 0.0;
        self.since = now.0;
    }

    fn summary(&self, now: SimTime) -> serde_json::Value {
        let mut v = serde_json::to_value(self.counts).unwrap_or_default();
        let secs = now.0.saturating_sub(self.since) as f64 * 1e-9;
        let area = self.core_area + self.busy_cores() * now.0.saturating_sub(self.at) as f64 * 1e-9;
        v["cores"] = serde_json::json!(self.def.cores);
        v["cpu_utilization"] = serde_json::json!((secs > 0.0).then(|| area / secs / self.def.cores));
        v["in_service"] = serde_json::json!(self.heap.len());
        v
    }

    const COLUMNS: &'static [&'static str] = &["in_service"];

    fn window(&mut self, _now: SimTime, out: &mut Vec<f64>) {
        out.push(self.heap.len() as f64);
    }
}

impl ProcessorSharing {
    /// Per-request service rate with n in service: min(1, cores ÷ n) [work s per s].
    fn rate(&self) -> f64 {
        let n = self.heap.len() as f64;
        if n <= self.def.cores { 1.0 } else { self.def.cores / n }
    }

    /// Cores busy now: min(n, cores).
    fn busy_cores(&self) -> f64 {
        (self.heap.len() as f64).min(self.def.cores)
    }

    /// Brings the virtual clock and the busy-core integral up to `now` [ns].
    fn catch_up(&mut self, now: u64) {
        if now > self.at {
            let dt = (now - self.at) as f64 * 1e-9;
            self.virt += dt * self.rate();
            self.core_area += dt * self.busy_cores();
            self.at = now;
        }
    }

    /// Sets the timer for the earliest finish at the current rate, superseding any other.
    fn next_timer(&mut self, now: u64, cx: &mut StepCx) {
        self.token = self.token.wrapping_add(1);
        let Some(&Reverse(InService { tag, .. })) = self.heap.peek() else { return };
        let left = (f64::from_bits(tag) - self.virt).max(0.0) / self.rate();
        let at = now.saturating_add((left * 1e9).ceil() as u64);
        cx.out.timer(SimTime(at), self.token);
    }
}
