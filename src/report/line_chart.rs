//! Line charts: series of (x, y) points with optional 95 % bands, reference curves, a shaded x
//! interval, a censoring limit and vertical marks, drawn so that nothing is hidden:
//!
//! - every series has its own colour, dash and marker (style.rs), markers are drawn above all
//!   lines, and on dense series they are staggered so lines lying on each other stay visible;
//! - a series that is 0 throughout, or identical to another, says so in the legend;
//! - the axes fit every value drawn (scale.rs); a line at 0 sits above the axis line;
//! - a value at or above the censoring limit (e.g. a timeout) is not a measurement: it is drawn
//!   as a hollow marker on the limit's dashed line ("at least this"), as are values marked as
//!   lower bounds; a gap in the data (y = NaN) is a gap in the line, not a 0;
//! - the legend sits below the plot, its swatches drawn as the lines are (legend.rs).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::charts::{Chart, SIZE, tick};
use super::legend::{self, Entry, Swatch};
use super::scale::{Axis, YKind, x_axis, y_axis};
use super::style::{GREY, Marker, draw_marker, draw_path, marker_indices, style};

/// One line of a chart.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    /// The points; a non-finite y is a gap in the line (no data there).
    pub points: Vec<(f64, f64)>,
    /// A shaded band (x, low, high), e.g. a 95 % confidence interval; empty for none.
    pub band: Vec<(f64, f64, f64)>,
    /// Draw no line, only markers.
    pub scatter: bool,
    /// A reference curve (e.g. a closed form or a seed's figure): thin and dashed, no markers;
    /// a single point is drawn as an ✕.
    pub dashed: bool,
    /// Style index to draw it in (default: its position), e.g. a reference curve in the style
    /// of the result it belongs to; a reference curve without one is a neutral dark grey.
    pub color: Option<usize>,
    /// A marker shape other than the style's.
    pub marker: Option<Marker>,
    /// A line without markers (its points are marked by other series).
    pub no_markers: bool,
    /// Points whose true value is only known to be at least y (censored), drawn hollow.
    pub lower_bounds: Vec<(f64, f64)>,
    /// A text label per point (same length as `points`), or empty.
    pub labels: Vec<String>,
}

impl Series {
    /// A plain line.
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series { name: name.into(), points, ..Series::default() }
    }
}

/// A limit at or above which a y value is not a measurement (e.g. a timeout: a latency there
/// only says "at least the timeout"), or, without `at`, the legend text for series' own lower
/// bounds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Censor {
    pub at: Option<f64>,
    /// What the limit is, in the reader's words (e.g. "orchestrator timeout (2 s)").
    pub label: String,
}

/// A line chart: title, axis labels with units, lines, and optional decorations.
#[derive(Clone, Debug, Default)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Shaded x interval and its legend label (e.g. the warm-up).
    pub shade: Option<(f64, f64, String)>,
    /// Logarithmic axes wanted; used only where the data span at least 1.5 decades (scale.rs).
    pub log_x: bool,
    pub log_y: bool,
    /// A y range (e.g. 0..1 for a CDF), widened to the data if they reach beyond it.
    pub y_range: Option<(f64, f64)>,
    /// y is a share: the axis runs from 0 to 1 (to the largest value when that is at most a half).
    pub share: bool,
    /// The y axis fits the values alone, without 0: for values whose place relative to a limit
    /// drawn with them is the point, with bands showing the noise (scale.rs, `YKind::Fitted`).
    pub fit_y: bool,
    /// A censoring limit for y (see `Censor`).
    pub censor: Option<Censor>,
    /// Vertical marks (x, legend label), e.g. the answer of a capacity search.
    pub vlines: Vec<(f64, String)>,
    /// A line of text under the legend, e.g. which replication a time series shows.
    pub note: Option<String>,
    /// Small multiples: one panel per result line (the others drawn faintly behind it), for
    /// lines too close or too noisy to tell apart in one plot.
    pub panels: bool,
}

/// One chart drawn into an area: the whole chart, or the panel of one result line.
struct Panel<'a> {
    caption: &'a str,
    /// The panel's own y axis, when its values would look flat on the grid's shared one.
    own_y: Option<Axis>,
    /// The result line of a panel (the others drawn faintly behind); None: the whole chart.
    focus: Option<usize>,
    /// Whether the axis descriptions are drawn (a grid shows them at its edges only).
    x_desc: bool,
    y_desc: bool,
}

/// A panel whose values span less than this share of the shared y axis gets its own axis.
const OWN_SCALE_BELOW: f64 = 0.4;

