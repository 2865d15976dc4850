//! The world: engine context, blocks, sources and populations, and the routing of requests
//! between them. This is the only place that knows every kind of block.

use super::ctx::{Ctx, Event, Origin, Request};
use crate::components::{Block, Delay, Router, Sessions, Source, Station, forkjoin};
use crate::engine::{ReqId, SimTime, stream};
use crate::metrics::{Latency, Windows};
use crate::model::{BlockDef, Model, Target};

/// How a top-level request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Rejected,
}

/// Run-wide counters for top-level requests (children of forks are not counted here).
#[derive(Debug, Default)]
pub struct Totals {
    pub arrived: u64,
    pub completed: u64,
    pub rejected: u64,
    pub failed: u64,
    /// Top-level requests in the system now (not reset at warm-up).
    pub in_flight: u64,
    /// End-to-end latency of completed requests [ns].
    pub e2e: Latency,
    /// The same, per class.
    pub by_class: Vec<Latency>,
}

/// Everything one run needs.
pub struct World {
    pub ctx: Ctx,
    pub blocks: Vec<Block>,
    pub sources: Vec<Source>,
    pub sessions: Vec<Sessions>,
    pub totals: Totals,
    pub windows: Windows,
    /// Station block indices, in block order.
    pub station_ids: Vec<usize>,
}

