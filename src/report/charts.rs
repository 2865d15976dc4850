//! PNG charts of a run: latency percentiles, throughput and errors, queue lengths over time, the
//! latency CDF, and the critical-path breakdown (`stacked.rs`).
//!
//! Text uses a bundled DejaVu Sans (assets/fonts), so charts render the same on a machine with
//! no fonts installed. The warm-up period is shaded grey: its data are drawn but not measured.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::types::RangedCoordf64;
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

/// One line of a chart.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// A shaded band (x, low, high), e.g. a 95 % confidence interval; empty for none.
    pub band: Vec<(f64, f64, f64)>,
    /// Draw a marker at each point.
    pub markers: bool,
    /// Draw no line, only markers.
    pub scatter: bool,
    /// A thin dashed line (a reference curve such as a closed form).
    pub dashed: bool,
    /// Palette index to draw it in (default: its position), e.g. a reference curve in the colour
    /// of the result it belongs to.
    pub color: Option<usize>,
}

impl Series {
    /// A plain line.
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series { name: name.into(), points, ..Series::default() }
    }
}

/// A line chart: title, axis labels with units, lines, and an optional shaded x interval.
#[derive(Clone, Debug, Default)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Shaded x interval and its legend label (e.g. the warm-up).
    pub shade: Option<(f64, f64, String)>,
    /// Logarithmic axes (non-positive values are left out).
    pub log_x: bool,
    pub log_y: bool,
    /// A fixed y range (e.g. 0..1 for a CDF) instead of one fitted to the data.
    pub y_range: Option<(f64, f64)>,
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

/// Chart size in pixels.
pub(crate) const SIZE: (u32, u32) = (1200, 700);

/// Something drawn onto a chart area, and saved as PNG and SVG.
pub trait Chart {
    /// Draws onto `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static;

    /// Draws the chart as PNG at `path`.
    fn png(&self, path: &Path) -> Result<()> {
        register_font();
        let root = BitMapBackend::new(path, SIZE).into_drawing_area();
        self.draw(&root).map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
        root.present().map_err(|e| anyhow!("writing {}: {e}", path.display()))
    }

    /// Draws the chart as SVG at `path` (text as SVG text, so it stays sharp and searchable).
    fn svg(&self, path: &Path) -> Result<()> {
        register_font();
        let root = SVGBackend::new(path, SIZE).into_drawing_area();
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

impl Chart for LineChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        self.draw_lines(root)
    }
}

impl LineChart {
    fn tx(&self, x: f64) -> Option<f64> {
        if self.log_x { (x > 0.0).then(|| x.log10()) } else { Some(x) }
    }

    fn ty(&self, y: f64) -> Option<f64> {
        if self.log_y { (y > 0.0).then(|| y.log10()) } else { Some(y) }
    }

    fn map(&self, pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
        pts.iter()
            .filter_map(|&(x, y)| Some((self.tx(x)?, self.ty(y)?)))
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect()
    }

