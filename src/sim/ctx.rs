//! What components see of the engine: the clock, the event list, the request table and the
//! run-wide counters. Components schedule events and look requests up only through [`Ctx`].

use crate::engine::{EventQueue, ReqId, SimTime, Slab};

/// An event; small and `Copy`, so the event list never allocates per event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Source `source` produces its next arrival.
    Arrival { source: u32 },
    /// User `user` of population `sessions` finishes thinking (or pausing) and sends a message;
    /// `left` messages remain in its session (0: the session is over, a new one starts).
    Think { sessions: u32, user: u32, left: u32 },
    /// Request `req` finishes its time at block `block` (a service or a delay).
    Done { block: u32, req: ReqId },
    /// Close the current time-series window.
    Window,
    /// End of warm-up: statistics restart.
    Warmup,
}

/// Where a request came from, and so whom to tell when it finishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// An open-loop source.
    Source,
    /// A message of user `user` in population `sessions`, with `left` messages to go in its
    /// session, this one included.
    User { sessions: u32, user: u32, left: u32 },
    /// A branch of a forked parent.
    Child { parent: ReqId },
}

/// A request in flight.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// When it entered the system.
    pub born: SimTime,
    /// When it entered the block it is at now (for wait and response times).
    pub entered: SimTime,
    /// Class index (priority order).
    pub class: u16,
    pub origin: Origin,
    /// Children not yet joined (forks only).
    pub pending: u32,
    /// Whether a child was rejected (the parent will be rejected once all have returned).
    pub failed: bool,
}

impl Request {
    /// A new request born now.
    pub fn new(now: SimTime, class: u16, origin: Origin) -> Request {
        Request { born: now, entered: now, class, origin, pending: 0, failed: false }
    }
}

/// The engine state handed to components.
pub struct Ctx {
    /// The current simulated time.
    pub now: SimTime,
    pub queue: EventQueue<Event>,
    pub reqs: Slab<Request>,
    /// Events processed so far.
    pub events: u64,
}

impl Ctx {
    /// A fresh context at time zero.
    pub fn new() -> Ctx {
        Ctx { now: SimTime::ZERO, queue: EventQueue::default(), reqs: Slab::default(), events: 0 }
    }

    /// Schedules `event` `delay_s` seconds from now.
    #[inline]
    pub fn after(&mut self, delay_s: f64, event: Event) {
        self.queue.push(self.now.after_secs(delay_s), event);
    }

    /// Schedules `event` at `time` (not before now).
    #[inline]
    pub fn at(&mut self, time: SimTime, event: Event) {
        self.queue.push(time.max(self.now), event);
    }
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx::new()
    }
}