/// Height [px] of the title above a grid of panels, and of one panel.
const PANEL_HEAD: u32 = 50;
const PANEL_HEIGHT: u32 = 300;

/// (rows, columns) of a grid of `n` panels: one column for up to 3, else two.
fn panel_grid(n: usize) -> (usize, usize) {
    let cols = if n <= 3 { 1 } else { 2 };
    (n.div_ceil(cols).max(1), cols)
}

/// Dash of reference curves [px], of neutral ones (cycled), their width, and the dash of the
/// censoring limit.
const REF_DASH: (u32, u32) = (14, 7);
const NEUTRAL_DASHES: [(u32, u32); 3] = [(14, 7), (3, 5), (26, 6)];
const REF_WIDTH: u32 = 5;
const NEUTRAL: RGBColor = RGBColor(50, 50, 50);
const CENSOR_DASH: (u32, u32) = (10, 4);

impl Chart for LineChart {
    fn size(&self) -> (u32, u32) {
        let c = self.prepared();
        let l = legend::layout(&c.legend_entries(), c.note.as_deref(), SIZE.0);
        (SIZE.0, c.plot_height() + legend::height(&l))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        self.prepared().draw_prepared(root)
    }
}

impl LineChart {
    /// The chart as drawn: values at or above the censoring limit moved to lower bounds (and
    /// out of the lines), legend names saying which series are 0 throughout or copies.
    pub fn prepared(&self) -> LineChart {
        let mut c = self.clone();
        // A gap inside a line (not a censored value) is said in the note.
        let inner_gap = |s: &Series| {
            let finite: Vec<usize> = (0..s.points.len()).filter(|&j| s.points[j].1.is_finite()).collect();
            match (finite.first(), finite.last()) {
                (Some(&a), Some(&b)) => (a..b).any(|j| {
                    let (x, y) = s.points[j];
                    !y.is_finite() && !s.lower_bounds.iter().any(|l| l.0 == x)
                }),
                _ => false,
            }
        };
        if c.series.iter().any(|s| !s.dashed && inner_gap(s)) {
            let gap = "A gap in a line: no data there (e.g. no request completed, or every call was short-circuited).";
            c.note = Some(match c.note.take() {
                Some(n) => format!("{n} {gap}"),
                None => gap.to_string(),
            });
        }
        if let Some(at) = c.censor.as_ref().and_then(|k| k.at) {
            for s in c.series.iter_mut().filter(|s| !s.dashed) {
                let limit = at * (1.0 - 1e-9);
                for p in s.points.iter_mut().filter(|p| p.1 >= limit) {
                    s.lower_bounds.push((p.0, at));
                    p.1 = f64::NAN;
                }
                s.lower_bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
                s.band.retain(|b| b.1 < limit);
            }
        }
        let names = annotated_names(&c.series);
        for (s, n) in c.series.iter_mut().zip(names) {
            s.name = n;
        }
        c
    }

    /// Every value the y axis must show.
    fn y_values(&self) -> Vec<f64> {
        let mut v: Vec<f64> = Vec::new();
        for s in &self.series {
            v.extend(s.points.iter().map(|p| p.1));
            v.extend(s.band.iter().flat_map(|b| [b.1, b.2]));
            v.extend(s.lower_bounds.iter().map(|p| p.1));
        }
        v.extend(self.censor.as_ref().and_then(|c| c.at));
        v
    }

