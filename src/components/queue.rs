//! `queue`: an SQS standard queue with a dead-letter queue (seed 004 runbooks 2 and 5).
//!
//! A call to the service is a SendMessage: it answers at once (`ok`), or `throttled` above the
//! enqueue rate limit, or `rejected` when the queue already holds `max_depth` messages (the
//! producer's back-pressure). The message becomes visible after `delay`; `workers` consumers
//! (long polling: a free worker receives a visible message at once) each process one message
//! at a time, as a background job that calls `consumer` under `policy` — so retries inside one
//! receive are that policy's. A message received is invisible for `visibility_timeout`:
//! - the consumer's call succeeds: the message is deleted (processed);
//! - it fails: nothing is deleted; the message becomes visible again when the timeout expires
//!   and is received again (ReceiveCount + 1);
//! - it is still running when the timeout expires: the message is visible again and another
//!   worker may receive it while the first still works on it (a duplicate receive); whichever
//!   finishes first deletes it, the other's finish is a duplicate completion.
//!
//! Redrive (SQS: "the dead-letter queue to which Amazon SQS moves messages after the value of
//! maxReceiveCount is exceeded"): a receive that would make a message's ReceiveCount exceed
//! `max_receive_count` moves it to the dead-letter queue instead of delivering it. Messages
//! older than `retention` are dropped. With `app_retries` (runbook 5's fix), a failed
//! processing whose outcome is retryable deletes the message and sends it again with its retry
//! count + 1 and a delay of min(cap, base·2ⁿ); after `max` retries, or at once for a failure
//! that is not retryable, the consumer moves it to the dead-letter queue itself.
//!
//! Every message is accounted for: arrived = processed + moved to the DLQ + dropped + still in
//! the queue (visible, delayed or in flight).

use std::collections::VecDeque;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::kinds::{Go, Kind, StepCx};
use crate::engine::SimTime;
use crate::model::program::RETURN;
use crate::model::quantity::Quantity;
use crate::model::{KindBuilder, Pc};
use crate::policy::Tokens;
use crate::sim::{Attrs, Job, Outcome};

/// Most messages one queue may hold at once (`max_depth`): each is about 100 bytes with its
/// places in the ready and send-order lists, so 10 million is about 1 GB. SQS itself stores
/// any number; beyond this a run refuses enqueues (counted as `refused_depth`).
pub const MAX_DEPTH: u64 = 10_000_000;
/// Most consumer workers (each can hold a processing job and its receipt).
pub const MAX_WORKERS: u32 = 1_000_000;
/// Most application retries carried in a message.
pub const MAX_APP_RETRIES: u32 = 1_000;
/// SQS limits: visibility timeout ≤ 12 h, delay ≤ 15 min, retention 1 min to 14 days,
/// maxReceiveCount 1 to 1,000, about 120,000 messages in flight on a standard queue.
const MAX_VISIBILITY_S: f64 = 43_200.0;
const MAX_DELAY_S: f64 = 900.0;
const RETENTION_S: (f64, f64) = (60.0, 14.0 * 86_400.0);
const MAX_RECEIVE_COUNT: u32 = 1_000;
const SQS_IN_FLIGHT: u32 = 120_000;

