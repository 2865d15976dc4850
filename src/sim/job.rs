//! A job: one entry of the request slab. A top-level request, a call to a service (one
//! attempt) and a parallel branch are all jobs, each running a flow with its own program
//! counter and linked to the job that waits for it.

use crate::engine::{ReqId, SimTime};
use crate::model::Pc;

/// No service: the job runs outside any service (a client flow or a branch of one).
pub const NO_SERVICE: u32 = u32::MAX;

/// How a call (or a whole flow) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Ok,
    /// The service's queue was full.
    Rejected,
    /// A rate limit or quota said no (retryable).
    Throttled,
    /// The caller's deadline passed first.
    Timeout,
    /// An injected failure, or a failed dependency.
    Error,
    /// A breaker was open, or the service was down.
    Unavailable,
}

impl Outcome {
    /// Every outcome, in summary order.
    pub const ALL: [Outcome; 6] =
        [Outcome::Ok, Outcome::Rejected, Outcome::Throttled, Outcome::Timeout, Outcome::Error, Outcome::Unavailable];

    /// Its name in summary.json.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Rejected => "rejected",
            Outcome::Throttled => "throttled",
            Outcome::Timeout => "timeout",
            Outcome::Error => "error",
            Outcome::Unavailable => "unavailable",
        }
    }
}

/// Who a job answers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A top-level request from an open-loop source.
    Source,
    /// A top-level message of user `user` in population `sessions`, with `left` messages to go
    /// in its session, this one included.
    User { sessions: u32, user: u32, left: u32 },
    /// A call attempt or a parallel branch; its reply goes to `parent` if the parent still
    /// waits with token `seq`.
    Child { parent: ReqId, seq: u32 },
}

/// A job in flight.
#[derive(Clone, Copy, Debug)]
pub struct Job {
    /// When it was created (arrival of a request, issue of a call attempt).
    pub born: SimTime,
    /// When it entered its service's queue (for wait and response times).
    pub entered: SimTime,
    pub origin: Origin,
    /// The service it was sent to, or [`NO_SERVICE`].
    pub service: u32,
    /// Next op to run once it resumes.
    pub pc: Pc,
    /// Its own wait token: bumped each time it starts waiting, so a late reply is recognised.
    pub seq: u32,
    /// Children it still waits for.
    pub pending: u16,
    /// Successes still needed before it goes on.
    pub need: u16,
    /// Failures it can still absorb (branches that may fail while `need` stays reachable).
    pub spare: u16,
    /// The outcome that decided its wait (set when it is resolved).
    pub result: Option<Outcome>,
    /// Class index (priority order).
    pub class: u16,
    /// Whether it holds one of its service's slots.
    pub holding: bool,
    /// Whether it has started its service's flow.
    pub started: bool,
    /// Whether it is being advanced further up the stack (a reply then only records).
    pub running: bool,
}

impl Job {
    /// A job born now with `origin`, about to run from `pc`.
    pub fn new(now: SimTime, class: u16, origin: Origin, pc: Pc) -> Job {
        Job {
            born: now,
            entered: now,
            origin,
            service: NO_SERVICE,
            pc,
            seq: 0,
            pending: 0,
            need: 0,
            spare: 0,
            result: None,
            class,
            holding: false,
            started: false,
            running: false,
        }
    }

    /// The parent and its wait token, for a child job.
    pub fn parent(&self) -> Option<(ReqId, u32)> {
        match self.origin {
            Origin::Child { parent, seq } => Some((parent, seq)),
            _ => None,
        }
    }
}