    /// Every value the x axis must show.
    fn x_values(&self) -> Vec<f64> {
        let mut v: Vec<f64> = Vec::new();
        for s in &self.series {
            v.extend(s.points.iter().filter(|p| p.1.is_finite()).map(|p| p.0));
            v.extend(s.lower_bounds.iter().map(|p| p.0));
        }
        if v.is_empty() {
            v.extend(self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
        }
        v.extend(self.vlines.iter().map(|l| l.0));
        v
    }

    /// The x and y axes.
    pub fn axes(&self) -> (Axis, Axis) {
        let x = x_axis(&self.x_values(), self.log_x);
        (x, self.y_of(&self.y_values()))
    }

    /// The y axis that shows `values`.
    fn y_of(&self, values: &[f64]) -> Axis {
        let kind = match (self.share, self.fit_y) {
            (true, _) => YKind::Share,
            (false, true) => YKind::Fitted,
            (false, false) => YKind::Plain,
        };
        y_axis(values, self.log_y, self.y_range, kind)
    }

    /// The own y axis of the panel of result series `focus`, when the values it draws in colour
    /// (its line, band and bounds, its reference curves and the censoring limit) reach less
    /// than `OWN_SCALE_BELOW` of the shared linear axis: on that axis they would look flat.
    /// None: the panel uses the shared axis.
    pub fn own_y(&self, focus: usize) -> Option<Axis> {
        let shared = self.axes().1;
        let shown = |i: usize| i == focus || self.reference_in(i, &Panel::of(focus));
        let mut v: Vec<f64> = Vec::new();
        for s in self.series.iter().enumerate().filter(|(i, _)| shown(*i)).map(|(_, s)| s) {
            v.extend(s.points.iter().map(|p| p.1));
            v.extend(s.band.iter().flat_map(|b| [b.1, b.2]));
            v.extend(s.lower_bounds.iter().map(|p| p.1));
        }
        v.extend(self.censor.as_ref().and_then(|c| c.at));
        let own = self.y_of(&v);
        let useful = !shared.log && !own.log && v.iter().any(|y| y.is_finite() && *y != 0.0);
        (useful && own.hi - own.lo < OWN_SCALE_BELOW * (shared.hi - shared.lo)).then_some(own)
    }

    /// How reference curve `i` looks: (line colour, dash, colour of a single-point ✕). A curve
    /// is wide, dashed and paler than the result lines, so it never passes for one; it is in the
    /// colour of its result line, or a neutral grey whose dash differs from the other neutral
    /// curves'.
    fn reference_look(&self, i: usize) -> (RGBColor, (u32, u32), RGBColor) {
        match self.series[i].color {
            Some(c) => (lighter(style(c).color, 0.45), REF_DASH, style(c).color),
            None => {
                let g = self.series[..i].iter().filter(|o| o.dashed && o.color.is_none() && !o.name.is_empty()).count();
                (lighter(NEUTRAL, 0.3), NEUTRAL_DASHES[g % NEUTRAL_DASHES.len()], NEUTRAL)
            }
        }
    }

    /// Whether series `s` carries markers: not a reference, not marked by other series, and not
    /// the only dense line (markers tell lines apart and show where a sweep's points are).
    fn has_markers(&self, s: &Series) -> bool {
        let results = self.series.iter().filter(|o| !o.dashed).count();
        !s.dashed && !s.no_markers && (s.scatter || s.points.len() <= 40 || results > 1)
    }

    /// Line width [px] of series `s`: dense polylines get miter spikes at sharp turns when wide.
    fn width(s: &Series) -> u32 {
        if s.points.len() > 150 { 1 } else { 2 }
    }

    /// The legend entries, in drawing order.
    pub fn legend_entries(&self) -> Vec<Entry> {
        let mut out = Vec::new();
        if let Some((_, _, label)) = &self.shade {
            out.push(Entry {
                label: label.clone(),
                swatch: Swatch::Fill { color: RGBColor(200, 200, 200), opacity: 0.6 },
            });
        }
        if self.panels {
            let own = self.focus_series().into_iter().any(|i| self.own_y(i).is_some());
            let label = if own {
                "the other lines, for comparison (not in a panel with its own y scale)"
            } else {
                "the other lines, for comparison"
            }
            .to_string();
            out.push(Entry {
                label,
                swatch: Swatch::Line { color: RGBColor(200, 200, 200), width: 1, dash: None, marker: None },
            });
        }
        for (i, s) in self.series.iter().enumerate() {
            if s.name.is_empty() || (self.panels && !s.dashed) {
                continue; // shares the entry of a series drawn before it, or names its panel
            }
            let st = style(s.color.unwrap_or(i));
            let marker = s.marker.unwrap_or(st.marker);
            let swatch = if s.dashed && s.points.len() == 1 {
                Swatch::Marker { color: self.reference_look(i).2, marker: Marker::Cross, filled: true }
            } else if s.dashed {
                let (color, dash, _) = self.reference_look(i);
                // One entry for several curves of different colours: drawn grey.
                let shared = self.series[i + 1..]
                    .iter()
                    .take_while(|o| o.name.is_empty() && o.dashed)
                    .any(|o| o.color != s.color);
                let color = if shared { lighter(GREY, 0.45) } else { color };
                Swatch::Line { color, width: REF_WIDTH, dash: Some(dash), marker: None }
            } else if s.scatter {
                Swatch::Marker { color: st.color, marker, filled: true }
            } else {
                let marker = self.has_markers(s).then_some(marker);
                Swatch::Line { color: st.color, width: Self::width(s), dash: st.dash, marker }
            };
            out.push(Entry { label: s.name.clone(), swatch });
        }
        if let Some(c) = &self.censor {
            if let Some(at) = c.at {
                let label = format!("{} — a value of {} or more is drawn on this line", c.label, tick(at));
                out.push(Entry {
                    label,
                    swatch: Swatch::Line { color: GREY, width: 2, dash: Some(CENSOR_DASH), marker: None },
                });
            }
            if self.series.iter().any(|s| !s.lower_bounds.is_empty()) {
                let label = match c.at {
                    Some(_) => "hollow marker: not measured, at least this value".to_string(),
                    None => format!("hollow marker: at least this value ({})", c.label),
                };
                out.push(Entry {
                    label,
                    swatch: Swatch::Marker { color: GREY, marker: Marker::Circle, filled: false },
                });
            }
        }
        for (_, label) in &self.vlines {
            out.push(Entry {
                label: label.clone(),
                swatch: Swatch::Line { color: BLACK, width: 2, dash: Some((2, 3)), marker: None },
            });
        }
        out
    }

    /// Height [px] of the plot (above the legend): one chart, or a grid of panels.
    fn plot_height(&self) -> u32 {
        if !self.panels {
            return SIZE.1;
        }
        let (rows, _) = panel_grid(self.focus_series().len());
        PANEL_HEAD + rows as u32 * PANEL_HEIGHT
    }

    /// The result series (not references), by index: one panel each.
    fn focus_series(&self) -> Vec<usize> {
        (0..self.series.len()).filter(|&i| !self.series[i].dashed).collect()
    }

    fn draw_prepared<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let entries = self.legend_entries();
        let layout = legend::layout(&entries, self.note.as_deref(), SIZE.0);
        let (plot, strip) = root.split_vertically(self.plot_height());
        if self.panels {
            let grid = plot
                .titled(&self.title, ("sans-serif", title_size(&self.title, 26, SIZE.0)))
                .map_err(|e| e.to_string())?;
            // One y axis description for the whole grid, along its left edge.
            let (side, grid) = grid.split_horizontally(30);
            let (_, h) = side.dim_in_pixel();
            let y_label = axis_desc(&self.y_label, self.axes().1.log);
            let font = TextStyle::from(("sans-serif", 19).into_font().transform(FontTransform::Rotate270))
                .pos(Pos::new(HPos::Center, VPos::Center));
            side.draw(&Text::new(y_label, (15, h as i32 / 2), font)).map_err(|e| e.to_string())?;
            let focus = self.focus_series();
            let (rows, cols) = panel_grid(focus.len());
            for (p, area) in grid.split_evenly((rows, cols)).iter().enumerate().take(focus.len()) {
                let own_y = self.own_y(focus[p]);
                let name = &self.series[focus[p]].name;
                let caption = if own_y.is_some() { format!("{name} — own y scale") } else { name.clone() };
                let panel = Panel { caption: &caption, own_y, x_desc: p + cols >= focus.len(), ..Panel::of(focus[p]) };
                self.draw_panel(area, root, &panel)?;
            }
        } else {
            let whole = Panel { caption: &self.title, own_y: None, focus: None, x_desc: true, y_desc: true };
            self.draw_panel(&plot, root, &whole)?;
        }
        legend::draw(&strip, &entries, self.note.as_deref(), &layout)
    }

