//! The compiled flow program: every way a request can move — the blocks of the foundation
//! (stations, delays, routers, forks, joins) and the flows of services — as one flat list of
//! small operations that the event loop interprets. There is one mechanism: a station is a
//! service whose flow is one `Work`, and a chain of blocks is a client flow that calls them in
//! turn.

use crate::cost::CostLine;
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
    /// Call service `service`, wait for its reply, then go on at `then`.
    Call { service: u32, then: Pc },
    /// Start `count` branches at the pcs in `branch_pcs[first..first + count]`; go on at
    /// `then` once `need` of them succeeded (fail as soon as that cannot happen).
    Parallel { first: u32, count: u16, need: u16, then: Pc },
    /// Jump to the pc picked by `routes[route]`.
    Route { route: u32 },
}

/// How a route picks its pc.
#[derive(Clone, Debug)]
pub enum RouteDef {
    /// Cumulative probabilities (last is 1.0) and their pcs.
    Probability { cumulative: Vec<f64>, pcs: Vec<Pc> },
    /// A pc per class index.
    Class { by_class: Vec<Pc> },
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
    /// First op of its flow.
    pub entry: Pc,
    pub cost: Vec<CostLine>,
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
    /// Per `services` entry (in name order): the pc of `[call it, return]`, where a `to`
    /// naming a service leads.
    pub stubs: Vec<Pc>,
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
        self.works.push(WorkDef { stream, purpose, dist, delay });
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

    /// Index of the service called `name`.
    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
    }
}
