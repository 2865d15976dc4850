//! The alarm timeline of a run (`alarms.png`): one row per alarm, labelled with its name and
//! severity; a bar wherever it was in ALARM, and under it a tick for each datapoint that
//! breached, so a reader sees both when it fired and why (N of the last M). Warm-up is shaded
//! as on every time chart.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::alarms::AlarmRun;
use super::charts::{Chart, PALETTE, SIZE, tick, time_unit};
use super::legend::{self, Entry, Swatch};
use super::line_chart::title_size;
use super::style::GREY;

/// Height of one alarm's row [px], and of the plot's frame around the rows (title, axis).
const ROW_PX: u32 = 46;
const FRAME_PX: u32 = 150;

/// One alarm's row: its label, and stretches of simulated time (in the chart's unit).
pub struct AlarmRow {
    pub label: String,
    pub color: RGBColor,
    /// Times in ALARM (an alarm still on at the end runs to the end of the run).
    pub alarm: Vec<(f64, f64)>,
    /// Periods whose datapoint breached.
    pub breaching: Vec<(f64, f64)>,
}

/// The whole timeline.
pub struct AlarmTimeline {
    pub title: String,
    pub x_label: String,
    /// The time axis' end, in the chart's unit.
    pub x_end: f64,
    /// The warm-up's end, in the chart's unit (0: none).
    pub warmup: f64,
    pub rows: Vec<AlarmRow>,
    /// The severities shown, with their colours, for the legend.
    pub severities: Vec<(String, RGBColor)>,
}

/// A colour per severity, from the shared colour-blind-safe palette: the most severe the
/// most alarming (`SEV-1` vermilion, `SEV-2` orange, `SEV-3` blue, `SEV-4` sky blue); any other
/// label black.
fn severity_color(severity: &str) -> RGBColor {
    match severity.chars().filter(char::is_ascii_digit).collect::<String>().as_str() {
        "1" => PALETTE[1],
        "2" => PALETTE[4],
        "3" => PALETTE[0],
        "4" => PALETTE[5],
        _ => PALETTE[6],
    }
}

impl AlarmTimeline {
    /// The timeline of `runs` over a run of `end_s` seconds with `warmup_s` of warm-up.
    pub fn new(model: &str, runs: &[AlarmRun], end_s: f64, warmup_s: f64) -> AlarmTimeline {
        let (tdiv, tname) = time_unit(end_s);
        let span = |a: f64, b: f64| (a / tdiv, b / tdiv);
        let mut severities: Vec<(String, RGBColor)> = Vec::new();
        let rows = runs
            .iter()
            .map(|a| {
                let sev = if a.def.severity.is_empty() { "no severity".to_string() } else { a.def.severity.clone() };
                let color = severity_color(&a.def.severity);
                if !severities.iter().any(|(s, _)| *s == sev) {
                    severities.push((sev.clone(), color));
                }
                let fired = match a.episodes.len() {
                    0 if a.datapoints.is_empty() => " — not evaluated".to_string(),
                    0 => " — never fired".to_string(),
                    1 => String::new(),
                    n => format!(" — fired {n}×"),
                };
                AlarmRow {
                    label: format!("{} ({sev}){fired}", a.def.name),
                    color,
                    alarm: a.episodes.iter().map(|e| span(e.start_s, e.end_s.unwrap_or(end_s))).collect(),
                    // A sliver of each period is left blank so that neighbouring datapoints read
                    // as separate ticks.
                    breaching: a
                        .datapoints
                        .iter()
                        .filter(|d| d.breaching)
                        .map(|d| span(d.start_s, d.end_s - 0.15 * (d.end_s - d.start_s)))
                        .collect(),
                }
            })
            .collect();
        AlarmTimeline {
            title: format!("{model}: alarms over time"),
            x_label: format!("simulated time [{tname}]"),
            x_end: end_s / tdiv,
            warmup: warmup_s / tdiv,
            rows,
            severities,
        }
    }

    fn legend_entries(&self) -> Vec<Entry> {
        let mut out: Vec<Entry> = self
            .severities
            .iter()
            .map(|(s, c)| Entry { label: format!("in ALARM ({s})"), swatch: Swatch::Fill { color: *c, opacity: 1.0 } })
            .collect();
        out.push(Entry {
            label: "datapoint breaching (tick under the row)".into(),
            swatch: Swatch::Fill { color: GREY, opacity: 0.45 },
        });
        if self.warmup > 0.0 {
            out.push(Entry {
                label: "warm-up (not evaluated)".into(),
                swatch: Swatch::Fill { color: RGBColor(200, 200, 200), opacity: 0.6 },
            });
        }
        out
    }

    fn note(&self) -> &'static str {
        "A bar runs from the end of the period whose datapoint made N of the last M breach to the end of the \
         period that left fewer (CloudWatch's state changes); periods without data are skipped. alarms.csv lists \
         every bar, summary.json each alarm's condition."
    }

    fn plot_height(&self) -> u32 {
        FRAME_PX + ROW_PX * self.rows.len().max(1) as u32
    }
}

impl Chart for AlarmTimeline {
    fn size(&self) -> (u32, u32) {
        legend::chart_size(&self.legend_entries(), self.note(), SIZE.0, self.plot_height())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let entries = self.legend_entries();
        let layout = legend::layout(&entries, Some(self.note()), SIZE.0);
        let (plot, strip) = root.split_vertically(self.plot_height());
        let n = self.rows.len().max(1) as f64;
        let label_px = legend::row_label_px(self.rows.iter().map(|r| r.label.as_str()), SIZE.0 / 2);
        let x_end = if self.x_end > 0.0 { self.x_end } else { 1.0 };
        let mut chart = ChartBuilder::on(&plot)
            .caption(&self.title, ("sans-serif", title_size(&self.title, 26, SIZE.0)))
            .margin(20)
            .x_label_area_size(55)
            .y_label_area_size(label_px)
            .build_cartesian_2d(0.0..x_end, 0.0..n)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_label_formatter(&|v| tick(*v))
            .x_desc(&self.x_label)
            .label_style(("sans-serif", 17))
            .axis_desc_style(("sans-serif", 19))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| e.to_string())?;
        if self.warmup > 0.0 {
            let r =
                Rectangle::new([(0.0, 0.0), (self.warmup.min(x_end), n)], RGBColor(200, 200, 200).mix(0.35).filled());
            chart.draw_series(std::iter::once(r)).map_err(|e| e.to_string())?;
        }
        // Rows top to bottom in the alarms' order.
        for (i, row) in self.rows.iter().enumerate() {
            let base = n - 1.0 - i as f64;
            let ticks = row
                .breaching
                .iter()
                .map(|&(a, b)| Rectangle::new([(a, base + 0.08), (b, base + 0.2)], GREY.mix(0.45).filled()));
            chart.draw_series(ticks).map_err(|e| e.to_string())?;
            let bars = row
                .alarm
                .iter()
                .map(|&(a, b)| Rectangle::new([(a, base + 0.28), (b, base + 0.85)], row.color.filled()));
            chart.draw_series(bars).map_err(|e| e.to_string())?;
            let (px, py) = chart.backend_coord(&(0.0, base + 0.5));
            let font = ("sans-serif", 17).into_font().color(&BLACK).pos(Pos::new(HPos::Right, VPos::Center));
            plot.draw(&Text::new(row.label.clone(), (px - 8, py), font)).map_err(|e| e.to_string())?;
        }
        legend::draw(&strip, &entries, Some(self.note()), &layout)
    }
}