    /// Draws the chart, or with `focus` one panel of it, into `area`; lines and markers are
    /// drawn in pixels of the whole image, on `img` (the root area).
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        img: &DrawingArea<DB, Shift>,
        panel: &Panel,
    ) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        let (xa, shared_y) = self.axes();
        let ya = panel.own_y.unwrap_or(shared_y);
        let small = panel.focus.is_some();
        let mut chart = ChartBuilder::on(area)
            .caption(
                panel.caption,
                ("sans-serif", title_size(panel.caption, if small { 19 } else { 26 }, area.dim_in_pixel().0)),
            )
            .margin(if small { 12 } else { 20 })
            .x_label_area_size(if small && !panel.x_desc { 30 } else { 55 })
            .y_label_area_size(if small { 60 } else { 90 })
            .build_cartesian_2d(xa.lo..xa.hi, ya.lo..ya.hi)
            .map_err(|e| e.to_string())?;
        let (lx, ly) = (xa.log, ya.log);
        let fx = move |v: &f64| if lx { log_tick(*v) } else { tick(*v) };
        let fy = move |v: &f64| if ly { log_tick(*v) } else { tick(*v) };
        let scale = |label: &str, log: bool, shown: bool| if shown { axis_desc(label, log) } else { String::new() };
        chart
            .configure_mesh()
            .x_desc(scale(&self.x_label, lx, panel.x_desc))
            .y_desc(scale(&self.y_label, ly, panel.y_desc))
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .x_labels(if small { 6 } else { 10 })
            .y_labels(if small { 5 } else { 10 })
            .label_style(("sans-serif", if small { 15 } else { 17 }))
            .axis_desc_style(("sans-serif", if small { 16 } else { 19 }))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| e.to_string())?;
        let to_px = |tx: f64, ty: f64| chart.backend_coord(&(tx, ty));
        let frame = Frame { xa, ya, to_px: &to_px, right: chart.plotting_area().get_pixel_range().0.end };
        self.draw_underlay(img, &frame, panel)?;
        self.draw_results(img, &frame, panel)
    }

    /// What lies under the results: the shaded interval, bands, the censoring limit, vertical
    /// marks, (in a panel) the other lines faintly, and reference curves.
    fn draw_underlay<DB: DrawingBackend>(
        &self,
        img: &DrawingArea<DB, Shift>,
        f: &Frame,
        panel: &Panel,
    ) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        let (xa, ya) = (f.xa, f.ya);
        if let Some((a, b, _)) = &self.shade {
            let (a, b) = (xa.to_plot(*a).unwrap_or(xa.lo).max(xa.lo), xa.to_plot(*b).unwrap_or(xa.lo).min(xa.hi));
            let rect = [(f.to_px)(a, ya.lo), (f.to_px)(b, ya.hi)];
            img.draw(&Rectangle::new(rect, RGBColor(200, 200, 200).mix(0.35).filled())).map_err(|e| e.to_string())?;
        }
        for (i, s) in self.series.iter().enumerate().filter(|(i, _)| panel.shows(*i)) {
            let color = style(s.color.unwrap_or(i)).color;
            let upper: Vec<(i32, i32)> = s.band.iter().filter_map(|&(x, _, hi)| f.px(x, hi)).collect();
            let lower: Vec<(i32, i32)> =
                s.band.iter().rev().filter_map(|&(x, lo, _)| f.px(x, lo).or_else(|| f.bottom(x))).collect();
            if upper.len() > 1 {
                let outline: Vec<(i32, i32)> = upper.into_iter().chain(lower).collect();
                img.draw(&Polygon::new(outline, color.mix(0.16).filled())).map_err(|e| e.to_string())?;
            }
        }
        if let Some(at) = self.censor.as_ref().and_then(|c| c.at)
            && let Some(ty) = ya.to_plot(at)
        {
            draw_path(img, &[(f.to_px)(xa.lo, ty), (f.to_px)(xa.hi, ty)], GREY, 2, Some(CENSOR_DASH))?;
        }
        for t in self.vlines.iter().filter_map(|&(x, _)| xa.to_plot(x)) {
            draw_path(img, &[(f.to_px)(t, ya.lo), (f.to_px)(t, ya.hi)], BLACK, 2, Some((2, 3)))?;
        }
        // In a panel on the shared axis, the other result lines are drawn faintly behind, for
        // comparison (on a panel's own axis they would run off it).
        if let Some(focus) = panel.focus.filter(|_| panel.own_y.is_none()) {
            for (_, s) in self.series.iter().enumerate().filter(|(i, s)| *i != focus && !s.dashed && !s.scatter) {
                for run in runs(&s.points, &|x, y| f.px(x, y)) {
                    draw_path(img, &run, RGBColor(200, 200, 200), 1, None)?;
                }
            }
        }
        for i in (0..self.series.len()).filter(|&i| self.reference_in(i, panel)) {
            let (color, dash, _) = self.reference_look(i);
            let pts: Vec<(i32, i32)> = self.series[i].points.iter().filter_map(|&(x, y)| f.px(x, y)).collect();
            draw_path(img, &pts, color, REF_WIDTH, Some(dash))?;
        }
        Ok(())
    }

    /// Whether reference curve `i` is drawn in `panel`: every one in the whole chart; in a
    /// panel, the neutral ones and those of its line.
    fn reference_in(&self, i: usize, panel: &Panel) -> bool {
        let s = &self.series[i];
        let focus_style = panel.focus.map(|f| self.series[f].color.unwrap_or(f));
        s.dashed && (panel.focus.is_none() || s.color.is_none() || s.color == focus_style)
    }

    /// The results: lines (broken at gaps), lower bounds, markers above every line, point
    /// labels, and reference figures at one point (✕) above everything.
    fn draw_results<DB: DrawingBackend>(
        &self,
        img: &DrawingArea<DB, Shift>,
        f: &Frame,
        panel: &Panel,
    ) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        let px = |x: f64, y: f64| f.px(x, y);
        let results: Vec<usize> = self.focus_series().into_iter().filter(|&i| panel.shows(i)).collect();
        for &i in &results {
            let (s, st) = (&self.series[i], style(self.series[i].color.unwrap_or(i)));
            if !s.scatter {
                for run in runs(&s.points, &px) {
                    draw_path(img, &run, st.color, Self::width(s), st.dash)?;
                }
                // Consecutive lower bounds are joined by a dotted line on the limit.
                let lb: Vec<(i32, i32)> = s.lower_bounds.iter().filter_map(|&(x, y)| px(x, y)).collect();
                draw_path(img, &lb, st.color, 1, Some((2, 3)))?;
            }
        }
        for (k, &i) in results.iter().enumerate() {
            let (s, st) = (&self.series[i], style(self.series[i].color.unwrap_or(i)));
            let marker = s.marker.unwrap_or(st.marker);
            let size = if s.scatter { 5 } else { 4 };
            let n = if self.has_markers(s) { s.points.len() } else { 0 };
            let mut marked = marker_indices(n, k, results.len());
            // A point between gaps is no line at all: it always gets its marker.
            if !s.scatter {
                marked.extend(isolated(&s.points, &|x, y| px(x, y).is_some()));
            }
            for p in marked.into_iter().filter_map(|j| px(s.points[j].0, s.points[j].1)) {
                draw_marker(img, marker, p, size, st.color, true)?;
            }
            let bounds = marker_indices(s.lower_bounds.len(), k, results.len());
            for p in bounds.into_iter().filter_map(|j| px(s.lower_bounds[j].0, s.lower_bounds[j].1)) {
                draw_marker(img, marker, p, 5, st.color, false)?;
            }
            let font = ("sans-serif", 15).into_font().color(&st.color);
            for (p, label) in s.points.iter().zip(&s.labels) {
                if let Some((x, y)) = px(p.0, p.1) {
                    // Beside the point, on its left where the right edge would cut it off.
                    let w = (label.chars().count() as f64 * 8.5) as i32;
                    let at = if x + 8 + w > f.right { (x - 8 - w, y - 22) } else { (x + 8, y - 22) };
                    img.draw(&Text::new(label.clone(), at, font.clone())).map_err(|e| e.to_string())?;
                }
            }
        }
        for i in (0..self.series.len()).filter(|&i| self.reference_in(i, panel)) {
            if let [(x, y)] = self.series[i].points[..]
                && let Some(p) = px(x, y)
            {
                draw_marker(img, Marker::Cross, p, 7, self.reference_look(i).2, true)?;
            }
        }
        Ok(())
    }
}

