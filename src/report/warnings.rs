//! `warnings` in summary.json: what a reader of a run's figures must know — the run stopped
//! before warm-up ended, requests in flight were still rising, the trace was cut short.

use crate::metrics::WindowRow;
use crate::metrics::trace::MAX_SPANS;
use crate::sim::FinishedRun;

/// The warnings of a finished run whose windows are `rows`, in the order summary.json lists them.
pub fn warnings(run: &FinishedRun, rows: &[WindowRow]) -> Vec<String> {
    let w = &run.world;
    let mut out = Vec::new();
    if run.stopped_in_warmup() {
        out.push(format!(
            "the run stopped at {:.1} s, before the warm-up ended at {:.1} s: nothing was measured (see timeseries.csv for what happened)",
            run.end().as_secs(),
            w.warmup.as_secs()
        ));
    }
    if let Some(growth) = still_growing(rows, w.warmup.as_secs()) {
        out.push(format!(
            "requests in flight grew by {growth} over the measured period and were still rising at the end: \
             the system is unstable (or the run too short to reach a steady state), so its figures describe a transient"
        ));
    }
    for (k, &s) in w.kinds.iter().zip(&w.kind_services) {
        out.extend(k.warnings(&w.services[s as usize].def.name));
    }
    if w.trace.dropped > 0 {
        out.push(format!(
            "trace.json is full: it keeps the first {MAX_SPANS} spans (of {} sampled requests) and left out {} more",
            w.trace.next, w.trace.dropped
        ));
    }
    out
}

/// The growth of requests in flight over the measured period, when it shows a system that is
/// still filling up: the end exceeds the level at the end of warm-up by more than 4 standard
/// deviations of the level over the first half of the measured period (a stationary system's
/// level at two distant times differs by more than that about 0.5 % of the time), and the last
/// quarter's mean exceeds the first quarter's. Needs at least 8 windows after warm-up.
pub fn still_growing(rows: &[WindowRow], warmup_s: f64) -> Option<u64> {
    let levels: Vec<f64> = rows.iter().filter(|r| r.t_start >= warmup_s).map(|r| r.in_flight as f64).collect();
    let n = levels.len();
    if n < 8 {
        return None;
    }
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let half = &levels[..n / 2];
    let m = mean(half);
    let sd = (half.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (half.len() - 1) as f64).sqrt();
    // The level when warm-up ended; with no window ending inside warm-up (a warm-up shorter
    // than one window, or none), the first measured window's level, not an empty system's 0.
    let start = rows.iter().rev().find(|r| r.t_end <= warmup_s).map_or(levels[0], |r| r.in_flight as f64);
    let growth = levels[n - 1] - start;
    let rising = mean(&levels[n - n / 4..]) > mean(&levels[..n / 4]);
    (growth > 4.0 * sd + 2.0 && rising).then_some(growth as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 10 s warm-up window holding 10 requests, then one 10 s window per level in `levels`.
    fn rows(levels: &[u64]) -> Vec<WindowRow> {
        std::iter::once(10)
            .chain(levels.iter().copied())
            .enumerate()
            .map(|(k, in_flight)| WindowRow {
                t_start: k as f64 * 10.0,
                t_end: (k + 1) as f64 * 10.0,
                in_flight,
                ..WindowRow::default()
            })
            .collect()
    }

    #[test]
    fn a_level_that_keeps_rising_is_still_growing() {
        // First half 10, 12, … : mean 11, sd sqrt(8/7) = 1.07, so the bar is 4 × 1.07 + 2 = 6.3.
        // The end (40) is 30 above the level when warm-up ended (10), and the last quarter
        // (mean 40) is above the first (mean 11).
        let r = rows(&[10, 12, 10, 12, 10, 12, 10, 12, 20, 25, 30, 35, 40, 40, 40, 40]);
        assert_eq!(still_growing(&r, 10.0), Some(30));
    }

    #[test]
    fn a_level_that_only_wobbles_is_not() {
        // The end (12) is only 2 above the start, and the last quarter's mean equals the first's.
        assert_eq!(still_growing(&rows(&[10, 12].repeat(8)), 10.0), None);
        // A level far above the start, but no longer rising: last quarter 20 < first quarter 41.
        let r = rows(&[40, 42, 40, 42, 40, 42, 40, 42, 20, 20, 20, 20, 20, 20, 20, 20]);
        assert_eq!(still_growing(&r, 10.0), None);
        // Fewer than 8 measured windows: no verdict.
        assert_eq!(still_growing(&rows(&[10, 20, 30, 40, 50, 60, 70]), 10.0), None);
    }

    #[test]
    fn a_warm_up_shorter_than_a_window_starts_from_the_first_measured_level() {
        // A loss system steady at 40 in flight, warm-up 5 s and 10 s windows: no window ends
        // inside warm-up. Taking the start as 0 would call the growth 40 (bar 2) "unstable".
        let r: Vec<WindowRow> = (0..16)
            .map(|k| WindowRow {
                t_start: 10.0 * k as f64,
                t_end: 10.0 * (k + 1) as f64,
                in_flight: 40 + k % 2,
                ..WindowRow::default()
            })
            .collect();
        assert_eq!(still_growing(&r, 5.0), None);
        assert_eq!(still_growing(&r, 0.0), None);
        // A system that does fill up from its first window is still caught.
        let mut rising = r.clone();
        for (k, w) in rising.iter_mut().enumerate() {
            w.in_flight = 10 * k as u64;
        }
        assert_eq!(still_growing(&rising, 5.0), Some(140));
    }
}