/// Settings of a `queue` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    /// The service that processes one message (its flow is the consumer's work).
    pub consumer: String,
    /// The `policies` entry wrapping the consumer call (retries inside one receive).
    pub policy: Option<String>,
    /// Concurrent receives: messages processed at once (≥ 1).
    pub workers: u32,
    /// How long a received message stays invisible (default 30 s, SQS's default; > 0, ≤ 12 h).
    pub visibility_timeout: Option<Quantity>,
    /// Receives after which the next receive moves the message to the dead-letter queue
    /// (1–1,000; default: no dead-letter queue).
    pub max_receive_count: Option<u32>,
    /// DelaySeconds: a new message is invisible this long (default 0, ≤ 15 min).
    pub delay: Option<Quantity>,
    /// Messages older than this are dropped (default 4 days, SQS's default; 1 min to 14 days).
    pub retention: Option<Quantity>,
    /// Producer back-pressure: an enqueue finding this many messages in the queue (visible,
    /// delayed or in flight) is `rejected` (default and at most 10,000,000).
    pub max_depth: Option<u64>,
    /// Enqueue rate limit [messages/s]: beyond it an enqueue is `throttled` (default none).
    pub enqueue_rate: Option<f64>,
    /// Burst of that limit [messages] (default one second's worth, at least 1).
    pub enqueue_burst: Option<f64>,
    /// Messages in flight at most; a worker finding the limit reached waits (default 120,000,
    /// SQS's standard-queue quota).
    pub max_in_flight: Option<u32>,
    /// Failure outcomes counted as retryable (default `throttled`, `timeout`, `unavailable`,
    /// `rejected`; `error` is not).
    pub retryable: Option<Vec<String>>,
    /// Application-level retries carried in the message (runbook 5's fix).
    pub app_retries: Option<AppRetrySpec>,
}

/// Retries the consumer counts in the message body.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppRetrySpec {
    /// Re-sends after which a retryable failure goes to the dead-letter queue (≥ 1).
    pub max: u32,
    /// Delay of the first re-send (default 1 s); re-send n waits min(cap, base·2ⁿ).
    pub base: Option<Quantity>,
    /// Largest delay (default 900 s, SQS's largest DelaySeconds).
    pub cap: Option<Quantity>,
}

/// Checked settings.
#[derive(Clone, Debug)]
pub struct QueueDef {
    /// The pc a processing job starts at (the consumer call).
    process: Pc,
    workers: u32,
    visibility_ns: u64,
    max_receives: Option<u32>,
    delay_ns: u64,
    retention_ns: u64,
    max_depth: u64,
    rate: Option<(f64, f64)>,
    max_in_flight: u32,
    /// Per outcome index ([`Outcome::index`]), whether it is retryable.
    retryable: [bool; 6],
    /// (max, base [s], cap [s]).
    app: Option<(u32, f64, f64)>,
}

const ENQUEUE: u16 = 0;
const DONE: u16 = 1;
const FAILED: u16 = 2;
/// Timer tokens: the kind in the top two bits, a message index below.
const VISIBLE: u32 = 1 << 30;
const DELAYED: u32 = 2 << 30;
const PUMP: u32 = 3 << 30;
const INDEX: u32 = (1 << 30) - 1;

/// Where a message is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    /// Invisible until the time given (DelaySeconds, or an application retry's delay).
    Delayed(SimTime),
    Visible,
    /// Received; visible again at the time given unless deleted first.
    InFlight(SimTime),
    /// Deleted, moved or dropped; its slot is reused once no processing of it runs.
    Gone,
}

/// One message.
#[derive(Clone, Copy, Debug)]
struct Msg {
    /// When it was (last) sent [the SQS SentTimestamp]: its age and retention count from here.
    sent: SimTime,
    /// Bumped at each re-send and reuse, so stale list entries and receipts are recognised.
    generation: u32,
    /// SQS ApproximateReceiveCount (restarts with an application re-send).
    receives: u32,
    /// Receives over its whole life, re-sends included.
    deliveries: u32,
    /// Application retries so far.
    app: u32,
    /// Processings of it still running.
    running: u32,
    state: State,
    /// The latest failed processing's outcome (None: none failed yet).
    last_fail: Option<Outcome>,
    attrs: Attrs,
    class: u16,
}

/// A receive in progress: the message and the generation it was received at.
#[derive(Clone, Copy, Debug)]
struct Receipt {
    msg: u32,
    generation: u32,
}

/// Why a message went to the dead-letter queue, and whether its last failure was retryable.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct DlqCounts {
    /// Moved by redrive: a receive past `max_receive_count`.
    pub max_receives: u64,
    /// Moved by the consumer after `app_retries.max` retryable failures.
    pub exhausted: u64,
    /// Moved by the consumer at a failure that is not retryable.
    pub not_retryable_failure: u64,
    /// Of all moved: the last failure was retryable, or the message was still being processed
    /// when its visibility expired (no failure seen).
    pub retryable: u64,
    pub not_retryable: u64,
    /// By the last processing's outcome (`visibility`: no processing had failed; it expired).
    pub throttled: u64,
    pub timeout: u64,
    pub error: u64,
    pub unavailable: u64,
    pub rejected: u64,
    pub visibility: u64,
}

