//! The model's alarms evaluated on a run's windows, as CloudWatch evaluates a metric alarm:
//! the windows after warm-up are grouped into periods (aligned to simulated time 0, only whole
//! periods that start at or after the end of warm-up), each period gives one datapoint, and at
//! each period's end the alarm is in ALARM when at least N of the last M datapoints breach the
//! threshold, OK otherwise. Gives `alarms.csv` (one row per time in ALARM), the `alarms`
//! section of summary.json and the datapoints the timeline chart draws.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

use serde::Serialize;

use crate::metrics::WindowRow;
use crate::metrics::columns::value;
use crate::model::Model;
use crate::model::alarms::{AlarmDef, Statistic, TreatMissing};

/// One datapoint: its period's end [s], its value (NaN: missing) and whether it breached.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Datapoint {
    pub start_s: f64,
    pub end_s: f64,
    pub value: f64,
    pub breaching: bool,
}

/// One time in ALARM: from the end of the period whose datapoint made N of M breach, to the end
/// of the period whose datapoint left fewer (`None`: still in ALARM when the run ended).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Episode {
    pub start_s: f64,
    pub end_s: Option<f64>,
    /// The worst breaching datapoint from those that raised it to the last one before it cleared
    /// (largest for `>`/`>=`, smallest for `<`/`<=`).
    pub peak: f64,
}

/// One alarm over one run.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmRun {
    pub def: AlarmDef,
    pub datapoints: Vec<Datapoint>,
    pub episodes: Vec<Episode>,
    /// Why it could not be evaluated at all, if so.
    pub unevaluated: Option<String>,
}

/// An alarm in summary.json (`alarms.<name>`).
#[derive(Clone, Debug, Serialize)]
pub struct AlarmSummary {
    pub severity: String,
    /// The condition in words.
    pub condition: String,
    pub description: String,
    /// Times it went to ALARM.
    pub fired: u64,
    /// When it first went to ALARM [s] (null if never).
    pub first_start_s: Option<f64>,
    /// Time in ALARM up to the end of the run [s].
    pub time_in_alarm_s: f64,
    /// Whether it was in ALARM when the run ended.
    pub in_alarm_at_end: bool,
    /// The worst breaching datapoint of its times in ALARM (null if it never fired).
    pub peak: Option<f64>,
    /// Datapoints evaluated (whole periods after warm-up), of which breaching and missing.
    pub datapoints: u64,
    pub breaching: u64,
    pub missing: u64,
}

/// Every alarm of `model` over `rows`; `end_s` is when the run ended.
pub fn evaluate(model: &Model, rows: &[WindowRow]) -> Vec<AlarmRun> {
    let warmup_s = model.warmup.as_secs();
    model.alarms.iter().map(|a| evaluate_one(a, rows, warmup_s)).collect()
}

/// One alarm over `rows`.
fn evaluate_one(def: &AlarmDef, rows: &[WindowRow], warmup_s: f64) -> AlarmRun {
    let mut out = AlarmRun { def: def.clone(), datapoints: Vec::new(), episodes: Vec::new(), unevaluated: None };
    let Some(width) = rows.first().map(|r| r.t_end - r.t_start) else { return out };
    let k = (def.period_s / width).round();
    if !(k >= 1.0 && (k * width - def.period_s).abs() <= 1e-9 * def.period_s) {
        out.unevaluated = Some(format!(
            "the run's windows are {width} s wide (the run overloaded and was re-run with narrower windows), \
             which does not divide the alarm's period of {} s",
            def.period_s
        ));
        return out;
    }
    out.datapoints = datapoints(def, rows, k as usize, width, warmup_s);
    out.episodes = episodes(def, &out.datapoints);
    out
}

/// The datapoints of whole periods of `k` windows that start at or after `warmup_s`.
fn datapoints(def: &AlarmDef, rows: &[WindowRow], k: usize, width: f64, warmup_s: f64) -> Vec<Datapoint> {
    let tol = 1e-6 * width;
    let first = rows.iter().position(|r| r.t_start >= warmup_s - tol).unwrap_or(rows.len());
    // Periods are aligned to time 0: skip to the first window that starts one.
    let first = (first..rows.len()).find(|&i| i % k == 0).unwrap_or(rows.len());
    let whole = |w: &[WindowRow]| w.len() == k && w.iter().all(|r| (r.t_end - r.t_start - width).abs() <= tol);
    rows[first..]
        .chunks(k)
        .take_while(|w| whole(w))
        .map(|w| {
            let value = datapoint(def, w);
            let breaching = if value.is_nan() {
                def.treat_missing == TreatMissing::Breaching
            } else {
                def.comparison.breaches(value, def.threshold)
            };
            Datapoint { start_s: w[0].t_start, end_s: w[k - 1].t_end, value, breaching }
        })
        .collect()
}

