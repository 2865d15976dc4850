//! Rate profiles for open-loop sources: segments in a model file, compiled into a piecewise
//! linear rate r(t) [requests/s] whose integral is inverted exactly to draw Poisson arrivals.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::clock::{Clock, Schedule, ScheduleSpec};
use super::limits::MAX_STEPS;
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
    /// A time-of-day profile: `rates` [1/s] for each local hour 0 … 23 on the model's clock
    /// (`run.start`, `run.utc_offset`, or the segment's own `utc_offset`), changing on the hour,
    /// for `duration` (default 24 h) from where the segment begins.
    Hourly { rates: Vec<f64>, duration: Option<Quantity>, utc_offset: Option<String> },
}

/// Default length of an `hourly` segment [s]: a day.
pub const HOURLY_DEFAULT_S: f64 = 86_400.0;

/// Most hours one `hourly` segment may last (each is a piece of the profile in memory).
pub const MAX_HOURLY_HOURS: f64 = 24.0 * 366.0;

/// The problems of one segment: (field below the segment, message). `max` bounds every value
/// (rates, or busy slots) and `unit` names it, e.g. "requests/s".
pub fn check_segment(seg: &SegmentSpec, max: f64, unit: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let (values, dur): (Vec<(String, f64)>, f64) = match seg {
        SegmentSpec::Constant { rate, duration } => (vec![("rate".into(), *rate)], duration.0),
        SegmentSpec::Ramp { from, to, duration } => (vec![("from".into(), *from), ("to".into(), *to)], duration.0),
        SegmentSpec::Step { from, to, steps, duration } => {
            if *steps == 0 || *steps > MAX_STEPS {
                out.push(("steps".into(), format!("must be a whole number from 1 to {MAX_STEPS}")));
            }
            (vec![("from".into(), *from), ("to".into(), *to)], duration.0)
        }
        SegmentSpec::Spike { base, peak, at, length, duration } => {
            if at.0 < 0.0 || length.0 < 0.0 || at.0 + length.0 > duration.0 {
                out.push(("length".into(), "need at ≥ 0, length ≥ 0 and at + length ≤ duration".into()));
            }
            (vec![("base".into(), *base), ("peak".into(), *peak)], duration.0)
        }
        SegmentSpec::Hourly { rates, duration, utc_offset } => {
            let spec = ScheduleSpec { hours: rates.clone(), utc_offset: utc_offset.clone() };
            if let Err(e) = Schedule::new(&spec, Clock::default(), |_| true) {
                let field = if e.starts_with("`utc_offset`") { "utc_offset" } else { "rates" };
                out.push((field.into(), e.replace("`hours", "`rates")));
            }
            let dur = duration.map_or(HOURLY_DEFAULT_S, |d| d.0);
            if dur > MAX_HOURLY_HOURS * 3600.0 {
                out.push(("duration".into(), format!("at most {MAX_HOURLY_HOURS:.0} hours, got {dur} s")));
            }
            (rates.iter().enumerate().map(|(h, r)| (format!("rates.{h}"), *r)).collect(), dur)
        }
    };
    for (field, v) in values {
        if !(v.is_finite() && (0.0..=max).contains(&v)) {
            out.push((field, format!("must be from 0 to {max:.0} [{unit}], got {v}")));
        }
    }
    if !(dur.is_finite() && dur > 0.0) {
        out.push(("duration".into(), format!("must be a positive duration, got {dur}")));
    }
    out
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

/// A compiled rate profile. Piece boundaries are whole nanoseconds, accumulated as integers,
/// so consecutive pieces meet exactly and a repeated profile's period is exact: no rounding can
/// leave a point of time outside every piece (which once made a repeated profile spin for ever).
#[derive(Clone, Debug)]
pub struct RateProfile {
    pieces: Vec<Piece>,
    after: AfterProfile,
    /// Length of one pass of the pieces [ns] (0 for a constant rate).
    period_ns: u64,
    /// Expected arrivals in one pass of the pieces [requests].
    period_mass: f64,
}

/// Where a point of time falls: piece `k` of pass `cycle`, or the held rate past the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cursor {
    Piece { k: usize, cycle: u64 },
    Tail,
}

/// Seconds to whole nanoseconds (saturating; durations are validated far below the bound).
fn to_ns(s: f64) -> u64 {
    (s * 1e9).round().clamp(0.0, u64::MAX as f64) as u64
}

fn to_s(ns: u64) -> f64 {
    ns as f64 / 1e9
}

impl RateProfile {
    /// A constant rate for ever.
    pub fn constant(rate: f64) -> RateProfile {
        RateProfile {
            pieces: vec![Piece { t0: 0.0, t1: f64::INFINITY, r0: rate, r1: rate }],
            after: AfterProfile::Hold,
            period_ns: 0,
            period_mass: f64::INFINITY,
        }
    }

