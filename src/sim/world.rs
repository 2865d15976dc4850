//! The world: engine context, the compiled flow program and its running parts (services, work
//! steps, routes), sources and populations, and the run-wide counters. Events are dispatched
//! here; requests move through `flow.rs`.

use super::ctx::{Ctx, Event};
use super::job::{Attrs, Job, Origin};
use crate::components::kinds::{KindState, KindStep, StepOut};
use crate::components::{Drawer, Router, Service, Sessions, Source, Work};
use crate::engine::{SimRng, SimTime, stream};
use crate::metrics::trace::Trace;
use crate::metrics::window::Extras;
use crate::metrics::{BreakdownPool, CriticalPath, Latency, Windows};
use crate::model::program::{CallSite, PolicyDef};
use crate::model::{Model, Op, Pc};
use crate::policy::{Breaker, Budget, Limiter};

/// Run-wide counters for top-level requests (calls and branches are not counted here).
#[derive(Debug, Default)]
pub struct Totals {
    /// Counts of every request since warm-up (`in_flight`: in the system now, not reset).
    pub all: Counts,
    /// Requests in flight when the warm-up ended (they finish in the measured period).
    pub carried_in: u64,
    /// End-to-end latency of completed requests [ns].
    pub e2e: Latency,
    /// The same, per class.
    pub by_class: Vec<Latency>,
    /// Counts per class and per intent.
    pub class_counts: Vec<Counts>,
    pub intent_counts: Vec<Counts>,
    /// End-to-end latency per intent [ns].
    pub by_intent: Vec<Latency>,
    /// Time to first token of completed requests [ns]: to the first token of a streamed
    /// answer, or to the whole answer when none streamed; overall, per class, per intent.
    pub first_token: Latency,
    pub first_token_by_class: Vec<Latency>,
    pub first_token_by_intent: Vec<Latency>,
    /// Critical-path breakdown of answered requests.
    pub critical: CriticalPath,
}

/// One of `run.phases`: requests that arrived in [`from`, `to`), and the outcomes and latencies
/// of those that ended in it. Never reset at the end of warm-up.
#[derive(Clone, Debug, Default)]
pub struct PhaseTotals {
    pub from: SimTime,
    pub to: SimTime,
    pub arrived: u64,
    pub completed: u64,
    pub degraded: u64,
    pub rejected: u64,
    pub failed: u64,
    /// End-to-end latency and time to first token of the answers [ns].
    pub e2e: Latency,
    pub first_token: Latency,
}

impl PhaseTotals {
    /// Whether `t` falls in the phase.
    #[inline]
    pub fn holds(&self, t: SimTime) -> bool {
        self.from <= t && t < self.to
    }
}

/// Top-level request counts: of every request, or of one class or intent.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Counts {
    pub arrived: u64,
    /// Answered with no fallback on the path.
    pub completed: u64,
    /// Answered, with a fallback somewhere on the path.
    pub degraded: u64,
    /// Answered (completed or degraded) with a refusal: a guardrail on the path blocked it.
    pub blocked: u64,
    pub rejected: u64,
    pub failed: u64,
    pub in_flight: u64,
}

/// How a top-level request ended, for the counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Completed,
    Degraded,
    Rejected,
    Failed,
}

impl Counts {
    /// A request arrives.
    #[inline]
    pub fn arrive(&mut self) {
        self.arrived += 1;
        self.in_flight += 1;
    }

    /// A request ends; `blocked`: answered with a guardrail's refusal.
    #[inline]
    pub fn end(&mut self, end: End, blocked: bool) {
        self.in_flight -= 1;
        self.blocked += u64::from(blocked);
        match end {
            End::Completed => self.completed += 1,
            End::Degraded => self.degraded += 1,
            End::Rejected => self.rejected += 1,
            End::Failed => self.failed += 1,
        }
    }

    /// Forgets counts gathered during warm-up (those in flight stay).
    pub fn restart(&mut self) {
        *self = Counts { in_flight: self.in_flight, ..Counts::default() };
    }
}