/// A plot's axes and its mapping from plot coordinates (log10 of the value on a log axis) to
/// pixels of the image.
struct Frame<'a> {
    xa: Axis,
    ya: Axis,
    to_px: &'a dyn Fn(f64, f64) -> (i32, i32),
    /// The right edge of the plotting area [px].
    right: i32,
}

impl Frame<'_> {
    /// The pixel of value (x, y); None where it cannot be drawn (no data, ≤ 0 on a log axis).
    fn px(&self, x: f64, y: f64) -> Option<(i32, i32)> {
        Some((self.to_px)(self.xa.to_plot(x)?, self.ya.to_plot(y)?))
    }

    /// The pixel at x on the bottom of the plot.
    fn bottom(&self, x: f64) -> Option<(i32, i32)> {
        self.xa.to_plot(x).map(|t| (self.to_px)(t, self.ya.lo))
    }
}

impl Panel<'_> {
    /// The panel of result series `focus`, on the shared axis, without axis descriptions.
    fn of(focus: usize) -> Panel<'static> {
        Panel { caption: "", own_y: None, focus: Some(focus), x_desc: false, y_desc: false }
    }

    /// Whether result series `i` is drawn in colour in this panel.
    fn shows(&self, i: usize) -> bool {
        self.focus.is_none_or(|f| f == i)
    }
}

