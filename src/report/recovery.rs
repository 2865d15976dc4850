//! Recovery after a trigger (a fault window: outage, capacity drop or slowdown): how long after
//! the trigger ends until goodput and requests in flight are back near their level before it.
//! A metastable system (HotOS 2021) never gets back; its time is censored at the end of the run.

use serde::Serialize;

use crate::metrics::WindowRow;
use crate::model::Model;
use crate::report::labels::sig;

/// Relative band around the level before the trigger (or 3 standard deviations of it, if wider).
pub const BAND: f64 = 0.1;
/// Windows in a row that must be within the band to count as recovered.
pub const STAY: usize = 5;

/// `recovery` in summary.json (present when the model has fault windows).
#[derive(Clone, Debug, Serialize)]
pub struct Recovery {
    /// The trigger: from the first fault window's start to the last one's end [s].
    pub trigger_from_s: f64,
    pub trigger_to_s: f64,
    /// Goodput (answered per second) and requests in flight before the trigger, after warm-up;
    /// null when no time-series window lies between the end of warm-up and the trigger.
    pub baseline_goodput_per_s: Option<f64>,
    pub baseline_in_flight: Option<f64>,
    /// 1 if both came back within the band and stayed there for 5 windows, else 0; null when
    /// there is no baseline to come back to.
    pub recovered: Option<u8>,
    /// Time from the trigger's end to the start of those windows [s]; if it did not recover,
    /// the time from the trigger's end to the end of the run (censored); null without a baseline.
    pub time_s: Option<f64>,
    /// Why the recovery could not be measured (then the four figures above are null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmeasured: Option<String>,
}

/// The trigger window of `model`'s faults, if any: (earliest start, latest end) [s].
pub fn trigger(model: &Model) -> Option<(f64, f64)> {
    let mut windows = Vec::new();
    for s in &model.program.services {
        let f = &s.faults;
        windows.extend(f.outages.iter().map(|w| (w.0, w.1)));
        windows.extend(f.slowdowns.iter().map(|w| (w.0, w.1)));
        windows.extend(f.capacity_drops.iter().map(|w| (w.0, w.1)));
    }
    let from = windows.iter().map(|w| w.0).min()?;
    let to = windows.iter().map(|w| w.1).max()?;
    Some((from.as_secs(), to.as_secs()))
}

/// A measured recovery: (recovered, time [s], baseline goodput [1/s], baseline in flight).
type Measured = (u8, f64, f64, f64);

/// Recovery of `rows` for a trigger from `from` to `to` [s] after `warmup` [s], or why it
/// cannot be measured: no window between the end of warm-up and the trigger (no level to return
/// to), or fewer than [`STAY`] windows after the trigger (too little run left to judge).
fn measure(rows: &[WindowRow], warmup: f64, from: f64, to: f64, end_s: f64) -> Result<Measured, String> {
    let goodput = |r: &WindowRow| r.completions as f64 / (r.t_end - r.t_start).max(1e-12);
    let before: Vec<&WindowRow> = rows.iter().filter(|r| r.t_start >= warmup && r.t_end <= from).collect();
    if before.is_empty() {
        return Err(format!(
            "the fault starts at {} s, and no time-series window lies between the end of warm-up ({} s) and it to take the level before the fault from; start the fault at least one window after warm-up",
            sig(from, 6),
            sig(warmup, 6)
        ));
    }
    let after: Vec<&WindowRow> = rows.iter().filter(|r| r.t_start >= to).collect();
    if after.len() < STAY {
        return Err(format!(
            "the fault ends at {} s and the run at {} s: fewer than {STAY} time-series windows after the fault to judge a recovery; run longer",
            sig(to, 6),
            sig(end_s, 6)
        ));
    }
    let (g, gsd) = mean_sd(&before.iter().map(|r| goodput(r)).collect::<Vec<_>>());
    let (q, qsd) = mean_sd(&before.iter().map(|r| r.in_flight as f64).collect::<Vec<_>>());
    let near = |x: f64, m: f64, sd: f64| (x - m).abs() <= (BAND * m).max(3.0 * sd).max(1e-9);
    let ok: Vec<bool> = after.iter().map(|r| near(goodput(r), g, gsd) && near(r.in_flight as f64, q, qsd)).collect();
    let start = (0..ok.len()).find(|&i| i + STAY <= ok.len() && ok[i..i + STAY].iter().all(|&b| b));
    Ok(match start {
        Some(i) => (1, after[i].t_start - to, g, q),
        None => (0, (end_s - to).max(0.0), g, q),
    })
}

