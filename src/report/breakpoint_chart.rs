//! The "what breaks first" chart (`breakpoints.png`): one row per component in the order it
//! breaks as load grows (first at top), a bar from the load where its first limit is crossed to
//! the highest load run, labelled with that limit and the first alarm it trips, ticks where its
//! later limits are crossed, and the components that never broke listed as holding. Faint
//! vertical lines mark the loads actually run, so the reader sees the grid's resolution.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::charts::{Chart, PALETTE, SIZE, tick};
use super::legend::{self, Entry, Swatch};
use super::line_chart::title_size;
use super::style::{GREY, Marker, draw_marker};

/// Height of one row [px], and of the frame around the rows (title, axis).
const ROW_PX: u32 = 62;
const FRAME_PX: u32 = 150;
/// Width of an average character of the text in a row (15 px) [px].
const TEXT_CHAR_W: f64 = 8.4;

/// The light grey of the grid lines at the loads run.
const GRID: RGBColor = RGBColor(210, 210, 210);

/// How a crossing's load was found, drawn as its marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// Interpolated between two load points: a filled circle.
    Interpolated,
    /// The first load point where the limit holds: a filled square.
    FirstPoint,
    /// Already crossed at the lowest load run: a hollow triangle (the limit lies at or below).
    LowestPoint,
}

impl Found {
    fn marker(self) -> (Marker, bool) {
        match self {
            Found::Interpolated => (Marker::Circle, true),
            Found::FirstPoint => (Marker::Square, true),
            Found::LowestPoint => (Marker::TriangleDown, false),
        }
    }
}

/// One component's row.
pub struct BreakRow {
    /// Left of the row: "1. bedrock (llm)".
    pub label: String,
    /// The first limit crossed: its load, how it was found, and its text (limit and alarm).
    pub first: Option<(f64, Found, String)>,
    /// Later limits of the same component: load and how each was found.
    pub later: Vec<(f64, Found)>,
    /// A second, smaller line of text: the later limits in words, or "holds to …".
    pub second: String,
    /// Whether it broke first of all (drawn in the warning colour).
    pub first_of_all: bool,
    /// A row that is not a component (the whole system, run-wide alarms): drawn in grey.
    pub muted: bool,
}

/// The whole chart.
pub struct BreakpointChart {
    pub title: String,
    pub x_label: String,
    /// The loads run, lowest first.
    pub loads: Vec<f64>,
    pub rows: Vec<BreakRow>,
    pub note: String,
}

impl BreakpointChart {
    /// The legend: only the bar colours and markers the chart shows, then the grid lines.
    fn legend_entries(&self) -> Vec<Entry> {
        let fill = |c: RGBColor| Swatch::Fill { color: c, opacity: 0.75 };
        let marker = |f: Found| {
            let (marker, filled) = f.marker();
            Swatch::Marker { color: PALETTE[6], marker, filled }
        };
        let bars = |f: fn(&BreakRow) -> bool| self.rows.iter().any(|r| r.first.is_some() && f(r));
        let shown = |how: Found| {
            self.rows.iter().any(|r| r.first.as_ref().is_some_and(|f| f.1 == how) || r.later.iter().any(|l| l.1 == how))
        };
        let mut out = Vec::new();
        let colours = [
            ("broke first: from its first limit to the highest load", PALETTE[1], bars(|r| r.first_of_all)),
            ("broke later", PALETTE[0], bars(|r| !r.first_of_all && !r.muted)),
            ("the whole system (errors, overload): a symptom, not a component", GREY, bars(|r| r.muted)),
        ];
        out.extend(colours.into_iter().filter(|c| c.2).map(|(l, c, _)| Entry { label: l.into(), swatch: fill(c) }));
        let markers = [
            (Found::Interpolated, "crossing interpolated between two loads"),
            (
                Found::FirstPoint,
                "found at the first load where it holds (it lies between that load and the one before)",
            ),
            (Found::LowestPoint, "crossed already at the lowest load (the limit lies at or below it)"),
        ];
        out.extend(
            markers.into_iter().filter(|m| shown(m.0)).map(|(f, l)| Entry { label: l.into(), swatch: marker(f) }),
        );
        out.push(Entry {
            label: "a load run (grid line)".into(),
            swatch: Swatch::Line { color: GRID, width: 1, dash: None, marker: None },
        });
        out
    }

    fn plot_height(&self) -> u32 {
        FRAME_PX + ROW_PX * self.rows.len().max(1) as u32
    }

    fn x_range(&self) -> (f64, f64) {
        let lo = self.loads.first().copied().unwrap_or(0.0);
        let hi = self.loads.last().copied().unwrap_or(1.0);
        let pad = if hi > lo { (hi - lo) * 0.02 } else { 1.0 };
        (lo - pad, hi + pad)
    }
}