impl DlqCounts {
    fn total(&self) -> u64 {
        self.max_receives + self.exhausted + self.not_retryable_failure
    }
}

/// Counters (since warm-up, or since time zero for the balance).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct QueueCounts {
    /// Messages sent by producers (re-sends not included).
    pub arrived: u64,
    /// Deleted after a successful processing.
    pub processed: u64,
    /// Moved to the dead-letter queue.
    pub dead_lettered: u64,
    /// Dropped at the end of their retention.
    pub dropped: u64,
    /// Enqueues refused by back-pressure (`max_depth`) and by the enqueue rate limit.
    pub refused_depth: u64,
    pub refused_rate: u64,
    /// Receives (deliveries to a worker).
    pub receives: u64,
    /// Receives of a message another worker was still processing (double processing).
    pub duplicate_receives: u64,
    /// Successful processings of a message already deleted, moved or dropped.
    pub duplicate_completions: u64,
    /// Visibility timeouts that expired, and those that expired while the processing still ran.
    pub visibility_expired: u64,
    pub expired_while_processing: u64,
    /// Processings that failed (the consumer call's final outcome was not `ok`).
    pub failed_processings: u64,
    /// Application re-sends.
    pub resent: u64,
    /// Σ over processed messages of their deliveries (for receives per message).
    pub processed_deliveries: u64,
    /// Σ over processed messages of their time from first send to deletion [s].
    pub time_in_queue_s: f64,
    /// Longest time from send to deletion of a processed message [s].
    pub max_time_in_queue_s: f64,
    /// Σ over processed messages of their wait before their first receive [s].
    pub first_wait_s: f64,
    pub first_receives: u64,
}

/// A running queue.
pub struct Queue {
    def: QueueDef,
    msgs: Vec<Msg>,
    free: Vec<u32>,
    /// Visible messages in the order they became visible (stale entries skipped).
    ready: VecDeque<(u32, u32)>,
    /// Messages in send order (stale entries skipped): the front is the oldest.
    order: VecDeque<(u32, u32)>,
    receipts: Vec<Receipt>,
    free_receipts: Vec<u32>,
    /// Messages in the queue (visible, delayed or in flight), visible ones, in flight ones.
    stored: u64,
    visible: u64,
    in_flight: u32,
    /// Workers processing now.
    busy: u32,
    pump_set: bool,
    bucket: Option<Tokens>,
    /// Dead-letter queue since time zero (its depth: nothing consumes it).
    dlq: DlqCounts,
    dlq_at_warmup: DlqCounts,
    counts: QueueCounts,
    /// Since time zero, for the balance.
    total: QueueCounts,
    /// Processed in the open time-series window.
    window_processed: u64,
    /// When the statistics were last restarted (warm-up's end).
    since: SimTime,
    window_dlq: u64,
}

impl Kind for Queue {
    type Spec = QueueSpec;
    type Def = QueueDef;

