//! The charts of a sweep, assembled from its results: line charts (a metric against a parameter
//! or a metric, with 95 % bands), Pareto charts and time series, in the reader's words.
//!
//! Bands stay within what the figure can be: a share's between 0 and 1 (a Wilson interval when
//! each replication is a 0/1 outcome), a never-negative figure's above 0. A value that is only
//! a bound (a timeout, a run that never recovered) is drawn as one (`censor`). A time series
//! says which replication it shows, or that it is their mean.

use super::output::Table;
use super::plain;
use super::spec::{ChartKind, ChartSpec};
use super::sweep::PointResult;
use crate::report::charts::{Censor, Chart, LineChart, Series};
use crate::report::labels::{metric_label, metric_words};
use crate::report::stacked::StackedBars;
use crate::stats::{t_interval, wilson};

/// A window value at or below this (a latency [s], a count) is no measurement where a 0 means
/// nothing was measured (`zero_is_no_data`).
const NO_DATA_AT: f64 = 1e-6;

/// (mean, low, high) of a metric's replication values for a chart's band: a Wilson interval
/// for a 0/1 outcome per replication (`bernoulli`, e.g. whether a run recovered); otherwise the
/// 95 % t-interval, kept within [0, 1] for a share and above 0 for values that are never
/// negative. `high` is infinite when one replication gives no interval.
pub fn band(values: &[f64], share: bool, bernoulli: bool) -> (f64, f64, f64) {
    let n = values.len();
    if bernoulli && n > 0 && values.iter().all(|&v| v == 0.0 || v == 1.0) {
        let k: f64 = values.iter().sum();
        let (lo, hi) = wilson(k, n as f64, 0.95);
        return (k / n as f64, lo, hi);
    }
    let i = t_interval(values, 0.95);
    let (mut lo, mut hi) = (i.mean - i.half_width, i.mean + i.half_width);
    if share {
        (lo, hi) = (lo.max(0.0), hi.min(1.0));
    }
    if values.iter().all(|&v| v >= 0.0) {
        lo = lo.max(0.0);
    }
    (i.mean, lo, hi)
}

/// Whether a metric (or column) is a share by its name: …share, …ratio, utilization, p_wait,
/// recovered.
pub fn is_share_name(metric: &str) -> bool {
    let last = metric.rsplit('.').next().unwrap_or(metric);
    last.ends_with("share") || last.ends_with("ratio") || ["utilization", "p_wait", "recovered"].contains(&last)
}

/// `template` with each `{name}` replaced by the value of parameter `name` at a point.
pub fn fill(template: &str, names: &[String], values: &[serde_json::Value]) -> String {
    names.iter().zip(values).fold(template.to_string(), |s, (n, v)| s.replace(&format!("{{{n}}}"), &plain(v)))
}

/// Whether a 0 in time series column `col` means "nothing measured in the window", not a
/// measured 0: a window latency (no call ended in it, e.g. all short-circuited by an open
/// breaker), or the largest origin calls per cache miss or expiry (none ended in it).
fn zero_is_no_data(col: &str) -> bool {
    ["p50_s", "p95_s", "p99_s", "max_calls_per_episode"].iter().any(|q| col.ends_with(q))
}

/// Breaks a time series where windows are missing (more than 1.5 windows apart) and, for a
/// column whose 0 means nothing was measured (`zero_is_no_data`), at those windows: a gap, not
/// a line across, nor a 0.
fn with_gaps(points: &[(f64, f64)], zero_is_gap: bool) -> Vec<(f64, f64)> {
    let step = points.windows(2).map(|w| w[1].0 - w[0].0).filter(|d| *d > 0.0).reduce(f64::min);
    let mut out = Vec::with_capacity(points.len());
    for (k, &(x, y)) in points.iter().enumerate() {
        if let (Some(step), Some(prev)) = (step, k.checked_sub(1).map(|j| points[j].0))
            && x - prev > 1.5 * step
        {
            out.push(((x + prev) / 2.0, f64::NAN));
        }
        out.push((x, if zero_is_gap && y <= NO_DATA_AT { f64::NAN } else { y }));
    }
    out
}

/// A drawn experiment chart: lines (line, Pareto, time series) or stacked bars.
pub enum Figure {
    Lines(LineChart),
    Bars(StackedBars),
}

