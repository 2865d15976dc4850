//! The flow interpreter: runs a job's ops until it waits (a work step, a call, parallel
//! branches) or ends, sends calls to services, and carries replies back to the jobs waiting
//! for them. This is the one mechanism by which every request moves.
//!
//! Replies can arrive synchronously (a call rejected at once, a branch with nothing to do):
//! a job being advanced is marked `running`, and a reply to it only records the outcome; the
//! advancing loop then reads it. Recursion is therefore bounded by the depth of the call graph,
//! which validation keeps acyclic.

use super::ctx::Event;
use super::job::{Ended, Job, NEVER, NO_CALL, NO_SERVICE, Origin, Outcome};
use super::world::{End, World};
use crate::components::Admit;
use crate::components::kinds::{Go, StepCx};
use crate::engine::ReqId;
use crate::model::Op;
use crate::model::program::RETURN;

impl World {
    /// Runs job `id` from its pc until it waits or ends.
    pub(super) fn advance(&mut self, id: ReqId) {
        loop {
            let Some(job) = self.ctx.reqs.get_mut(id) else {
                return; // a stale wake-up (the job has already ended), or it ended here
            };
            job.running = true;
            match self.ops[job.pc as usize] {
                Op::Return => {
                    let s = job.service;
                    if s != NO_SERVICE && job.holding && self.services[s as usize].draw_error() {
                        let retryable = self.services[s as usize].def.faults.error_retryable;
                        return self.complete(id, if retryable { Outcome::Error } else { Outcome::ErrorFinal });
                    }
                    return self.complete(id, Outcome::Ok);
                }
                Op::Work { work, then } => {
                    job.pc = then;
                    job.running = false;
                    let w = &mut self.works[work as usize];
                    if let Some(d) = w.delay {
                        self.delay_passed[d as usize] += 1;
                    }
                    let mut d = w.sample();
                    if let Some(s) = w.contended {
                        d *= self.services[s as usize].stretch();
                    }
                    self.ctx.after(d, Event::Wake { job: id });
                    return;
                }
                Op::Route { route } => job.pc = self.routes[route as usize].pick(job.class, job.attrs.intent),
                Op::Limit { limit, then } => {
                    let (user, session) = (job.attrs.user, job.attrs.session);
                    if !self.limiters[limit as usize].take(self.ctx.now, user, session) {
                        return self.fail(id, Outcome::Throttled);
                    }
                    job.pc = then;
                }
                Op::Call { site, then } => {
                    let st = &self.sites[site as usize];
                    if then == RETURN && job.service == NO_SERVICE && st.policy.is_none() {
                        // A tail call from outside any service (the last call of a client flow
                        // or a branch): the job itself goes to the service; its end is the call's.
                        job.tail = true;
                        let service = st.service;
                        if job.mark != self.ctx.now {
                            self.open_wait(id);
                        }
                        if !self.enter(id, service) {
                            return;
                        }
                        continue; // it holds a slot of the service now: run the service's flow
                    }
                    let pc = job.pc;
                    if self.begin_attempt(id, site, pc, then) != Next::Go {
                        return;
                    }
                }
                Op::Kind { kind, step } => {
                    let ks = &self.kind_steps[step as usize];
                    let mut cx = StepCx { now: self.ctx.now, id, out: &mut self.kind_out };
                    let go = self.kinds[kind as usize].step(ks.tag, job, &mut cx);
                    match go {
                        Go::Exit(i) => job.pc = ks.exits[i],
                        Go::Hold { exit, .. } => {
                            job.pc = ks.exits[exit];
                            job.running = false;
                        }
                        Go::Park => job.running = false,
                        Go::Fail(_) => {}
                    }
                    self.kind_effects(kind, Some(step), id);
                    match go {
                        Go::Exit(_) => {}
                        Go::Hold { secs, .. } => {
                            self.ctx.after(secs, Event::Wake { job: id });
                            return;
                        }
                        Go::Park => return self.release_while_waiting(id),
                        Go::Fail(o) => return self.fail(id, o),
                    }
                }
                Op::Parallel { first, count, need, then } => {
                    self.open_wait(id);
                    let Some(job) = self.ctx.reqs.get_mut(id) else { return };
                    let seq = wait_for(job, then, count, need);
                    let parent = *job;
                    self.release_while_waiting(id);
                    for k in first..first + count as u32 {
                        let pc = self.branch_pcs[k as usize];
                        let child = self.ctx.reqs.insert(parent.child(id, self.ctx.now, seq, pc));
                        self.advance(child);
                    }
                    if self.settle(id) != Next::Go {
                        return;
                    }
                }
            }
        }
    }

