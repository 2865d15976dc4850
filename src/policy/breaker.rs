//! A circuit breaker (closed → open → half-open → closed), after Resilience4j and Hystrix: while
//! closed it watches a rolling window of attempts (the last N, or the last stretch of time in
//! 20 buckets) and opens once the window holds at least `min_calls` attempts and the failure
//! share or the slow-call share reaches its threshold. Open, it refuses every attempt for
//! `open_for`; then it lets `probes` attempts through and closes if all of them succeed
//! (opening again at the first failure).

use crate::engine::SimTime;
use crate::model::program::BreakerDef;

const BUCKETS: usize = 20;

/// The breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Closed,
    /// Open until this time.
    Open(SimTime),
    /// Probes let through and probes that succeeded so far.
    HalfOpen {
        issued: u32,
        succeeded: u32,
    },
}

/// Whether an attempt may go ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Short-circuited: the breaker is open (or half-open with its probes all out).
    Refuse,
}

/// A running breaker.
pub struct Breaker {
    def: BreakerDef,
    pub state: State,
    /// Count window: one entry per attempt (bit 0 failed, bit 1 slow), as a ring.
    ring: Vec<u8>,
    ring_next: usize,
    /// Time window: (bucket number, attempts, failures, slow) per bucket.
    buckets: [(u64, u64, u64, u64); BUCKETS],
    width_ns: u64,
    /// Times it opened and attempts it refused since warm-up.
    pub opened: u64,
    pub short_circuits: u64,
    /// Whether it has been open at some time in the open time-series window.
    open_in_window: bool,
}

impl Breaker {
    /// A closed breaker with an empty window.
    pub fn new(def: &BreakerDef) -> Breaker {
        let ring = Vec::with_capacity(def.calls.unwrap_or(0) as usize);
        let width_ns = ((def.duration_s * 1e9) as u64 / BUCKETS as u64).max(1);
        Breaker {
            def: def.clone(),
            state: State::Closed,
            ring,
            ring_next: 0,
            buckets: [(u64::MAX, 0, 0, 0); BUCKETS],
            width_ns,
            opened: 0,
            short_circuits: 0,
            open_in_window: false,
        }
    }

    /// Whether the breaker lets attempts of `class` through whatever its state (`exempt`).
    pub fn exempts(&self, class: u16) -> bool {
        self.def.exempt.contains(&class)
    }

    /// Whether an attempt starting now may go ahead.
    pub fn admit(&mut self, now: SimTime) -> Verdict {
        if let State::Open(until) = self.state {
            if now < until {
                self.short_circuits += 1;
                return Verdict::Refuse;
            }
            self.state = State::HalfOpen { issued: 0, succeeded: 0 };
        }
        if let State::HalfOpen { issued, succeeded } = self.state {
            if issued >= self.def.probes {
                self.short_circuits += 1;
                return Verdict::Refuse;
            }
            self.state = State::HalfOpen { issued: issued + 1, succeeded };
        }
        Verdict::Allow
    }

    /// An attempt that took `latency_s` ended now, successfully or not.
    pub fn record(&mut self, now: SimTime, ok: bool, latency_s: f64) {
        let slow = self.def.slow.is_some_and(|(d, _)| latency_s > d);
        match self.state {
            State::Open(_) => {}
            State::HalfOpen { issued, succeeded } => {
                if !ok || slow {
                    self.open(now);
                } else if succeeded + 1 >= self.def.probes {
                    self.close();
                } else {
                    self.state = State::HalfOpen { issued, succeeded: succeeded + 1 };
                }
            }
            State::Closed => {
                let (n, fails, slows) = self.add(now, !ok, slow);
                if n >= self.def.min_calls as u64 {
                    let n = n as f64;
                    let slow_trips = self.def.slow.is_some_and(|(_, rate)| slows as f64 / n >= rate);
                    if fails as f64 / n >= self.def.failure_rate || slow_trips {
                        self.open(now);
                    }
                }
            }
        }
    }

    /// Adds an attempt to the window; returns the window's (attempts, failures, slow).
    fn add(&mut self, now: SimTime, failed: bool, slow: bool) -> (u64, u64, u64) {
        if let Some(n) = self.def.calls {
            let bits = failed as u8 | (slow as u8) << 1;
            if self.ring.len() < n as usize {
                self.ring.push(bits);
            } else {
                self.ring[self.ring_next] = bits;
                self.ring_next = (self.ring_next + 1) % n as usize;
            }
            let fails = self.ring.iter().filter(|&&b| b & 1 != 0).count() as u64;
            let slows = self.ring.iter().filter(|&&b| b & 2 != 0).count() as u64;
            return (self.ring.len() as u64, fails, slows);
        }
        let k = now.0 / self.width_ns;
        let b = &mut self.buckets[(k % BUCKETS as u64) as usize];
        if b.0 != k {
            *b = (k, 0, 0, 0);
        }
        b.1 += 1;
        b.2 += failed as u64;
        b.3 += slow as u64;
        let live = self.buckets.iter().filter(|b| b.0 != u64::MAX && b.0 + BUCKETS as u64 > k && b.0 <= k);
        live.fold((0, 0, 0), |acc, b| (acc.0 + b.1, acc.1 + b.2, acc.2 + b.3))
    }

