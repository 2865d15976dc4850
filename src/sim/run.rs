//! The event loop: pop the earliest event, advance the clock, hand the event to the world;
//! stop at the run's end, or early if the system overloads past `run.max_in_flight`.

use std::time::Instant;

use super::world::World;
use crate::engine::SimTime;
use crate::metrics::{Latency, WindowRow};
use crate::model::Model;
use crate::model::default_window;
use crate::report::summary::{Status, Summary};

/// Events at one simulated instant beyond which a run is stopped as stalled: time would never
/// advance (every event schedules another at the same instant).
const MAX_EVENTS_AT_ONE_INSTANT: u64 = 10_000_000;
/// How often the event loop looks whether time has moved (every 2^20 events).
const STALL_CHECK_MASK: u64 = (1 << 20) - 1;

/// Everything one run produces.
pub struct RunOutput {
    pub summary: Summary,
    /// Time-series rows, one per window, covering warm-up too.
    pub rows: Vec<WindowRow>,
    /// Service names (stations included), in the order of each row's `stations`.
    pub station_names: Vec<String>,
    /// Service kinds' time-series columns, `<service>.<column>`, in the order of each row's `kinds`.
    pub kind_columns: Vec<String>,
    /// End-to-end latency of every completed request after warm-up (for CDFs).
    pub e2e: Latency,
    /// Sampled request traces (Chrome trace-event JSON), if asked for.
    pub trace: Option<String>,
}

/// The summary of a world that has not run: every field present, all zero. Used to check that
/// metric paths exist before running anything.
pub fn skeleton_summary(model: &Model) -> Summary {
    Summary::build(model, &World::new(model), Status::Completed, 0.0)
}

/// Runs `model` from time zero to `model.duration`. A run that overloads early with the
/// default window is run again with windows sized for the time actually simulated (same
/// seed, so the same trajectory: windows only observe), so its charts are not one bar wide.
pub fn run(model: &Model) -> RunOutput {
    let out = run_once(model);
    let Status::Overloaded { at_s, .. } = out.summary.status else { return out };
    let window = default_window(SimTime::from_secs(at_s));
    if model.spec.run.window.is_some() || window >= model.window {
        return out;
    }
    let mut again = model.clone();
    again.window = window;
    let mut second = run_once(&again);
    second.summary.engine.wall_s += out.summary.engine.wall_s;
    second
}

/// One pass of the event loop.
fn run_once(model: &Model) -> RunOutput {
    let wall = Instant::now();
    let mut w = World::new(model);
    w.prime(model.warmup);
    let mut status = Status::Completed;
    let mut end = model.duration;
    // Stall watch: every 2^20 events, whether time has moved since the last look.
    let (mut instant, mut still) = (SimTime(u64::MAX), 0u64);
    while let Some((t, event)) = w.ctx.queue.pop() {
        if t > model.duration {
            break;
        }
        if w.ctx.events & STALL_CHECK_MASK == 0 {
            still = if t == instant { still + STALL_CHECK_MASK + 1 } else { 0 };
            instant = t;
            if still >= MAX_EVENTS_AT_ONE_INSTANT {
                status = Status::Stalled { at_s: t.as_secs(), events: still };
                end = t;
                break;
            }
        }
        w.ctx.now = t;
        w.ctx.events += 1;
        w.handle(event);
        // Requests, and the calls and branches they started (abandoned attempts keep working).
        if w.totals.all.in_flight > model.max_in_flight || w.ctx.reqs.len() as u64 > model.max_in_flight {
            status = Status::Overloaded { at_s: t.as_secs(), in_flight: w.totals.all.in_flight };
            end = t;
            break;
        }
    }
    finish(model, w, end, status, wall.elapsed().as_secs_f64())
}

fn finish(model: &Model, mut w: World, end: SimTime, status: Status, wall_s: f64) -> RunOutput {
    w.ctx.now = end;
    if w.windows.start() < end {
        let areas = w.service_areas(end);
        let calls = w.call_counters();
        let extra = w.window_extras();
        w.windows.close(end, w.totals.all.in_flight, areas.into_iter(), &calls, extra);
    }
    let stopped_in_warmup = end < model.warmup;
    if stopped_in_warmup {
        w.restart_stats(); // nothing after warm-up was observed: every measured figure is empty
    }
    let mut summary = Summary::build(model, &w, status, wall_s);
    if stopped_in_warmup {
        summary.warnings.push(format!(
            "the run stopped at {:.1} s, before the warm-up ended at {:.1} s: nothing was measured (see timeseries.csv for what happened)",
            end.as_secs(),
            model.warmup.as_secs()
        ));
    }
    let rows = w.windows.rows();
    let warmup_s = model.warmup.as_secs();
    for (i, s) in model.program.services.iter().enumerate() {
        let measured = rows.iter().filter(|r| r.t_start >= warmup_s);
        let worst = measured.filter_map(|r| r.p99s.get(i).copied().filter(|p| p.is_finite())).reduce(f64::max);
        if let Some(out) = summary.services.get_mut(&s.name) {
            out.worst_window_p99_s = worst;
        }
    }
    if summary.recovery.is_some() {
        summary.recovery = crate::report::recovery::recovery(model, rows, end.as_secs());
    }
    if let Some(growth) = still_growing(rows, model.warmup.as_secs()) {
        summary.warnings.push(format!(
            "requests in flight grew by {growth} over the measured period and were still rising at the end: \
             the system is unstable (or the run too short to reach a steady state), so its figures describe a transient"
        ));
    }
    let station_names = model.program.services.iter().map(|s| s.name.clone()).collect();
    let e2e = std::mem::take(&mut w.totals.e2e);
    if w.trace.dropped > 0 {
        summary.warnings.push(format!(
            "trace.json is full: it keeps the first {} spans (of {} sampled requests) and left out {} more",
            crate::metrics::trace::MAX_SPANS,
            w.trace.next,
            w.trace.dropped
        ));
    }
    let trace = (model.trace > 0).then(|| w.trace.to_json());
    let kind_columns = crate::report::timeseries::kind_columns(model);
    RunOutput { summary, rows: w.windows.into_rows(), station_names, kind_columns, e2e, trace }
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
    let start = rows.iter().rev().find(|r| r.t_end <= warmup_s).map_or(0.0, |r| r.in_flight as f64);
    let growth = levels[n - 1] - start;
    let rising = mean(&levels[n - n / 4..]) > mean(&levels[..n / 4]);
    (growth > 4.0 * sd + 2.0 && rising).then_some(growth as u64)
}