impl Figure {
    pub fn title(&self) -> &str {
        match self {
            Figure::Lines(l) => &l.title,
            Figure::Bars(b) => &b.title,
        }
    }

    /// Writes `<stem>.png` and `<stem>.svg` into `dir`.
    pub fn save_both(&self, dir: &std::path::Path, stem: &str) -> anyhow::Result<Vec<std::path::PathBuf>> {
        match self {
            Figure::Lines(l) => l.save_both(dir, stem),
            Figure::Bars(b) => b.save_both(dir, stem),
        }
    }
}

impl Table {
    /// The chart described by `c`, whatever its kind.
    pub fn figure(&self, c: &ChartSpec) -> Figure {
        match c.kind {
            ChartKind::Bars => Figure::Bars(self.bars(c)),
            _ => Figure::Lines(self.chart(c)),
        }
    }

    /// Stacked bars: one per point matching `at`, a part per metric (its mean).
    fn bars(&self, c: &ChartSpec) -> StackedBars {
        let ys: Vec<&String> = std::iter::once(&c.y).chain(&c.also).collect();
        let shown: Vec<&PointResult> = self.results.iter().filter(|r| self.matches(r, c)).collect();
        let lines = c.lines.as_ref().and_then(|l| self.params.iter().position(|p| &p.name == l));
        let bars = shown
            .iter()
            .map(|r| match lines {
                Some(k) if c.label.is_none() => plain(&self.point_values[r.index][k]),
                _ => {
                    let keys: Vec<usize> = (0..self.params.len()).collect();
                    self.line_name(c, r, &keys)
                }
            })
            .collect();
        let parts = ys
            .iter()
            .enumerate()
            .map(|(j, y)| {
                let name = c.legend.get(j).cloned().unwrap_or_else(|| metric_words(y));
                let means = shown
                    .iter()
                    .map(|r| {
                        let v = self.values(r, y).unwrap_or_default();
                        let finite: Vec<f64> = v.into_iter().filter(|x| x.is_finite()).collect();
                        // No replication had the figure: no bar part (NaN), not a 0.
                        if finite.is_empty() { f64::NAN } else { finite.iter().sum::<f64>() / finite.len() as f64 }
                    })
                    .collect();
                (name, means)
            })
            .collect();
        let n = self.replications();
        StackedBars {
            title: c.title.clone().unwrap_or_else(|| format!("{}: {}", self.spec.name, c.y)),
            y_label: c.y_label.clone().unwrap_or_else(|| metric_label(&c.y)),
            bars,
            parts,
            note: Some(format!("Each part of a bar: the mean over {n} replications; above each bar, its total.")),
        }
    }

    /// The line chart described by `c` (any kind but `bars`).
    pub fn chart(&self, c: &ChartSpec) -> LineChart {
        let mut lines = match c.kind {
            ChartKind::Line => self.line_series(c),
            ChartKind::Pareto => self.pareto_series(c),
            ChartKind::Timeseries | ChartKind::Bars => self.time_series(c),
        };
        if let Some([lo, hi]) = c.x_range {
            for (_, s) in &mut lines {
                let keep = |x: f64| (lo..=hi).contains(&x);
                let labels: Vec<String> =
                    s.points.iter().zip(&s.labels).filter(|(p, _)| keep(p.0)).map(|(_, l)| l.clone()).collect();
                s.labels = labels;
                s.points.retain(|p| keep(p.0));
                s.band.retain(|b| keep(b.0));
                s.lower_bounds.retain(|p| keep(p.0));
            }
        }
        let keys: Vec<String> = lines.iter().map(|(k, _)| k.clone()).collect();
        let mut series: Vec<Series> = lines.into_iter().map(|(_, s)| s).collect();
        for (k, r) in c.references.iter().enumerate() {
            // Curves of the same name share one legend entry and, without `line`, each takes the
            // colour of the result line in its position (one curve per line); a curve of its own
            // without `line` is neutral.
            let shared = c.references.iter().filter(|o| o.name == r.name).count() > 1;
            let name = if c.references[..k].iter().any(|o| o.name == r.name) { String::new() } else { r.name.clone() };
            let color = match &r.line {
                Some(l) => keys.iter().position(|key| key == l),
                None => shared.then_some(k),
            };
            let points = r.points.iter().map(|p| (p[0], p[1])).collect();
            series.push(Series { name, points, dashed: true, color, ..Series::default() });
        }
        LineChart {
            title: c.title.clone().unwrap_or_else(|| format!("{}: {} against {}", self.spec.name, c.y, c.x)),
            x_label: c.x_label.clone().unwrap_or_else(|| self.axis_name(&c.x)),
            y_label: c.y_label.clone().unwrap_or_else(|| self.axis_name(&c.y)),
            series,
            log_y: c.log_y,
            log_x: c.log_x,
            y_range: c.y_range.map(|[a, b]| (a, b)),
            share: self.is_share(c),
            fit_y: false,
            shade: c.shade.as_ref().map(|s| (s.from, s.to, s.label.clone())),
            censor: c.censor.as_ref().map(|k| Censor { at: k.at, label: k.label.clone() }),
            vlines: Vec::new(),
            note: Some(self.note(c)),
            panels: c.panels,
        }
    }

