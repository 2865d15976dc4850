//! The event loop: pop the earliest event, advance the clock, hand the event to the world;
//! stop at the run's end, or early if the system overloads past `run.max_in_flight`.

use std::time::Instant;

use super::world::World;
use crate::engine::SimTime;
use crate::metrics::{Latency, WindowRow};
use crate::model::Model;
use crate::report::summary::{Status, Summary};

/// Everything one run produces.
pub struct RunOutput {
    pub summary: Summary,
    /// Time-series rows, one per window, covering warm-up too.
    pub rows: Vec<WindowRow>,
    /// Station names, in the order of each row's `stations`.
    pub station_names: Vec<String>,
    /// End-to-end latency of every completed request after warm-up (for CDFs).
    pub e2e: Latency,
}

/// The summary of a world that has not run: every field present, all zero. Used to check that
/// metric paths exist before running anything.
pub fn skeleton_summary(model: &Model) -> Summary {
    Summary::build(model, &World::new(model), Status::Completed, 0.0)
}

/// Runs `model` from time zero to `model.duration`.
pub fn run(model: &Model) -> RunOutput {
    let wall = Instant::now();
    let mut w = World::new(model);
    w.prime(model.warmup);
    let mut status = Status::Completed;
    let mut end = model.duration;
    while let Some((t, event)) = w.ctx.queue.pop() {
        if t > model.duration {
            break;
        }
        w.ctx.now = t;
        w.ctx.events += 1;
        w.handle(event);
        if w.totals.in_flight > model.max_in_flight {
            status = Status::Overloaded { at_s: t.as_secs(), in_flight: w.totals.in_flight };
            end = t;
            break;
        }
    }
    finish(model, w, end, status, wall.elapsed().as_secs_f64())
}

fn finish(model: &Model, mut w: World, end: SimTime, status: Status, wall_s: f64) -> RunOutput {
    w.ctx.now = end;
    if w.windows.start() < end {
        let areas: Vec<(f64, f64)> = w.station_ids.iter().map(|&i| w.station_areas(i, end)).collect();
        w.windows.close(end, w.totals.in_flight, areas.into_iter());
    }
    let summary = Summary::build(model, &w, status, wall_s);
    let station_names = w.station_ids.iter().map(|&i| model.block_names[i].clone()).collect();
    let e2e = std::mem::take(&mut w.totals.e2e);
    RunOutput { summary, rows: w.windows.into_rows(), station_names, e2e }
}
