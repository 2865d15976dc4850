//! What components see of the engine: the clock, the event list and the job table. Components schedule events and look requests up only through [`Ctx`].

use super::job::Job;
use crate::engine::{EventQueue, ReqId, SimTime, Slab};

/// An event; small and `Copy`, so the event list never allocates per event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Source `source` produces its next arrival.
    Arrival { source: u32 },
    /// User `user` of population `sessions` finishes thinking (or pausing) and sends a message;
    /// `left` messages remain in its session (0: the session is over, a new one starts).
    Think { sessions: u32, user: u32, left: u32 },
    /// Job `job` finishes a work step (or a delay) and goes on with its flow.
    Wake { job: ReqId },
    /// The caller's timer for attempt `seq` of job `job` fires.
    Timeout { job: ReqId, seq: u32 },
    /// Capacity drop `drop` of service `service` begins (`on`) or ends.
    Capacity { service: u32, drop: u32, on: bool },
    /// A timer of service kind `kind` (its index among the model's kinds) fires with `token`.
    KindTimer { kind: u32, token: u32 },
    /// Close the current time-series window.
    Window,
    /// End of warm-up: statistics restart.
    Warmup,
}

/// The engine state handed to components.
pub struct Ctx {
    /// The current simulated time.
    pub now: SimTime,
    pub queue: EventQueue<Event>,
    pub reqs: Slab<Job>,
    /// Events processed so far.
    pub events: u64,
}

impl Ctx {
    /// A fresh context at time zero.
    pub fn new() -> Ctx {
        Ctx { now: SimTime::ZERO, queue: EventQueue::default(), reqs: Slab::default(), events: 0 }
    }

    /// A context whose request table is expected to hold at most `max_in_flight` entries (the
    /// run stops past them) plus what one event adds, so its growth stops doubling there.
    pub fn bounded(max_in_flight: u64) -> Ctx {
        let mut c = Ctx::new();
        c.reqs.set_limit(usize::try_from(max_in_flight).unwrap_or(usize::MAX).saturating_add(4096));
        c
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