    /// Carries out what kind `kind` asked at kind step `step` (reached by job `by`), or in a
    /// timer (`step` None): wakes the jobs it parked (each at an exit of the step it parked
    /// at), starts its background jobs (spawns with `by`'s attributes; starts with their own),
    /// sets its timers.
    pub(super) fn kind_effects(&mut self, kind: u32, step: Option<u32>, by: ReqId) {
        if self.kind_out.is_empty() {
            return;
        }
        let mut out = std::mem::take(&mut self.kind_out);
        for &(at, token) in &out.timers {
            self.ctx.at(at.max(self.ctx.now), Event::KindTimer { kind, token });
        }
        for &(id, wake, slot) in &out.wakes {
            match wake {
                Ok(i) => {
                    let Some(job) = self.ctx.reqs.get_mut(id) else { continue };
                    let Op::Kind { step: parked, .. } = self.ops[job.pc as usize] else { continue };
                    job.pc = self.kind_steps[parked as usize].exits[i];
                    if let Some(v) = slot {
                        job.kind_slot = v;
                    }
                    if self.regain_slot(id) == Next::Go {
                        self.advance(id);
                    }
                }
                Err(o) => self.fail(id, o),
            }
        }
        let service = self.kind_services[kind as usize];
        let spawns = if step.is_some() { &out.spawns[..] } else { &[] };
        for &i in spawns {
            let pc = self.kind_steps[step.unwrap_or(0) as usize].exits[i];
            let Some(parent) = self.ctx.reqs.get(by) else { break };
            let mut job = Job::new(self.ctx.now, parent.class, Origin::Detached, pc);
            job.attrs = parent.attrs;
            (job.service, job.home, job.started) = (service, service, true);
            let spawned = self.ctx.reqs.insert(job);
            self.advance(spawned);
        }
        for st in &out.starts {
            let mut job = Job::new(self.ctx.now, st.class, Origin::Detached, st.pc);
            (job.attrs, job.kind_slot) = (st.attrs, st.slot);
            (job.service, job.home, job.started) = (service, service, true);
            let started = self.ctx.reqs.insert(job);
            self.advance(started);
        }
        out.wakes.clear();
        out.spawns.clear();
        out.starts.clear();
        out.timers.clear();
        self.kind_out = out;
    }

    /// Timer `token` of kind `kind` fires (or, with `token` None, the run begins).
    pub(super) fn kind_timer(&mut self, kind: u32, token: Option<u32>) {
        let mut cx = StepCx { now: self.ctx.now, id: ReqId::NONE, out: &mut self.kind_out };
        match token {
            Some(t) => self.kinds[kind as usize].timer(t, &mut cx),
            None => self.kinds[kind as usize].begin(&mut cx),
        }
        self.kind_effects(kind, None, ReqId::NONE);
    }

    /// A job's wait may be over: what it does next. A call attempt's outcome goes through the
    /// call's policy (`calls.rs`); a parallel wait goes on (holding its slot again) or fails.
    pub(super) fn settle(&mut self, id: ReqId) -> Next {
        let Some(job) = self.ctx.reqs.get_mut(id) else { return Next::Stop };
        let Some(result) = job.result.take() else {
            job.running = false;
            return Next::Stop;
        };
        if job.call_pc != NO_CALL {
            return self.attempt_over(id, result);
        }
        if result != Outcome::Ok {
            self.fail(id, result);
            return Next::Stop;
        }
        let home = job.home;
        let b = self.bucket(home);
        self.close_wait(id, b);
        self.regain_slot(id)
    }

    /// Sends call job `child` to `service`: it starts (and runs), queues or is rejected.
    pub(super) fn send(&mut self, child: ReqId, service: u32) {
        if self.enter(child, service) {
            self.advance(child);
        }
    }

    /// Job `id` arrives at `service`: true if it got a slot and should run the service's flow
    /// now; false if it queues, waits out a slowdown, or was turned away (and has ended).
    #[inline]
    fn enter(&mut self, id: ReqId, service: u32) -> bool {
        let now = self.ctx.now;
        let Some(job) = self.ctx.reqs.get_mut(id) else { return false };
        job.service = service;
        job.home = service;
        job.entered = now;
        let class = job.class;
        let s = &mut self.services[service as usize];
        if s.has_faults() && s.is_down(now) {
            self.complete(id, Outcome::Unavailable);
            return false;
        }
        if s.has_faults() && s.throttled(now) {
            self.complete(id, Outcome::Throttled);
            return false;
        }
        match s.arrive(now, class, id) {
            Admit::Start => self.take_slot(id),
            Admit::Queued => false,
            Admit::Rejected => {
                self.complete(id, Outcome::Rejected);
                false
            }
        }
    }