/// One period's value from its windows (NaN when it has no data).
fn datapoint(def: &AlarmDef, windows: &[WindowRow]) -> f64 {
    let col = |k: usize| windows.iter().map(move |r| value(r, k)).filter(|v| v.is_finite());
    if let Some((_, d)) = &def.per {
        let (num, den): (f64, f64) = (col(def.metric.1).sum(), col(*d).sum());
        return if den != 0.0 { num / den } else { f64::NAN };
    }
    let vals: Vec<f64> = col(def.metric.1).collect();
    if vals.is_empty() {
        return f64::NAN;
    }
    match def.statistic {
        None => vals[0],
        Some(Statistic::Sum) => vals.iter().sum(),
        Some(Statistic::Average) => vals.iter().sum::<f64>() / vals.len() as f64,
        Some(Statistic::Maximum) => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Some(Statistic::Minimum) => vals.iter().copied().fold(f64::INFINITY, f64::min),
    }
}

/// The alarm's state changes over `points`: at each datapoint that counts (a missing one is
/// skipped unless `treat_missing` says otherwise), ALARM if at least N of the last M counted
/// datapoints breach, OK if fewer.
fn episodes(def: &AlarmDef, points: &[Datapoint]) -> Vec<Episode> {
    let (n, m) = (def.datapoints as usize, def.evaluation_periods as usize);
    let worse = |a: f64, b: f64| if def.comparison.upward() { a.max(b) } else { a.min(b) };
    let mut last: VecDeque<&Datapoint> = VecDeque::with_capacity(m);
    let mut out: Vec<Episode> = Vec::new();
    let mut open: Option<Episode> = None;
    for p in points {
        if p.value.is_nan() && def.treat_missing == TreatMissing::Missing {
            continue;
        }
        if last.len() == m {
            last.pop_front();
        }
        last.push_back(p);
        let breaching = last.iter().filter(|d| d.breaching).count();
        let peak_of = |ds: &VecDeque<&Datapoint>| {
            ds.iter().filter(|d| d.breaching && !d.value.is_nan()).map(|d| d.value).reduce(worse)
        };
        match (&mut open, breaching >= n) {
            (None, true) => {
                open = Some(Episode { start_s: p.end_s, end_s: None, peak: peak_of(&last).unwrap_or(f64::NAN) })
            }
            (Some(e), true) if p.breaching && !p.value.is_nan() => {
                e.peak = if e.peak.is_nan() { p.value } else { worse(e.peak, p.value) };
            }
            (Some(e), false) => {
                e.end_s = Some(p.end_s);
                out.push(*e);
                open = None;
            }
            _ => {}
        }
    }
    out.extend(open);
    out
}

/// summary.json's `alarms`: each alarm by name; `end_s` is when the run ended.
pub fn summaries(runs: &[AlarmRun], end_s: f64) -> BTreeMap<String, AlarmSummary> {
    runs.iter()
        .map(|a| {
            let e = &a.episodes;
            let worse = |x: f64, y: f64| if a.def.comparison.upward() { x.max(y) } else { x.min(y) };
            let s = AlarmSummary {
                severity: a.def.severity.clone(),
                condition: a.def.condition(),
                description: a.def.description.clone(),
                fired: e.len() as u64,
                first_start_s: e.first().map(|x| x.start_s),
                // `+ 0.0` turns the empty sum's −0.0 into 0.0.
                time_in_alarm_s: e.iter().map(|x| x.end_s.unwrap_or(end_s).max(x.start_s) - x.start_s).sum::<f64>()
                    + 0.0,
                in_alarm_at_end: e.last().is_some_and(|x| x.end_s.is_none()),
                peak: e.iter().map(|x| x.peak).filter(|p| !p.is_nan()).reduce(worse),
                datapoints: a.datapoints.len() as u64,
                breaching: a.datapoints.iter().filter(|d| d.breaching).count() as u64,
                missing: a.datapoints.iter().filter(|d| d.value.is_nan()).count() as u64,
            };
            (a.def.name.clone(), s)
        })
        .collect()
}

