//! `capsim run`: one model, one seed, files and a short report.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::common::with_run_settings;
use super::parse_override;
use crate::model::{self, Override};
use crate::report::labels::sig;
use crate::report::output::RunOutput;
use crate::report::summary::Summary;
use crate::report::write::write_run;
use crate::sim::{self, Status};

/// Arguments of `capsim run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The model file (JSON).
    pub model: PathBuf,
    /// Base seed of every random stream (overrides run.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Simulated time to run, warm-up included, e.g. 2h (overrides run.duration).
    #[arg(long)]
    pub duration: Option<String>,
    /// Initial time whose statistics are discarded, e.g. 10m (overrides run.warmup).
    #[arg(long)]
    pub warmup: Option<String>,
    /// Time-series window width, e.g. 1s (overrides run.window).
    #[arg(long)]
    pub window: Option<String>,
    /// Override any model field: a dotted path and a JSON value (or a bare string).
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_override)]
    pub set: Vec<Override>,
    /// Output folder (default output/<model name>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip drawing charts.
    #[arg(long)]
    pub no_charts: bool,
    /// Write the first N requests after warm-up as a Chrome trace (trace.json; opens in
    /// Perfetto), one span per request, call and attempt (at most 10000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub trace: Option<u32>,
}

impl RunArgs {
    /// The `--set` list with --seed/--duration/--warmup/--window folded in (they win).
    fn overrides(&self) -> Vec<Override> {
        let flags = [
            ("run.duration", "--duration", &self.duration),
            ("run.warmup", "--warmup", &self.warmup),
            ("run.window", "--window", &self.window),
        ];
        let mut o = with_run_settings(&self.set, &flags);
        if let Some(s) = self.seed {
            o.push(Override::from_flag("run.seed", "--seed", s));
        }
        o
    }
}

/// Exit status of a run that stopped early because the system overloaded (documented in the
/// README): the outputs are written, but they describe a system that did not cope.
pub const EXIT_OVERLOADED: i32 = 3;

/// Runs the model and writes its outputs; returns the exit status (0, or
/// [`EXIT_OVERLOADED`]).
pub fn run(args: RunArgs) -> Result<i32> {
    let mut model = model::load(&args.model, &args.overrides())?;
    model.trace = args.trace.unwrap_or(0);
    let out = RunOutput::build(&model, sim::run(&model));
    let dir = args.out.clone().unwrap_or_else(|| PathBuf::from("output").join(&model.spec.name));
    let charts = write_run(&dir, &model, &out, !args.no_charts)?;
    crate::say_raw!("{}", human(&out.summary));
    crate::say!("wrote {}/{{summary.json, timeseries.csv, model.resolved.json}}", dir.display());
    if !model.alarms.is_empty() {
        crate::say!("wrote {}/alarms.csv; {}", dir.display(), alarm_line(&out.summary));
    }
    if out.trace.is_some() {
        crate::say!("wrote {}/trace.json (open it in Perfetto: ui.perfetto.dev)", dir.display());
    }
    for c in charts {
        crate::say!("wrote {}", c.display());
    }
    for w in &out.summary.warnings {
        crate::note!("warning: {w}");
    }
    Ok(if matches!(out.summary.status, Status::Overloaded { .. } | Status::Stalled { .. }) {
        EXIT_OVERLOADED
    } else {
        0
    })
}

/// The alarms that fired, with severity and first time in ALARM, and how many did not.
fn alarm_line(s: &Summary) -> String {
    let fired: Vec<String> = s
        .alarms
        .iter()
        .filter_map(|(name, a)| {
            let at = a.first_start_s?;
            let times = if a.fired > 1 { format!(", {} times", a.fired) } else { String::new() };
            Some(format!("{name} ({}) at {at} s{times}", a.severity))
        })
        .collect();
    let quiet = s.alarms.len() - fired.len();
    match fired.len() {
        0 => format!("no alarm fired (of {quiet})"),
        _ => format!("alarms fired: {}; {quiet} did not", fired.join(", ")),
    }
}

/// A short human-readable report.
pub fn human(s: &Summary) -> String {
    let mut o = String::new();
    let rate = s.engine.events as f64 / s.engine.wall_s.max(1e-9);
    let _ = writeln!(
        o,
        "model {} · seed {} · {} s simulated ({} s warm-up)",
        s.model,
        s.seed,
        sig(s.simulated_s, 6),
        sig(s.warmup_s, 6)
    );
    let _ = writeln!(
        o,
        "engine: {} events in {:.3} s wall ({:.2} M events/s)",
        s.engine.events,
        s.engine.wall_s,
        rate / 1e6
    );
    if let Status::Stalled { at_s, events } = s.status {
        let _ = writeln!(
            o,
            "STALLED: simulated time stopped advancing at {at_s:.1} s ({events} events at that instant: a loop with no delay, such as users with zero think time whose requests fail at once); exit status {EXIT_OVERLOADED}"
        );
    }
    if let Status::Overloaded { at_s, in_flight } = s.status {
        let _ = writeln!(
            o,
            "OVERLOADED: stopped at {at_s:.1} s of simulated time with {in_flight} requests in flight (more than run.max_in_flight); exit status {EXIT_OVERLOADED}"
        );
    }
    let r = &s.requests;
    let _ = writeln!(
        o,
        "requests: {} arrived, {} completed, {} degraded (answered {}/s), {} rejected, {} failed, {} in flight",
        r.arrived,
        r.completed,
        r.degraded,
        sig(r.throughput_per_s, 4),
        r.rejected,
        r.failed,
        r.in_flight
    );
    let l = &s.latency_s.e2e;
    if l.mean.is_nan() {
        let _ = writeln!(o, "e2e latency: no request completed after warm-up, so there is no latency to report");
    } else {
        let _ = writeln!(
            o,
            "e2e latency [s]: mean {}  p50 {}  p95 {}  p99 {}  p99.9 {}  max {}",
            sig(l.mean, 4),
            sig(l.p50, 4),
            sig(l.p95, 4),
            sig(l.p99, 4),
            sig(l.p999, 4),
            sig(l.max, 4)
        );
    }
    if !s.stations.is_empty() {
        let _ = writeln!(
            o,
            "{:<16} {:>10} {:>8} {:>12} {:>12} {:>8} {:>10}",
            "station", "arrivals", "util", "wait [s]", "resp [s]", "Lq", "rejected"
        );
        for (n, st) in &s.stations {
            let _ = writeln!(
                o,
                "{:<16} {:>10} {:>8} {:>12} {:>12} {:>8} {:>10}",
                n,
                st.arrivals,
                sig(st.utilization, 4),
                sig(st.mean_wait_s, 4),
                sig(st.mean_response_s, 4),
                sig(st.mean_queue_len, 4),
                st.rejected
            );
        }
    }
    o
}