    /// An axis name for a parameter (its name) or a metric (in words, with its unit).
    fn axis_name(&self, name: &str) -> String {
        if self.params.iter().any(|p| p.name == name) || name.is_empty() {
            return if name.is_empty() { "simulated time [s]".into() } else { name.to_string() };
        }
        metric_label(name)
    }

    /// Whether the chart's y is a share (0 to 1).
    fn is_share(&self, c: &ChartSpec) -> bool {
        c.share.unwrap_or_else(|| std::iter::once(&c.y).chain(&c.also).all(|m| is_share_name(m)))
    }

    /// The least and most replications of the chart's points, e.g. "3" or "3–10".
    fn replications(&self) -> String {
        let ns = self.results.iter().map(|r| r.values.first().map_or(0, Vec::len));
        let (lo, hi) = ns.fold((usize::MAX, 0), |(a, b), n| (a.min(n), b.max(n)));
        if lo >= hi { hi.to_string() } else { format!("{lo}–{hi}") }
    }

    /// What the lines are: which replication, or a mean with which interval.
    fn note(&self, c: &ChartSpec) -> String {
        let n = self.replications();
        match c.kind {
            ChartKind::Timeseries if c.average => format!("Each line: the mean over {n} replications of each window."),
            ChartKind::Timeseries => {
                format!("Each line: the first of {n} replications (one run; the claims use the mean over all {n}).")
            }
            ChartKind::Pareto | ChartKind::Bars => format!("Each point: the mean over {n} replications."),
            ChartKind::Line if self.is_share(c) && self.bernoulli(&c.y) => format!(
                "Lines: the share of {n} replications; shaded: 95 % Wilson score interval (each replication is a 0/1 outcome)."
            ),
            ChartKind::Line if self.is_share(c) => {
                format!("Lines: the mean over {n} replications; shaded: 95 % confidence band, kept within 0 and 1.")
            }
            ChartKind::Line => format!("Lines: the mean over {n} replications; shaded: 95 % confidence band."),
        }
    }

    /// Whether metric `name` is a 0/1 outcome per replication: every value 0 or 1, and not a
    /// fraction of many events (`…share`, `…ratio`, which can be 0 or 1 in every run too).
    fn bernoulli(&self, name: &str) -> bool {
        let Some(m) = self.spec.metrics.iter().position(|x| x == name) else { return false };
        let last = name.rsplit('.').next().unwrap_or(name);
        !(last.ends_with("share") || last.ends_with("ratio"))
            && self.results.iter().flat_map(|r| &r.values[m]).all(|&v| v == 0.0 || v == 1.0)
    }

    /// The value of `name` at a point: a parameter's, or a metric's replication values.
    fn values(&self, r: &PointResult, name: &str) -> Option<Vec<f64>> {
        if let Some(k) = self.params.iter().position(|p| p.name == name) {
            return self.point_values[r.index][k].as_f64().map(|x| vec![x]);
        }
        let m = self.spec.metrics.iter().position(|m| m == name)?;
        Some(r.values[m].clone())
    }