    /// Compiles checked segments (rates ≥ 0, durations > 0, hourly rates 24 with a valid
    /// offset) on the model's `clock`.
    pub fn from_segments(segments: &[SegmentSpec], after: AfterProfile, clock: Clock) -> RateProfile {
        let mut pieces = Vec::new();
        let mut t = 0u64;
        let mut push = |t: &mut u64, len: u64, r0: f64, r1: f64| {
            if len > 0 {
                let end = t.saturating_add(len);
                pieces.push(Piece { t0: to_s(*t), t1: to_s(end), r0, r1 });
                *t = end;
            }
        };
        for seg in segments {
            match *seg {
                SegmentSpec::Hourly { ref rates, duration, ref utc_offset } => {
                    let spec = ScheduleSpec { hours: rates.clone(), utc_offset: utc_offset.clone() };
                    let Ok(s) = Schedule::new(&spec, clock, |_| true) else { continue };
                    let end = t.saturating_add(to_ns(duration.map_or(HOURLY_DEFAULT_S, |d| d.0)));
                    while t < end {
                        // The next hour after a point 1 ms in (t itself may round to just
                        // before a boundary); the rate of the piece's middle.
                        let next = to_ns(s.next_hour_after(to_s(t) + 1e-3)).clamp(t + 1, end);
                        let r = s.value_at(to_s(t + (next - t) / 2));
                        let len = next - t;
                        push(&mut t, len, r, r);
                    }
                }
                SegmentSpec::Constant { rate, duration } => push(&mut t, to_ns(duration.0), rate, rate),
                SegmentSpec::Ramp { from, to, duration } => push(&mut t, to_ns(duration.0), from, to),
                SegmentSpec::Step { from, to, steps, duration } => {
                    let n = u64::from(steps.max(1));
                    let total = to_ns(duration.0);
                    for k in 0..n {
                        let r = if n == 1 { to } else { from + (to - from) * k as f64 / (n - 1) as f64 };
                        // Step k ends at ⌊total·(k+1)/n⌋: the steps add up to the duration exactly.
                        let len = (u128::from(total) * u128::from(k + 1) / u128::from(n)
                            - u128::from(total) * u128::from(k) / u128::from(n))
                            as u64;
                        push(&mut t, len, r, r);
                    }
                }
                SegmentSpec::Spike { base, peak, at, length, duration } => {
                    let total = to_ns(duration.0);
                    let at = to_ns(at.0).min(total);
                    let len = to_ns(length.0).min(total - at);
                    push(&mut t, at, base, base);
                    push(&mut t, len, peak, peak);
                    push(&mut t, total - at - len, base, base);
                }
            }
        }
        let period_mass = pieces.iter().map(Piece::mass).sum();
        RateProfile { period_ns: t, pieces, after, period_mass }
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
        self.piece_at(t).map_or(0.0, |p| p.rate_at(t.clamp(p.t0, p.t1)))
    }

    /// The pieces, in time order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The piece in force at time `t` [s] (extending the profile past its end as `after` says).
    pub fn piece_at(&self, t: f64) -> Option<Piece> {
        self.locate(t).map(|c| self.piece(c))
    }

    /// Where `t` [s] falls, or `None` past the end of a profile that stops.
    fn locate(&self, t: f64) -> Option<Cursor> {
        let last = self.pieces.last()?;
        if t < last.t1 {
            return Some(Cursor::Piece { k: self.pieces.partition_point(|p| p.t1 <= t), cycle: 0 });
        }
        match self.after {
            AfterProfile::Stop => None,
            AfterProfile::Hold => Some(Cursor::Tail),
            AfterProfile::Repeat => {
                let ns = to_ns(t);
                let (cycle, local) = (ns / self.period_ns, to_s(ns % self.period_ns));
                // `local` < the period, so some piece ends after it.
                let k = self.pieces.partition_point(|p| p.t1 <= local).min(self.pieces.len() - 1);
                Some(Cursor::Piece { k, cycle })
            }
        }
    }

    /// The piece a cursor points at, shifted to its pass.
    fn piece(&self, c: Cursor) -> Piece {
        let last = self.pieces[self.pieces.len() - 1];
        match c {
            Cursor::Tail => Piece { t0: last.t1, t1: f64::INFINITY, r0: last.r1, r1: last.r1 },
            Cursor::Piece { k, cycle: 0 } => self.pieces[k],
            Cursor::Piece { k, cycle } => {
                let off = u128::from(cycle) * u128::from(self.period_ns);
                let shift = |x: f64| ((off + u128::from(to_ns(x))) as f64) / 1e9;
                let p = self.pieces[k];
                Piece { t0: shift(p.t0), t1: shift(p.t1), r0: p.r0, r1: p.r1 }
            }
        }
    }