    fn compile(spec: &QueueSpec, b: &mut KindBuilder) -> Option<QueueDef> {
        let mut ok = true;
        if spec.workers == 0 || spec.workers > MAX_WORKERS {
            b.issue("workers", format!("must be from 1 to {MAX_WORKERS} concurrent receives, got {}", spec.workers));
            ok = false;
        }
        let mut secs = |b: &mut KindBuilder, field: &str, q: Option<Quantity>, default: f64, range: (f64, f64)| {
            duration(b, field, q.map_or(default, |q| q.0), range).unwrap_or_else(|| {
                ok = false;
                0
            })
        };
        // A visibility timeout of 0 (SQS allows it) would let a failing message be received
        // again at the same instant without end: at least 1 ms.
        let visibility_ns = secs(b, "visibility_timeout", spec.visibility_timeout, 30.0, (1e-3, MAX_VISIBILITY_S));
        let delay_ns = secs(b, "delay", spec.delay, 0.0, (0.0, MAX_DELAY_S));
        let retention_ns = secs(b, "retention", spec.retention, 4.0 * 86_400.0, RETENTION_S);
        let app = spec.app_retries.as_ref().map(|a| {
            let base = secs(b, "app_retries.base", a.base, 1.0, (0.0, MAX_DELAY_S)) as f64 * 1e-9;
            let cap = secs(b, "app_retries.cap", a.cap, 900.0, (0.0, MAX_DELAY_S)) as f64 * 1e-9;
            (a.max, base, cap)
        });
        if let Some(a) = &spec.app_retries
            && (a.max == 0 || a.max > MAX_APP_RETRIES)
        {
            b.issue("app_retries.max", format!("must be from 1 to {MAX_APP_RETRIES} re-sends, got {}", a.max));
            ok = false;
        }
        if let Some(n) = spec.max_receive_count
            && !(1..=MAX_RECEIVE_COUNT).contains(&n)
        {
            let msg = format!(
                "must be from 1 to {MAX_RECEIVE_COUNT} (SQS's range), got {n}; leave it out for no dead-letter queue"
            );
            b.issue("max_receive_count", msg);
            ok = false;
        }
        let max_depth = spec.max_depth.unwrap_or(MAX_DEPTH);
        if max_depth == 0 || max_depth > MAX_DEPTH {
            b.issue("max_depth", format!("must be from 1 to {MAX_DEPTH} messages, got {max_depth}"));
            ok = false;
        }
        let max_in_flight = spec.max_in_flight.unwrap_or(SQS_IN_FLIGHT);
        if max_in_flight == 0 {
            b.issue("max_in_flight", "must be at least 1 message");
            ok = false;
        }
        let rate = match spec.enqueue_rate {
            None => {
                if spec.enqueue_burst.is_some() {
                    b.issue("enqueue_burst", "needs `enqueue_rate`");
                    ok = false;
                }
                None
            }
            Some(r) => {
                let burst = spec.enqueue_burst.unwrap_or(r.max(1.0));
                if !(r.is_finite() && r > 0.0 && r <= crate::model::limits::MAX_RATE) {
                    b.issue("enqueue_rate", format!("must be a rate above 0 and at most 1e7 messages/s, got {r}"));
                    ok = false;
                }
                if !(burst.is_finite() && burst >= 1.0 && burst <= MAX_DEPTH as f64) {
                    b.issue("enqueue_burst", format!("must be from 1 to {MAX_DEPTH} messages, got {burst}"));
                    ok = false;
                }
                Some((r, burst))
            }
        };
        let retryable = retryable_outcomes(spec.retryable.as_deref(), b).unwrap_or_else(|| {
            ok = false;
            [false; 6]
        });
        let failed = b.step(FAILED, vec![]);
        let done = b.step(DONE, vec![RETURN]);
        if spec.consumer == b.service_name() {
            let msg = "names this queue itself: its workers would receive messages only to send them back at once, for ever (give the service that processes a message)";
            b.issue("consumer", msg);
            return None;
        }
        let process = b.call("consumer", &spec.consumer, spec.policy.as_deref(), done, Some(failed))?;
        b.entry = b.step(ENQUEUE, vec![RETURN]);
        ok.then_some(QueueDef {
            process,
            workers: spec.workers,
            visibility_ns,
            max_receives: spec.max_receive_count,
            delay_ns,
            retention_ns,
            max_depth,
            rate,
            max_in_flight,
            retryable,
            app,
        })
    }

    fn holds_while_waiting() -> bool {
        false
    }

