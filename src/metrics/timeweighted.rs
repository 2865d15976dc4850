//! Time-weighted averages of a piecewise-constant quantity (queue length, busy servers).

use crate::engine::SimTime;

/// Integrates a level that changes at discrete times: area = Σ level × time held [level·ns].
#[derive(Clone, Debug, Default)]
pub struct TimeWeighted {
    level: f64,
    since: SimTime,
    area: f64,
    origin: SimTime,
}

impl TimeWeighted {
    /// Sets the level to `level` from `now` on.
    #[inline]
    pub fn set(&mut self, now: SimTime, level: f64) {
        self.area += self.level * now.since(self.since) as f64;
        self.level = level;
        self.since = now;
    }

    /// The current level.
    pub fn level(&self) -> f64 {
        self.level
    }

    /// Area accumulated from the origin up to `now` [level·ns].
    pub fn area_at(&self, now: SimTime) -> f64 {
        self.area + self.level * now.since(self.since) as f64
    }

    /// Time average from the origin to `now` (the current level if no time has passed).
    pub fn mean_at(&self, now: SimTime) -> f64 {
        let span = now.since(self.origin);
        if span == 0 { self.level } else { self.area_at(now) / span as f64 }
    }

    /// Forgets the past: averaging starts again at `now`, keeping the current level.
    pub fn restart(&mut self, now: SimTime) {
        self.area = 0.0;
        self.since = now;
        self.origin = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_by_time_held() {
        let mut tw = TimeWeighted::default();
        tw.set(SimTime(0), 2.0);
        tw.set(SimTime(10), 4.0);
        // 2 for 10 ns, 4 for 30 ns: (20 + 120) / 40 = 3.5
        assert_eq!(tw.mean_at(SimTime(40)), 3.5);
        tw.restart(SimTime(40));
        assert_eq!(tw.mean_at(SimTime(50)), 4.0);
        assert_eq!(tw.area_at(SimTime(50)), 40.0);
    }
}
