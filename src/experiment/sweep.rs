//! Runs the points of an experiment × replications on a rayon pool, one run per task. Results
//! are collected in (point, replication) order, so they do not depend on the thread count.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use super::spec::ChartKind;
use crate::report::timeseries::{column, ratio};

use super::breakpoints::RunReading;
use super::shard::Shard;
use super::{Experiment, metric};
use crate::engine::rng::replication_seed;
use crate::report::output::RunOutput;
use crate::sim::run;
use crate::stats::{mser5, t_interval};

/// Per-point results: `values[m][r]` is metric `m` of replication `r`.
#[derive(Clone, Debug, PartialEq)]
pub struct PointResult {
    pub index: usize,
    pub values: Vec<Vec<f64>>,
    /// Per chart (by index): the time series of `timeseries` charts — the first replication's,
    /// or with `average` the mean over all replications of each window — `y` then each of
    /// `also` (empty for other charts), as (window middle [s], value).
    pub series: Vec<Vec<Vec<(f64, f64)>>>,
    /// With `breakpoints`: each replication's limit signals and alarms, in replication order.
    pub readings: Vec<RunReading>,
}

/// Per chart, per column: (window middle [s], value) — the time series of one run.
type RunSeries = Vec<Vec<Vec<(f64, f64)>>>;

/// How to run a sweep.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Which share of the points to run.
    pub shard: Shard,
    /// No progress output on stderr (and no MSER-5 note).
    pub quiet: bool,
    /// A progress bar shared with other sweeps (the gallery's); runs are added to its length
    /// and counted on it, and it is left running.
    pub bar: Option<ProgressBar>,
}

/// What one run reports back.
struct RunResult {
    metrics: Vec<f64>,
    /// Time series of `timeseries` charts (the first replication, and every one if a chart
    /// averages them): per chart, `y` then `also`.
    series: RunSeries,
    /// Number in system at each window's end, and the windows' start times [s].
    level: Vec<f64>,
    starts: Vec<f64>,
    reading: Option<RunReading>,
}

/// Runs the experiment's points in `opts.shard`, with run-length control if asked for.
pub fn run_sweep(exp: &Experiment, opts: &Options) -> Result<Vec<PointResult>> {
    let pool =
        rayon::ThreadPoolBuilder::new().num_threads(opts.threads).stack_size(crate::sim::RUN_STACK_BYTES).build()?;
    let mine: Vec<usize> = exp.points.iter().map(|p| p.index).filter(|&i| opts.shard.contains(i)).collect();
    let reps = exp.spec.replications as usize;
    let progress = Progress::new(mine.len(), opts.quiet, opts.bar.clone());
    let mut results: Vec<PointResult> = mine
        .iter()
        .map(|&index| PointResult {
            index,
            values: vec![Vec::new(); exp.spec.metrics.len()],
            series: Vec::new(),
            readings: Vec::new(),
        })
        .collect();
    let mut want: Vec<usize> = vec![reps; mine.len()];
    let mut mser = Vec::new();
    let mut series: Vec<Vec<(usize, RunSeries)>> = vec![Vec::new(); mine.len()];
    loop {
        let tasks: Vec<(usize, usize)> = results
            .iter()
            .zip(&want)
            .enumerate()
            .flat_map(|(k, (r, &w))| (r.values[0].len()..w).map(move |rep| (k, rep)))
            .collect();
        if tasks.is_empty() {
            break;
        }
        progress.extend(tasks.len());
        let outs: Vec<RunResult> = pool.install(|| {
            tasks
                .par_iter()
                .map(|&(k, rep)| {
                    let out = run_one(exp, results[k].index, rep);
                    progress.done(exp, results[k].index, k, rep + 1 == want[k]);
                    out
                })
                .collect()
        });
        for (&(k, rep), out) in tasks.iter().zip(outs) {
            for (m, v) in out.metrics.into_iter().enumerate() {
                results[k].values[m].push(v);
            }
            if !out.level.is_empty() {
                mser.push((results[k].index, out.level, out.starts));
            }
            if !out.series.is_empty() {
                series[k].push((rep, out.series));
            }
            results[k].readings.extend(out.reading);
        }
        want = more_replications(exp, &results, &want);
    }
    for (r, s) in results.iter_mut().zip(series) {
        r.series = combine_series(exp, s);
    }
    progress.finish();
    if !opts.quiet {
        warn_short_warmup(exp, &mser);
    }
    Ok(results)
}