/// Everything one run needs.
pub struct World {
    pub ctx: Ctx,
    /// The flow program (see `model::program`).
    pub ops: Box<[Op]>,
    /// Entry pcs of parallel branches.
    pub branch_pcs: Box<[Pc]>,
    pub services: Vec<Service>,
    pub works: Vec<Work>,
    pub routes: Vec<Router>,
    /// Call sites and policies (see `model::program`), and the policies' running state.
    pub sites: Box<[CallSite]>,
    pub policies: Vec<PolicyDef>,
    pub breakers: Vec<Breaker>,
    /// The called service of each breaker.
    pub breaker_services: Vec<u32>,
    pub budgets: Vec<Budget>,
    pub limiters: Vec<Limiter>,
    /// Jitter stream per policy.
    pub jitter: Vec<SimRng>,
    /// Requests that entered each delay block since warm-up.
    pub delay_passed: Vec<u64>,
    pub sources: Vec<Source>,
    pub sessions: Vec<Sessions>,
    /// Attribute drawers, parallel to `sources` and `sessions`.
    pub source_draws: Vec<Drawer>,
    pub session_draws: Vec<Drawer>,
    pub totals: Totals,
    /// Figures of each of `run.phases`, in the model's order.
    pub phases: Vec<PhaseTotals>,
    pub windows: Windows,
    /// Breakdown rows of jobs in flight.
    pub paths: BreakdownPool,
    /// Sampled request traces.
    pub trace: Trace,
    /// Running state of each service kind, its service, its steps, and the buffer its steps
    /// fill (see `components::kinds`).
    pub kinds: Vec<KindState>,
    pub kind_services: Vec<u32>,
    pub kind_steps: Box<[KindStep]>,
    pub kind_out: StepOut,
    /// End of warm-up (tracing starts there).
    pub warmup: SimTime,
}

impl World {
    /// Builds the world for `model` with every random stream derived from `model.seed`.
    pub fn new(model: &Model) -> World {
        let seed = model.seed;
        let classes = model.classes.len();
        let p = &model.program;
        let services: Vec<Service> = p
            .services
            .iter()
            .map(|d| {
                Service::new(d.clone(), classes, stream(seed, &d.name, "errors"))
                    .with_throttles(stream(seed, &d.name, "throttles"), stream(seed, &d.name, "throttle_bursts"))
            })
            .collect();
        let works =
            p.works.iter().map(|w| Work::new(w.dist.clone(), stream(seed, &w.stream, w.purpose), w.delay, w.contended));
        let routes =
            p.routes.iter().zip(&p.route_streams).map(|(r, n)| Router::new(r.clone(), stream(seed, n, "route")));
        let sources = model.sources.iter().map(|s| Source::new(s.clone(), stream(seed, &s.name, "arrivals"))).collect();
        let mut first_user = 0;
        let sessions = model
            .sessions
            .iter()
            .map(|s| {
                first_user += s.users;
                Sessions::new(s.clone(), stream(seed, &s.name, "users"), first_user - s.users)
            })
            .collect();
        let wl = &model.workload;
        let drawer = |name: &str, d: &crate::model::Draws| Drawer::new(seed, name, d, &wl.intents, &wl.keys);
        let source_draws = model.sources.iter().map(|s| drawer(&s.name, &s.draws)).collect();
        let session_draws = model.sessions.iter().map(|s| drawer(&s.name, &s.draws)).collect();
        let intents = wl.intents.len();
        let users = model.sessions.iter().map(|s| s.users as usize).sum::<usize>()
            + model.sources.iter().filter_map(|s| s.draws.users).map(|u| u.0 as usize).sum::<usize>();
        let breakers = p.breakers.iter().map(|&(pol, _)| p.policies[pol as usize].breaker.as_ref().map(Breaker::new));
        let budgets = p.budgets.iter().map(|&(pol, _)| p.policies[pol as usize].budget.as_ref().map(Budget::new));
        let totals = Totals {
            by_class: (0..classes).map(|_| Latency::default()).collect(),
            // With one class its counts are the totals: not counted twice on the hot path.
            class_counts: if classes > 1 { vec![Counts::default(); classes] } else { Vec::new() },
            intent_counts: vec![Counts::default(); intents],
            by_intent: (0..intents).map(|_| Latency::default()).collect(),
            first_token_by_class: (0..if classes > 1 { classes } else { 0 }).map(|_| Latency::default()).collect(),
            first_token_by_intent: (0..intents).map(|_| Latency::default()).collect(),
            critical: CriticalPath::new(p.services.len() + 1),
            ..Totals::default()
        };
        World {
            ctx: Ctx::bounded(model.max_in_flight),
            ops: p.ops.clone().into_boxed_slice(),
            branch_pcs: p.branch_pcs.clone().into_boxed_slice(),
            windows: Windows::new(model.window, services.len()),
            services,
            works: works.collect(),
            routes: routes.collect(),
            sites: p.sites.clone().into_boxed_slice(),
            policies: p.policies.clone(),
            breakers: breakers.flatten().collect(),
            breaker_services: p.breakers.iter().map(|&(_, s)| s).collect(),
            budgets: budgets.flatten().collect(),
            limiters: p.limits.iter().map(|l| Limiter::new(l, users)).collect(),
            jitter: p.policies.iter().map(|pol| stream(seed, &format!("policies.{}", pol.name), "jitter")).collect(),
            delay_passed: vec![0; p.delays.len()],
            sources,
            sessions,
            source_draws,
            session_draws,
            totals,
            phases: model
                .phases
                .iter()
                .map(|ph| PhaseTotals { from: ph.from, to: ph.to, ..PhaseTotals::default() })
                .collect(),
            paths: BreakdownPool::new(p.services.len()),
            trace: Trace::new(model.trace),
            kinds: p.kinds.iter().map(|(s, d)| d.start(seed, &p.services[*s as usize].name)).collect(),
            kind_services: p.kinds.iter().map(|&(s, _)| s).collect(),
            kind_steps: p.kind_steps.clone().into_boxed_slice(),
            kind_out: StepOut::default(),
            warmup: model.warmup,
        }
    }