    /// Job `id` has just been given a slot of its service: it starts the service's flow, or
    /// resumes where it left off.
    pub(super) fn start(&mut self, id: ReqId) {
        if self.take_slot(id) {
            self.advance(id);
        }
    }

    /// Job `id` now holds a slot: it starts the service's flow (or resumes where it left off).
    /// False if a slowdown holds it first (a wake-up is scheduled).
    #[inline]
    fn take_slot(&mut self, id: ReqId) -> bool {
        let now = self.ctx.now;
        let Some(job) = self.ctx.reqs.get_mut(id) else { return false };
        job.holding = true;
        if job.started {
            return true;
        }
        let s = &mut self.services[job.service as usize];
        job.started = true;
        job.started_at = now;
        job.pc = s.def.entry;
        s.count_start(now.since(job.entered));
        let extra = if s.has_faults() { s.slowdown(now) } else { 0.0 };
        if extra > 0.0 {
            self.ctx.after(extra, Event::Wake { job: id });
            return false;
        }
        true
    }

    /// An event-loop service frees the slot of a job that starts waiting on calls.
    pub(super) fn release_while_waiting(&mut self, id: ReqId) {
        let Some(job) = self.ctx.reqs.get_mut(id) else { return };
        if !job.holding || self.services[job.service as usize].def.hold_while_waiting {
            return;
        }
        job.holding = false;
        let s = job.service as usize;
        if let Some(next) = self.services[s].free_slot(self.ctx.now) {
            self.start(next);
        }
    }

    /// A job whose wait succeeded wants its slot back (if it gave it up): it goes on now, or
    /// queues for one.
    pub(super) fn regain_slot(&mut self, id: ReqId) -> Next {
        let now = self.ctx.now;
        let Some(job) = self.ctx.reqs.get_mut(id) else { return Next::Stop };
        if job.service == NO_SERVICE || job.holding {
            return Next::Go;
        }
        if self.services[job.service as usize].resume(now, id) {
            job.holding = true;
            return Next::Go;
        }
        job.running = false;
        Next::Stop
    }

    /// A reply with `outcome` for the wait `seq` of job `parent`. Late replies (the parent has
    /// ended or moved on) are dropped.
    pub(super) fn reply(&mut self, parent: ReqId, seq: u32, outcome: Outcome, child: Option<&Ended>) {
        let Some(p) = self.ctx.reqs.get_mut(parent) else { return };
        if p.seq != seq || p.result.is_some() {
            return;
        }
        p.pending -= 1;
        p.degraded |= child.is_some_and(|c| c.degraded) && outcome == Outcome::Ok;
        p.blocked |= child.is_some_and(|c| c.blocked) && outcome == Outcome::Ok;
        if outcome == Outcome::Ok
            && let Some(c) = child
        {
            p.first_token = p.first_token.min(c.first_token);
        }
        if outcome == Outcome::Ok {
            p.need -= 1;
            if p.need > 0 {
                return;
            }
        } else if p.spare > 0 {
            p.spare -= 1;
            return;
        }
        p.result = Some(outcome);
        p.seq = p.seq.wrapping_add(1); // replies still on their way are now late
        if let Some(c) = child {
            self.merge_child(parent, c);
        }
        let Some(p) = self.ctx.reqs.get_mut(parent) else { return };
        if !p.running {
            self.resume(parent);
        }
    }

    /// A job whose wait has been decided goes on (or fails, or waits again for a retry).
    fn resume(&mut self, id: ReqId) {
        if self.settle(id) == Next::Go {
            self.advance(id);
        }
    }

    /// Job `id`'s flow fails because a call it needed failed with `outcome`. A service passes
    /// rejections and throttles back as they are; anything else becomes an `error` for its
    /// caller (the caller did not time out itself).
    pub(super) fn fail(&mut self, id: ReqId, outcome: Outcome) {
        let passed = match outcome {
            Outcome::Timeout => Outcome::Error,
            o => o,
        };
        self.complete(id, passed);
    }