    fn start(def: &QueueDef, _seed: u64, _service: &str) -> Queue {
        Queue {
            def: def.clone(),
            msgs: Vec::new(),
            free: Vec::new(),
            ready: VecDeque::new(),
            order: VecDeque::new(),
            receipts: Vec::new(),
            free_receipts: Vec::new(),
            stored: 0,
            visible: 0,
            in_flight: 0,
            busy: 0,
            pump_set: false,
            bucket: def.rate.map(|(r, b)| Tokens::full(r, b)),
            dlq: DlqCounts::default(),
            dlq_at_warmup: DlqCounts::default(),
            counts: QueueCounts::default(),
            total: QueueCounts::default(),
            window_processed: 0,
            window_dlq: 0,
            since: SimTime::ZERO,
        }
    }

    fn step(&mut self, tag: u16, job: &mut Job, cx: &mut StepCx) -> Go {
        match tag {
            ENQUEUE => self.enqueue(job, cx),
            DONE => {
                self.processed(job.kind_slot, cx);
                Go::Exit(0)
            }
            _ => {
                let outcome = job.failed.take().unwrap_or(Outcome::Error);
                self.failed(job.kind_slot, outcome, cx);
                Go::Fail(outcome)
            }
        }
    }

    fn timer(&mut self, token: u32, cx: &mut StepCx) {
        let now = cx.now;
        let i = (token & INDEX) as usize;
        match token & !INDEX {
            VISIBLE => {
                if let Some(m) = self.msgs.get_mut(i)
                    && m.state == State::InFlight(now)
                {
                    m.state = State::Visible;
                    self.in_flight -= 1;
                    self.visible += 1;
                    self.ready.push_back((i as u32, m.generation));
                    self.counts.visibility_expired += 1;
                    self.counts.expired_while_processing += (m.running > 0) as u64;
                }
            }
            DELAYED => {
                if let Some(m) = self.msgs.get_mut(i)
                    && m.state == State::Delayed(now)
                {
                    m.state = State::Visible;
                    self.visible += 1;
                    self.ready.push_back((i as u32, m.generation));
                }
            }
            _ => self.pump_set = false,
        }
        self.pump(cx);
    }

    fn restart_stats(&mut self, now: SimTime) {
        self.counts = QueueCounts::default();
        self.since = now;
        self.dlq_at_warmup = self.dlq;
    }

    fn summary(&self, now: SimTime) -> serde_json::Value {
        let c = &self.counts;
        let per = |a: f64, n: u64| (n > 0).then(|| a / n as f64);
        let since = |a: u64, b: u64| a - b;
        let (d, w) = (&self.dlq, &self.dlq_at_warmup);
        let t = &self.total;
        let secs = now.since(self.since) as f64 * 1e-9;
        json!({
            "counts": c,
            "depth": self.stored,
            "visible": self.visible,
            "in_flight": self.in_flight,
            "oldest_age_s": self.oldest_age_s(now),
            "receives_per_message": per(c.processed_deliveries as f64, c.processed),
            "mean_time_in_queue_s": per(c.time_in_queue_s, c.processed),
            "max_time_in_queue_s": (c.processed > 0).then_some(c.max_time_in_queue_s),
            "processed_per_min": (secs > 0.0).then(|| c.processed as f64 * 60.0 / secs),
            "mean_wait_s": per(c.first_wait_s, c.first_receives),
            "dlq_depth": d.total(),
            "dlq": {
                "max_receives": since(d.max_receives, w.max_receives),
                "exhausted": since(d.exhausted, w.exhausted),
                "not_retryable_failure": since(d.not_retryable_failure, w.not_retryable_failure),
                "retryable": since(d.retryable, w.retryable),
                "not_retryable": since(d.not_retryable, w.not_retryable),
                "by_last_failure": {
                    "throttled": since(d.throttled, w.throttled),
                    "timeout": since(d.timeout, w.timeout),
                    "error": since(d.error, w.error),
                    "unavailable": since(d.unavailable, w.unavailable),
                    "rejected": since(d.rejected, w.rejected),
                    "visibility": since(d.visibility, w.visibility),
                },
            },
            "balance": {
                "arrived": t.arrived,
                "processed": t.processed,
                "dead_lettered": t.dead_lettered,
                "dropped": t.dropped,
                "in_queue": self.stored,
            },
        })
    }