    /// Schedules first arrivals, first messages, windows and warm-up.
    pub fn prime(&mut self, warmup: SimTime) {
        for (i, s) in self.sources.iter_mut().enumerate() {
            s.schedule_next(i as u32, &mut self.ctx);
        }
        for (i, s) in self.sessions.iter_mut().enumerate() {
            s.start(i as u32, &mut self.ctx);
        }
        if warmup > SimTime::ZERO {
            self.ctx.at(warmup, Event::Warmup);
        }
        for (i, s) in self.services.iter().enumerate() {
            for (k, &(from, to, _)) in s.def.faults.capacity_drops.iter().enumerate() {
                let (service, drop) = (i as u32, k as u32);
                self.ctx.at(from, Event::Capacity { service, drop, on: true });
                self.ctx.at(to, Event::Capacity { service, drop, on: false });
            }
        }
        let w = self.windows.width;
        self.ctx.at(w, Event::Window);
        for k in 0..self.kinds.len() {
            self.kind_timer(k as u32, None);
        }
    }

    /// Handles one event at `ctx.now`.
    #[inline]
    pub fn handle(&mut self, event: Event) {
        match event {
            Event::Arrival { source } => {
                let src = &mut self.sources[source as usize];
                src.produced += 1;
                let (class, entry) = (src.def.class, src.def.entry);
                src.schedule_next(source, &mut self.ctx);
                self.admit(class, Origin::Source, entry, Attrs { user: u32::MAX, ..Attrs::default() }, source as usize);
            }
            Event::Think { sessions, user, left } => {
                let pop = &mut self.sessions[sessions as usize];
                if let Some(wait) = pop.sits_out(user, left, self.ctx.now.as_secs()) {
                    self.ctx.after(wait, Event::Think { sessions, user, left });
                    return;
                }
                let left = pop.on_send(user, left);
                let (class, entry) = (pop.def.class, pop.def.entry);
                let (user_id, session) = pop.ids(user);
                let attrs = Attrs { user: user_id, session, last: left == 1, ..Attrs::default() };
                let from = self.sources.len() + sessions as usize;
                self.admit(class, Origin::User { sessions, user, left }, entry, attrs, from);
            }
            Event::Wake { job } => self.advance(job),
            Event::KindTimer { kind, token } => self.kind_timer(kind, Some(token)),
            Event::Timeout { job, seq } => self.on_timeout(job, seq),
            Event::Capacity { service, drop, on } => {
                let s = &mut self.services[service as usize];
                let share = if on { s.def.faults.capacity_drops[drop as usize].2 } else { 1.0 };
                s.set_capacity(share);
                while let Some(next) = self.services[service as usize].take_waiting(self.ctx.now) {
                    self.start(next);
                }
            }
            Event::Window => {
                let now = self.ctx.now;
                let extra = self.window_extras();
                let areas = self.services.iter().map(|s| s.areas(now));
                let calls = self.call_counters();
                self.windows.close(now, self.totals.all.in_flight, areas, &calls, extra);
                self.ctx.at(now.after_secs(self.windows.width.as_secs()), Event::Window);
            }
            Event::Warmup => self.restart_stats(),
        }
    }

