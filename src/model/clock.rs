//! Wall-clock time in a model: the local time of day at which a run starts (`run.start`, in
//! the model's time zone `run.utc_offset`), and 24-entry schedules that change a value on the
//! hour (a concurrency cap, a pool's size, a traffic multiplier, the share of users active),
//! each in its own time zone if it says so (runbook 4's `BATCH_CONCURRENCY_SCHEDULE` is in JST).
//!
//! Simulated time t [s] maps to a schedule's local clock as
//! `start + t + (schedule's offset − model's offset)`, taken modulo a day; the schedule's value
//! at t is `hours[⌊local ÷ 3600⌋]`, and it changes exactly when `local` crosses a whole hour.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Seconds in an hour and in a day.
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// A time of day `"HH:MM"` or `"HH:MM:SS"` (00:00 to 23:59:59).
pub fn parse_time_of_day(text: &str) -> Result<i64, String> {
    let bad = || format!("\"{text}\" is not a time of day such as \"09:30\" or \"22:00:15\" (00:00 to 23:59:59)");
    let parts: Vec<&str> = text.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(bad());
    }
    let n: Vec<i64> = parts.iter().map(|p| p.parse().unwrap_or(99)).collect();
    let (h, m, s) = (n[0], n[1], n.get(2).copied().unwrap_or(0));
    if h > 23 || m > 59 || s > 59 {
        return Err(bad());
    }
    Ok(h * HOUR + m * 60 + s)
}

/// A UTC offset `"+09:00"`, `"-05:30"`, `"+0900"`, `"Z"` or `"UTC"` (either case) [s east of
/// UTC], within ±14 h.
pub fn parse_utc_offset(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return Ok(0);
    }
    let bad =
        || format!("\"{text}\" is not a UTC offset such as \"+09:00\" (JST), \"-05:00\" or \"Z\" (within ±14:00)");
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) || rest.len() > 5 {
        return Err(bad());
    }
    let (h, m): (i64, i64) = (digits[..2].parse().map_err(|_| bad())?, digits[2..].parse().map_err(|_| bad())?);
    if m > 59 || h * 60 + m > 14 * 60 {
        return Err(bad());
    }
    Ok(sign * (h * HOUR + m * 60))
}

/// A 24-entry schedule in a model file: the value for each local hour, 0 to 23.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// The value in force from hour h:00 to h:59:59, for h = 0 … 23 (24 entries).
    pub hours: Vec<f64>,
    /// The schedule's time zone, e.g. `"+09:00"` (default: the model's `run.utc_offset`).
    pub utc_offset: Option<String>,
}

/// The run's clock: where simulated time 0 falls in the model's time zone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    /// Local time of day at t = 0 [s after midnight].
    pub start_s: i64,
    /// The model's time zone [s east of UTC].
    pub utc_offset_s: i64,
}

/// A checked schedule: 24 values and the shift from the model's clock to the schedule's.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub hours: [f64; 24],
    /// The schedule's local time of day at t = 0 [s after midnight].
    start_s: i64,
}

impl Schedule {
    /// `spec` on `clock`; `Err` says what is wrong in the reader's words (the caller names the
    /// field): not 24 entries, a value `valid` refuses, or a bad offset.
    pub fn new(spec: &ScheduleSpec, clock: Clock, valid: impl Fn(f64) -> bool) -> Result<Schedule, String> {
        Self::checked(spec, clock, valid, "")
    }

    /// As [`Schedule::new`], with `range` (e.g. "whole numbers from 0 to 20") said after a
    /// value that is out of it or a wrong number of entries, not after a bad offset.
    pub fn checked(
        spec: &ScheduleSpec,
        clock: Clock,
        valid: impl Fn(f64) -> bool,
        range: &str,
    ) -> Result<Schedule, String> {
        let range = if range.is_empty() { String::new() } else { format!(" ({range})") };
        if spec.hours.len() != 24 {
            let n = spec.hours.len();
            return Err(format!("`hours` needs 24 entries, one per hour from 0:00 to 23:00, got {n}{range}"));
        }
        if let Some((h, v)) = spec.hours.iter().enumerate().find(|(_, v)| !v.is_finite() || !valid(**v)) {
            return Err(format!("`hours.{h}` = {v} is out of range{range}"));
        }
        let offset = match &spec.utc_offset {
            Some(o) => parse_utc_offset(o).map_err(|e| format!("`utc_offset`: {e}"))?,
            None => clock.utc_offset_s,
        };
        let mut hours = [0.0; 24];
        hours.copy_from_slice(&spec.hours);
        Ok(Schedule { hours, start_s: (clock.start_s + offset - clock.utc_offset_s).rem_euclid(DAY) })
    }

    /// The schedule's local time of day at simulated time `t` [s after midnight, in 0 … 86,400).
    fn local(&self, t: f64) -> f64 {
        (self.start_s as f64 + t).rem_euclid(DAY as f64)
    }