impl World {
    /// Builds the world for `model` with every random stream derived from `model.seed`.
    pub fn new(model: &Model) -> World {
        let seed = model.seed;
        let classes = model.classes.len();
        let blocks: Vec<Block> = model
            .blocks
            .iter()
            .zip(&model.block_names)
            .map(|(def, name)| match def.clone() {
                BlockDef::Station(d) => Block::Station(Station::new(d, stream(seed, name, "service"), classes)),
                BlockDef::Delay { delay, to, cost } => {
                    let rng = stream(seed, name, "delay");
                    Block::Delay(Delay { delay, rng, to, cost, passed: 0 })
                }
                BlockDef::Router(d) => Block::Router(Router::new(d, stream(seed, name, "route"))),
                BlockDef::Fork { branches, join } => Block::Fork { branches, join },
                BlockDef::Join { to } => Block::Join { to },
            })
            .collect();
        let station_ids: Vec<usize> =
            blocks.iter().enumerate().filter(|(_, b)| matches!(b, Block::Station(_))).map(|(i, _)| i).collect();
        let sources = model.sources.iter().map(|s| Source::new(s.clone(), stream(seed, &s.name, "arrivals"))).collect();
        let sessions =
            model.sessions.iter().map(|s| Sessions::new(s.clone(), stream(seed, &s.name, "users"))).collect();
        let totals = Totals { by_class: (0..classes).map(|_| Latency::default()).collect(), ..Totals::default() };
        World {
            ctx: Ctx::new(),
            blocks,
            sources,
            sessions,
            totals,
            windows: Windows::new(model.window, station_ids.len()),
            station_ids,
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
        let w = self.windows.width;
        self.ctx.at(w, Event::Window);
    }

    /// Handles one event at `ctx.now`.
    #[inline]
    pub fn handle(&mut self, event: Event) {
        match event {
            Event::Arrival { source } => {
                let src = &mut self.sources[source as usize];
                src.produced += 1;
                let (class, to) = (src.def.class, src.def.to);
                src.schedule_next(source, &mut self.ctx);
                self.admit(class, Origin::Source, to);
            }
            Event::Think { sessions, user, left } => {
                let pop = &mut self.sessions[sessions as usize];
                let left = pop.on_send(left);
                let (class, to) = (pop.def.class, pop.def.to);
                self.admit(class, Origin::User { sessions, user, left }, to);
            }
            Event::Done { block, req } => self.on_done(block as usize, req),
            Event::Window => {
                let now = self.ctx.now;
                let blocks = &self.blocks;
                let areas = self.station_ids.iter().map(|&i| station_areas(blocks, i, now));
                self.windows.close(now, self.totals.in_flight, areas);
                self.ctx.at(now.after_secs(self.windows.width.as_secs()), Event::Window);
            }
            Event::Warmup => self.restart_stats(),
        }
    }

    /// (queue, busy) areas of station block `i` up to `now`.
    pub fn station_areas(&self, i: usize, now: SimTime) -> (f64, f64) {
        station_areas(&self.blocks, i, now)
    }

    fn admit(&mut self, class: u16, origin: Origin, to: Target) {
        let id = self.ctx.reqs.insert(Request::new(self.ctx.now, class, origin));
        self.totals.arrived += 1;
        self.totals.in_flight += 1;
        self.windows.arrivals += 1;
        self.forward(id, to);
    }

    fn on_done(&mut self, block: usize, req: ReqId) {
        let Some(entered) = self.ctx.reqs.get(req).map(|r| r.entered) else {
            return; // a stale timer: the request has already finished
        };
        let next = match &mut self.blocks[block] {
            Block::Station(s) => s.done(block as u32, &mut self.ctx, entered),
            Block::Delay(d) => d.to,
            _ => unreachable!("only stations and delays schedule Done"),
        };
        self.forward(req, next);
    }

    /// Sends request `id` into `target`, passing through zero-time blocks until it lands
    /// somewhere that holds it (a station or delay) or finishes.
    pub fn forward(&mut self, id: ReqId, mut target: Target) {
        loop {
            let Some(b) = target.block() else {
                self.finish(id, Outcome::Completed);
                return;
            };
            match &mut self.blocks[b] {
                Block::Station(s) => {
                    if !s.arrive(b as u32, &mut self.ctx, id) {
                        self.finish(id, Outcome::Rejected);
                    }
                    return;
                }
                Block::Delay(d) => {
                    d.enter(b as u32, &mut self.ctx, id);
                    return;
                }
                Block::Router(r) => {
                    let class = self.ctx.reqs.get(id).map_or(0, |r| r.class);
                    target = r.pick(class);
                }
                Block::Fork { branches, .. } => {
                    for k in 0..branches.len() {
                        let Block::Fork { branches, .. } = &self.blocks[b] else { unreachable!() };
                        let t = branches[k];
                        if let Some(child) = forkjoin::spawn_child(&mut self.ctx, id) {
                            self.forward(child, t);
                        }
                    }
                    return;
                }
                Block::Join { to } => {
                    let to = *to;
                    self.rejoin(id, false, to);
                    return;
                }
            }
        }
    }

    /// Child `child` arrives at its join, whose exit is `then` (or is rejected on its branch).
    fn rejoin(&mut self, child: ReqId, rejected: bool, then: Target) {
        let Some(Origin::Child { parent }) = self.ctx.reqs.get(child).map(|r| r.origin) else {
            return;
        };
        let Some(failed) = forkjoin::child_returns(&mut self.ctx, parent, child, rejected) else {
            return;
        };
        if failed {
            self.finish(parent, Outcome::Rejected);
            return;
        }
        self.forward(parent, then);
    }

    /// A request leaves the system (completed at `end`, or rejected).
    fn finish(&mut self, id: ReqId, outcome: Outcome) {
        let Some(req) = self.ctx.reqs.get(id).copied() else {
            return;
        };
        if let Origin::Child { .. } = req.origin {
            // Only rejection ends a child early; validation guarantees branches reach their join.
            self.rejoin(id, true, Target::END);
            return;
        }
        self.ctx.reqs.remove(id);
        let t = &mut self.totals;
        t.in_flight -= 1;
        match outcome {
            Outcome::Completed => {
                let ns = self.ctx.now.since(req.born);
                t.completed += 1;
                t.e2e.record(ns);
                if t.by_class.len() > 1 {
                    t.by_class[req.class as usize].record(ns);
                }
                self.windows.completions += 1;
                self.windows.latency.record(ns);
            }
            Outcome::Rejected => {
                t.rejected += 1;
                self.windows.rejections += 1;
            }
        }
        if let Origin::User { sessions, user, left } = req.origin {
            self.sessions[sessions as usize].on_reply(sessions, user, left, &mut self.ctx);
        }
    }

    /// End of warm-up: every statistic restarts from now.
    pub fn restart_stats(&mut self) {
        let now = self.ctx.now;
        let t = &mut self.totals;
        t.arrived = 0;
        t.completed = 0;
        t.rejected = 0;
        t.failed = 0;
        t.e2e.reset();
        t.by_class.iter_mut().for_each(Latency::reset);
        for b in &mut self.blocks {
            match b {
                Block::Station(s) => s.restart_stats(now),
                Block::Delay(d) => d.passed = 0,
                _ => {}
            }
        }
        self.sessions.iter_mut().for_each(Sessions::restart_stats);
    }
}

/// (queue, busy) areas of station block `i` up to `now` [level·ns].
fn station_areas(blocks: &[Block], i: usize, now: SimTime) -> (f64, f64) {
    match &blocks[i] {
        Block::Station(s) => s.areas(now),
        _ => (0.0, 0.0),
    }
}
