//! A job: one entry of the request slab. A top-level request, a call to a service (one
//! attempt) and a parallel branch are all jobs, each running a flow with its own program
//! counter and linked to the job that waits for it.

use crate::engine::{ReqId, SimTime};
use crate::model::Pc;

/// No service: the job runs outside any service (a client flow or a branch of one).
pub const NO_SERVICE: u32 = u32::MAX;

/// No call: the job is not waiting on a call attempt.
pub const NO_CALL: Pc = u32::MAX;

/// A time that never comes (a job that was never orphaned).
pub const NEVER: SimTime = SimTime(u64::MAX);

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
    /// An injected failure that must not be retried (counted as `error`).
    ErrorFinal,
}

impl Outcome {
    /// Every outcome, in summary order.
    pub const ALL: [Outcome; 6] =
        [Outcome::Ok, Outcome::Rejected, Outcome::Throttled, Outcome::Timeout, Outcome::Error, Outcome::Unavailable];

    /// Its position in [`Outcome::ALL`] (and its bit in a retry mask).
    #[inline]
    pub fn index(self) -> usize {
        match self {
            Outcome::ErrorFinal => Outcome::Error as usize,
            o => o as usize,
        }
    }

    /// Its name in summary.json.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Rejected => "rejected",
            Outcome::Throttled => "throttled",
            Outcome::Timeout => "timeout",
            Outcome::Error | Outcome::ErrorFinal => "error",
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
    /// A background job a service kind started (a cache refresh): nobody waits for it, and
    /// it is not counted as a request or as a call to its service.
    Detached,
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
    /// The service whose flow it runs, for the critical path: its own service, or for a
    /// parallel branch its parent's ([`NO_SERVICE`]: a client flow).
    pub home: u32,
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
    /// The pc of the `Call` op whose attempt it waits on (retries go back there), or [`NO_CALL`].
    pub call_pc: Pc,
    /// Call site of that call.
    pub site: u32,
    /// Attempts made so far in the current call (0: no call under way).
    pub attempt: u16,
    /// When the current call's first attempt, and its latest attempt, started.
    pub call_born: SimTime,
    pub attempt_born: SimTime,
    /// The latest attempt's job (orphaned if the caller times out).
    pub child: ReqId,
    /// The previous backoff sleep [s] (for decorrelated jitter).
    pub sleep: f64,
    /// When its caller gave up on it ([`NEVER`] if it did not); its later work is wasted.
    pub orphaned_at: SimTime,
    /// When it got a slot of its service.
    pub started_at: SimTime,
    /// Whether it is a tail call (its service's call statistics are counted when it ends).
    pub tail: bool,
    /// Whether a fallback answered somewhere on its path.
    pub degraded: bool,
    /// Whether a guardrail on its path blocked the answer (the user got a refusal; passed up
    /// with each successful reply, like `degraded`).
    pub blocked: bool,
    /// The request's attributes, shared by all its calls.
    pub attrs: Attrs,
    /// Its critical-path breakdown row (`metrics::NO_ROW` until it needs one).
    pub crit: u32,
    /// When its current own segment (time not spent waiting on children) began.
    pub mark: SimTime,
    /// When its current wait began, and the time of the children merged into it since.
    pub wait_from: SimTime,
    pub merged_ns: u64,
    /// Its sampled request's trace track, or 0 if it is not traced.
    pub trace: u32,
    /// Which attempt of its call it is (1 for the first), for call attempts.
    pub nth: u16,
    /// A value a service kind keeps on the job while it is in the kind's hands (the endpoint
    /// instance serving it); 0 otherwise.
    pub kind_slot: u32,
    /// The outcome of a call that failed and sent it to a kind's failure step (the kind
    /// reads it there).
    pub failed: Option<Outcome>,
    /// When the first token of a streamed answer on its path was generated ([`NEVER`]: none
    /// yet): set by a streaming `llm`, passed up with each successful reply.
    pub first_token: SimTime,
}

/// What is left of a job once it has ended: the fields its reply, its statistics and its
/// critical path need (read in place, so the large job is not copied).
#[derive(Clone, Copy, Debug)]
pub struct Ended {
    pub born: SimTime,
    pub origin: Origin,
    /// Its critical-path bucket's service (`Job::home`).
    pub service: u32,
    pub class: u16,
    pub intent: u16,
    pub crit: u32,
    pub mark: SimTime,
    pub degraded: bool,
    pub blocked: bool,
    /// See [`Job::first_token`].
    pub first_token: SimTime,
}

impl Ended {
    /// The ended view of `j`.
    #[inline]
    pub fn of(j: &Job) -> Ended {
        Ended {
            born: j.born,
            origin: j.origin,
            service: j.home,
            class: j.class,
            intent: j.attrs.intent,
            crit: j.crit,
            mark: j.mark,
            degraded: j.degraded,
            blocked: j.blocked,
            first_token: j.first_token,
        }
    }
}

/// What a request carries down every call it makes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attrs {
    /// User id (sessions' users first, then sources' users); `u32::MAX` if none.
    pub user: u32,
    /// Session id of that user (a per-user count of sessions).
    pub session: u32,
    /// Intent index (0 when the model has no intents).
    pub intent: u16,
    /// Item key, from the source's key space (0 when it has none).
    pub key: u32,
    /// That key space's index in the model's `keys` (0 when it has none): components that
    /// store items key them by (space, key), so two spaces never share an item.
    pub space: u16,
    /// Input and output tokens (0 when the intent gives none).
    pub tokens_in: u32,
    pub tokens_out: u32,
    /// Whether it is the last message of its closed-loop session (the user then ends the
    /// session: a WebSocket client closes its connection, see `components::gateway`).
    pub last: bool,
}

impl Job {
    /// A job born now with `origin`, about to run from `pc`.
    #[inline(always)]
    pub fn new(now: SimTime, class: u16, origin: Origin, pc: Pc) -> Job {
        Job {
            born: now,
            entered: now,
            origin,
            service: NO_SERVICE,
            home: NO_SERVICE,
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
            call_pc: NO_CALL,
            site: 0,
            attempt: 0,
            call_born: now,
            attempt_born: now,
            child: ReqId::NONE,
            sleep: 0.0,
            orphaned_at: NEVER,
            started_at: now,
            tail: false,
            degraded: false,
            blocked: false,
            attrs: Attrs { user: u32::MAX, ..Attrs::default() },
            crit: crate::metrics::NO_ROW,
            mark: now,
            wait_from: now,
            merged_ns: 0,
            trace: 0,
            nth: 0,
            kind_slot: 0,
            failed: None,
            first_token: NEVER,
        }
    }

    /// A child (call attempt or branch) of this job, born now, waiting with token `seq`.
    pub fn child(&self, me: ReqId, now: SimTime, seq: u32, pc: Pc) -> Job {
        let mut c = Job::new(now, self.class, Origin::Child { parent: me, seq }, pc);
        c.attrs = self.attrs;
        c.home = self.home;
        c.trace = self.trace;
        c
    }

    /// The parent and its wait token, for a child job.
    pub fn parent(&self) -> Option<(ReqId, u32)> {
        match self.origin {
            Origin::Child { parent, seq } => Some((parent, seq)),
            _ => None,
        }
    }
}