    /// Job `id` ends with `outcome`: it leaves its service (whose slot goes to the next in
    /// line) and replies to its parent, or finishes as a top-level request.
    fn complete(&mut self, id: ReqId, outcome: Outcome) {
        let Some(job) = self.ctx.reqs.get(id) else { return };
        let now = self.ctx.now;
        let end = Ended::of(job);
        let traced = (job.trace != 0).then_some(*job);
        let (holding, service) = (job.holding, job.service);
        if service != NO_SERVICE && job.origin != Origin::Detached {
            let s = &mut self.services[service as usize];
            if job.tail {
                s.served_tail(now, job.entered, job.started, outcome);
            } else if job.started {
                s.served(now, job.entered);
                if job.orphaned_at != NEVER {
                    s.calls.wasted_ns += now.since(job.orphaned_at.max(job.started_at)) as u128;
                }
            }
        }
        if let Some(j) = traced {
            self.span(&j, span_kind(&j), j.service, j.born, outcome);
        }
        self.ctx.reqs.free(id);
        // Only a job at a service holds one of its slots.
        if holding && let Some(next) = self.services[service as usize].free_slot(now) {
            self.start(next);
        }
        self.close_own(&end);
        match end.origin {
            Origin::Child { parent, seq } => self.reply(parent, seq, outcome, Some(&end)),
            Origin::Source | Origin::User { .. } => self.finish(&end, outcome),
            Origin::Detached => {}
        }
        self.paths.give(end.crit);
    }

    /// A top-level request leaves the system: completed, or rejected (a queue was full, a
    /// limit said no) or failed (anything else).
    fn finish(&mut self, job: &Ended, outcome: Outcome) {
        let ns = self.ctx.now.since(job.born);
        if outcome == Outcome::Ok {
            let bucket = self.bucket(job.service);
            let row = (job.crit != crate::metrics::NO_ROW).then(|| &*self.paths.row(job.crit));
            self.totals.critical.record(ns, row, bucket);
        }
        let t = &mut self.totals;
        let end = match outcome {
            Outcome::Ok => {
                t.e2e.record(ns);
                // A streamed answer's first token, else the whole answer at once.
                let first = if job.first_token == NEVER { ns } else { job.first_token.since(job.born).min(ns) };
                t.first_token.record(first);
                if t.by_class.len() > 1 {
                    t.by_class[job.class as usize].record(ns);
                    t.first_token_by_class[job.class as usize].record(first);
                }
                if let Some(l) = t.by_intent.get_mut(job.intent as usize) {
                    l.record(ns);
                    t.first_token_by_intent[job.intent as usize].record(first);
                }
                self.windows.completions += 1;
                self.windows.latency.record(ns);
                self.windows.first_token.record(first);
                self.windows.degraded += job.degraded as u64;
                if job.degraded { End::Degraded } else { End::Completed }
            }
            Outcome::Rejected | Outcome::Throttled => {
                self.windows.rejections += 1;
                End::Rejected
            }
            _ => {
                self.windows.failures += 1;
                End::Failed
            }
        };
        let blocked = job.blocked && outcome == Outcome::Ok;
        t.all.end(end, blocked);
        if !self.phases.is_empty() {
            self.phase_end(job, end);
        }
        let t = &mut self.totals;
        if let Some(c) = t.class_counts.get_mut(job.class as usize) {
            c.end(end, blocked);
        }
        if let Some(c) = t.intent_counts.get_mut(job.intent as usize) {
            c.end(end, blocked);
        }
        if let Origin::User { sessions, user, left } = job.origin {
            self.sessions[sessions as usize].on_reply(sessions, user, left, &mut self.ctx);
        }
    }
}

impl World {
    /// A top-level request ends while one or more of `run.phases` hold.
    #[cold]
    fn phase_end(&mut self, job: &Ended, end: End) {
        let now = self.ctx.now;
        let ns = now.since(job.born);
        let first = if job.first_token == NEVER { ns } else { job.first_token.since(job.born).min(ns) };
        for p in self.phases.iter_mut().filter(|p| p.holds(now)) {
            match end {
                End::Completed | End::Degraded => {
                    p.e2e.record(ns);
                    p.first_token.record(first);
                    if end == End::Completed {
                        p.completed += 1;
                    } else {
                        p.degraded += 1;
                    }
                }
                End::Rejected => p.rejected += 1,
                End::Failed => p.failed += 1,
            }
        }
    }
}

/// The kind of span a traced job's end records.
fn span_kind(job: &Job) -> &'static str {
    match job.origin {
        Origin::Child { .. } if job.service == NO_SERVICE => "branch",
        Origin::Child { .. } => "attempt",
        Origin::Detached => "background",
        _ => "request",
    }
}

/// What a job does after a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// It goes on with its flow now.
    Go,
    /// It waits (for a reply, a slot or a backoff) or has ended.
    Stop,
}

/// Job `job` starts waiting for `count` children of which `need` must succeed, and will go on
/// at `then`; returns the wait's token.
#[inline]
pub(super) fn wait_for(job: &mut Job, then: u32, count: u16, need: u16) -> u32 {
    job.pc = then;
    job.seq = job.seq.wrapping_add(1);
    job.pending = count;
    job.need = need;
    job.spare = count - need;
    job.result = None;
    job.seq
}