/// An axis description: the label, with "(log scale)" on a log axis unless it says so already.
fn axis_desc(label: &str, log: bool) -> String {
    if log && !label.contains("log scale") { format!("{label} (log scale)") } else { label.to_string() }
}

/// Width of an average character of a title, as a share of its font size (DejaVu Sans, generous).
const TITLE_CHAR_W: f64 = 0.5;

/// The font size [px] for a title `text` in an area `width` px wide: `size`, or smaller so that
/// the title fits (never below 12 px), instead of being cut off at both edges.
pub(crate) fn title_size(text: &str, size: u32, width: u32) -> u32 {
    let chars = text.chars().count().max(1) as f64;
    let fits = (f64::from(width.saturating_sub(20)) / (chars * TITLE_CHAR_W)).floor() as u32;
    fits.clamp(12, size.max(12))
}

/// `c` mixed with white: `share` of the colour, the rest white (an opaque paler shade).
fn lighter(c: RGBColor, share: f64) -> RGBColor {
    let mix = |v: u8| (v as f64 * share + 255.0 * (1.0 - share)).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// The drawable stretches of `points` in pixels: a point that cannot be drawn (no data, or not
/// on a log axis) breaks the line.
fn runs(points: &[(f64, f64)], px: &impl Fn(f64, f64) -> Option<(i32, i32)>) -> Vec<Vec<(i32, i32)>> {
    let mut out = vec![Vec::new()];
    for &(x, y) in points {
        match px(x, y) {
            Some(p) => out.last_mut().expect("never empty").push(p),
            None if !out.last().expect("never empty").is_empty() => out.push(Vec::new()),
            None => {}
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// The indices of the points that can be drawn while neither neighbour can: a line has no
/// segment there, so only a marker shows them.
fn isolated(points: &[(f64, f64)], drawable: &impl Fn(f64, f64) -> bool) -> Vec<usize> {
    let ok = |j: Option<usize>| j.and_then(|j| points.get(j)).is_some_and(|p| drawable(p.0, p.1));
    (0..points.len()).filter(|&j| ok(Some(j)) && !ok(j.checked_sub(1)) && !ok(Some(j + 1))).collect()
}

/// Series names with what the eye cannot see: "(0 throughout)", "(same as …)", "(no data)".
pub fn annotated_names(series: &[Series]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(series.len());
    for (i, s) in series.iter().enumerate() {
        if s.name.is_empty() || s.dashed {
            out.push(s.name.clone());
            continue;
        }
        let finite: Vec<f64> = s.points.iter().map(|p| p.1).filter(|y| y.is_finite()).collect();
        let twin =
            series[..i].iter().find(|o| !o.dashed && !o.name.is_empty() && o.scatter == s.scatter && same_points(o, s));
        let note = if finite.is_empty() && s.lower_bounds.is_empty() {
            Some("no data".to_string())
        } else if s.lower_bounds.is_empty() && finite.iter().all(|&y| y == 0.0) {
            Some("0 throughout".to_string())
        } else {
            twin.map(|o| format!("same as {}", o.name))
        };
        out.push(match note {
            Some(n) => format!("{} ({n})", s.name),
            None => s.name.clone(),
        });
    }
    out
}

/// Whether two series draw the same points (to a millionth of the larger value).
fn same_points(a: &Series, b: &Series) -> bool {
    let close = |p: f64, q: f64| (p.is_nan() && q.is_nan()) || (p - q).abs() <= 1e-6 * p.abs().max(q.abs()).max(1e-12);
    let same = |u: &[(f64, f64)], v: &[(f64, f64)]| {
        u.len() == v.len() && u.iter().zip(v).all(|(p, q)| close(p.0, q.0) && close(p.1, q.1))
    };
    !a.points.is_empty() && same(&a.points, &b.points) && same(&a.lower_bounds, &b.lower_bounds)
}

/// A tick label on a log axis (the coordinate is log10 of the value): 2 significant digits.
fn log_tick(v: f64) -> String {
    let x = 10f64.powf(v);
    let digits = x.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits - 1);
    tick((x / scale).round() * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_series_are_named_in_the_legend() {
        let a = Series::line("before", vec![(0.0, 1.0), (1.0, 2.0)]);
        let b = Series::line("on-demand", vec![(0.0, 1.0), (1.0, 2.0)]);
        let z = Series::line("DAX", vec![(0.0, 0.0), (1.0, 0.0)]);
        let e = Series::line("nothing", vec![(0.0, f64::NAN)]);
        let names = annotated_names(&[a, b, z, e]);
        assert_eq!(names, ["before", "on-demand (same as before)", "DAX (0 throughout)", "nothing (no data)"]);
    }

    #[test]
    fn a_panel_whose_values_would_look_flat_gets_its_own_y_axis() {
        let big = Series::line("before", vec![(0.0, 0.0), (1.0, 10_000.0)]);
        let small = Series::line("after", vec![(0.0, 2.0), (1.0, 30.0)]);
        let near = Series::line("half", vec![(0.0, 0.0), (1.0, 6_000.0)]);
        let c = LineChart { series: vec![big, small, near], panels: true, ..LineChart::default() };
        assert_eq!(c.own_y(0), None);
        assert_eq!(c.own_y(2), None, "60 % of the shared axis reads well on it");
        let own = c.own_y(1).expect("30 against 10,000 looks flat");
        assert!(own.lo <= 0.0 && own.hi >= 30.0 && own.hi < 40.0, "{own:?}");
        assert!(c.legend_entries()[0].label.contains("own y scale"));
    }

    #[test]
    fn values_at_the_timeout_become_lower_bounds() {
        let s = Series::line("p99", vec![(0.0, 0.1), (1.0, 2.0), (2.0, 2.0), (3.0, 0.2)]);
        let c = LineChart {
            series: vec![s],
            censor: Some(Censor { at: Some(2.0), label: "timeout".into() }),
            ..LineChart::default()
        };
        let p = c.prepared();
        let s = &p.series[0];
        assert_eq!(s.lower_bounds, [(1.0, 2.0), (2.0, 2.0)]);
        assert!(s.points[1].1.is_nan() && s.points[2].1.is_nan());
        assert_eq!((s.points[0].1, s.points[3].1), (0.1, 0.2));
        // The line breaks at the censored stretch: two runs of one point each.
        let px = |x: f64, y: f64| y.is_finite().then_some((x as i32, (10.0 * y) as i32));
        assert_eq!(runs(&s.points, &px), vec![vec![(0, 1)], vec![(3, 2)]]);
        // The legend explains the line and the hollow markers.
        let labels: Vec<String> = p.legend_entries().into_iter().map(|e| e.label).collect();
        assert!(labels[1].starts_with("timeout — a value of 2 or more"), "{labels:?}");
        assert!(labels[2].starts_with("hollow marker"), "{labels:?}");
    }

    #[test]
    fn a_point_between_gaps_is_found() {
        let nan = f64::NAN;
        let pts = [(0.0, 1.0), (1.0, nan), (2.0, 5.0), (3.0, nan), (4.0, 2.0), (5.0, 3.0), (6.0, nan), (7.0, 4.0)];
        let drawable = |_: f64, y: f64| y.is_finite();
        // 2 and 7 stand alone (so does 0: its only neighbour is a gap); 4 and 5 make a segment.
        assert_eq!(isolated(&pts, &drawable), [0, 2, 7]);
        // On a log axis a 0 cannot be drawn either.
        let zeros = [(0.0, 0.0), (1.0, 450.0), (2.0, 0.0)];
        assert_eq!(isolated(&zeros, &|_, y| y > 0.0), [1]);
        assert!(isolated(&[], &drawable).is_empty());
    }

    #[test]
    fn axis_descriptions_and_titles_fit() {
        assert_eq!(axis_desc("XFetch β (log scale)", true), "XFetch β (log scale)");
        assert_eq!(axis_desc("XFetch β", true), "XFetch β (log scale)");
        assert_eq!(axis_desc("XFetch β", false), "XFetch β");
        // 100 characters in 1,200 px: (1,200 − 20) ÷ (100 × 0.5) = 23.6 px, not 26.
        let long =
            "Recommendations (Tier 2) down from 600 to 1,200 s: answers, degraded answers and failures per second";
        assert_eq!((long.chars().count(), title_size(long, 26, 1200)), (100, 23));
        assert_eq!(title_size("short", 26, 1200), 26);
        assert_eq!(title_size(&"x".repeat(500), 19, 580), 12, "never below 12 px");
    }

    #[test]
    fn the_y_axis_covers_every_series_and_bound() {
        let c = LineChart {
            series: vec![
                Series::line("a", vec![(0.0, 1.0), (1.0, 3.0)]),
                Series { name: "b".into(), points: vec![(0.0, 2.0)], band: vec![(0.0, 1.5, 9.0)], ..Series::default() },
                Series { name: "c".into(), lower_bounds: vec![(1.0, 12.0)], ..Series::default() },
            ],
            y_range: Some((0.0, 5.0)),
            ..LineChart::default()
        };
        let (_, y) = c.axes();
        assert!(y.lo <= 0.0 && y.hi >= 12.0, "{y:?}");
    }
}
