//! A station: c identical servers in front of one queue (FIFO, or non-preemptive priority by
//! class), with optional finite waiting room whose overflow is rejected.

use std::collections::VecDeque;

use serde::Serialize;

use crate::cost::{CostLine, Driver};
use crate::engine::{ReqId, SimRng, SimTime};
use crate::metrics::{Latency, LatencySummary, TimeWeighted};
use crate::model::{Discipline, StationDef, Target};
use crate::sim::{Ctx, Event};

/// A running station.
pub struct Station {
    def: StationDef,
    rng: SimRng,
    busy: u32,
    /// One FIFO per class for priority stations, a single FIFO otherwise.
    queues: Vec<VecDeque<ReqId>>,
    waiting: u64,
    /// Statistics since the end of warm-up.
    pub stats: StationStats,
}

/// Per-station statistics. Level integrals cover the whole run; `*_at_warmup` marks where
/// the measured part begins.
#[derive(Debug, Default)]
pub struct StationStats {
    pub arrivals: u64,
    pub rejected: u64,
    pub started: u64,
    /// Requests that found every server busy and waited (wait > 0).
    pub waited: u64,
    pub wait_sum_ns: u128,
    pub completions: u64,
    /// Time at the station, wait plus service [ns].
    pub response: Latency,
    pub queue_len: TimeWeighted,
    pub busy: TimeWeighted,
    queue_area_at_warmup: f64,
    busy_area_at_warmup: f64,
    measured_from: SimTime,
}

/// `stations.<name>` in summary.json.
#[derive(Clone, Debug, Serialize)]
pub struct StationSummary {
    pub servers: u32,
    pub arrivals: u64,
    pub completions: u64,
    pub rejected: u64,
    /// Completions per second of measured time [1/s].
    pub throughput_per_s: f64,
    /// Mean time in queue of requests that started service [s].
    pub mean_wait_s: f64,
    /// Fraction of requests starting service that had to wait.
    pub p_wait: f64,
    /// Mean time at the station, wait plus service, of completed requests [s].
    pub mean_response_s: f64,
    /// Time-averaged busy servers divided by servers.
    pub utilization: f64,
    /// Time-averaged number waiting (not in service).
    pub mean_queue_len: f64,
    /// Percentiles of time at the station [s].
    pub latency_s: LatencySummary,
}

impl Station {
    /// A station at rest.
    pub fn new(def: StationDef, rng: SimRng, classes: usize) -> Station {
        let lanes = if def.discipline == Discipline::Priority { classes } else { 1 };
        Station { def, rng, busy: 0, queues: vec![VecDeque::new(); lanes], waiting: 0, stats: StationStats::default() }
    }

    /// A request arrives; returns false if the waiting room is full and it is rejected.
    #[inline]
    pub fn arrive(&mut self, me: u32, ctx: &mut Ctx, id: ReqId) -> bool {
        self.stats.arrivals += 1;
        let Some(req) = ctx.reqs.get_mut(id) else {
            return true;
        };
        req.entered = ctx.now;
        let class = req.class as usize;
        if self.busy < self.def.servers {
            self.start(me, ctx, id, 0);
            return true;
        }
        if self.def.capacity.is_some_and(|cap| self.waiting >= cap) {
            self.stats.rejected += 1;
            return false;
        }
        let lane = if self.queues.len() > 1 { class } else { 0 };
        self.queues[lane].push_back(id);
        self.waiting += 1;
        self.stats.queue_len.set(ctx.now, self.waiting as f64);
        true
    }

    fn start(&mut self, me: u32, ctx: &mut Ctx, id: ReqId, wait_ns: u64) {
        self.busy += 1;
        self.stats.busy.set(ctx.now, self.busy as f64);
        self.stats.started += 1;
        self.stats.waited += (wait_ns > 0) as u64;
        self.stats.wait_sum_ns += wait_ns as u128;
        let service = self.def.service.sample(&mut self.rng);
        ctx.after(service, Event::Done { block: me, req: id });
    }

    /// Service of a request that entered at `entered` ends: it leaves, the next waiting
    /// request (if any) starts.
    #[inline]
    pub fn done(&mut self, me: u32, ctx: &mut Ctx, entered: SimTime) -> Target {
        self.stats.completions += 1;
        self.stats.response.record(ctx.now.since(entered));
        self.busy -= 1;
        if let Some(next) = self.queues.iter_mut().find_map(VecDeque::pop_front) {
            self.waiting -= 1;
            self.stats.queue_len.set(ctx.now, self.waiting as f64);
            let wait = ctx.reqs.get(next).map_or(0, |r| ctx.now.since(r.entered));
            self.start(me, ctx, next, wait);
        } else {
            self.stats.busy.set(ctx.now, self.busy as f64);
        }
        self.def.to
    }

    /// Forgets statistics gathered before `now` (end of warm-up).
    pub fn restart_stats(&mut self, now: SimTime) {
        let s = &mut self.stats;
        *s = StationStats {
            queue_area_at_warmup: s.queue_len.area_at(now),
            busy_area_at_warmup: s.busy.area_at(now),
            queue_len: std::mem::take(&mut s.queue_len),
            busy: std::mem::take(&mut s.busy),
            measured_from: now,
            response: std::mem::take(&mut s.response),
            ..StationStats::default()
        };
        s.response.reset();
    }

    /// (queue, busy) areas so far [level·ns], for time-series windows.
    pub fn areas(&self, now: SimTime) -> (f64, f64) {
        (self.stats.queue_len.area_at(now), self.stats.busy.area_at(now))
    }

    /// The summary at `now`.
    pub fn summary(&self, now: SimTime) -> StationSummary {
        let s = &self.stats;
        // No measured time (the run ended in warm-up): rates and averages are NaN (null).
        let span_ns = now.since(s.measured_from) as f64;
        let over = |x: f64| if span_ns > 0.0 { x / span_ns } else { f64::NAN };
        let per = |n: u64, x: f64| if n == 0 { f64::NAN } else { x / n as f64 };
        StationSummary {
            servers: self.def.servers,
            arrivals: s.arrivals,
            completions: s.completions,
            rejected: s.rejected,
            throughput_per_s: over(s.completions as f64 * 1e9),
            mean_wait_s: per(s.started, s.wait_sum_ns as f64 / 1e9),
            p_wait: per(s.started, s.waited as f64),
            mean_response_s: s.response.mean_s(),
            utilization: over(s.busy.area_at(now) - s.busy_area_at_warmup) / self.def.servers as f64,
            mean_queue_len: over(s.queue_len.area_at(now) - s.queue_area_at_warmup),
            latency_s: s.response.summary(),
        }
    }

    /// Cost of the `measured_s` seconds since warm-up [USD].
    pub fn cost_usd(&self, measured_s: f64) -> f64 {
        let quantity = |l: &CostLine| match l.driver {
            Driver::InstanceHours => self.def.servers.div_ceil(l.servers_per_unit) as f64 * measured_s / 3600.0,
            Driver::Requests => self.stats.completions as f64,
            _ => 0.0,
        };
        self.def.cost.iter().map(|l| l.usd(quantity(l))).sum()
    }

    /// Whether the station has cost lines.
    pub fn has_cost(&self) -> bool {
        !self.def.cost.is_empty()
    }

    /// Requests waiting now.
    pub fn waiting(&self) -> u64 {
        self.waiting
    }
}
