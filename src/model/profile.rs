//! Rate profiles for open-loop sources: segments in a model file, compiled into a piecewise
//! linear rate r(t) [requests/s] whose integral is inverted exactly to draw Poisson arrivals.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::quantity::Quantity;

/// One segment of a rate profile, picked by its `shape` field; segments follow each other.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "shape", rename_all = "snake_case", deny_unknown_fields)]
pub enum SegmentSpec {
    /// `rate` [1/s] held for `duration`.
    Constant { rate: f64, duration: Quantity },
    /// Rate changing linearly from `from` to `to` [1/s] over `duration`.
    Ramp { from: f64, to: f64, duration: Quantity },
    /// A staircase from `from` to `to` [1/s] in `steps` equal steps, each held `duration`/`steps`.
    Step { from: f64, to: f64, steps: u32, duration: Quantity },
    /// `base` rate [1/s], jumping to `peak` at offset `at` for `length`, over `duration` in all.
    Spike { base: f64, peak: f64, at: Quantity, length: Quantity, duration: Quantity },
}

/// What the rate does after the last segment.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AfterProfile {
    /// Keep the rate the last segment ended with (default).
    #[default]
    Hold,
    /// No more arrivals.
    Stop,
    /// Start the profile again from its first segment.
    Repeat,
}

/// A linear piece: rate goes from `r0` at `t0` to `r1` at `t1` [s, 1/s].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Piece {
    pub t0: f64,
    pub t1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Piece {
    /// ∫ r over [t0, t1] [requests].
    pub fn mass(&self) -> f64 {
        0.5 * (self.r0 + self.r1) * (self.t1 - self.t0)
    }

    /// The rate at `t` (within the piece).
    pub fn rate_at(&self, t: f64) -> f64 {
        let span = self.t1 - self.t0;
        if span <= 0.0 { self.r0 } else { self.r0 + (self.r1 - self.r0) * (t - self.t0) / span }
    }
}

/// A compiled rate profile.
#[derive(Clone, Debug)]
pub struct RateProfile {
    pieces: Vec<Piece>,
    after: AfterProfile,
    period: f64,
}

impl RateProfile {
    /// A constant rate for ever.
    pub fn constant(rate: f64) -> RateProfile {
        RateProfile {
            pieces: vec![Piece { t0: 0.0, t1: f64::INFINITY, r0: rate, r1: rate }],
            after: AfterProfile::Hold,
            period: f64::INFINITY,
        }
    }

    /// Compiles checked segments (rates ≥ 0, durations > 0).
    pub fn from_segments(segments: &[SegmentSpec], after: AfterProfile) -> RateProfile {
        let mut pieces = Vec::new();
        let mut t = 0.0;
        let mut push = |t: &mut f64, len: f64, r0: f64, r1: f64| {
            if len > 0.0 {
                pieces.push(Piece { t0: *t, t1: *t + len, r0, r1 });
                *t += len;
            }
        };
        for seg in segments {
            match *seg {
                SegmentSpec::Constant { rate, duration } => push(&mut t, duration.0, rate, rate),
                SegmentSpec::Ramp { from, to, duration } => push(&mut t, duration.0, from, to),
                SegmentSpec::Step { from, to, steps, duration } => {
                    let n = steps.max(1);
                    for k in 0..n {
                        let r = if n == 1 { to } else { from + (to - from) * k as f64 / (n - 1) as f64 };
                        push(&mut t, duration.0 / n as f64, r, r);
                    }
                }
                SegmentSpec::Spike { base, peak, at, length, duration } => {
                    let at = at.0.min(duration.0);
                    let len = length.0.min(duration.0 - at);
                    push(&mut t, at, base, base);
                    push(&mut t, len, peak, peak);
                    push(&mut t, duration.0 - at - len, base, base);
                }
            }
        }
        RateProfile { period: t, pieces, after }
    }

    /// The rate, if it is the same at all times (the common case, worth a fast path).
    #[inline]
    pub fn constant_rate(&self) -> Option<f64> {
        match self.pieces.as_slice() {
            [p] if p.t1.is_infinite() => Some(p.r0),
            _ => None,
        }
    }

    /// The value at time `t` [s] (0 past the end of a profile that stops).
    pub fn value_at(&self, t: f64) -> f64 {
        self.piece_at(t).map_or(0.0, |p| p.rate_at(t))
    }