    /// The name of a point's line: `label` filled in, or `name = value` of each of `keys`.
    fn line_name(&self, c: &ChartSpec, r: &PointResult, keys: &[usize]) -> String {
        let names: Vec<String> = self.params.iter().map(|p| p.name.clone()).collect();
        if let Some(t) = &c.label {
            return fill(t, &names, &self.point_values[r.index]);
        }
        let parts: Vec<String> =
            keys.iter().map(|&k| format!("{} = {}", names[k], plain(&self.point_values[r.index][k]))).collect();
        parts.join(", ")
    }

    /// One series per combination of the other parameters (x a parameter), or per value of
    /// `lines` (x a metric), each with its 95 % band; with `also`, that for each metric. Each
    /// comes with its key: the value of `lines`, or its name.
    fn line_series(&self, c: &ChartSpec) -> Vec<(String, Series)> {
        let ys: Vec<&String> = std::iter::once(&c.y).chain(&c.also).collect();
        ys.iter()
            .enumerate()
            .flat_map(|(j, y)| {
                let one = ChartSpec { y: (*y).clone(), also: Vec::new(), ..c.clone() };
                let metric = c.legend.get(j).cloned().unwrap_or_else(|| metric_words(y));
                let single = ys.len() == 1;
                self.line_groups(&one).into_iter().map(move |(key, mut s)| {
                    s.name = match (s.name.is_empty(), single) {
                        (true, _) => metric.clone(),
                        (false, true) => s.name,
                        (false, false) => format!("{metric} ({})", s.name),
                    };
                    // A metric's only line is known by its legend name.
                    let key = if key.is_empty() { s.name.clone() } else { key };
                    (key, s)
                })
            })
            .collect()
    }

    /// The lines of one metric (`c.y`), unnamed if there is only one.
    fn line_groups(&self, c: &ChartSpec) -> Vec<(String, Series)> {
        let x_param = self.params.iter().position(|p| p.name == c.x);
        let lines_param = c.lines.as_ref().and_then(|l| self.params.iter().position(|p| &p.name == l));
        let keys: Vec<usize> = match (x_param, lines_param) {
            (Some(x), _) => (0..self.params.len()).filter(|&k| k != x).collect(),
            (None, Some(l)) => vec![l],
            (None, None) => Vec::new(),
        };
        let shown: Vec<&PointResult> = self.results.iter().filter(|r| self.matches(r, c)).collect();
        // Only the parameters that differ among the chart's own points name its lines.
        let varies =
            |k: usize| shown.iter().any(|r| self.point_values[r.index][k] != self.point_values[shown[0].index][k]);
        // With `lines`, a parameter zipped to move with x and the lines' parameter (a profile's
        // level beside the load, an edge per scan) is fixed by them: it names no lines.
        let fixed_by_lines = |k: usize| match (x_param, lines_param) {
            (Some(x), Some(l)) if k != l => shown.iter().all(|a| {
                shown.iter().all(|b| {
                    let (va, vb) = (&self.point_values[a.index], &self.point_values[b.index]);
                    va[x] != vb[x] || va[l] != vb[l] || va[k] == vb[k]
                })
            }),
            _ => false,
        };
        let keys: Vec<usize> = keys
            .into_iter()
            .filter(|&k| !c.at.iter().flatten().any(|(n, _)| *n == self.params[k].name))
            .filter(|&k| x_param.is_none() || varies(k))
            .filter(|&k| !fixed_by_lines(k))
            .collect();
        let mut groups: Vec<(String, String, Vec<&PointResult>)> = Vec::new();
        for r in shown.iter().copied() {
            let name = if keys.is_empty() { String::new() } else { self.line_name(c, r, &keys) };
            let key = match lines_param {
                Some(l) => plain(&self.point_values[r.index][l]),
                None => name.clone(),
            };
            match groups.iter_mut().find(|(n, _, _)| *n == name) {
                Some((_, _, v)) => v.push(r),
                None => groups.push((name, key, vec![r])),
            }
        }
        let (share, bernoulli) = (self.is_share(c), self.is_share(c) && self.bernoulli(&c.y));
        let unless = c
            .censor
            .as_ref()
            .and_then(|k| k.unless.as_ref())
            .and_then(|u| self.spec.metrics.iter().position(|m| m == u));
        groups
            .into_iter()
            .map(|(name, key, rs)| {
                let mut s = Series { name, ..Series::default() };
                let mut pts: Vec<(f64, &PointResult)> =
                    rs.iter().filter_map(|r| Some((t_interval(&self.values(r, &c.x)?, 0.95).mean, *r))).collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                for (x, r) in pts {
                    let Some(ys) = self.values(r, &c.y) else { continue };
                    let (mean, lo, hi) = band(&ys, share, bernoulli);
                    let censored = unless.is_some_and(|u| r.values[u].contains(&0.0));
                    if censored {
                        // At least one run gives only a lower bound: so does the mean.
                        s.points.push((x, f64::NAN));
                        s.lower_bounds.push((x, mean));
                        continue;
                    }
                    s.points.push((x, mean));
                    if hi.is_finite() && lo.is_finite() {
                        s.band.push((x, lo, hi));
                    }
                }
                (key, s)
            })
            .collect()
    }

