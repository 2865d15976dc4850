//! A service's slots and queue: c concurrency slots in front of one queue (FIFO, or
//! non-preemptive priority by class), with optional finite waiting room whose overflow is
//! rejected. What a request does while it holds a slot is its flow, run by `sim::flow`; this
//! module only admits, queues and releases, and keeps the statistics.

use std::collections::VecDeque;

use serde::Serialize;

use super::bursts::Bursts;
use super::call_stats::CallStats;
use crate::cost::Driver;
use rand::RngExt;

use crate::engine::{ReqId, SimRng, SimTime};
use crate::metrics::{Latency, LatencySummary, TimeWeighted};
use crate::model::Discipline;
use crate::model::program::ServiceDef;

/// What happens to a request arriving at a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// A slot was free: it starts now, holding the slot.
    Start,
    /// It waits in the queue.
    Queued,
    /// The waiting room is full.
    Rejected,
}

/// A running service.
pub struct Service {
    pub def: ServiceDef,
    /// Slots serving now: `servers`, or fewer during a capacity drop.
    limit: u32,
    /// Draws injected errors.
    errors: SimRng,
    /// Whether any fault is injected (outages, slowdowns, capacity drops, errors, throttles).
    faulty: bool,
    /// Draws injected throttles, and the throttle bursts' on/off timeline (its own stream, so
    /// the timeline does not depend on the arrivals).
    throttles: SimRng,
    bursts: Option<Bursts>,
    busy: u32,
    /// One FIFO per class for priority services, a single FIFO otherwise.
    queues: Vec<VecDeque<ReqId>>,
    /// Requests that freed their slot while waiting on a call and want one back (event-loop
    /// services); served before new arrivals.
    resumes: VecDeque<ReqId>,
    waiting: u64,
    /// Statistics since the end of warm-up.
    pub stats: StationStats,
    /// What callers saw, since the end of warm-up.
    pub calls: CallStats,
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

impl Service {
    /// A service at rest.
    pub fn new(def: ServiceDef, classes: usize, errors: SimRng) -> Service {
        let lanes = if def.discipline == Discipline::Priority { classes } else { 1 };
        let f = &def.faults;
        let faulty = f.error_rate > 0.0
            || !f.outages.is_empty()
            || !f.slowdowns.is_empty()
            || !f.capacity_drops.is_empty()
            || f.throttle_rate > 0.0
            || f.throttle_bursts.is_some();
        Service {
            faulty,
            throttles: crate::engine::stream(0, "", "unused"),
            bursts: None,
            limit: def.servers,
            errors,
            def,
            busy: 0,
            queues: vec![VecDeque::new(); lanes],
            resumes: VecDeque::new(),
            waiting: 0,
            stats: StationStats::default(),
            calls: CallStats { window: Latency::with_digits(2), ..CallStats::default() },
        }
    }

    /// How much longer work takes now: busy slots ÷ `cores`, at least 1.
    #[inline]
    pub fn stretch(&self) -> f64 {
        self.def.cores.map_or(1.0, |c| (self.busy as f64 / c as f64).max(1.0))
    }

    /// Request `id` of class `class` arrives now.
    #[inline]
    pub fn arrive(&mut self, now: SimTime, class: u16, id: ReqId) -> Admit {
        self.stats.arrivals += 1;
        if self.busy < self.limit {
            self.busy += 1;
            self.stats.busy.set(now, self.busy as f64);
            return Admit::Start;
        }
        if self.def.capacity.is_some_and(|cap| self.waiting >= cap) {
            self.stats.rejected += 1;
            return Admit::Rejected;
        }
        let lane = if self.queues.len() > 1 { class as usize } else { 0 };
        self.queues[lane].push_back(id);
        self.waiting += 1;
        self.stats.queue_len.set(now, self.waiting as f64);
        Admit::Queued
    }

    /// A request starts the flow after waiting `wait_ns` in the queue.
    #[inline]
    pub fn count_start(&mut self, wait_ns: u64) {
        self.stats.started += 1;
        self.stats.waited += (wait_ns > 0) as u64;
        self.stats.wait_sum_ns += wait_ns as u128;
    }

    /// A request that entered at `entered` leaves after being served.
    #[inline]
    pub fn served(&mut self, now: SimTime, entered: SimTime) {
        self.stats.completions += 1;
        self.stats.response.record(now.since(entered));
    }

    /// A tail call that entered at `entered` ends with `outcome`: its time at the service is
    /// also its call's and its attempt's latency, so it is recorded once (see `CallStats::tail`).
    #[inline]
    pub fn served_tail(&mut self, now: SimTime, entered: SimTime, started: bool, outcome: crate::sim::Outcome) {
        let c = &mut self.calls;
        c.calls += 1;
        c.attempts += started as u64;
        c.outcomes[outcome.index()] += 1;
        c.attempt_outcomes[outcome.index()] += 1;
        c.tail.record(now.since(entered));
        c.window.record(now.since(entered));
        self.stats.completions += started as u64;
    }

    /// Time at the service of every request served, tail calls included [ns].
    pub fn response(&self) -> crate::metrics::Latency {
        let mut all = self.stats.response.clone();
        all.merge(&self.calls.tail);
        all
    }

