//! Token buckets: `burst` tokens refilled continuously at `rate` per second, one taken per
//! request; refused requests are throttled. One bucket for everyone, or one per user, or one
//! per session (a user's bucket starts full again with each new session). Refill is computed
//! lazily when a request arrives, so an idle bucket costs nothing.

use crate::engine::SimTime;
use crate::model::policy_spec::LimitScope;
use crate::model::program::LimitDef;

/// A bucket of capacity units refilled continuously at `rate` per second up to `cap` (a
/// DynamoDB partition's share and burst, or its hard per-second cap); refill is lazy.
#[derive(Clone, Copy, Debug)]
pub struct Tokens {
    tokens: f64,
    last: SimTime,
    rate: f64,
    cap: f64,
}

impl Tokens {
    /// A full bucket refilled at `rate` [units/s] up to `cap` [units].
    pub fn full(rate: f64, cap: f64) -> Tokens {
        Tokens { tokens: cap, last: SimTime::ZERO, rate, cap }
    }

    /// Brings the tokens up to `now`.
    #[inline]
    pub fn refill(&mut self, now: SimTime) {
        self.tokens = (self.tokens + now.since(self.last) as f64 * 1e-9 * self.rate).min(self.cap);
        self.last = now;
    }

    /// Whether `n` units are there (refill first).
    #[inline]
    pub fn has(&self, n: f64) -> bool {
        self.tokens >= n
    }

    /// Takes `n` units (check `has` first).
    #[inline]
    pub fn take(&mut self, n: f64) {
        self.tokens -= n;
    }

    /// Units there now (after `refill`).
    pub fn tokens(&self) -> f64 {
        self.tokens
    }

    /// From `now` on, refills at `rate` up to `cap`.
    pub fn set_rate(&mut self, now: SimTime, rate: f64, cap: f64) {
        self.refill(now);
        (self.rate, self.cap) = (rate, cap);
        self.tokens = self.tokens.min(cap);
    }
}

/// One bucket's state.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    /// When `tokens` was last brought up to date.
    last: SimTime,
    /// The session the bucket belongs to (per-session scope).
    session: u32,
}

/// A running limit: its buckets and counters.
pub struct Limiter {
    rate: f64,
    burst: f64,
    scope: LimitScope,
    buckets: Vec<Bucket>,
    /// Requests admitted and refused since warm-up.
    pub admitted: u64,
    pub refused: u64,
}

impl Limiter {
    /// A limiter for `users` users (requests without a user share the bucket of index `users`).
    pub fn new(def: &LimitDef, users: usize) -> Limiter {
        let n = if def.per == LimitScope::Global { 1 } else { users + 1 };
        let full = Bucket { tokens: def.burst, last: SimTime::ZERO, session: 0 };
        Limiter { rate: def.rate, burst: def.burst, scope: def.per, buckets: vec![full; n], admitted: 0, refused: 0 }
    }

    /// Takes a token for a request of `user` in `session` at `now`; false if none is left.
    pub fn take(&mut self, now: SimTime, user: u32, session: u32) -> bool {
        let i = match self.scope {
            LimitScope::Global => 0,
            _ => (user as usize).min(self.buckets.len() - 1),
        };
        let b = &mut self.buckets[i];
        if self.scope == LimitScope::Session && b.session != session {
            *b = Bucket { tokens: self.burst, last: now, session };
        }
        b.tokens = (b.tokens + now.since(b.last) as f64 * 1e-9 * self.rate).min(self.burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            self.admitted += 1;
            true
        } else {
            self.refused += 1;
            false
        }
    }

    /// Forgets counts gathered during warm-up.
    pub fn restart_stats(&mut self) {
        self.admitted = 0;
        self.refused = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(rate: f64, burst: f64, per: LimitScope) -> Limiter {
        Limiter::new(&LimitDef { name: "l".into(), rate, burst, per }, 4)
    }

    #[test]
    fn a_bucket_admits_its_burst_then_its_rate() {
        let mut l = limiter(2.0, 5.0, LimitScope::Global);
        let at = |ms: u64| SimTime(ms * 1_000_000);
        let first: usize = (0..10).filter(|_| l.take(at(0), 0, 0)).count();
        assert_eq!(first, 5, "a full bucket admits its burst at once");
        assert!(!l.take(at(499), 0, 0), "0.998 tokens after 499 ms is not enough");
        assert!(l.take(at(500), 0, 0), "one token after 500 ms at 2/s");
    }

    #[test]
    fn users_have_their_own_buckets_and_sessions_start_full() {
        let mut l = limiter(0.5, 1.0, LimitScope::Session);
        assert!(l.take(SimTime::ZERO, 1, 7));
        assert!(!l.take(SimTime::ZERO, 1, 7), "user 1 has used its token");
        assert!(l.take(SimTime::ZERO, 2, 3), "user 2 has its own bucket");
        assert!(l.take(SimTime::ZERO, 1, 8), "a new session starts with a full bucket");
    }
}