    /// Whether point `r` has the parameter values the chart's `at` asks for.
    fn matches(&self, r: &PointResult, c: &ChartSpec) -> bool {
        c.at.iter().flatten().all(|(name, want)| {
            let i = self.params.iter().position(|p| &p.name == name);
            i.is_some_and(|i| plain(&self.point_values[r.index][i]) == plain(want))
        })
    }

    /// A time series per value of `lines`: the first point with that value matching `at`.
    fn time_series(&self, c: &ChartSpec) -> Vec<(String, Series)> {
        // The chart's index (its time series are stored by index): this very spec, or an equal one.
        let json = |x: &ChartSpec| serde_json::to_string(x).unwrap_or_default();
        let k = self.spec.charts.iter().position(|x| std::ptr::eq(x, c)).or_else(|| {
            let want = json(c);
            self.spec.charts.iter().position(|x| json(x) == want)
        });
        let Some(k) = k else { return Vec::new() };
        let line = c.lines.as_ref().and_then(|l| self.params.iter().position(|p| &p.name == l));
        let mut out: Vec<(String, Series)> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for r in self.results.iter().filter(|r| self.matches(r, c)) {
            let key = line.map(|i| plain(&self.point_values[r.index][i])).unwrap_or_default();
            if seen.contains(&key) {
                continue;
            }
            seen.push(key.clone());
            let name = match line {
                Some(i) => self.line_name(c, r, &[i]),
                None => String::new(),
            };
            let cols: Vec<&String> = std::iter::once(&c.y).chain(&c.also).collect();
            for (j, col) in cols.iter().enumerate() {
                let pts = r.series.get(k).and_then(|s| s.get(j)).cloned().unwrap_or_default();
                let zero_is_gap = zero_is_no_data(col);
                let col = c.legend.get(j).cloned().unwrap_or_else(|| col.to_string());
                // Without `lines`, a column's line is known by its legend name.
                let key = if line.is_none() { col.clone() } else { key.clone() };
                let label = match (name.is_empty(), cols.len()) {
                    (true, _) => col,
                    (false, 1) => name.clone(),
                    (false, _) => format!("{name}: {col}"),
                };
                out.push((key, Series::line(label, with_gaps(&pts, zero_is_gap))));
            }
        }
        out
    }