    /// A slot frees now. Returns the waiting request that takes it over, if any (a resuming
    /// request first, then the queue in class order).
    #[inline]
    pub fn free_slot(&mut self, now: SimTime) -> Option<ReqId> {
        let next = if self.busy > self.limit {
            None // a capacity drop: the slot is withdrawn
        } else {
            self.pop_waiting(now)
        };
        if next.is_none() {
            self.busy -= 1;
            self.stats.busy.set(now, self.busy as f64);
        }
        next
    }

    /// The next waiting request (a resuming one first, then the queue in class order), taken
    /// off the queue.
    #[inline]
    fn pop_waiting(&mut self, now: SimTime) -> Option<ReqId> {
        let next = self.resumes.pop_front().or_else(|| self.queues.iter_mut().find_map(VecDeque::pop_front))?;
        self.waiting -= 1;
        self.stats.queue_len.set(now, self.waiting as f64);
        Some(next)
    }

    /// Serves `share` of the slots from now on (a capacity drop, or 1.0 to restore). Requests
    /// in service finish; waiting ones are taken up to the new limit by [`Service::take_waiting`].
    pub fn set_capacity(&mut self, share: f64) {
        self.limit = (self.def.servers as f64 * share).floor() as u32;
    }

    /// A waiting request that may start now (a slot is free under the current limit), if any.
    pub fn take_waiting(&mut self, now: SimTime) -> Option<ReqId> {
        if self.busy >= self.limit {
            return None;
        }
        let next = self.pop_waiting(now)?;
        self.busy += 1;
        self.stats.busy.set(now, self.busy as f64);
        Some(next)
    }

    /// Whether the service has any fault injected (the common case is none: one test).
    #[inline]
    pub fn has_faults(&self) -> bool {
        self.faulty
    }

    /// Whether the service is down at `now`.
    #[inline]
    pub fn is_down(&self, now: SimTime) -> bool {
        self.def.faults.outages.iter().any(|&(a, b)| a <= now && now < b)
    }

    /// Extra holding time for a request starting at `now` [s].
    #[inline]
    pub fn slowdown(&self, now: SimTime) -> f64 {
        self.def.faults.slowdowns.iter().filter(|&&(a, b, _)| a <= now && now < b).map(|w| w.2).sum()
    }

    /// Gives the service its throttle streams: `draws` for each arrival's throttle, `timeline`
    /// for the bursts' on/off durations (started in its stationary law: on with probability
    /// on/(on + off)).
    pub fn with_throttles(mut self, draws: SimRng, timeline: SimRng) -> Service {
        self.throttles = draws;
        self.bursts = self.def.faults.throttle_bursts.map(|(on, off, share)| Bursts::new(on, off, share, timeline));
        self
    }

    /// Whether an arrival now is throttled by an injected throttle (independent, or in a burst).
    #[inline]
    pub fn throttled(&mut self, now: SimTime) -> bool {
        let p = self.def.faults.throttle_rate;
        if p > 0.0 && self.throttles.random::<f64>() < p {
            return true;
        }
        self.bursts.as_mut().is_some_and(|b| b.hit(now, &mut self.throttles))
    }

    /// Whether a request served now ends in an injected error.
    #[inline]
    pub fn draw_error(&mut self) -> bool {
        if !self.faulty {
            return false;
        }
        let p = self.def.faults.error_rate;
        p > 0.0 && self.errors.random::<f64>() < p
    }

    /// Request `id`, which freed its slot while waiting on a call, wants one back: true if it
    /// got one now, false if it waits (ahead of new arrivals).
    pub fn resume(&mut self, now: SimTime, id: ReqId) -> bool {
        if self.busy < self.limit {
            self.busy += 1;
            self.stats.busy.set(now, self.busy as f64);
            return true;
        }
        self.resumes.push_back(id);
        self.waiting += 1;
        self.stats.queue_len.set(now, self.waiting as f64);
        false
    }

    /// Forgets statistics gathered before `now` (end of warm-up).
    pub fn restart_stats(&mut self, now: SimTime) {
        self.calls.restart();
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
        let response = self.response();
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
            mean_response_s: response.mean_s(),
            utilization: over(s.busy.area_at(now) - s.busy_area_at_warmup) / self.def.servers as f64,
            mean_queue_len: over(s.queue_len.area_at(now) - s.queue_area_at_warmup),
            latency_s: response.summary(),
        }
    }

    /// Cost of the `measured_s` seconds since warm-up [USD].
    pub fn cost_usd(&self, measured_s: f64) -> f64 {
        let quantity = |l: &crate::cost::CostLine| match l.driver {
            Driver::InstanceHours => l.instances_for(self.def.servers) as f64 * measured_s / 3600.0,
            Driver::Requests => self.stats.completions as f64,
            _ => 0.0,
        };
        self.def.cost.iter().map(|l| l.usd(quantity(l))).sum()
    }

    /// Whether the service has cost lines.
    pub fn has_cost(&self) -> bool {
        !self.def.cost.is_empty()
    }

    /// Requests waiting now.
    pub fn waiting(&self) -> u64 {
        self.waiting
    }
}