    /// The pieces, in time order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The piece in force at time `t` [s] (extending the profile past its end as `after` says).
    pub fn piece_at(&self, t: f64) -> Option<Piece> {
        if let Some(p) = self.pieces.get(self.pieces.partition_point(|p| p.t1 <= t)) {
            return Some(*p);
        }
        let last = *self.pieces.last()?;
        match self.after {
            AfterProfile::Stop => None,
            AfterProfile::Hold => Some(Piece { t0: last.t1, t1: f64::INFINITY, r0: last.r1, r1: last.r1 }),
            AfterProfile::Repeat => {
                let cycles = (t / self.period).floor();
                let local = t - cycles * self.period;
                let p = self.pieces.get(self.pieces.partition_point(|p| p.t1 <= local)).unwrap_or(&last);
                let off = cycles * self.period;
                Some(Piece { t0: p.t0 + off, t1: p.t1 + off, r0: p.r0, r1: p.r1 })
            }
        }
    }

    /// ∫ r over [0, t] [requests]: the expected number of arrivals by `t`.
    pub fn integral(&self, t: f64) -> f64 {
        let mut total = 0.0;
        let mut s = 0.0;
        while s < t {
            let Some(p) = self.piece_at(s) else { break };
            let end = p.t1.min(t);
            total += 0.5 * (p.rate_at(s) + p.rate_at(end)) * (end - s);
            s = end;
        }
        total
    }

    /// The time at which `mass` more expected arrivals have accumulated after `t` [s], or `None`
    /// if the rate never supplies that much (the source is done).
    pub fn advance(&self, mut t: f64, mut mass: f64) -> Option<f64> {
        loop {
            let p = self.piece_at(t)?;
            let a = p.rate_at(t);
            let b = p.rate_at(p.t1.min(f64::MAX));
            let avail = if p.t1.is_infinite() { f64::INFINITY } else { 0.5 * (a + b) * (p.t1 - t) };
            if mass <= avail {
                let slope = if p.t1.is_infinite() { 0.0 } else { (p.r1 - p.r0) / (p.t1 - p.t0) };
                if slope == 0.0 {
                    return if a > 0.0 { Some(t + mass / a) } else { None };
                }
                // Solve a·x + slope·x²/2 = mass for the smallest x ≥ 0 (stable form).
                let disc = (a * a + 2.0 * slope * mass).max(0.0);
                return Some(t + 2.0 * mass / (a + disc.sqrt()));
            }
            mass -= avail;
            t = p.t1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: f64) -> Quantity {
        Quantity(s)
    }

    #[test]
    fn integral_of_ramp_and_spike() {
        let segs = vec![
            SegmentSpec::Ramp { from: 0.0, to: 10.0, duration: q(100.0) },
            SegmentSpec::Spike { base: 2.0, peak: 20.0, at: q(10.0), length: q(5.0), duration: q(50.0) },
        ];
        let p = RateProfile::from_segments(&segs, AfterProfile::Stop);
        // Ramp: 0.5·10·100 = 500; spike: 2·45 + 20·5 = 190.
        assert!((p.integral(150.0) - 690.0).abs() < 1e-9);
        assert!((p.integral(1e6) - 690.0).abs() < 1e-9, "stop after the profile");
        let held = RateProfile::from_segments(&segs, AfterProfile::Hold);
        assert!((held.integral(160.0) - 710.0).abs() < 1e-9, "holds the final base rate 2/s");
        let rep = RateProfile::from_segments(&segs, AfterProfile::Repeat);
        assert!((rep.integral(300.0) - 1380.0).abs() < 1e-9, "two full cycles");
    }

    #[test]
    fn advance_inverts_the_integral() {
        let segs = vec![
            SegmentSpec::Ramp { from: 5.0, to: 1.0, duration: q(40.0) },
            SegmentSpec::Step { from: 1.0, to: 4.0, steps: 4, duration: q(40.0) },
        ];
        let p = RateProfile::from_segments(&segs, AfterProfile::Hold);
        for &(t, m) in &[(0.0, 3.0), (12.5, 40.0), (39.0, 0.1), (0.0, 200.0), (70.0, 1000.0)] {
            let end = p.advance(t, m).unwrap();
            let got = p.integral(end) - p.integral(t);
            assert!((got - m).abs() < 1e-7 * m.max(1.0), "t={t} m={m}: got {got}");
        }
        let stopped = RateProfile::from_segments(&segs, AfterProfile::Stop);
        assert_eq!(stopped.advance(0.0, 1e6), None);
    }
}
