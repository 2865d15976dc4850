//! PNG charts of a run: latency percentiles, throughput and errors, and queue lengths over time.
//!
//! Text uses a bundled DejaVu Sans (assets/fonts), so charts render the same on a machine with
//! no fonts installed. The warm-up period is shaded grey: its data are drawn but not measured.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use crate::model::Model;
use crate::sim::RunOutput;

static FONT: Once = Once::new();
const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

fn register_font() {
    FONT.call_once(|| {
        // The bytes are a valid TrueType font shipped with the crate; failure would be a build defect.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES);
    });
}

/// One line of a chart.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A line chart: title, axis labels with units, lines, and an optional shaded x interval.
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Shaded x interval and its legend label (e.g. the warm-up).
    pub shade: Option<(f64, f64, String)>,
}

/// A colour-blind-safe palette (Okabe–Ito), cycled.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

impl LineChart {
    /// Draws the chart as a 1200×700 PNG at `path`.
    pub fn png(&self, path: &Path) -> Result<()> {
        register_font();
        let root = BitMapBackend::new(path, (1200, 700)).into_drawing_area();
        self.draw(&root)
            .map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
        root.present()
            .map_err(|e| anyhow!("writing {}: {e}", path.display()))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (x0, x1, y1) = self.bounds();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 26))
            .margin(20)
            .x_label_area_size(55)
            .y_label_area_size(85)
            .build_cartesian_2d(x0..x1, 0.0..y1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 17))
            .axis_desc_style(("sans-serif", 19))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| e.to_string())?;
        if let Some((a, b, label)) = &self.shade {
            let grey = RGBColor(200, 200, 200).mix(0.35);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(*a, 0.0), (*b, y1)],
                    grey.filled(),
                )))
                .map_err(|e| e.to_string())?
                .label(label.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], grey.filled()));
        }
        for (i, s) in self.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            // Wide polylines get miter spikes at sharp turns; dense series are drawn 1 px wide.
            let width = if s.points.len() > 150 { 1 } else { 2 };
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(width),
                ))
                .map_err(|e| e.to_string())?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 17))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// x range and y maximum, with 35 % headroom above the data so the legend covers none of it.
    fn bounds(&self) -> (f64, f64, f64) {
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let ymax = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0.0, f64::max);
        let (x0, x1) = if x0 < x1 { (x0, x1) } else { (0.0, 1.0) };
        let y1 = if ymax > 0.0 && ymax.is_finite() {
            ymax * 1.35
        } else {
            1.0
        };
        (x0, x1, y1)
    }
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
    if max_s < 1.0 {
        (1000.0, "ms")
    } else {
        (1.0, "s")
    }
}

/// Draws latency.png, throughput.png and queues.png for a run.
pub fn run_charts(dir: &Path, model: &Model, out: &RunOutput) -> Result<Vec<PathBuf>> {
    let rows = &out.rows;
    let name = &model.spec.name;
    let (tdiv, tname) = time_unit(model.duration.as_secs());
    let mid = |r: &crate::metrics::WindowRow| (r.t_start + r.t_end) / 2.0 / tdiv;
    let shade = (model.warmup.0 > 0).then(|| {
        (
            0.0,
            model.warmup.as_secs() / tdiv,
            "warm-up (not measured)".to_string(),
        )
    });
    let x_label = format!("simulated time [{tname}]");
    let mut written = Vec::new();

    let pmax = rows.iter().map(|r| r.p99).fold(0.0, f64::max);
    let (lmul, lname) = latency_unit(pmax);
    let pct = |label: &str, f: fn(&crate::metrics::WindowRow) -> f64| Series {
        name: label.to_string(),
        points: rows
            .iter()
            .filter(|r| r.completions > 0)
            .map(|r| (mid(r), f(r) * lmul))
            .collect(),
    };
    let latency = LineChart {
        title: format!(
            "{name}: end-to-end latency per {} window",
            window_label(model)
        ),
        x_label: x_label.clone(),
        y_label: format!("latency [{lname}]"),
        series: vec![
            pct("p50", |r| r.p50),
            pct("p95", |r| r.p95),
            pct("p99", |r| r.p99),
        ],
        shade: shade.clone(),
    };
    written.push(save(&latency, dir.join("latency.png"))?);

    let per_s = |label: &str, f: fn(&crate::metrics::WindowRow) -> u64| Series {
        name: label.to_string(),
        points: rows
            .iter()
            .map(|r| (mid(r), f(r) as f64 / (r.t_end - r.t_start).max(1e-12)))
            .collect(),
    };
    let throughput = LineChart {
        title: format!(
            "{name}: throughput and errors per {} window",
            window_label(model)
        ),
        x_label: x_label.clone(),
        y_label: "requests per second [1/s]".into(),
        series: vec![
            per_s("arrivals/s", |r| r.arrivals),
            per_s("completions/s", |r| r.completions),
            per_s("rejections/s", |r| r.rejections),
            per_s("failures/s", |r| r.failures),
        ],
        shade: shade.clone(),
    };
    written.push(save(&throughput, dir.join("throughput.png"))?);

    let queues = LineChart {
        title: format!("{name}: requests waiting per station (time-averaged per window)"),
        x_label,
        y_label: "queue length [requests]".into(),
        series: out
            .station_names
            .iter()
            .enumerate()
            .map(|(k, s)| Series {
                name: s.clone(),
                points: rows.iter().map(|r| (mid(r), r.stations[k].0)).collect(),
            })
            .collect(),
        shade,
    };
    written.push(save(&queues, dir.join("queues.png"))?);
    Ok(written)
}

fn save(chart: &LineChart, path: PathBuf) -> Result<PathBuf> {
    chart.png(&path)?;
    Ok(path)
}

/// The window width as a short label ("60 s").
fn window_label(model: &Model) -> String {
    format!("{} s", model.window.as_secs())
}