/// Mean and standard deviation.
fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len().max(1) as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, v.sqrt())
}

/// Recovery of the run whose windows are `rows`, for `model`; `None` without fault windows.
pub fn recovery(model: &Model, rows: &[WindowRow], end_s: f64) -> Option<Recovery> {
    let (from, to) = trigger(model)?;
    let m = measure(rows, model.warmup.as_secs(), from, to, end_s);
    let ok = m.as_ref().ok();
    Some(Recovery {
        trigger_from_s: from,
        trigger_to_s: to,
        baseline_goodput_per_s: ok.map(|m| m.2),
        baseline_in_flight: ok.map(|m| m.3),
        recovered: ok.map(|m| m.0),
        time_s: ok.map(|m| m.1),
        unmeasured: m.err(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10 s windows from 0 to 300 s: goodput 50/s and 20 in flight, except `bad` windows.
    fn rows(bad: impl Fn(f64) -> bool) -> Vec<WindowRow> {
        (0..30)
            .map(|k| {
                let t = k as f64 * 10.0;
                let (c, q) = if bad(t) { (50, 400) } else { (500, 20) };
                WindowRow {
                    t_start: t,
                    t_end: t + 10.0,
                    arrivals: 500,
                    completions: c,
                    in_flight: q,
                    ..WindowRow::default()
                }
            })
            .collect()
    }

    #[test]
    fn recovery_is_the_first_of_five_good_windows_after_the_trigger() {
        // Trigger 100–110 s; bad until 150 s, good from 150 s on: recovered 40 s after it ended.
        let r = rows(|t| (100.0..150.0).contains(&t));
        assert_eq!(measure(&r, 0.0, 100.0, 110.0, 300.0), Ok((1, 40.0, 50.0, 20.0)));
    }

    #[test]
    fn a_system_that_stays_bad_is_censored_at_the_end() {
        let r = rows(|t| t >= 100.0);
        let (recovered, time_s, _, _) = measure(&r, 0.0, 100.0, 110.0, 300.0).unwrap();
        assert_eq!((recovered, time_s), (0, 190.0));
        // One good window among bad ones is not a recovery.
        let r = rows(|t| t >= 100.0 && t != 200.0);
        assert_eq!(measure(&r, 0.0, 100.0, 110.0, 300.0).unwrap().0, 0);
    }

    #[test]
    fn a_fault_from_the_start_or_in_warm_up_has_no_baseline() {
        // Bad for the first 30 s, good after: the fault starts at 0, or inside a 60 s warm-up.
        let r = rows(|t| t < 30.0);
        assert!(measure(&r, 0.0, 0.0, 20.0, 300.0).unwrap_err().contains("no time-series window lies between"));
        assert!(measure(&r, 60.0, 40.0, 50.0, 300.0).is_err());
        // One window between warm-up and the fault is enough to measure against.
        let r = rows(|t| (20.0..50.0).contains(&t));
        assert_eq!(measure(&r, 10.0, 20.0, 30.0, 300.0), Ok((1, 20.0, 50.0, 20.0)));
        // A fault that ends past the run, or too near its end, leaves nothing to judge by.
        assert!(measure(&r, 10.0, 250.0, 400.0, 300.0).unwrap_err().contains("fewer than 5"));
        assert!(measure(&r, 10.0, 250.0, 260.0, 300.0).unwrap_err().contains("fewer than 5"));
        assert!(measure(&r, 10.0, 240.0, 250.0, 300.0).is_ok());
    }
}
