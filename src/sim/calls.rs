//! Calls under a policy, layered as resilience libraries layer them: the fallback (or optional
//! flag) wraps the retries, which wrap the breaker and the rate limit, which wrap each attempt
//! and its timeout. Every action is counted in the callee's `CallStats`.

use super::ctx::Event;
use super::flow::{Next, wait_for};
use super::job::{NO_CALL, Outcome};
use super::world::World;
use crate::engine::ReqId;
use crate::model::Pc;
use crate::model::program::RetryDef;
use crate::policy::{Verdict, backoff_s};

impl World {
    /// Job `id` at the `Call` op `pc` (site `site`, going on at `then`) starts an attempt: the
    /// first of a call, or a retry after its backoff.
    pub(super) fn begin_attempt(&mut self, id: ReqId, site: u32, pc: Pc, then: Pc) -> Next {
        let now = self.ctx.now;
        let st = &self.sites[site as usize];
        let (service, policy, breaker) = (st.service as usize, st.policy, st.breaker);
        let Some(job) = self.ctx.reqs.get_mut(id) else { return Next::Stop };
        if job.attempt == 0 {
            job.call_born = now;
            job.sleep = 0.0;
            self.services[service].calls.calls += 1;
            if let Some(b) = st.budget {
                self.budgets[b as usize].on_call(now);
            }
            self.open_wait(id);
        }
        let Some(job) = self.ctx.reqs.get_mut(id) else { return Next::Stop };
        job.call_pc = pc;
        job.site = site;
        job.pc = then;
        job.attempt_born = now;
        job.attempt += 1;
        let pol = policy.map(|p| &self.policies[p as usize]);
        let deadline = pol.and_then(|p| p.deadline).map(|d| job.call_born.after_secs(d));
        if deadline.is_some_and(|d| now >= d) {
            return self.call_over(id, Outcome::Timeout);
        }
        if let Some(b) = breaker
            && !self.breakers[b as usize].exempts(job.class)
            && self.breakers[b as usize].admit(now) == Verdict::Refuse
        {
            return self.attempt_over(id, Outcome::Unavailable);
        }
        if let Some(l) = pol.and_then(|p| p.rate_limit)
            && !self.limiters[l as usize].take(now, job.attrs.user, job.attrs.session)
        {
            return self.attempt_over(id, Outcome::Throttled);
        }
        let timer = match (pol.and_then(|p| p.timeout), deadline) {
            (Some(t), Some(d)) => Some(now.after_secs(t).min(d)),
            (Some(t), None) => Some(now.after_secs(t)),
            (None, d) => d,
        };
        self.services[service].calls.attempts += 1;
        let seq = wait_for(job, then, 1, 1);
        let parent = *job;
        self.release_while_waiting(id);
        let child = self.ctx.reqs.insert(parent.child(id, now, seq, crate::model::program::RETURN));
        if let Some(job) = self.ctx.reqs.get_mut(id) {
            job.child = child;
        }
        if let Some(c) = self.ctx.reqs.get_mut(child) {
            c.nth = parent.attempt;
        }
        if let Some(t) = timer {
            self.ctx.at(t, Event::Timeout { job: id, seq });
        }
        self.send(child, service as u32);
        self.settle(id)
    }

    /// The caller's timer for attempt `seq` of job `id` fires: if it still waits, it gives up
    /// (the callee keeps working, as an orphan whose remaining work is wasted).
    pub(super) fn on_timeout(&mut self, id: ReqId, seq: u32) {
        let now = self.ctx.now;
        let Some(job) = self.ctx.reqs.get(id) else { return };
        if job.seq != seq || job.result.is_some() {
            return;
        }
        let (child, site) = (job.child, job.site);
        if let Some(c) = self.ctx.reqs.get_mut(child) {
            c.orphaned_at = now;
        }
        let st = &self.sites[site as usize];
        self.services[st.service as usize].calls.timeouts += 1;
        self.reply(id, seq, Outcome::Timeout, None);
    }

    /// Job `id`'s current attempt ended with `outcome`: record it, then retry (after a backoff)
    /// or end the call.
    pub(super) fn attempt_over(&mut self, id: ReqId, outcome: Outcome) -> Next {
        let now = self.ctx.now;
        let Some(job) = self.ctx.reqs.get_mut(id) else { return Next::Stop };
        let st = &self.sites[job.site as usize];
        let ns = now.since(job.attempt_born);
        let stats = &mut self.services[st.service as usize].calls;
        stats.attempt(outcome, ns);
        let local = matches!(outcome, Outcome::Unavailable | Outcome::Throttled) && job.child.is_none();
        if let Some(b) = st.breaker
            && !local
        {
            self.breakers[b as usize].record(now, outcome == Outcome::Ok, ns as f64 * 1e-9);
        }
        job.child = ReqId::NONE;
        let Some(p) = st.policy else { return self.call_over(id, outcome) };
        let pol = &self.policies[p as usize];
        let retryable =
            |r: &&RetryDef| !matches!(outcome, Outcome::Ok | Outcome::ErrorFinal) && r.on & (1 << outcome.index()) != 0;
        let Some(r) = pol.retry.as_ref().filter(retryable) else {
            return self.call_over(id, outcome);
        };
        if job.attempt as u32 >= r.max_attempts {
            return self.call_over(id, outcome);
        }
        if let Some(b) = st.budget
            && !self.budgets[b as usize].try_retry(now)
        {
            return self.call_over(id, outcome);
        }
        let sleep = backoff_s(r, job.attempt as u32 - 1, job.sleep, &mut self.jitter[p as usize]);
        if pol.deadline.is_some_and(|d| now.after_secs(sleep) >= job.call_born.after_secs(d)) {
            return self.call_over(id, outcome);
        }
        stats.retries += 1;
        job.sleep = sleep;
        job.pc = job.call_pc;
        job.call_pc = NO_CALL;
        if sleep <= 0.0 {
            return Next::Go;
        }
        job.running = false;
        self.ctx.after(sleep, Event::Wake { job: id });
        Next::Stop
    }

    /// Job `id`'s call ended with `outcome` (retries spent): go on, fall back, ignore it if
    /// optional, or fail.
    pub(super) fn call_over(&mut self, id: ReqId, outcome: Outcome) -> Next {
        let now = self.ctx.now;
        let Some(job) = self.ctx.reqs.get_mut(id) else { return Next::Stop };
        let st = &self.sites[job.site as usize];
        let stats = &mut self.services[st.service as usize].calls;
        stats.call(outcome, now.since(job.call_born));
        job.call_pc = NO_CALL;
        job.attempt = 0;
        let callee = st.service as usize;
        if job.trace != 0 {
            let (j, from) = (*job, job.call_born);
            self.span(&j, "call", callee as u32, from, outcome);
        }
        self.close_wait(id, callee);
        let Some(job) = self.ctx.reqs.get_mut(id) else { return Next::Stop };
        let st = &self.sites[job.site as usize];
        let stats = &mut self.services[st.service as usize].calls;
        if outcome != Outcome::Ok {
            if let Some(pc) = st.on_fail {
                job.pc = pc; // a kind's failure step, which reads the outcome
                job.failed = Some(outcome);
            } else if let Some(fallback) = st.fallback {
                stats.fallbacks += 1;
                job.degraded = true;
                job.pc = fallback;
            } else if st.policy.is_some_and(|p| self.policies[p as usize].optional) {
                stats.ignored += 1;
            } else {
                self.fail(id, outcome);
                return Next::Stop;
            }
        }
        self.regain_slot(id)
    }
}
