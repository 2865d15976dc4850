//! A closed-loop user population: each user sends a message, waits for its answer (or its
//! rejection), thinks, and sends the next; after a session's last message the user pauses and
//! starts a new session. The population is constant, or follows a `users_profile` (a load
//! test's ramp of users), so the offered load falls as latency rises.
//!
//! A user is always either thinking (a `Think` event) or waiting (a request), so its state —
//! the messages left in its session — travels with that event or request: no per-user array
//! is touched, which keeps a million users cache-friendly.

use crate::cost::Driver;
use crate::engine::SimRng;
use crate::model::SessionsDef;
use crate::sim::{Ctx, Event};

/// Messages left marker for endless sessions.
const ENDLESS: u32 = u32::MAX;

/// A running population.
pub struct Sessions {
    pub def: SessionsDef,
    rng: SimRng,
    /// Sessions started and completed since warm-up.
    pub sessions_started: u64,
    pub sessions_completed: u64,
    /// Messages sent since warm-up.
    pub messages: u64,
    /// Id of the first of its users (user ids are global across populations and sources).
    pub first_user: u32,
    /// Per user: the number of sessions it has started (its current session's id).
    session_of: Vec<u32>,
}

impl Sessions {
    /// A population whose users all start a session after one think time (so they do not
    /// arrive in lockstep).
    pub fn new(def: SessionsDef, rng: SimRng, first_user: u32) -> Sessions {
        let session_of = vec![0; def.users as usize];
        Sessions { def, rng, sessions_started: 0, sessions_completed: 0, messages: 0, first_user, session_of }
    }

    /// The global id of `user` and its current session's id.
    #[inline]
    pub fn ids(&self, user: u32) -> (u32, u32) {
        (self.first_user + user, self.session_of[user as usize])
    }

    /// Schedules every user's first message.
    pub fn start(&mut self, me: u32, ctx: &mut Ctx) {
        for user in 0..self.def.users {
            let first = self.def.think.sample(&mut self.rng);
            ctx.after(first, Event::Think { sessions: me, user, left: 0 });
        }
    }

    /// The number of users active at `now` [s] under the `users_profile` (rounded), or all.
    #[inline]
    pub fn active_users(&self, now: f64) -> u32 {
        match &self.def.users_profile {
            None => self.def.users,
            Some(p) => (p.value_at(now).round().max(0.0) as u32).min(self.def.users),
        }
    }

    /// User-minutes of active users between `from` and `to` [s]: the profile's integral (exact
    /// for whole-number counts, as a staircase's), or all users throughout.
    pub fn user_minutes(&self, from: f64, to: f64) -> f64 {
        let secs = match &self.def.users_profile {
            None => f64::from(self.def.users) * (to - from),
            Some(p) => p.integral(to) - p.integral(from),
        };
        secs.max(0.0) / 60.0
    }

    /// The wait [s] before `user` looks again, if it would send a message at `now` [s] while
    /// numbered at or above the `users_profile`'s count (a think time: it keeps its place in
    /// its session), or if it would start a session (`left` = 0) while outside the hour's
    /// active share (until the next hour, plus a think time so that returning users do not
    /// arrive together). `None`: it goes on.
    #[inline]
    pub fn sits_out(&mut self, user: u32, left: u32, now: f64) -> Option<f64> {
        if self.def.users_profile.is_some() && user >= self.active_users(now) {
            return Some(self.def.think.sample(&mut self.rng));
        }
        let active = self.def.active.as_ref().filter(|_| left == 0)?;
        let share = active.value_at(now);
        if f64::from(user) < (share * f64::from(self.def.users)).round() {
            return None;
        }
        let next = active.next_hour_after(now);
        Some(next - now + self.def.think.sample(&mut self.rng))
    }

    /// A user with `left` messages to go is about to send one; returns the count including
    /// this message, drawing a new session's length when the last session is over (`left` = 0).
    #[inline]
    pub fn on_send(&mut self, user: u32, left: u32) -> u32 {
        self.messages += 1;
        if left != 0 {
            return left;
        }
        self.sessions_started += 1;
        self.session_of[user as usize] = self.session_of[user as usize].wrapping_add(1);
        match &self.def.messages {
            None => ENDLESS,
            Some(d) => d.sample(&mut self.rng).round().clamp(1.0, (ENDLESS - 1) as f64) as u32,
        }
    }

    /// The message of `user`, which had `left` messages to go counting it, is answered (or
    /// rejected): think before the next one, or pause and end the session.
    #[inline]
    pub fn on_reply(&mut self, me: u32, user: u32, left: u32, ctx: &mut Ctx) {
        let left = if left == ENDLESS { ENDLESS } else { left - 1 };
        let wait = if left == 0 {
            self.sessions_completed += 1;
            self.def.pause.sample(&mut self.rng)
        } else {
            self.def.think.sample(&mut self.rng)
        };
        ctx.after(wait, Event::Think { sessions: me, user, left });
    }

    /// Cost of the measured period, from `from` to `to` [s], in USD.
    pub fn cost_usd(&self, from: f64, to: f64) -> f64 {
        let quantity = |d: Driver| match d {
            Driver::Messages => self.messages as f64,
            Driver::ConnectionMinutes => self.user_minutes(from, to),
            _ => 0.0,
        };
        self.def.cost.iter().map(|l| l.usd(quantity(l.driver))).sum()
    }

    /// Forgets counts gathered during warm-up.
    pub fn restart_stats(&mut self) {
        self.sessions_started = 0;
        self.sessions_completed = 0;
        self.messages = 0;
    }
}
