//! Stacked bars: the critical-path breakdown of a run — the mean answered request and the mean
//! request of the p99 tail, each split into the time spent in each service ("which span is
//! slow", seed 002).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::charts::{Chart, PALETTE, SIZE, latency_unit, tick};
use super::legend::{self, Entry, Swatch};
use crate::metrics::PathPart;

/// Bars (one per label), each a stack of parts.
pub struct StackedBars {
    pub title: String,
    pub y_label: String,
    /// The bars' labels, left to right.
    pub bars: Vec<String>,
    /// Each part's name and its height in every bar, bottom to top; NaN where the bar has no
    /// figure for it (drawn as nothing; a bar with no figure at all is labelled "no data", not 0).
    pub parts: Vec<(String, Vec<f64>)>,
    /// A line under the legend (what a bar is: a mean over how many replications).
    pub note: Option<String>,
}

impl StackedBars {
    /// The critical-path chart of a run: `parts` by bucket name, in seconds.
    pub fn critical_path(model: &str, parts: &[(String, PathPart)]) -> Option<StackedBars> {
        let shown: Vec<&(String, PathPart)> =
            parts.iter().filter(|(_, p)| p.mean_s > 0.0 || p.p99_tail_s > 0.0).collect();
        if shown.is_empty() || shown.iter().any(|(_, p)| !p.mean_s.is_finite()) {
            return None;
        }
        let top = shown.iter().map(|(_, p)| p.p99_tail_s.max(p.mean_s)).sum::<f64>();
        let (mul, unit) = latency_unit(top);
        let parts =
            shown.iter().map(|(name, p)| (name.clone(), vec![p.mean_s * mul, p.p99_tail_s.max(0.0) * mul])).collect();
        Some(StackedBars {
            title: format!("{model}: where the end-to-end time goes (critical path by service)"),
            y_label: format!("time on the critical path [{unit}]"),
            bars: vec!["mean answered request".into(), "mean request at or above p99".into()],
            parts,
            note: None,
        })
    }
}

/// Part `k`'s colour: the palette, then its colours tinted halfway to white, so that up to
/// twice the palette's parts stay apart.
fn part_color(k: usize) -> RGBColor {
    let c = PALETTE[k % PALETTE.len()];
    if (k / PALETTE.len()).is_multiple_of(2) {
        c
    } else {
        let tint = |x: u8| x + (255 - x) / 2;
        RGBColor(tint(c.0), tint(c.1), tint(c.2))
    }
}

impl StackedBars {
    /// One legend entry per part, its swatch the part's colour.
    fn legend_entries(&self) -> Vec<Entry> {
        let swatch = |k: usize| Swatch::Fill { color: part_color(k), opacity: 1.0 };
        self.parts.iter().enumerate().map(|(k, (name, _))| Entry { label: name.clone(), swatch: swatch(k) }).collect()
    }
}

impl Chart for StackedBars {
    fn size(&self) -> (u32, u32) {
        (SIZE.0, SIZE.1 + legend::height(&legend::layout(&self.legend_entries(), self.note.as_deref(), SIZE.0)))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let entries = self.legend_entries();
        let layout = legend::layout(&entries, self.note.as_deref(), SIZE.0);
        let (plot, strip) = root.split_vertically(SIZE.1);
        let n = self.bars.len();
        let height = |v: f64| if v.is_finite() { v } else { 0.0 };
        let totals: Vec<f64> = (0..n).map(|i| self.parts.iter().map(|(_, v)| height(v[i])).sum()).collect();
        let no_data: Vec<bool> = (0..n).map(|i| self.parts.iter().all(|(_, v)| !v[i].is_finite())).collect();
        let top = totals.iter().copied().fold(0.0, f64::max).max(f64::MIN_POSITIVE) * 1.08;
        let mut chart = ChartBuilder::on(&plot)
            .caption(&self.title, ("sans-serif", 26))
            .margin(20)
            .x_label_area_size(55)
            .y_label_area_size(90)
            .build_cartesian_2d(0.0..n as f64, 0.0..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_label_formatter(&|v| tick(*v))
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 17))
            .axis_desc_style(("sans-serif", 19))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| e.to_string())?;
        let mut base = vec![0.0; n];
        for (k, (_, heights)) in self.parts.iter().enumerate() {
            let color = part_color(k);
            let rects: Vec<Rectangle<(f64, f64)>> = (0..n)
                .map(|i| {
                    let (x0, x1) = (i as f64 + 0.25, i as f64 + 0.75);
                    let r = Rectangle::new([(x0, base[i]), (x1, base[i] + height(heights[i]))], color.filled());
                    base[i] += height(heights[i]);
                    r
                })
                .collect();
            chart.draw_series(rects).map_err(|e| e.to_string())?;
        }
        // Each bar's name under it, on two lines where it has a comma ("after, peak"), so that
        // eight names fit side by side.
        let below = TextStyle::from(("sans-serif", 17).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        for (i, name) in self.bars.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            let lines: Vec<&str> = name.splitn(2, ", ").collect();
            for (k, line) in lines.iter().enumerate() {
                plot.draw(&Text::new(line.to_string(), (x, y + 8 + 20 * k as i32), below.clone()))
                    .map_err(|e| e.to_string())?;
            }
        }
        // Each bar's total above it, so that a reader need not add the parts up; "no data" where
        // the runs had no figure (a metric of calls that were never made), which is not 0.
        let style = TextStyle::from(("sans-serif", 16).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
        let label = |i: usize| if no_data[i] { "no data".to_string() } else { tick(totals[i]) };
        let totals = (0..n).map(|i| Text::new(label(i), (i as f64 + 0.5, totals[i]), style.clone()));
        chart.draw_series(totals).map_err(|e| e.to_string())?;
        legend::draw(&strip, &entries, self.note.as_deref(), &layout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_without_a_figure_reads_no_data_not_zero() {
        let bars = StackedBars {
            title: "t".into(),
            y_label: "share".into(),
            bars: vec!["after, peak".into(), "before, peak".into()],
            parts: vec![("429s".into(), vec![f64::NAN, 0.25])],
            note: None,
        };
        let dir = std::env::temp_dir().join(format!("capsim-stacked-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bars.svg");
        bars.svg(&path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let texts: Vec<&str> = svg.split("</text>").filter_map(|t| t.rsplit('>').next()).map(str::trim).collect();
        assert!(texts.contains(&"no data"), "{texts:?}");
        assert!(texts.contains(&"0.25"), "{texts:?}");
        // The bar without a figure is labelled, not given a total of 0 (the axis still has its 0).
        assert_eq!(texts.iter().filter(|t| **t == "0").count(), 1, "{texts:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