/// Warnings for alarms that could not be evaluated, or had no whole period after warm-up.
pub fn warnings(runs: &[AlarmRun]) -> Vec<String> {
    runs.iter()
        .filter_map(|a| match &a.unevaluated {
            Some(why) => Some(format!("alarm `{}` not evaluated: {why}", a.def.name)),
            None if a.datapoints.is_empty() => Some(format!(
                "alarm `{}` not evaluated: no whole period of {} s after warm-up",
                a.def.name, a.def.period_s
            )),
            None => None,
        })
        .collect()
}

/// `alarms.csv`: one row per time in ALARM, in alarm then time order: `alarm`, `severity`,
/// `start_s`, `end_s` (empty if still in ALARM at the end), `peak`.
pub fn to_csv(runs: &[AlarmRun]) -> String {
    let mut out = String::from("alarm,severity,start_s,end_s,peak\n");
    for a in runs {
        for e in &a.episodes {
            let end = e.end_s.map_or(String::new(), |t| t.to_string());
            let severity = csv_field(&a.def.severity);
            let _ = writeln!(out, "{},{severity},{},{end},{}", a.def.name, e.start_s, super::timeseries::cell(e.peak));
        }
    }
    out
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::alarms::Comparison;

    fn def(n: u32, m: u32) -> AlarmDef {
        AlarmDef {
            name: "a".into(),
            metric: ("failures".into(), 5),
            per: None,
            statistic: None,
            comparison: Comparison::Greater,
            threshold: 0.5,
            windows_per_period: 1,
            period_s: 1.0,
            datapoints: n,
            evaluation_periods: m,
            treat_missing: TreatMissing::Missing,
            severity: "SEV-2".into(),
            description: String::new(),
        }
    }

    fn points(values: &[f64]) -> Vec<Datapoint> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| Datapoint { start_s: i as f64, end_s: i as f64 + 1.0, value: v, breaching: v > 0.5 })
            .collect()
    }

    #[test]
    fn n_of_m_fires_and_clears_as_cloudwatch_counts() {
        // Breaching at periods ending 3..=6 (values 1); 3 of 5 fires at the third (end 5) and
        // clears when only 2 of the last 5 breach (end 9).
        let p = points(&[0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0]);
        let e = episodes(&def(3, 5), &p);
        assert_eq!(e, vec![Episode { start_s: 5.0, end_s: Some(9.0), peak: 2.0 }]);
        let e = episodes(&def(1, 1), &p);
        assert_eq!(e, vec![Episode { start_s: 3.0, end_s: Some(7.0), peak: 2.0 }]);
    }

    #[test]
    fn missing_datapoints_are_skipped_and_hold_the_state() {
        let p = points(&[1.0, f64::NAN, f64::NAN, 1.0, 0.0]);
        // 2 in a row: the gap neither breaks nor clears the run of breaching datapoints.
        assert_eq!(episodes(&def(2, 2), &p), vec![Episode { start_s: 4.0, end_s: Some(5.0), peak: 1.0 }]);
        let mut d = def(2, 2);
        d.treat_missing = TreatMissing::NotBreaching;
        let p: Vec<Datapoint> = p.iter().map(|x| Datapoint { breaching: x.value > 0.5, ..*x }).collect();
        assert!(episodes(&d, &p).is_empty());
    }

    #[test]
    fn an_alarm_still_on_at_the_end_has_no_end() {
        let runs = vec![AlarmRun {
            def: def(1, 1),
            datapoints: points(&[0.0, 1.0, 1.0]),
            episodes: episodes(&def(1, 1), &points(&[0.0, 1.0, 1.0])),
            unevaluated: None,
        }];
        assert_eq!(to_csv(&runs), "alarm,severity,start_s,end_s,peak\na,SEV-2,2,,1\n");
        let s = &summaries(&runs, 10.0)["a"];
        assert_eq!((s.fired, s.first_start_s, s.time_in_alarm_s, s.in_alarm_at_end), (1, Some(2.0), 8.0, true));
        assert_eq!((s.datapoints, s.breaching, s.missing), (3, 2, 0));
    }
}
