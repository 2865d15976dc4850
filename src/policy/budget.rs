//! A retry budget, as gRPC's retry throttling and Finagle's RetryBudget: over a sliding window,
//! retries may not exceed `ratio` × calls + `min_per_s` × window. Calls and retries are counted
//! in 20 buckets spanning the window, so memory is fixed and the window slides in steps of a
//! twentieth of its length.

use crate::engine::SimTime;
use crate::model::program::BudgetDef;

const BUCKETS: usize = 20;

/// A running budget.
pub struct Budget {
    ratio: f64,
    allowance: f64,
    width_ns: u64,
    /// Per bucket: (bucket number, calls, retries).
    buckets: [(u64, u64, u64); BUCKETS],
    /// Retries refused since warm-up.
    pub refused: u64,
}

impl Budget {
    /// A budget with nothing counted yet.
    pub fn new(def: &BudgetDef) -> Budget {
        let width_ns = ((def.window_s * 1e9) as u64 / BUCKETS as u64).max(1);
        Budget {
            ratio: def.ratio,
            allowance: def.min_per_s * def.window_s,
            width_ns,
            buckets: [(u64::MAX, 0, 0); BUCKETS],
            refused: 0,
        }
    }

    fn slot(&mut self, now: SimTime) -> &mut (u64, u64, u64) {
        let n = now.0 / self.width_ns;
        let b = &mut self.buckets[(n % BUCKETS as u64) as usize];
        if b.0 != n {
            *b = (n, 0, 0);
        }
        b
    }

    /// A call (its first attempt) is made now.
    pub fn on_call(&mut self, now: SimTime) {
        self.slot(now).1 += 1;
    }

    /// Whether a retry may be made now; if so it is counted.
    pub fn try_retry(&mut self, now: SimTime) -> bool {
        let n = now.0 / self.width_ns;
        let live = |b: &&(u64, u64, u64)| b.0 != u64::MAX && b.0 + BUCKETS as u64 > n && b.0 <= n;
        let calls: u64 = self.buckets.iter().filter(live).map(|b| b.1).sum();
        let retries: u64 = self.buckets.iter().filter(live).map(|b| b.2).sum();
        if (retries + 1) as f64 <= self.ratio * calls as f64 + self.allowance {
            self.slot(now).2 += 1;
            true
        } else {
            self.refused += 1;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_stay_within_the_ratio_of_calls() {
        let mut b = Budget::new(&BudgetDef { ratio: 0.1, window_s: 10.0, min_per_s: 0.0 });
        let (mut calls, mut retries) = (0, 0);
        for ms in 0..20_000u64 {
            let now = SimTime(ms * 1_000_000);
            b.on_call(now);
            calls += 1;
            // every call fails and asks for a retry
            if b.try_retry(now) {
                retries += 1;
            }
        }
        let share = retries as f64 / calls as f64;
        assert!(share <= 0.1 + 1e-9, "retries {retries} of {calls} calls");
        assert!(share > 0.09, "the budget should be used: {share}");
    }
}
