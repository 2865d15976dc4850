//! A correlated on/off process — bursts that come and go, with exponential on and off periods —
//! and the draws it makes while on: a service's throttle bursts (`faults.throttle_bursts`) and a
//! guardrail's prompt-injection campaigns (`guardrail.block_bursts`).

use rand::RngExt;

use crate::engine::{SimRng, SimTime};

/// The on/off process, advanced lazily to the time asked.
pub struct Bursts {
    /// Mean on and off durations [s]; share of draws that hit while on.
    on: f64,
    off: f64,
    share: f64,
    is_on: bool,
    /// When the current period ends [s].
    until: f64,
    rng: SimRng,
}

/// Periods stepped one by one before the process jumps to `t` in one draw.
const BURST_STEPS: u32 = 64;

impl Bursts {
    /// The process with mean on and off periods `on` and `off` [s], hitting `share` of the draws
    /// made while on, its periods drawn from `timeline` (a stream of its own, so the timeline
    /// does not depend on how often it is asked); started in its stationary law: on with
    /// probability on/(on + off).
    pub fn new(on: f64, off: f64, share: f64, mut timeline: SimRng) -> Bursts {
        let is_on = timeline.random::<f64>() < on / (on + off);
        let first = exp(&mut timeline, if is_on { on } else { off });
        Bursts { on, off, share, is_on, until: first, rng: timeline }
    }

    /// Whether a draw at `now` hits: a burst is on and `draws` says yes with probability
    /// `share` (no draw when the share is 1).
    #[inline]
    pub fn hit(&mut self, now: SimTime, draws: &mut SimRng) -> bool {
        self.in_burst(now.0 as f64 * 1e-9) && (self.share >= 1.0 || draws.random::<f64>() < self.share)
    }

    /// Whether a burst is on at `t` [s] (not before the last time asked). Far ahead, the state
    /// at `t` is drawn at once from the two-state chain's transition law — P(on at t | state s
    /// at u) = π + (1{s on} − π)·e^{−(1/on + 1/off)(t − u)}, π = on/(on + off) — and, the
    /// periods being exponential (memoryless), the rest of that period is a fresh draw: the
    /// same process in law, at a cost that does not grow with the gap.
    fn in_burst(&mut self, t: f64) -> bool {
        let mut steps = 0;
        while t >= self.until {
            if steps == BURST_STEPS {
                // At `until` the period ends and the state flips; the chain runs on from there.
                let pi = self.on / (self.on + self.off);
                let from_on = if self.is_on { 0.0 } else { 1.0 };
                let decay = (-(1.0 / self.on + 1.0 / self.off) * (t - self.until)).exp();
                let u: f64 = self.rng.random();
                self.is_on = u < pi + (from_on - pi) * decay;
                self.until = t + exp(&mut self.rng, if self.is_on { self.on } else { self.off });
                break;
            }
            self.is_on = !self.is_on;
            self.until += exp(&mut self.rng, if self.is_on { self.on } else { self.off });
            steps += 1;
        }
        self.is_on
    }
}

/// An exponential draw of mean `mean`.
fn exp(rng: &mut SimRng, mean: f64) -> f64 {
    let e: f64 = rand_distr::Distribution::sample(&rand_distr::Exp1, rng);
    e * mean
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The share of time on is on ÷ (on + off) whether the process is asked often (stepped
    /// period by period) or rarely (jumping over thousands of periods at once); and asked
    /// often, a burst seen now is likely still on a moment later.
    #[test]
    fn bursts_are_on_their_share_of_the_time_asked_often_or_rarely() {
        let new = || Bursts {
            on: 1.0,
            off: 9.0,
            share: 1.0,
            is_on: false,
            until: 0.0,
            rng: crate::engine::rng::stream(7, "bursts", "test"),
        };
        for gap in [0.05, 10_000.0] {
            let mut b = new();
            let n = 200_000;
            let on = (1..=n).filter(|&k| b.in_burst(k as f64 * gap)).count() as f64 / n as f64;
            // Binomial sd at most 0.3/√n for independent looks (the rare ones), wider for the
            // correlated frequent ones: 0.1 ± 0.01 is 15 sd of the former.
            assert!((on - 0.1).abs() < 0.01, "gap {gap}: on {on}");
        }
        let mut b = new();
        let (mut both, mut first) = (0u32, 0u32);
        for k in 0..200_000 {
            let t = k as f64;
            if b.in_burst(t) {
                first += 1;
                both += u32::from(b.in_burst(t + 0.01));
            }
        }
        assert!(f64::from(both) / f64::from(first) > 0.95, "{both} of {first}");
    }
}