    /// Every point matching `at` (labelled with `label`), and the Pareto front: points no other
    /// point beats on both x and y (lower is better).
    fn pareto_series(&self, c: &ChartSpec) -> Vec<(String, Series)> {
        let names: Vec<String> = self.params.iter().map(|p| p.name.clone()).collect();
        let mean = |r: &PointResult, n: &str| self.values(r, n).map(|v| t_interval(&v, 0.95).mean);
        let mut pts: Vec<(f64, f64, String)> = self
            .results
            .iter()
            .filter(|r| self.matches(r, c))
            .filter_map(|r| {
                let label = c.label.as_ref().map(|t| fill(t, &names, &self.point_values[r.index])).unwrap_or_default();
                Some((mean(r, &c.x)?, mean(r, &c.y)?, label))
            })
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut front: Vec<(f64, f64)> = Vec::new();
        for p in &pts {
            if front.last().is_none_or(|&(_, y)| p.1 < y) {
                front.push((p.0, p.1));
            }
        }
        let labels = if c.label.is_some() { pts.iter().map(|p| p.2.clone()).collect() } else { Vec::new() };
        let all = Series {
            name: "configurations".into(),
            points: pts.iter().map(|p| (p.0, p.1)).collect(),
            labels,
            scatter: true,
            ..Series::default()
        };
        let front = Series {
            name: "Pareto front (nothing both cheaper and faster)".into(),
            points: front,
            // Its points are marked as configurations.
            no_markers: true,
            ..Series::default()
        };
        vec![(String::new(), all), (String::new(), front)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_bands_stay_within_zero_and_one() {
        // 2 of 3 replications recovered: Wilson's interval (0.20766, 0.93851), see stats.rs.
        let (m, lo, hi) = band(&[1.0, 1.0, 0.0], true, true);
        assert!((m - 2.0 / 3.0).abs() < 1e-12);
        assert!((lo - 0.207660).abs() < 1e-5 && (hi - 0.938508).abs() < 1e-5, "{lo} {hi}");
        // Shares that are not 0/1: t-interval 0.1 ± 4.3027 · 0.17321 / √3 = 0.1 ± 0.43027, cut at 0.
        let (m, lo, hi) = band(&[0.0, 0.0, 0.3], true, false);
        assert!((m - 0.1).abs() < 1e-12 && lo == 0.0 && (hi - 0.53027).abs() < 1e-4, "{lo} {hi}");
        // A share of many events that is 0 in every run is not a 0/1 outcome: no Wilson band
        // up to 0.56, but the t-interval of three zeros, [0, 0].
        assert_eq!(band(&[0.0, 0.0, 0.0], true, false), (0.0, 0.0, 0.0));
        // Near 1: cut at 1.
        let (_, _, hi) = band(&[1.0, 1.0, 0.7], true, false);
        assert_eq!(hi, 1.0);
    }

    #[test]
    fn counts_never_go_below_zero() {
        // 0, 0, 6: 2 ± 4.3027 · √12 / √3 = 2 ± 8.605; the low end is cut at 0.
        let (m, lo, hi) = band(&[0.0, 0.0, 6.0], false, false);
        assert!((m - 2.0).abs() < 1e-12 && lo == 0.0 && (hi - 10.605).abs() < 1e-3, "{lo} {hi}");
        // A figure that can be negative keeps its interval.
        let (_, lo, _) = band(&[-1.0, 0.0, 1.0], false, false);
        assert!(lo < -1.0);
        // One replication: no interval.
        assert!(band(&[3.0], false, false).2.is_infinite());
    }

    #[test]
    fn shares_known_by_name() {
        assert!(is_share_name("requests.failed_share"));
        assert!(is_share_name("services.catalog_cache.cache.hit_ratio"));
        assert!(is_share_name("recovery.recovered"));
        assert!(!is_share_name("recovery.time_s"));
    }

    #[test]
    fn time_series_gaps_are_gaps() {
        let pts = [(1.0, 0.1), (3.0, 0.0), (5.0, 0.2), (11.0, 0.3)];
        let g = with_gaps(&pts, true);
        // 0 s latency at 3 s: no data; windows 7 and 9 missing: a gap before 11.
        assert!(g[1].1.is_nan() && g[3].1.is_nan() && g[3].0 == 8.0, "{g:?}");
        assert_eq!((g.len(), g[4]), (5, (11.0, 0.3)));
        // Counts keep their zeros.
        assert_eq!(with_gaps(&pts[..3], false)[1], (3.0, 0.0));
        // Which columns' zeros are no data: latencies and the worst expiry's calls.
        assert!(zero_is_no_data("catalog.p99_s") && zero_is_no_data("p50_s"));
        assert!(zero_is_no_data("catalog_cache.max_calls_per_episode"));
        assert!(!zero_is_no_data("catalog.attempts") && !zero_is_no_data("catalog_cache.origin_calls"));
    }

    #[test]
    fn labels_fill_parameter_values() {
        let names = vec!["trigger_end_s".to_string(), "policy".to_string()];
        let vals = vec![serde_json::json!(305), serde_json::json!("naive")];
        assert_eq!(fill("{policy}: trigger ends at {trigger_end_s} s", &names, &vals), "naive: trigger ends at 305 s");
    }
}
