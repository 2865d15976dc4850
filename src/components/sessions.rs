//! A closed-loop user population: each user sends a message, waits for its answer (or its
//! rejection), thinks, and sends the next; after a session's last message the user pauses and
//! starts a new session. The population is constant, so the offered load falls as latency rises.

use crate::engine::SimRng;
use crate::model::SessionsDef;
use crate::sim::{Ctx, Event};

/// Messages left marker for endless sessions.
const ENDLESS: u32 = u32::MAX;

/// A running population.
pub struct Sessions {
    pub def: SessionsDef,
    rng: SimRng,
    /// Messages each user still has to send in its current session.
    left: Vec<u32>,
    /// Sessions started and completed since warm-up.
    pub sessions_started: u64,
    pub sessions_completed: u64,
}

impl Sessions {
    /// A population whose users all start a session after one think time (so they do not
    /// arrive in lockstep).
    pub fn new(def: SessionsDef, rng: SimRng) -> Sessions {
        let left = vec![0; def.users as usize];
        Sessions {
            def,
            rng,
            left,
            sessions_started: 0,
            sessions_completed: 0,
        }
    }

    /// Schedules every user's first message.
    pub fn start(&mut self, me: u32, ctx: &mut Ctx) {
        for user in 0..self.def.users {
            let first = self.def.think.sample(&mut self.rng);
            ctx.after(first, Event::Think { sessions: me, user });
        }
    }

    /// User `user` is about to send a message; starts a new session if needed.
    pub fn on_send(&mut self, user: u32) {
        let left = &mut self.left[user as usize];
        if *left == 0 {
            *left = match &self.def.messages {
                None => ENDLESS,
                Some(d) => d
                    .sample(&mut self.rng)
                    .round()
                    .clamp(1.0, (ENDLESS - 1) as f64) as u32,
            };
            self.sessions_started += 1;
        }
    }

    /// User `user`'s message is answered (or rejected): think, or pause and end the session.
    pub fn on_reply(&mut self, me: u32, user: u32, ctx: &mut Ctx) {
        let left = &mut self.left[user as usize];
        if *left != ENDLESS {
            *left -= 1;
        }
        let wait = if *left == 0 {
            self.sessions_completed += 1;
            self.def.pause.sample(&mut self.rng)
        } else {
            self.def.think.sample(&mut self.rng)
        };
        ctx.after(wait, Event::Think { sessions: me, user });
    }

    /// Forgets counts gathered during warm-up.
    pub fn restart_stats(&mut self) {
        self.sessions_started = 0;
        self.sessions_completed = 0;
    }
}