    /// The local hour (0 … 23) at simulated time `t` [s].
    pub fn hour_at(&self, t: f64) -> usize {
        ((self.local(t) / HOUR as f64).floor() as usize).min(23)
    }

    /// The value in force at simulated time `t` [s].
    pub fn value_at(&self, t: f64) -> f64 {
        self.hours[self.hour_at(t)]
    }

    /// The first whole local hour strictly after `t` [simulated s].
    pub fn next_hour_after(&self, t: f64) -> f64 {
        let local = self.local(t);
        let into = local.rem_euclid(HOUR as f64);
        t + (HOUR as f64 - into)
    }

    /// At a timer set for an hour's start `t` [s]: that hour's value and when the next hour
    /// begins. Read 1 ms in, so a time that rounds to just before the boundary still gets the
    /// hour it was set for.
    pub fn on_the_hour(&self, t: f64) -> (f64, f64) {
        let inside = t + 1e-3;
        (self.value_at(inside), self.next_hour_after(inside))
    }

    /// The simulated times [s] in [0, `until`) where the value changes, with the new value.
    pub fn changes_until(&self, until: f64) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        let mut t = self.next_hour_after(0.0);
        let mut prev = self.value_at(0.0);
        while t < until {
            // The hour that begins at t (its start is t itself, so look just after it).
            let v = self.hours[((self.local(t) / HOUR as f64).round() as usize) % 24];
            if v != prev {
                out.push((t, v));
                prev = v;
            }
            t += HOUR as f64;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(hours: Vec<f64>, off: Option<&str>) -> ScheduleSpec {
        ScheduleSpec { hours, utc_offset: off.map(str::to_string) }
    }

    #[test]
    fn times_and_offsets_are_read_strictly() {
        assert_eq!(parse_time_of_day("09:30"), Ok(9 * 3600 + 1800));
        assert_eq!(parse_time_of_day("23:59:59"), Ok(86_399));
        for bad in ["24:00", "9:30", "09:60", "noon", "09:30:00:00", ""] {
            assert!(parse_time_of_day(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_utc_offset("+09:00"), Ok(32_400));
        assert_eq!(parse_utc_offset("-0530"), Ok(-19_800));
        assert_eq!(parse_utc_offset("Z"), Ok(0));
        for bad in ["09:00", "+15:00", "+09:60", "+9", "JST"] {
            assert!(parse_utc_offset(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_schedule_changes_exactly_on_its_own_hour() {
        let hours: Vec<f64> = (0..24).map(f64::from).collect();
        // The model starts at 09:30 UTC; the schedule is in JST (+09:00): 18:30 there.
        let clock = Clock { start_s: 9 * 3600 + 1800, utc_offset_s: 0 };
        let s = Schedule::new(&spec(hours.clone(), Some("+09:00")), clock, |_| true).unwrap();
        assert_eq!(s.value_at(0.0), 18.0);
        assert_eq!(s.value_at(1799.999), 18.0);
        assert_eq!(s.value_at(1800.0), 19.0);
        assert_eq!(s.next_hour_after(0.0), 1800.0);
        assert_eq!(s.next_hour_after(1800.0), 5400.0);
        // Past midnight it wraps to hour 0: 18:30 + 5.5 h = 00:00.
        assert_eq!(s.value_at(5.5 * 3600.0), 0.0);
        let ch = s.changes_until(3.0 * 3600.0);
        assert_eq!(ch, vec![(1800.0, 19.0), (5400.0, 20.0), (9000.0, 21.0)]);
        // In the model's own zone (no offset given) it is 09:30.
        let own = Schedule::new(&spec(hours, None), clock, |_| true).unwrap();
        assert_eq!(own.value_at(0.0), 9.0);
        // A half-hour zone moves the change to the half hour of the model's clock.
        let india = Schedule::new(&spec((0..24).map(f64::from).collect(), Some("+05:30")), clock, |_| true).unwrap();
        assert_eq!((india.value_at(0.0), india.next_hour_after(0.0)), (15.0, 3600.0));
    }

    #[test]
    fn bad_schedules_say_what_is_wrong() {
        let clock = Clock::default();
        let e = Schedule::new(&spec(vec![1.0; 23], None), clock, |_| true).unwrap_err();
        assert!(e.contains("24 entries") && e.contains("got 23"), "{e}");
        let mut h = vec![1.0; 24];
        h[5] = -1.0;
        let e = Schedule::new(&spec(h, None), clock, |v| v >= 0.0).unwrap_err();
        assert!(e.contains("hours.5"), "{e}");
        let e = Schedule::new(&spec(vec![1.0; 24], Some("JST")), clock, |_| true).unwrap_err();
        assert!(e.contains("utc_offset"), "{e}");
    }
}
