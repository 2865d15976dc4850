//! Critical-path bookkeeping on jobs (see `metrics::critical`): own segments are flushed into a
//! job's breakdown row when it starts waiting, the child that decides a wait is merged into its
//! parent, and what a wait held beyond its merged children (timed-out attempts, backoff) goes to
//! the called service.

use super::job::{Ended, Job, NO_SERVICE, Outcome};
use super::world::World;
use crate::engine::{ReqId, SimTime};
use crate::metrics::NO_ROW;
use crate::metrics::trace::{Span, SpanArgs};

impl World {
    /// The bucket of time spent in `service` (or outside any: the client bucket).
    #[inline]
    pub(super) fn bucket(&self, service: u32) -> usize {
        if service == NO_SERVICE { self.paths.client() } else { service as usize }
    }

    /// Job `id` starts waiting: its own time since its mark goes into its row.
    pub(super) fn open_wait(&mut self, id: ReqId) {
        let now = self.ctx.now;
        let Some(job) = self.ctx.reqs.get(id) else { return };
        let (ns, bucket) = (now.since(job.mark), self.bucket(job.home));
        let job = self.ctx.reqs.get_mut(id).expect("looked up above");
        job.wait_from = now;
        job.merged_ns = 0;
        job.mark = now;
        if ns > 0 {
            if job.crit == NO_ROW {
                job.crit = self.paths.take();
            }
            self.paths.row(job.crit)[bucket] += ns;
        }
    }

    /// Child `child` (ended now) decided `parent`'s wait: its breakdown joins the parent's.
    pub(super) fn merge_child(&mut self, parent: ReqId, child: &Ended) {
        let now = self.ctx.now;
        let elapsed = now.since(child.born);
        let bucket = self.bucket(child.service);
        let Some(p) = self.ctx.reqs.get_mut(parent) else { return };
        if p.crit == NO_ROW {
            p.crit = self.paths.take();
        }
        p.merged_ns += elapsed;
        self.paths.add(p.crit, child.crit, bucket, elapsed);
    }

    /// Job `id`'s wait is over: what it held beyond its merged children goes to `bucket`, and
    /// its own time restarts now.
    pub(super) fn close_wait(&mut self, id: ReqId, bucket: usize) {
        let now = self.ctx.now;
        let Some(job) = self.ctx.reqs.get_mut(id) else { return };
        let rest = now.since(job.wait_from).saturating_sub(job.merged_ns);
        job.mark = now;
        job.merged_ns = 0;
        if rest > 0 {
            if job.crit == NO_ROW {
                job.crit = self.paths.take();
            }
            self.paths.row(job.crit)[bucket] += rest;
        }
    }

    /// A job that ended now: its last own segment goes into its row (if it has one).
    #[inline]
    pub(super) fn close_own(&mut self, job: &Ended) {
        let ns = self.ctx.now.since(job.mark);
        if job.crit != NO_ROW && ns > 0 {
            let b = self.bucket(job.service);
            self.paths.row(job.crit)[b] += ns;
        }
    }
}

impl World {
    /// Records a span of traced job `job`, from `from` to now.
    pub(super) fn span(&mut self, job: &Job, kind: &'static str, service: u32, from: SimTime, outcome: Outcome) {
        let now = self.ctx.now;
        let name = match service {
            NO_SERVICE => kind.to_string(),
            s => format!("{kind} {}", self.services[s as usize].def.name),
        };
        let attempt = (kind == "attempt").then_some(job.nth);
        let queue_wait_us = (kind == "attempt" && job.started).then(|| job.started_at.since(job.entered) as f64 / 1e3);
        self.trace.push(Span {
            name,
            cat: outcome.name(),
            ph: "X",
            ts: from.0 as f64 / 1e3,
            dur: now.since(from) as f64 / 1e3,
            pid: 1,
            tid: job.trace,
            args: SpanArgs { kind, attempt, queue_wait_us },
        });
    }
}
