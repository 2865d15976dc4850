//! PNG charts of a run: latency percentiles, throughput and errors, queue lengths over time, the
//! latency CDF, the critical-path breakdown (`stacked.rs`) and the alarm timeline
//! (`alarm_chart.rs`).
//!
//! Text uses a bundled DejaVu Sans (assets/fonts), so charts render the same on a machine with
//! no fonts installed. The warm-up period is shaded grey: its data are drawn but not measured.
//! How line charts keep every series visible: line_chart.rs, style.rs, scale.rs, legend.rs.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use crate::metrics::WindowRow;
use crate::model::Model;
use crate::report::output::RunOutput;

static FONT: Once = Once::new();
const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

pub(crate) fn register_font() {
    FONT.call_once(|| {
        // The bytes are a valid TrueType font shipped with the crate; failure would be a build defect.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES);
    });
}

pub use super::line_chart::{Censor, LineChart, Series};
pub use super::style::PALETTE;

/// Chart size in pixels.
pub(crate) const SIZE: (u32, u32) = (1200, 700);

/// Something drawn onto a chart area, and saved as PNG and SVG.
pub trait Chart {
    /// Width and height [px] (a legend below the plot adds to the height).
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    /// Draws onto `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static;

    /// Draws the chart as PNG at `path`.
    fn png(&self, path: &Path) -> Result<()> {
        register_font();
        let root = BitMapBackend::new(path, self.size()).into_drawing_area();
        self.draw(&root).map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
        root.present().map_err(|e| anyhow!("writing {}: {e}", path.display()))
    }

    /// Draws the chart as SVG at `path` (text as SVG text, so it stays sharp and searchable).
    fn svg(&self, path: &Path) -> Result<()> {
        register_font();
        let root = SVGBackend::new(path, self.size()).into_drawing_area();
        self.draw(&root).map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
        root.present().map_err(|e| anyhow!("writing {}: {e}", path.display()))
    }

    /// Writes `<stem>.png` and `<stem>.svg` into `dir`.
    fn save_both(&self, dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
        let (png, svg) = (dir.join(format!("{stem}.png")), dir.join(format!("{stem}.svg")));
        self.png(&png)?;
        self.svg(&svg)?;
        Ok(vec![png, svg])
    }
}

/// A short tick label: up to 4 significant digits, no trailing zeros.
pub(crate) fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    let s = if !(1e-3..1e6).contains(&a) {
        format!("{v:.1e}")
    } else {
        let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
        format!("{v:.decimals$}")
    };
    if s.contains('.') && !s.contains('e') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// Points of a latency CDF (x in seconds × `mul`, y = cumulative fraction) from a histogram,
/// dense in the tail where capacity questions live.
pub fn cdf_points(lat: &crate::metrics::Latency, mul: f64) -> Vec<(f64, f64)> {
    if lat.count() == 0 {
        return Vec::new();
    }
    let mut qs: Vec<f64> = (1..200).map(|k| k as f64 / 200.0).collect();
    qs.extend([0.996, 0.997, 0.998, 0.999, 0.9995, 0.9999]);
    qs.iter().map(|&q| (lat.quantile_s(q) * mul, q)).collect()
}

/// A time axis unit that keeps tick labels short: (divisor [s], name).
pub fn time_unit(span_s: f64) -> (f64, &'static str) {
    if span_s > 3.0 * 3600.0 {
        (3600.0, "h")
    } else if span_s > 180.0 {
        (60.0, "min")
    } else {
        (1.0, "s")
    }
}

/// A latency unit for values up to `max_s`: (multiplier, name).
pub fn latency_unit(max_s: f64) -> (f64, &'static str) {
    if max_s < 1.0 { (1000.0, "ms") } else { (1.0, "s") }
}

