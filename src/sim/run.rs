//! The event loop: pop the earliest event, advance the clock, hand the event to the world;
//! stop at the run's end, or early if the system overloads past `run.max_in_flight`.

use std::time::Instant;

use serde::Serialize;

use super::world::World;
use crate::engine::SimTime;
use crate::model::Model;
use crate::model::default_window;

/// Events at one simulated instant beyond which a run is stopped as stalled: time would never
/// advance (every event schedules another at the same instant).
const MAX_EVENTS_AT_ONE_INSTANT: u64 = 10_000_000;
/// How often the event loop looks whether time has moved (every 2^20 events).
const STALL_CHECK_MASK: u64 = (1 << 20) - 1;

/// How the run ended (`status` in summary.json).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    /// Ran to `run.duration`.
    Completed,
    /// Stopped early at `at_s` [s]: more than `run.max_in_flight` requests were in the system.
    Overloaded { at_s: f64, in_flight: u64 },
    /// Stopped early at `at_s` [s]: simulated time stopped advancing — more than 10 million
    /// events at one instant (a loop with no delay, e.g. users with zero think time whose
    /// requests fail at once).
    Stalled { at_s: f64, events: u64 },
}

/// What one run leaves: raw figures, nothing formatted. `report/` builds summary.json, the
/// time series, the recovery section and the warnings from it.
pub struct FinishedRun {
    /// The world as the run left it: the clock at the run's end, the last window closed, every
    /// counter and statistic since warm-up (all empty if the run stopped before warm-up ended).
    pub world: World,
    pub status: Status,
    /// Wall-clock time of the event loop [s] (both passes of a run redone with narrower windows).
    pub wall_s: f64,
}

impl FinishedRun {
    /// Simulated time at which the run ended: `run.duration`, or when it stopped early.
    pub fn end(&self) -> SimTime {
        self.world.ctx.now
    }

    /// Whether the run stopped before its warm-up ended, so nothing was measured.
    pub fn stopped_in_warmup(&self) -> bool {
        self.end() < self.world.warmup
    }
}

/// Runs `model` from time zero to `model.duration`. A run that overloads early with the
/// default window is run again with windows sized for the time actually simulated (same
/// seed, so the same trajectory: windows only observe), so its charts are not one bar wide.
pub fn run(model: &Model) -> FinishedRun {
    let out = run_once(model);
    let Status::Overloaded { at_s, .. } = out.status else { return out };
    let window = default_window(SimTime::from_secs(at_s));
    if model.spec.run.window.is_some() || window >= model.window {
        return out;
    }
    let mut again = model.clone();
    again.window = window;
    let mut second = run_once(&again);
    second.wall_s += out.wall_s;
    second
}

/// One pass of the event loop.
fn run_once(model: &Model) -> FinishedRun {
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
    finish(w, end, status, wall.elapsed().as_secs_f64())
}

/// Closes the last window at `end`; a run that stopped before warm-up ended forgets what it
/// gathered, so every measured figure is empty.
fn finish(mut w: World, end: SimTime, status: Status, wall_s: f64) -> FinishedRun {
    w.ctx.now = end;
    if w.windows.start() < end {
        let areas = w.service_areas(end);
        let calls = w.call_counters();
        let extra = w.window_extras();
        w.windows.close(end, w.totals.all.in_flight, areas.into_iter(), &calls, extra);
    }
    if end < w.warmup {
        w.restart_stats();
    }
    FinishedRun { world: w, status, wall_s }
}