    const COLUMNS: &'static [&'static str] =
        &["depth", "in_flight", "oldest_age_s", "processed", "dlq_depth", "dead_lettered"];

    fn window(&mut self, now: SimTime, out: &mut Vec<f64>) {
        self.prune(now);
        out.extend([
            self.stored as f64,
            self.in_flight as f64,
            self.oldest_age_s(now).unwrap_or(0.0),
            self.window_processed as f64,
            self.dlq.total() as f64,
            self.window_dlq as f64,
        ]);
        self.window_processed = 0;
        self.window_dlq = 0;
    }
}

/// A duration at `field` of `v` seconds in `range` [s], in nanoseconds; `None` (reported) if
/// outside it.
fn duration(b: &mut KindBuilder, field: &str, v: f64, (lo, hi): (f64, f64)) -> Option<u64> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        return Some(SimTime::from_secs(v).0);
    }
    b.issue(field, format!("must be a duration from {lo} s to {hi} s, got {v} s"));
    None
}

/// The retryable flags for `names` (the default list when `None`); unknown names are reported.
fn retryable_outcomes(names: Option<&[String]>, b: &mut KindBuilder) -> Option<[bool; 6]> {
    let default = ["throttled", "timeout", "unavailable", "rejected"].map(String::from);
    let names = names.unwrap_or(&default);
    let mut flags = [false; 6];
    let mut ok = true;
    for (i, n) in names.iter().enumerate() {
        match Outcome::ALL.iter().find(|o| o.name() == n && **o != Outcome::Ok) {
            Some(o) => flags[o.index()] = true,
            None => {
                let msg = format!("unknown outcome `{n}`: one of throttled, timeout, error, unavailable, rejected");
                b.issue(&format!("retryable.{i}"), msg);
                ok = false;
            }
        }
    }
    ok.then_some(flags)
}