/// Runs replication `rep` of point `index`.
fn run_one(exp: &Experiment, index: usize, rep: usize) -> RunResult {
    let mut model = exp.points[index].model.clone();
    model.seed = replication_seed(exp.spec.seed, rep as u64);
    let out = RunOutput::build(&model, run(&model));
    let summary = serde_json::to_value(&out.summary).expect("a summary serialises");
    let metrics = exp.spec.metrics.iter().map(|m| metric(&summary, m).unwrap_or(f64::NAN)).collect();
    let (level, starts) = if rep < exp.spec.replications as usize {
        out.rows.iter().map(|r| (r.in_flight as f64, r.t_start)).unzip()
    } else {
        (Vec::new(), Vec::new())
    };
    let wanted = |c: &super::spec::ChartSpec| c.kind == ChartKind::Timeseries && (rep == 0 || c.average);
    let alarms = std::cell::OnceCell::new();
    let series = if exp.spec.charts.iter().any(wanted) {
        exp.spec
            .charts
            .iter()
            .map(|c| match c.kind {
                ChartKind::Timeseries => std::iter::once(&c.y)
                    .chain(&c.also)
                    .map(|y| {
                        let col = |name: &str, per_second| match name.strip_prefix("alarms.") {
                            Some(alarm) => {
                                let runs = alarms.get_or_init(|| crate::report::alarms::evaluate(&model, &out.rows));
                                alarm_state(&out.rows, runs, alarm)
                            }
                            None => column(&out.rows, &out.station_names, &out.kind_columns, name, per_second)
                                .unwrap_or_default(),
                        };
                        match &c.per {
                            Some(per) => ratio(&col(y, false), &col(per, false)),
                            None => col(y, c.per_second),
                        }
                    })
                    .collect(),
                _ => Vec::new(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let reading = exp.plan.as_ref().map(|p| p.read(&model, &out, &summary));
    RunResult { metrics, series, level, starts, reading }
}

/// Alarm `name`'s state at the end of each window, 1 in ALARM and 0 OK, as (window middle [s],
/// state): its timeline drawn as a time series.
fn alarm_state(
    rows: &[crate::metrics::WindowRow],
    runs: &[crate::report::alarms::AlarmRun],
    name: &str,
) -> Vec<(f64, f64)> {
    let Some(run) = runs.iter().find(|r| r.def.name == name) else { return Vec::new() };
    let on = |t: f64| run.episodes.iter().any(|e| e.start_s <= t && e.end_s.is_none_or(|end| t < end));
    rows.iter().map(|r| ((r.t_start + r.t_end) / 2.0, if on(r.t_end) { 1.0 } else { 0.0 })).collect()
}

/// A point's time series from its runs' (replication, series): the first replication's, or for
/// charts with `average` the mean over every replication of each window (windows matched by
/// their time, so a run that stopped early counts only where it ran).
fn combine_series(exp: &Experiment, runs: Vec<(usize, RunSeries)>) -> RunSeries {
    let Some(first) = runs.iter().find(|(rep, _)| *rep == 0) else { return Vec::new() };
    let mean = |ci: usize, j: usize| {
        let columns: Vec<&[(f64, f64)]> =
            runs.iter().filter_map(|(_, s)| s.get(ci).and_then(|c| c.get(j))).map(Vec::as_slice).collect();
        mean_by_window(&columns)
    };
    exp.spec
        .charts
        .iter()
        .enumerate()
        .map(|(ci, c)| match first.1.get(ci) {
            Some(cols) if c.average => (0..cols.len()).map(|j| mean(ci, j)).collect(),
            Some(cols) => cols.clone(),
            None => Vec::new(),
        })
        .collect()
}

/// The mean of several runs' (window middle [s], value) series, window by window: each window
/// averages the runs that have it.
fn mean_by_window(runs: &[&[(f64, f64)]]) -> Vec<(f64, f64)> {
    let mut acc: std::collections::BTreeMap<u64, (f64, f64, usize)> = std::collections::BTreeMap::new();
    for &(x, y) in runs.iter().copied().flatten() {
        // Window middles are ≥ 0, whose bit patterns sort as the numbers do.
        let e = acc.entry(x.to_bits()).or_insert((x, 0.0, 0));
        e.1 += y;
        e.2 += 1;
    }
    acc.into_values().map(|(x, sum, n)| (x, sum / n as f64)).collect()
}

/// Run-length control: how many replications each point should have after this round.
fn more_replications(exp: &Experiment, results: &[PointResult], have: &[usize]) -> Vec<usize> {
    let Some(p) = &exp.spec.precision else { return have.to_vec() };
    let m = exp.metric_index(&p.metric).expect("validated: precision metric is a metric");
    let max = p.max_replications as usize;
    results
        .iter()
        .zip(have)
        .map(|(r, &n)| {
            let i = t_interval(&r.values[m], 0.95);
            let target = p.relative_half_width * i.mean.abs();
            if n >= max || i.half_width <= target {
                return n;
            }
            // Half-width shrinks as 1/√n: aim for the target, add at least 2, at most double.
            let need = (n as f64 * (i.half_width / target.max(f64::MIN_POSITIVE)).powi(2)).ceil() as usize;
            need.clamp(n + 2, 2 * n).min(max)
        })
        .collect()
}

/// MSER-5 on each point's number-in-system series averaged over its first replications (the
/// average removes most of the noise that makes MSER on a single run cut too much); prints a
/// note when the suggested truncation is longer than the chosen warm-up by more than a window.
fn warn_short_warmup(exp: &Experiment, series: &[(usize, Vec<f64>, Vec<f64>)]) {
    let mut by_point: std::collections::BTreeMap<usize, (Vec<f64>, Vec<f64>, usize)> = Default::default();
    for (i, level, starts) in series {
        let e = by_point.entry(*i).or_insert_with(|| (vec![0.0; level.len()], starts.clone(), 0));
        e.0.iter_mut().zip(level).for_each(|(a, b)| *a += b);
        e.2 += 1;
    }
    let chosen = |i: usize| exp.points[i].model.warmup.as_secs();
    let mser: Vec<(usize, f64)> = by_point
        .iter()
        .map(|(&i, (sum, starts, _))| {
            let cut = mser5(sum);
            let window = exp.points[i].model.window.as_secs();
            (i, starts.get(cut).map_or(0.0, |s| *s) - window)
        })
        .collect();
    let short: Vec<&(usize, f64)> = mser.iter().filter(|(i, s)| *s > chosen(*i) + 1e-9).collect();
    if let Some(worst) = short.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
        crate::note!(
            "note: MSER-5 on the number in system (mean of the replications) suggests a longer warm-up at {} of {} points; \
             the largest is {:.0} s at point {} ({}), chosen {:.0} s",
            short.len(),
            mser.len(),
            worst.1,
            worst.0,
            exp.describe(&exp.points[worst.0]),
            chosen(worst.0)
        );
    }
}

/// Progress on stderr: a bar on a terminal, otherwise one line per finished point.
struct Progress {
    bar: ProgressBar,
    /// The bar belongs to a caller (left running at the end).
    shared: bool,
    /// Rounds of runs started so far.
    rounds: AtomicUsize,
    plain: bool,
    done: Vec<AtomicUsize>,
    finished: AtomicUsize,
    points: usize,
    start: Instant,
}

impl Progress {
    fn new(points: usize, quiet: bool, shared: Option<ProgressBar>) -> Progress {
        let tty = std::io::stderr().is_terminal() && !quiet;
        let owned = shared.is_none();
        let bar = shared.unwrap_or_else(|| {
            let bar = if tty { ProgressBar::new(0) } else { ProgressBar::hidden() };
            bar.set_style(bar_style("runs"));
            bar.set_message(format!("0/{points} points"));
            bar
        });
        Progress {
            bar,
            shared: !owned,
            rounds: AtomicUsize::new(0),
            plain: !tty && !quiet,
            done: (0..points).map(|_| AtomicUsize::new(0)).collect(),
            finished: AtomicUsize::new(0),
            points,
            start: Instant::now(),
        }
    }

    /// Adds a round of runs to the bar's length; a shared bar was given the first round (points
    /// × replications) by its owner, so only run-length control's extra rounds are added.
    fn extend(&self, runs: usize) {
        if !self.shared || self.rounds.fetch_add(1, Ordering::Relaxed) > 0 {
            self.bar.inc_length(runs as u64);
        }
    }

    fn done(&self, exp: &Experiment, index: usize, k: usize, last: bool) {
        self.bar.inc(1);
        self.done[k].fetch_add(1, Ordering::Relaxed);
        if !last {
            return;
        }
        let n = self.finished.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.shared {
            self.bar.set_message(format!("{n}/{} points", self.points));
        }
        if self.plain {
            let reps = self.done[k].load(Ordering::Relaxed);
            crate::note!(
                "point {index} done ({}; {reps} replications) · {n}/{} points · {:.1} s",
                exp.describe(&exp.points[index]),
                self.points,
                self.start.elapsed().as_secs_f64()
            );
        }
    }

    fn finish(&self) {
        if !self.shared {
            self.bar.finish_and_clear();
        }
    }
}

/// The progress bar's look: runs done of all, a message, elapsed time and ETA.
pub fn bar_style(unit: &str) -> ProgressStyle {
    ProgressStyle::with_template(&format!(
        "{{bar:40}} {{pos}}/{{len}} {unit} · {{msg}} · {{elapsed}} elapsed · ETA {{eta}}"
    ))
    .expect("a valid template")
}

#[cfg(test)]
mod tests {
    use super::mean_by_window;

    #[test]
    fn time_series_mean_window_by_window() {
        // The second run stopped after its first window (an overloaded run): the later windows
        // are the first run's alone.
        let a = [(5.0, 2.0), (15.0, 4.0), (25.0, 6.0)];
        let b = [(5.0, 4.0)];
        assert_eq!(mean_by_window(&[&a, &b]), [(5.0, 3.0), (15.0, 4.0), (25.0, 6.0)]);
        assert!(mean_by_window(&[]).is_empty());
    }
}