    /// The window's per-service p99s and open breakers and service kinds' columns, each
    /// starting a new window.
    pub fn window_extras(&mut self) -> Extras {
        let p99s = self.services.iter_mut().map(|s| s.calls.take_window_p99()).collect();
        let now = self.ctx.now;
        let mut breakers = vec![0; self.services.len()];
        for (b, &s) in self.breakers.iter_mut().zip(&self.breaker_services) {
            breakers[s as usize] += u32::from(b.take_window_open(now));
        }
        let mut kinds = Vec::new();
        self.kinds.iter_mut().for_each(|k| k.window(now, &mut kinds));
        Extras { p99s, breakers, kinds }
    }

    /// Every service's window counters now.
    pub fn call_counters(&self) -> Vec<[u64; 9]> {
        self.services.iter().map(|s| s.calls.window_counters()).collect()
    }

    /// (queue, busy) areas of every service up to `now`.
    pub fn service_areas(&self, now: SimTime) -> Vec<(f64, f64)> {
        self.services.iter().map(|s| s.areas(now)).collect()
    }

    /// A top-level request arrives from source (or population, after the sources) `from` with
    /// attributes `attrs`, draws the rest, and starts its flow at `entry`.
    fn admit(&mut self, class: u16, origin: Origin, entry: Pc, mut attrs: Attrs, from: usize) {
        let now = self.ctx.now;
        let n = self.sources.len();
        let drawer = if from < n { &mut self.source_draws[from] } else { &mut self.session_draws[from - n] };
        let class = if drawer.is_empty() {
            class
        } else {
            drawer.fill(now, &mut attrs);
            drawer.class(class)
        };
        let mut job = Job::new(now, class, origin, entry);
        job.attrs = attrs;
        if self.trace.left > 0 && now >= self.warmup {
            job.trace = self.trace.sample().unwrap_or(0);
        }
        let id = self.ctx.reqs.insert(job);
        let t = &mut self.totals;
        t.all.arrive();
        if let Some(c) = t.class_counts.get_mut(class as usize) {
            c.arrive();
        }
        if let Some(c) = t.intent_counts.get_mut(attrs.intent as usize) {
            c.arrive();
        }
        self.windows.arrivals += 1;
        for p in self.phases.iter_mut().filter(|p| p.holds(now)) {
            p.arrived += 1;
        }
        self.advance(id);
    }

    /// End of warm-up: every statistic restarts from now.
    pub fn restart_stats(&mut self) {
        let now = self.ctx.now;
        let calls = self.call_counters();
        self.windows.tally.restart(&calls);
        let t = &mut self.totals;
        t.carried_in = t.all.in_flight;
        t.all.restart();
        t.e2e.reset();
        t.by_class.iter_mut().for_each(Latency::reset);
        t.by_intent.iter_mut().for_each(Latency::reset);
        t.first_token.reset();
        t.first_token_by_class.iter_mut().chain(t.first_token_by_intent.iter_mut()).for_each(Latency::reset);
        t.critical.reset();
        t.class_counts.iter_mut().chain(t.intent_counts.iter_mut()).for_each(Counts::restart);
        self.services.iter_mut().for_each(|s| s.restart_stats(now));
        self.delay_passed.iter_mut().for_each(|d| *d = 0);
        self.breakers.iter_mut().for_each(Breaker::restart_stats);
        self.budgets.iter_mut().for_each(|b| b.refused = 0);
        self.limiters.iter_mut().for_each(Limiter::restart_stats);
        self.sessions.iter_mut().for_each(Sessions::restart_stats);
        self.kinds.iter_mut().for_each(|k| k.restart_stats(now));
    }
}