    fn open(&mut self, now: SimTime) {
        self.opened += 1;
        self.open_in_window = true;
        self.state = State::Open(now.after_secs(self.def.open_for_s));
    }

    fn close(&mut self) {
        self.state = State::Closed;
        self.ring.clear();
        self.ring_next = 0;
        self.buckets = [(u64::MAX, 0, 0, 0); BUCKETS];
    }

    /// Whether it is open now (refusing attempts).
    pub fn is_open(&self, now: SimTime) -> bool {
        matches!(self.state, State::Open(until) if now < until)
    }

    /// Whether it was open (refusing every attempt; not half-open) at any time in the
    /// time-series window that ends `now`: it opened in it, or was open when it began. Starts
    /// the next window.
    pub fn take_window_open(&mut self, now: SimTime) -> bool {
        let open_now = self.is_open(now);
        std::mem::replace(&mut self.open_in_window, open_now)
    }

    /// Forgets counts gathered during warm-up.
    pub fn restart_stats(&mut self) {
        self.opened = 0;
        self.short_circuits = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> SimTime {
        SimTime::from_secs(s)
    }

    fn def() -> BreakerDef {
        BreakerDef {
            calls: Some(10),
            duration_s: 0.0,
            failure_rate: 0.5,
            slow: None,
            min_calls: 4,
            open_for_s: 30.0,
            exempt: Vec::new(),
            probes: 2,
        }
    }

    #[test]
    fn opens_at_its_threshold_stays_open_and_closes_after_good_probes() {
        let mut b = Breaker::new(&def());
        // 1 ok, then failures: after 4 attempts the failure share is 3/4 ≥ 0.5 → open at t = 4.
        for (t, ok) in [(1.0, true), (2.0, false), (3.0, false)] {
            assert_eq!(b.admit(secs(t)), Verdict::Allow);
            b.record(secs(t), ok, 0.01);
        }
        assert_eq!(b.state, State::Closed, "3 attempts are below min_calls");
        b.admit(secs(4.0));
        b.record(secs(4.0), false, 0.01);
        assert_eq!(b.state, State::Open(secs(34.0)));
        assert_eq!(b.admit(secs(33.999)), Verdict::Refuse, "open for exactly 30 s");
        assert_eq!(b.short_circuits, 1);
        assert_eq!(b.admit(secs(34.0)), Verdict::Allow, "first probe at 34 s");
        assert_eq!(b.admit(secs(34.0)), Verdict::Allow, "second probe");
        assert_eq!(b.admit(secs(34.0)), Verdict::Refuse, "no third probe while two are out");
        b.record(secs(35.0), true, 0.01);
        assert!(matches!(b.state, State::HalfOpen { .. }));
        b.record(secs(35.5), true, 0.01);
        assert_eq!(b.state, State::Closed, "closes after both probes succeed");
        assert_eq!(b.opened, 1);
    }

    /// Attempts fail each second until 33 s: the 4th (at 3 s) opens it over [3 s, 33 s). Windows
    /// of 10 s from 0 see it open in [0, 10), [10, 20), [20, 30) and [30, 40), not in [40, 50)
    /// (the good probes at 33 s and 34 s were let through half-open, and closed it).
    #[test]
    fn a_window_sees_it_open_when_the_open_period_overlaps_it() {
        let mut b = Breaker::new(&def());
        let mut seen = Vec::new();
        for w in 0..5 {
            for t in (w * 10)..(w * 10 + 10) {
                if b.admit(secs(t as f64)) == Verdict::Allow {
                    b.record(secs(t as f64), t >= 33, 0.01);
                }
            }
            seen.push(b.take_window_open(secs((w * 10 + 10) as f64)));
        }
        assert_eq!(seen, [true, true, true, true, false]);
        assert_eq!(b.state, State::Closed, "two good probes at 33 s and 34 s closed it");
    }

    #[test]
    fn a_failed_probe_opens_it_again_and_slow_calls_trip_it() {
        let mut b = Breaker::new(&def());
        for t in 0..4 {
            b.admit(secs(t as f64));
            b.record(secs(t as f64), false, 0.01);
        }
        assert_eq!(b.state, State::Open(secs(33.0)));
        b.admit(secs(40.0));
        b.record(secs(40.5), false, 0.01);
        assert_eq!(b.state, State::Open(secs(70.5)), "a failed probe reopens for open_for");

        let slow = BreakerDef { calls: None, duration_s: 30.0, slow: Some((0.5, 0.5)), ..def() };
        let mut b = Breaker::new(&slow);
        for t in 0..4 {
            b.admit(secs(t as f64));
            b.record(secs(t as f64), true, if t % 2 == 0 { 0.6 } else { 0.1 });
        }
        assert!(b.is_open(secs(3.0)), "half of the attempts slower than 500 ms over 30 s");
    }
}