impl Queue {
    /// A producer's SendMessage.
    fn enqueue(&mut self, job: &Job, cx: &mut StepCx) -> Go {
        let now = cx.now;
        self.prune(now);
        if let Some(b) = &mut self.bucket {
            b.refill(now);
            if !b.has(1.0) {
                self.counts.refused_rate += 1;
                return Go::Fail(Outcome::Throttled);
            }
            b.take(1.0);
        }
        if self.stored >= self.def.max_depth {
            self.counts.refused_depth += 1;
            return Go::Fail(Outcome::Rejected);
        }
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.msgs.push(Msg {
                    sent: now,
                    generation: 0,
                    receives: 0,
                    deliveries: 0,
                    app: 0,
                    running: 0,
                    state: State::Gone,
                    last_fail: None,
                    attrs: job.attrs,
                    class: job.class,
                });
                (self.msgs.len() - 1) as u32
            }
        };
        let m = &mut self.msgs[i as usize];
        let generation = m.generation.wrapping_add(1);
        *m = Msg {
            generation,
            receives: 0,
            deliveries: 0,
            app: 0,
            last_fail: None,
            attrs: job.attrs,
            class: job.class,
            ..*m
        };
        self.counts.arrived += 1;
        self.total.arrived += 1;
        self.send(i, self.def.delay_ns, cx);
        self.pump(cx);
        Go::Exit(0)
    }

    /// Message `i` is (re-)sent now, invisible for `delay_ns`.
    fn send(&mut self, i: u32, delay_ns: u64, cx: &mut StepCx) {
        let now = cx.now;
        let m = &mut self.msgs[i as usize];
        m.sent = now;
        m.receives = 0;
        self.stored += 1;
        self.order.push_back((i, m.generation));
        if delay_ns == 0 {
            m.state = State::Visible;
            self.visible += 1;
            self.ready.push_back((i, m.generation));
        } else {
            let at = SimTime(now.0 + delay_ns);
            m.state = State::Delayed(at);
            cx.out.timer(at, DELAYED | i);
        }
    }

    /// Free workers receive visible messages (redriving or dropping those due).
    fn pump(&mut self, cx: &mut StepCx) {
        let now = cx.now;
        while self.busy < self.def.workers && self.in_flight < self.def.max_in_flight {
            let Some((i, generation)) = self.ready.pop_front() else { break };
            let m = &self.msgs[i as usize];
            if m.generation != generation || m.state != State::Visible {
                continue;
            }
            if now.since(m.sent) >= self.def.retention_ns {
                self.drop_msg(i);
                continue;
            }
            if self.def.max_receives.is_some_and(|max| m.receives >= max) {
                self.move_to_dlq(i, Reason::MaxReceives);
                continue;
            }
            self.visible -= 1;
            let m = &mut self.msgs[i as usize];
            let until = SimTime(now.0 + self.def.visibility_ns);
            if m.deliveries == 0 {
                self.counts.first_receives += 1;
                self.counts.first_wait_s += now.since(m.sent) as f64 * 1e-9;
            }
            m.receives += 1;
            m.deliveries += 1;
            self.counts.receives += 1;
            self.counts.duplicate_receives += (m.running > 0) as u64;
            m.running += 1;
            m.state = State::InFlight(until);
            let (attrs, class, generation) = (m.attrs, m.class, m.generation);
            self.in_flight += 1;
            self.busy += 1;
            cx.out.timer(until, VISIBLE | i);
            let r = Receipt { msg: i, generation };
            let slot = match self.free_receipts.pop() {
                Some(k) => {
                    self.receipts[k as usize] = r;
                    k
                }
                None => {
                    self.receipts.push(r);
                    (self.receipts.len() - 1) as u32
                }
            };
            cx.out.start(self.def.process, slot, attrs, class);
        }
    }

    /// A worker is done with receipt `slot`: the message, if it is still the one received.
    fn finish_receipt(&mut self, slot: u32, cx: &mut StepCx) -> Option<u32> {
        let r = self.receipts[slot as usize];
        self.free_receipts.push(slot);
        self.busy -= 1;
        if !self.pump_set {
            // Not at once: a consumer failing at once would otherwise recurse through the queue.
            self.pump_set = true;
            cx.out.timer(cx.now, PUMP);
        }
        let m = &mut self.msgs[r.msg as usize];
        m.running -= 1;
        let alive = m.generation == r.generation && m.state != State::Gone;
        if m.state == State::Gone && m.running == 0 {
            self.free.push(r.msg);
        }
        alive.then_some(r.msg)
    }

    /// The processing with receipt `slot` succeeded: delete the message.
    fn processed(&mut self, slot: u32, cx: &mut StepCx) {
        let now = cx.now;
        let Some(i) = self.finish_receipt(slot, cx) else {
            self.counts.duplicate_completions += 1;
            return;
        };
        let m = self.msgs[i as usize];
        self.counts.processed += 1;
        self.total.processed += 1;
        self.window_processed += 1;
        self.counts.processed_deliveries += m.deliveries as u64;
        let t = now.since(m.sent) as f64 * 1e-9;
        self.counts.time_in_queue_s += t;
        self.counts.max_time_in_queue_s = self.counts.max_time_in_queue_s.max(t);
        self.remove(i);
    }

    /// The processing with receipt `slot` failed with `outcome`.
    fn failed(&mut self, slot: u32, outcome: Outcome, cx: &mut StepCx) {
        self.counts.failed_processings += 1;
        let Some(i) = self.finish_receipt(slot, cx) else { return };
        self.msgs[i as usize].last_fail = Some(outcome);
        let Some((max, base, cap)) = self.def.app else {
            return; // it stays invisible until its visibility timeout expires
        };
        let m = self.msgs[i as usize];
        if !self.def.retryable[outcome.index()] || outcome == Outcome::ErrorFinal {
            self.move_to_dlq(i, Reason::NotRetryable);
        } else if m.app >= max {
            self.move_to_dlq(i, Reason::Exhausted);
        } else {
            // Delete, and send again with the count + 1 (a new SQS message: a new receive count).
            let delay = (base * 2f64.powi(m.app as i32)).min(cap);
            self.remove_keeping(i);
            let m = &mut self.msgs[i as usize];
            m.app += 1;
            m.generation = m.generation.wrapping_add(1);
            self.counts.resent += 1;
            self.send(i, SimTime::from_secs(delay).0, cx);
        }
    }

    /// Takes message `i` out of the queue's levels (it is deleted, moved or dropped).
    fn remove(&mut self, i: u32) {
        self.remove_keeping(i);
        let m = &mut self.msgs[i as usize];
        m.state = State::Gone;
        if m.running == 0 {
            self.free.push(i);
        }
    }

    /// Takes message `i` out of the levels, leaving its state to the caller.
    fn remove_keeping(&mut self, i: u32) {
        let m = &self.msgs[i as usize];
        match m.state {
            State::Visible => self.visible -= 1,
            State::InFlight(_) => self.in_flight -= 1,
            State::Delayed(_) | State::Gone => {}
        }
        self.stored -= (m.state != State::Gone) as u64;
        self.msgs[i as usize].state = State::Gone;
    }

    /// Moves message `i` to the DLQ.
    fn move_to_dlq(&mut self, i: u32, reason: Reason) {
        let m = self.msgs[i as usize];
        let d = &mut self.dlq;
        match reason {
            Reason::MaxReceives => d.max_receives += 1,
            Reason::Exhausted => d.exhausted += 1,
            Reason::NotRetryable => d.not_retryable_failure += 1,
        }
        let retryable = m.last_fail.is_none_or(|o| self.def.retryable[o.index()] && o != Outcome::ErrorFinal);
        if retryable {
            d.retryable += 1;
        } else {
            d.not_retryable += 1;
        }
        match m.last_fail.map(Outcome::index) {
            None => d.visibility += 1,
            Some(k) if k == Outcome::Throttled.index() => d.throttled += 1,
            Some(k) if k == Outcome::Timeout.index() => d.timeout += 1,
            Some(k) if k == Outcome::Unavailable.index() => d.unavailable += 1,
            Some(k) if k == Outcome::Rejected.index() => d.rejected += 1,
            Some(_) => d.error += 1,
        }
        self.counts.dead_lettered += 1;
        self.total.dead_lettered += 1;
        self.window_dlq += 1;
        self.remove(i);
    }

    /// Drops message `i` (its retention is over).
    fn drop_msg(&mut self, i: u32) {
        self.counts.dropped += 1;
        self.total.dropped += 1;
        self.remove(i);
    }

    /// Drops the messages whose retention is over, oldest first, and forgets stale entries at
    /// the front of the send order.
    fn prune(&mut self, now: SimTime) {
        while let Some(&(i, generation)) = self.order.front() {
            let m = &self.msgs[i as usize];
            if m.generation != generation || m.state == State::Gone {
                self.order.pop_front();
                continue;
            }
            if now.since(m.sent) < self.def.retention_ns {
                break;
            }
            self.order.pop_front();
            self.counts.dropped += 1;
            self.total.dropped += 1;
            self.remove(i);
        }
    }

    /// Age of the oldest message in the queue [s] (`None`: empty).
    fn oldest_age_s(&self, now: SimTime) -> Option<f64> {
        self.order.iter().find_map(|&(i, generation)| {
            let m = &self.msgs[i as usize];
            (m.generation == generation && m.state != State::Gone).then(|| now.since(m.sent) as f64 * 1e-9)
        })
    }
}

/// Why a message is moved to the dead-letter queue.
#[derive(Clone, Copy, Debug)]
enum Reason {
    MaxReceives,
    Exhausted,
    NotRetryable,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::limits::MAX_DURATION_S;

    #[test]
    fn timer_tokens_keep_the_kind_and_the_index_apart() {
        for kind in [VISIBLE, DELAYED, PUMP] {
            let t = kind | 123_456;
            assert_eq!(t & !INDEX, kind);
            assert_eq!(t & INDEX, 123_456);
        }
        assert!(MAX_DEPTH < INDEX as u64, "message indices fit below the kind bits");
    }

    #[test]
    fn max_duration_covers_the_longest_retention() {
        assert!(RETENTION_S.1 < MAX_DURATION_S);
    }
}