/// Draws latency, throughput, queues, latency_cdf, critical_path and (for a model with alarms)
/// alarms charts (PNG and SVG) for a run.
pub fn run_charts(dir: &Path, model: &Model, out: &RunOutput) -> Result<Vec<PathBuf>> {
    let rows = &out.rows;
    let name = &match out.summary.status {
        crate::report::summary::Status::Overloaded { at_s, .. } => {
            format!("{} (OVERLOADED: stopped at {} s)", model.spec.name, crate::report::labels::sig(at_s, 3))
        }
        crate::report::summary::Status::Stalled { at_s, .. } => {
            format!("{} (STALLED: time stopped at {} s)", model.spec.name, crate::report::labels::sig(at_s, 3))
        }
        _ => model.spec.name.clone(),
    };
    // The time actually simulated (less than run.duration when the run overloaded).
    let (tdiv, tname) = time_unit(out.summary.simulated_s);
    let mid = |r: &WindowRow| (r.t_start + r.t_end) / 2.0 / tdiv;
    let shade =
        (model.warmup.0 > 0).then(|| (0.0, model.warmup.as_secs() / tdiv, "warm-up (not measured)".to_string()));
    let x_label = format!("simulated time [{tname}]");
    let window = format!("{} s", rows.first().map_or(model.window.as_secs(), |r| r.t_end - r.t_start));
    let note = Some(format!("One run (seed {}).", model.seed));
    let mut written = Vec::new();

    let (lmul, lname) = latency_unit(rows.iter().map(|r| r.p99).fold(0.0, f64::max));
    // A window in which no request completed has no latency: a gap in the line, not a 0.
    let pct = |label: &str, f: fn(&WindowRow) -> f64| {
        let y = |r: &WindowRow| if r.completions > 0 { f(r) * lmul } else { f64::NAN };
        Series::line(label, rows.iter().map(|r| (mid(r), y(r))).collect())
    };
    let mut series = vec![pct("p50", |r| r.p50), pct("p95", |r| r.p95), pct("p99", |r| r.p99)];
    // Where an answer streams, its first token comes before the whole answer: drawn too.
    let streams = rows.iter().any(|r| r.first_token_p99 < r.p99 * 0.999);
    if streams {
        series.push(pct("p99 time to first token", |r| r.first_token_p99));
    }
    let latency = LineChart {
        title: if streams {
            format!("{name}: end-to-end latency and time to first token per {window} window")
        } else {
            format!("{name}: end-to-end latency per {window} window")
        },
        x_label: x_label.clone(),
        y_label: format!("latency [{lname}]"),
        series,
        shade: shade.clone(),
        note: note.clone(),
        ..LineChart::default()
    };
    written.extend(latency.save_both(dir, "latency")?);

    let per_s = |label: &str, f: fn(&WindowRow) -> u64| {
        Series::line(label, rows.iter().map(|r| (mid(r), f(r) as f64 / (r.t_end - r.t_start).max(1e-12))).collect())
    };
    let throughput = LineChart {
        title: format!("{name}: throughput and errors per {window} window"),
        x_label: x_label.clone(),
        y_label: "requests per second [1/s]".into(),
        series: vec![
            per_s("arrivals/s", |r| r.arrivals),
            per_s("completions/s", |r| r.completions),
            per_s("rejections/s", |r| r.rejections),
            per_s("failures/s", |r| r.failures),
        ],
        shade: shade.clone(),
        note: note.clone(),
        ..LineChart::default()
    };
    written.extend(throughput.save_both(dir, "throughput")?);

    let queue_series = out.station_names.iter().enumerate();
    let queues = LineChart {
        title: format!("{name}: requests waiting per station (time-averaged per {window} window)"),
        x_label,
        y_label: "queue length [requests]".into(),
        series: queue_series
            .map(|(k, s)| Series::line(s.clone(), rows.iter().map(|r| (mid(r), r.stations[k].0)).collect()))
            .collect(),
        shade,
        note: note.clone(),
        ..LineChart::default()
    };
    written.extend(queues.save_both(dir, "queues")?);

    let (cmul, cname) = latency_unit(out.e2e.quantile_s(0.999));
    let cdf = LineChart {
        title: format!("{name}: distribution of end-to-end latency after warm-up"),
        x_label: format!("latency [{cname}]"),
        y_label: "fraction of requests completed within".into(),
        series: vec![Series::line("e2e latency CDF", cdf_points(&out.e2e, cmul))],
        log_x: true,
        share: true,
        note,
        ..LineChart::default()
    };
    written.extend(cdf.save_both(dir, "latency_cdf")?);

    let parts: Vec<(String, crate::metrics::PathPart)> =
        out.summary.critical_path.iter().map(|(k, v)| (k.clone(), *v)).collect();
    if let Some(bars) = super::stacked::StackedBars::critical_path(&model.spec.name, &parts) {
        written.extend(bars.save_both(dir, "critical_path")?);
    }
    if !out.alarms.is_empty() {
        let timeline = super::alarm_chart::AlarmTimeline::new(
            &model.spec.name,
            &out.alarms,
            out.summary.simulated_s,
            model.warmup.as_secs(),
        );
        written.extend(timeline.save_both(dir, "alarms")?);
    }
    Ok(written)
}