/// `s` cut to at most `n` characters, with "…" when cut.
fn fit(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { s.chars().take(n.saturating_sub(1)).collect::<String>() + "…" }
}

impl Chart for BreakpointChart {
    fn size(&self) -> (u32, u32) {
        legend::chart_size(&self.legend_entries(), &self.note, SIZE.0, self.plot_height())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let entries = self.legend_entries();
        let layout = legend::layout(&entries, Some(&self.note), SIZE.0);
        let (plot, strip) = root.split_vertically(self.plot_height());
        let n = self.rows.len().max(1) as f64;
        let label_px = legend::row_label_px(self.rows.iter().map(|r| r.label.as_str()), SIZE.0 / 3);
        let (x0, x1) = self.x_range();
        let mut chart = ChartBuilder::on(&plot)
            .caption(&self.title, ("sans-serif", title_size(&self.title, 26, SIZE.0)))
            .margin(20)
            .x_label_area_size(55)
            .y_label_area_size(label_px)
            .build_cartesian_2d(x0..x1, 0.0..n)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .y_labels(0)
            .x_label_formatter(&|v| tick(*v))
            .x_desc(&self.x_label)
            .label_style(("sans-serif", 17))
            .axis_desc_style(("sans-serif", 19))
            .draw()
            .map_err(|e| e.to_string())?;
        let grid = self.loads.iter().map(|&x| PathElement::new(vec![(x, 0.0), (x, n)], GRID));
        chart.draw_series(grid).map_err(|e| e.to_string())?;
        // Pixels per unit of load, to fit each row's text in the room right of its crossing.
        let (p0, _) = chart.backend_coord(&(x0, 0.0));
        let (p1, _) = chart.backend_coord(&(x1, 0.0));
        let per_load = f64::from(p1 - p0) / (x1 - x0);
        let text_px = |a: f64, b: f64| ((b - a) * per_load).max(0.0);
        let chars = (text_px(x0, x1) / TEXT_CHAR_W) as usize;
        let hi = self.loads.last().copied().unwrap_or(x1);
        for (i, row) in self.rows.iter().enumerate() {
            let base = n - 1.0 - i as f64;
            let color = match (row.first_of_all, row.muted) {
                (_, true) => GREY,
                (true, _) => PALETTE[1],
                _ => PALETTE[0],
            };
            let (lx, ly) = chart.backend_coord(&(x0, base + 0.5));
            let font = ("sans-serif", 17).into_font().color(&BLACK).pos(Pos::new(HPos::Right, VPos::Center));
            plot.draw(&Text::new(row.label.clone(), (lx - 8, ly), font)).map_err(|e| e.to_string())?;
            // Text starts at the crossing, or at the left edge for a row that holds; a crossing
            // in the right half has its text end at the right edge instead, so it stays inside.
            let start = row.first.as_ref().map_or(x0, |f| f.0);
            let right = start > (x0 + x1) / 2.0;
            let room = if right { chars } else { (text_px(start, x1) / TEXT_CHAR_W) as usize };
            let anchor_x = if right { x1 } else { start };
            let hpos = if right { HPos::Right } else { HPos::Left };
            let (tx, _) = chart.backend_coord(&(anchor_x, 0.0));
            let (_, top) = chart.backend_coord(&(x0, base + 0.8));
            let (_, bottom) = chart.backend_coord(&(x0, base + 0.2));
            let (_, middle) = chart.backend_coord(&(x0, base + 0.5));
            let font = |c: RGBColor| ("sans-serif", 15).into_font().color(&c).pos(Pos::new(hpos, VPos::Center));
            let dx = if right { -4 } else { 4 };
            if let Some((load, found, text)) = &row.first {
                let bar = Rectangle::new([(*load, base + 0.38), (hi, base + 0.6)], color.mix(0.75).filled());
                chart.draw_series(std::iter::once(bar)).map_err(|e| e.to_string())?;
                plot.draw(&Text::new(fit(text, room), (tx + dx, top), font(BLACK))).map_err(|e| e.to_string())?;
                for (x, how) in std::iter::once((*load, *found)).chain(row.later.iter().copied()) {
                    let (m, filled) = how.marker();
                    let at = chart.backend_coord(&(x, base + 0.49));
                    draw_marker(&plot, m, at, 7, PALETTE[6], filled)?;
                }
            }
            if !row.second.is_empty() {
                let py = if row.first.is_some() { bottom } else { middle };
                plot.draw(&Text::new(fit(&row.second, room.max(20)), (tx + dx, py), font(GREY)))
                    .map_err(|e| e.to_string())?;
            }
        }
        legend::draw(&strip, &entries, Some(&self.note), &layout)
    }
}