    fn draw_lines<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (x0, x1, y0, y1) = self.bounds();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 26))
            .margin(20)
            .x_label_area_size(55)
            .y_label_area_size(90)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| e.to_string())?;
        let (lx, ly) = (self.log_x, self.log_y);
        let fx = move |v: &f64| if lx { log_tick(*v) } else { tick(*v) };
        let fy = move |v: &f64| if ly { log_tick(*v) } else { tick(*v) };
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .label_style(("sans-serif", 17))
            .axis_desc_style(("sans-serif", 19))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| e.to_string())?;
        if let Some((a, b, label)) = &self.shade {
            let grey = RGBColor(200, 200, 200).mix(0.35);
            let (a, b) = (self.tx(*a).unwrap_or(x0), self.tx(*b).unwrap_or(x0));
            chart
                .draw_series(std::iter::once(Rectangle::new([(a, y0), (b, y1)], grey.filled())))
                .map_err(|e| e.to_string())?
                .label(label.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], grey.filled()));
        }
        for (i, s) in self.series.iter().enumerate() {
            let color = PALETTE[s.color.unwrap_or(i) % PALETTE.len()];
            self.draw_band(&mut chart, s, color)?;
            let pts = self.map(&s.points);
            // Wide polylines get miter spikes at sharp turns; dense series are drawn 1 px wide.
            let width = if pts.len() > 150 { 1 } else { 2 };
            let anno = if s.dashed {
                let style = color.stroke_width(1);
                chart.draw_series(DashedLineSeries::new(pts.iter().copied(), 6, 4, style))
            } else if s.scatter {
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
            } else {
                chart.draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(width)))
            }
            .map_err(|e| e.to_string())?;
            if s.name.is_empty() {
                // unlabelled: shares the legend entry of a series drawn before it
            } else if s.dashed {
                let grey = RGBColor(90, 90, 90);
                anno.label(s.name.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 6, y), (x + 10, y), (x + 16, y)], grey.stroke_width(1))
                });
            } else if s.scatter {
                anno.label(s.name.clone()).legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
            } else {
                anno.label(s.name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
            }
            if s.markers && !s.scatter {
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(|e| e.to_string())?;
            }
        }
        draw_legend(&mut chart)
    }

    fn draw_band<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        s: &Series,
        color: RGBColor,
    ) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        if s.band.is_empty() {
            return Ok(());
        }
        let upper: Vec<(f64, f64)> = s.band.iter().map(|&(x, _, hi)| (x, hi)).collect();
        let lower: Vec<(f64, f64)> = s.band.iter().rev().map(|&(x, lo, _)| (x, lo)).collect();
        let outline: Vec<(f64, f64)> = self.map(&upper).into_iter().chain(self.map(&lower)).collect();
        chart
            .draw_series(std::iter::once(Polygon::new(outline, color.mix(0.18).filled())))
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Fraction of the plot height kept free for the legend.
    fn legend_share(&self) -> f64 {
        legend_share(self.series.iter().filter(|s| !s.name.is_empty()).count() + usize::from(self.shade.is_some()))
    }

    /// x range and y range (transformed), with headroom above the data for the legend: the
    /// legend sits in the top-left corner and takes about 5 % of the height per entry, so
    /// the data are kept below it and never hidden.
    fn bounds(&self) -> (f64, f64, f64, f64) {
        let mut pts: Vec<(f64, f64)> = self.series.iter().flat_map(|s| self.map(&s.points)).collect();
        for s in &self.series {
            let hi: Vec<(f64, f64)> = s.band.iter().flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)]).collect();
            pts.extend(self.map(&hi));
        }
        let (x0, x1) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let (ymin, ymax) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
        // A span that overflows (±1e308) would make the axis loop for ever: keep within ±1e300.
        let (x0, x1) = (x0.max(-1e300), x1.min(1e300));
        let (ymin, ymax) = (ymin.max(-1e300), ymax.min(1e300));
        let (x0, x1) = if x0 < x1 {
            (x0, x1)
        } else if x0.is_finite() {
            (x0 - 1.0, x0 + 1.0)
        } else {
            (0.0, 1.0)
        };
        if let Some((a, b)) = self.y_range {
            return (x0, x1, a, b);
        }
        if !ymin.is_finite() {
            return (x0, x1, 0.0, 1.0);
        }
        if self.log_y {
            let span = (ymax - ymin).max(0.5);
            return (x0, x1, ymin - 0.05 * span, ymax + span * self.legend_share() / (1.0 - self.legend_share()));
        }
        let y0 = ymin.min(0.0);
        let y1 = if ymax > y0 { y0 + (ymax - y0) / (1.0 - self.legend_share()) } else { y0 + 1.0 };
        (x0, x1, y0, y1)
    }
}

/// A tick label on a log axis (the coordinate is log10 of the value): 2 significant digits.
fn log_tick(v: f64) -> String {
    let x = 10f64.powf(v);
    let digits = x.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits - 1);
    tick((x / scale).round() * scale)
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

/// The share of a chart's height kept free above the data for a legend of `entries` lines.
pub(crate) fn legend_share(entries: usize) -> f64 {
    (0.08 + 0.055 * entries as f64).min(0.65)
}

/// Draws the legend of `chart` in its upper left corner, in the house style.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 17))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(|e| e.to_string())
}

/// Draws latency, throughput, queues and latency_cdf charts (PNG and SVG) for a run.
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
    let mut written = Vec::new();

    let (lmul, lname) = latency_unit(rows.iter().map(|r| r.p99).fold(0.0, f64::max));
    let pct = |label: &str, f: fn(&WindowRow) -> f64| {
        Series::line(label, rows.iter().filter(|r| r.completions > 0).map(|r| (mid(r), f(r) * lmul)).collect())
    };
    let latency = LineChart {
        title: format!("{name}: end-to-end latency per {window} window"),
        x_label: x_label.clone(),
        y_label: format!("latency [{lname}]"),
        series: vec![pct("p50", |r| r.p50), pct("p95", |r| r.p95), pct("p99", |r| r.p99)],
        shade: shade.clone(),
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
        ..LineChart::default()
    };
    written.extend(queues.save_both(dir, "queues")?);

    let (cmul, cname) = latency_unit(out.e2e.quantile_s(0.999));
    let cdf = LineChart {
        title: format!("{name}: distribution of end-to-end latency after warm-up"),
        x_label: format!("latency [{cname}], log scale"),
        y_label: "fraction of requests completed within".into(),
        series: vec![Series::line("e2e latency CDF", cdf_points(&out.e2e, cmul))],
        log_x: true,
        y_range: Some((0.0, 1.02)),
        ..LineChart::default()
    };
    written.extend(cdf.save_both(dir, "latency_cdf")?);

    let parts: Vec<(String, crate::metrics::PathPart)> =
        out.summary.critical_path.iter().map(|(k, v)| (k.clone(), *v)).collect();
    if let Some(bars) = super::stacked::StackedBars::critical_path(&model.spec.name, &parts) {
        written.extend(bars.save_both(dir, "critical_path")?);
    }
    Ok(written)
}
