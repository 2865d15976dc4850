//! A pure delay: every request waits a drawn time, with no queueing (infinitely many servers).

use crate::cost::{CostLine, Driver};
use crate::engine::{ReqId, SimRng};
use crate::model::{Dist, Target};
use crate::sim::{Ctx, Event};

/// A running delay.
pub struct Delay {
    pub delay: Dist,
    pub rng: SimRng,
    pub to: Target,
    pub cost: Vec<CostLine>,
    /// Requests that entered since warm-up.
    pub passed: u64,
}

impl Delay {
    /// Holds request `id` for a drawn time.
    #[inline]
    pub fn enter(&mut self, me: u32, ctx: &mut Ctx, id: ReqId) {
        self.passed += 1;
        let d = self.delay.sample(&mut self.rng);
        ctx.after(d, Event::Done { block: me, req: id });
    }

    /// Cost of the measured period [USD].
    pub fn cost_usd(&self) -> f64 {
        let quantity = |d: Driver| {
            if d == Driver::Requests { self.passed as f64 } else { 0.0 }
        };
        self.cost.iter().map(|l| l.usd(quantity(l.driver))).sum()
    }
}
