//! An open-loop source: Poisson arrivals following a rate profile (drawn by inverting the
//! integrated rate, exact for piecewise-linear rates), or a renewal process.

use rand_distr::{Distribution, Exp1};

use crate::engine::{SimRng, SimTime};
use crate::model::{Arrivals, SourceDef};
use crate::sim::{Ctx, Event};

/// A running source.
pub struct Source {
    pub def: SourceDef,
    rng: SimRng,
    /// Time of the last arrival in exact seconds, so rounding to ns never accumulates.
    t: f64,
    /// Arrivals produced so far.
    pub produced: u64,
    /// Mean time between arrivals [s] when the rate is constant and positive (fast path).
    mean_gap: Option<f64>,
}

impl Source {
    /// A source that has produced nothing yet.
    pub fn new(def: SourceDef, rng: SimRng) -> Source {
        let mean_gap = match &def.arrivals {
            Arrivals::Poisson(p) => p.constant_rate().filter(|&r| r > 0.0).map(|r| 1.0 / r),
            Arrivals::Renewal(_) => None,
        };
        Source { def, rng, t: 0.0, produced: 0, mean_gap }
    }

    /// Schedules the next arrival after the current one, if any remains.
    pub fn schedule_next(&mut self, me: u32, ctx: &mut Ctx) {
        if self.def.limit.is_some_and(|l| self.produced >= l) {
            return;
        }
        let next = match &self.def.arrivals {
            Arrivals::Poisson(profile) => {
                let e: f64 = Exp1.sample(&mut self.rng);
                match self.mean_gap {
                    Some(gap) => Some(self.t + e * gap),
                    None => profile.advance(self.t, e),
                }
            }
            Arrivals::Renewal(d) => Some(self.t + d.sample(&mut self.rng)),
        };
        if let Some(t) = next.filter(|t| t.is_finite()) {
            self.t = t;
            ctx.at(SimTime::from_secs(t), Event::Arrival { source: me });
        }
    }
}