    /// The piece after the cursor's, or `None` past the end of a profile that stops.
    fn next(&self, c: Cursor) -> Option<Cursor> {
        match c {
            Cursor::Tail => Some(Cursor::Tail),
            Cursor::Piece { k, cycle } if k + 1 < self.pieces.len() => Some(Cursor::Piece { k: k + 1, cycle }),
            Cursor::Piece { cycle, .. } => match self.after {
                AfterProfile::Stop => None,
                AfterProfile::Hold => Some(Cursor::Tail),
                AfterProfile::Repeat => Some(Cursor::Piece { k: 0, cycle: cycle.saturating_add(1) }),
            },
        }
    }

    /// ∫ r over [0, t] [requests]: the expected number of arrivals by `t`.
    pub fn integral(&self, t: f64) -> f64 {
        let (mut total, mut s) = (0.0, 0.0);
        let mut cur = self.locate(0.0);
        while let Some(c) = cur {
            let p = self.piece(c);
            let end = p.t1.min(t);
            if end > s {
                total += 0.5 * (p.rate_at(s) + p.rate_at(end)) * (end - s);
            }
            if p.t1 >= t || c == Cursor::Tail {
                break;
            }
            s = s.max(p.t1);
            cur = self.next(c);
        }
        total
    }

    /// The time at which `mass` more expected arrivals have accumulated after `t` [s], or `None`
    /// if the rate never supplies that much (the source is done). Walks the pieces one by one
    /// from the one in force at `t`, skipping whole passes of a repeated profile at once, so it
    /// always ends.
    pub fn advance(&self, mut t: f64, mut mass: f64) -> Option<f64> {
        let mut cur = self.locate(t)?;
        if let (AfterProfile::Repeat, Cursor::Piece { k, cycle }) = (self.after, cur) {
            if self.period_mass <= 0.0 {
                return None;
            }
            let skip = (mass / self.period_mass).floor() - 1.0;
            if skip >= 1.0 {
                let skip = skip.min(1e15) as u64;
                mass -= skip as f64 * self.period_mass;
                t += skip as f64 * to_s(self.period_ns);
                cur = Cursor::Piece { k, cycle: cycle.saturating_add(skip) };
            }
        }
        loop {
            let p = self.piece(cur);
            let t0 = t.clamp(p.t0, p.t1);
            let a = p.rate_at(t0);
            if p.t1.is_infinite() {
                return (a > 0.0).then(|| t0 + mass / a);
            }
            let avail = 0.5 * (a + p.r1) * (p.t1 - t0);
            if mass <= avail && avail > 0.0 {
                let slope = (p.r1 - p.r0) / (p.t1 - p.t0);
                if slope == 0.0 {
                    return (a > 0.0).then(|| t0 + mass / a);
                }
                // Solve a·x + slope·x²/2 = mass for the smallest x ≥ 0 (stable form).
                let disc = (a * a + 2.0 * slope * mass).max(0.0);
                return Some((t0 + 2.0 * mass / (a + disc.sqrt())).min(p.t1));
            }
            mass -= avail;
            t = p.t1;
            cur = self.next(cur)?;
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
        let p = RateProfile::from_segments(&segs, AfterProfile::Stop, Clock::default());
        // Ramp: 0.5·10·100 = 500; spike: 2·45 + 20·5 = 190.
        assert!((p.integral(150.0) - 690.0).abs() < 1e-9);
        assert!((p.integral(1e6) - 690.0).abs() < 1e-9, "stop after the profile");
        let held = RateProfile::from_segments(&segs, AfterProfile::Hold, Clock::default());
        assert!((held.integral(160.0) - 710.0).abs() < 1e-9, "holds the final base rate 2/s");
        let rep = RateProfile::from_segments(&segs, AfterProfile::Repeat, Clock::default());
        assert!((rep.integral(300.0) - 1380.0).abs() < 1e-9, "two full cycles");
    }

    #[test]
    fn advance_inverts_the_integral() {
        let segs = vec![
            SegmentSpec::Ramp { from: 5.0, to: 1.0, duration: q(40.0) },
            SegmentSpec::Step { from: 1.0, to: 4.0, steps: 4, duration: q(40.0) },
        ];
        let p = RateProfile::from_segments(&segs, AfterProfile::Hold, Clock::default());
        for &(t, m) in &[(0.0, 3.0), (12.5, 40.0), (39.0, 0.1), (0.0, 200.0), (70.0, 1000.0)] {
            let end = p.advance(t, m).unwrap();
            let got = p.integral(end) - p.integral(t);
            assert!((got - m).abs() < 1e-7 * m.max(1.0), "t={t} m={m}: got {got}");
        }
        let stopped = RateProfile::from_segments(&segs, AfterProfile::Stop, Clock::default());
        assert_eq!(stopped.advance(0.0, 1e6), None);
    }

    /// Found by hostile testing: pieces whose lengths do not add up exactly in floating point
    /// (0.1 s + 0.2 s; a step of 3 over 1 s) made a repeated profile spin for ever.
    #[test]
    fn repeated_profiles_with_inexact_lengths_always_advance() {
        let cases = [
            vec![
                SegmentSpec::Constant { rate: 50.0, duration: q(0.1) },
                SegmentSpec::Constant { rate: 10.0, duration: q(0.2) },
            ],
            vec![SegmentSpec::Step { from: 3.0, to: 30.0, steps: 3, duration: q(1.0) }],
            vec![
                SegmentSpec::Ramp { from: 0.0, to: 7.0, duration: q(0.7) },
                SegmentSpec::Constant { rate: 0.0, duration: q(0.1) },
            ],
        ];
        // A mass that does not divide the pieces' masses, so draws rarely land on a boundary.
        const MASS: f64 = 0.73;
        for segs in &cases {
            let p = RateProfile::from_segments(segs, AfterProfile::Repeat, Clock::default());
            let (mut t, mut n) = (0.0, 0u64);
            while t < 1000.0 {
                let next = p.advance(t, MASS).expect("a repeated profile with arrivals never ends");
                assert!(next > t || next == t && n > 0, "time must move: {t} → {next}");
                (t, n) = (next, n + 1);
            }
            // One draw per MASS of mass: n ≈ ∫ r over [0, 1000 s] / MASS, give or take the last.
            let want = p.integral(1000.0);
            assert!((n as f64 - want / MASS).abs() <= 2.0, "{n} draws, want {}", want / MASS);
            // A jump of many passes at once lands where the integral says.
            let far = p.advance(0.5, 1e7).unwrap();
            assert!(((p.integral(far) - p.integral(0.5)) - 1e7).abs() < 1e-3 * 1e7, "far jump to {far}");
        }
        // By hand: 3,333 passes of 7 arrivals, then 0.1 s at 50/s = 23,336 by 1,000 s.
        let first = RateProfile::from_segments(&cases[0], AfterProfile::Repeat, Clock::default());
        assert!((first.integral(1000.0) - 23_336.0).abs() < 1e-6, "{}", first.integral(1000.0));
        let silent = RateProfile::from_segments(
            &[SegmentSpec::Constant { rate: 0.0, duration: q(0.3) }],
            AfterProfile::Repeat,
            Clock::default(),
        );
        assert_eq!(silent.advance(0.0, 1.0), None, "a profile with no arrivals ends its source");
    }

    #[test]
    fn an_hourly_segment_follows_the_clock_and_changes_on_the_hour() {
        // Hour h has rate h; the run starts at 22:30 local, after a 10-minute constant segment.
        let rates: Vec<f64> = (0..24).map(f64::from).collect();
        let clock = Clock { start_s: 22 * 3600 + 1800, utc_offset_s: 0 };
        let segs = [
            SegmentSpec::Constant { rate: 100.0, duration: q(600.0) },
            SegmentSpec::Hourly { rates, duration: Some(q(3.0 * 3600.0)), utc_offset: None },
        ];
        let p = RateProfile::from_segments(&segs, AfterProfile::Stop, clock);
        // 22:40 → 23:00 at 22, → 00:00 at 23, → 01:00 at 0, → 01:40 at 1.
        let got: Vec<(f64, f64, f64)> = p.pieces().iter().map(|x| (x.t0, x.t1, x.r0)).collect();
        assert_eq!(
            got,
            vec![
                (0.0, 600.0, 100.0),
                (600.0, 1800.0, 22.0),
                (1800.0, 5400.0, 23.0),
                (5400.0, 9000.0, 0.0),
                (9000.0, 11_400.0, 1.0)
            ]
        );
        // ∫ = 60,000 + 1,200·22 + 3,600·23 + 0 + 2,400·1.
        assert!((p.integral(11_400.0) - 171_600.0).abs() < 1e-6, "{}", p.integral(11_400.0));
    }

    #[test]
    fn steps_add_up_to_their_duration_exactly() {
        let p = RateProfile::from_segments(
            &[SegmentSpec::Step { from: 1.0, to: 3.0, steps: 3, duration: q(1.0) }],
            AfterProfile::Stop,
            Clock::default(),
        );
        assert_eq!(p.pieces().len(), 3);
        assert_eq!(p.pieces()[2].t1, 1.0);
        assert!(p.pieces().windows(2).all(|w| w[0].t1 == w[1].t0), "pieces meet exactly");
    }
}
