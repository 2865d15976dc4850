//! The raw experiment file, as serde reads it: a base model with overrides, parameters to vary,
//! replications, metrics and charts.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::quantity::Quantity;

/// A whole experiment file.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    /// Short name; the default output folder is `output/<name>/`.
    pub name: String,
    /// What the experiment asks.
    #[serde(default)]
    pub description: String,
    /// The model file, relative to this experiment file.
    pub model: String,
    /// Overrides applied to the model at every point (dotted path → value, as `--set`).
    #[serde(default)]
    pub set: BTreeMap<String, Value>,
    /// Parameters to vary.
    #[serde(default)]
    pub parameters: Vec<ParameterSpec>,
    /// How parameter values combine into points (default `cross`).
    #[serde(default)]
    pub combine: Combine,
    /// Replications per point (default 5); replication k uses the same seed at every point.
    #[serde(default = "five")]
    pub replications: u32,
    /// Base seed (default 1).
    #[serde(default = "one")]
    pub seed: u64,
    /// Simulated time per run, overriding the model's `run.duration`.
    pub duration: Option<Quantity>,
    /// Warm-up per run, overriding the model's `run.warmup`.
    pub warmup: Option<Quantity>,
    /// Dotted paths into summary.json to report, e.g. `latency_s.e2e.p99`.
    pub metrics: Vec<String>,
    /// Optional run-length control: add replications until a metric is precise enough.
    pub precision: Option<PrecisionSpec>,
    /// Charts to draw, in the order a reader should see them.
    #[serde(default)]
    pub charts: Vec<ChartSpec>,
    /// The quick profile `capsim gallery` runs by default (shorter runs, fewer replications).
    pub quick: Option<QuickSpec>,
    /// What this experiment should reproduce: reference figures from the seeds, papers or
    /// closed forms, checked by `capsim gallery`.
    #[serde(default)]
    pub claims: Vec<ClaimSpec>,
    /// A title under which the gallery's README shows this experiment's claims first, above
    /// every experiment's tables (a seed's summary table reproduced from one model).
    pub headline: Option<String>,
    /// "What breaks first": the points read as scans of a growing load, each component's limits
    /// found along it (docs/experiments.md, "Breakpoints in an experiment").
    pub breakpoints: Option<BreakpointsSpec>,
}

/// A "what breaks first" scan over an experiment's points.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakpointsSpec {
    /// The parameter whose values are the loads (numbers, increasing within a scan).
    pub load: String,
    /// A parameter whose value names the scan a point belongs to (e.g. "before" and "after"):
    /// one scan, one chart and one breakpoints.csv per value. Without it, every point is one
    /// scan.
    pub by: Option<String>,
    /// Loads as multiples of each scan's lowest (its first point): "× normal load", the same
    /// figures at any scale.
    #[serde(default)]
    pub relative: bool,
    /// The load axis' label (default: the parameter in words).
    pub load_label: Option<String>,
    /// Thresholds replacing the defaults: limit id → value (the ids and units of
    /// `capsim breakpoints --limit`).
    #[serde(default)]
    pub limits: BTreeMap<String, f64>,
}

/// The limit crossing a claim reads: its load is the claim's figure.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrossingSpec {
    /// The component (service, rate limit or `whole system`).
    pub component: String,
    /// The limit's id, e.g. `kv_store.throttles`.
    pub limit: String,
    /// With `breakpoints.by`: the scan, by that parameter's value.
    pub scan: Option<Value>,
}

/// Settings that replace the experiment's own in the gallery's quick profile.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickSpec {
    /// Simulated time per run.
    pub duration: Option<Quantity>,
    /// Warm-up per run.
    pub warmup: Option<Quantity>,
    /// Replications per point.
    pub replications: Option<u32>,
    /// Overrides added to (and replacing entries of) the experiment's `set` in the quick
    /// profile only: a model run at a stated smaller scale in the gallery (every capacity and
    /// load divided alike) and at full scale with `--full`.
    #[serde(default)]
    pub set: BTreeMap<String, Value>,
    /// Values replacing a parameter's own in the quick profile only (parameter name → values,
    /// as many as the parameter has): a load parameter at the quick profile's scale.
    #[serde(default)]
    pub values: BTreeMap<String, Vec<Value>>,
}

/// One claim: a reference figure (or a before → after pair) and the point(s) of the
/// experiment where capsim's figure is read.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimSpec {
    /// Short identifier, unique in the experiment (letters, digits, `_`, `-`).
    pub id: String,
    /// Where the reference comes from: a seed file and scenario, a paper, or a closed form.
    pub source: String,
    /// What is claimed, in words.
    pub claim: String,
    /// The figure compared: a dotted path into summary.json, one of `metrics`; for a `crossing`
    /// claim, the load parameter (`breakpoints.load`).
    pub metric: String,
    /// A breakpoint claim: the load at which this component's limit is first crossed, compared
    /// with `reference` (and `bound`, `tolerance`); no `at`.
    pub crossing: Option<CrossingSpec>,
    /// The point of a single-figure claim: parameter name → value.
    pub at: Option<BTreeMap<String, Value>>,
    /// The reference figure at `at`.
    pub reference: Option<f64>,
    /// For a single figure the source gives as a bound ("2+ seconds", "under 3 %"): capsim's
    /// figure must be `at_least` or `at_most` the reference (within the tolerance and its 95 %
    /// interval) rather than near it.
    pub bound: Option<Bound>,
    /// The "before" point and figure of a before → after claim.
    pub before: Option<SideSpec>,
    /// The "after" point and figure.
    pub after: Option<SideSpec>,
    /// Direction of a before → after claim whose sides give no figures.
    pub direction: Option<Direction>,
    /// How close capsim must come to count as reproduced; without it a before → after claim
    /// checks only the direction of the change.
    pub tolerance: Option<ToleranceSpec>,
    /// The chart that shows it (a chart `file`; default: the first chart of `metric`).
    pub chart: Option<String>,
    /// Why capsim's figure may differ, when that is known (shown where it differs).
    pub note: Option<String>,
    /// `outcome`: the figure comes out of the mechanisms and counts among reproduced claims;
    /// `calibration`: it echoes an input, follows by construction or is a timeout's clip, and is
    /// listed apart, uncounted (docs/experiments.md, "Rules of a claim").
    pub kind: ClaimKind,
    /// For a `calibration` row: why its figure is not an outcome, in one sentence (e.g. "the
    /// semantic cache's hit rate is set to 0.15 in the model").
    pub calibration: Option<String>,
    /// The text the reference figures are taken from, quoted as written there: checked by a test
    /// against the file beside the repository (`../shared/`).
    pub cites: Option<CitesSpec>,
    /// For a before → after claim whose source gives the change itself (a saving of 150 ms, a
    /// 60 % cut, 3× cheaper) rather than each side's figure: the change, measured replication by
    /// replication (replication k of both points shares its seed).
    pub change: Option<ChangeSpec>,
}

/// The change between the two points of a claim, and its reference figure.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeSpec {
    /// `difference` (after − before, in the metric's unit), `ratio` (after ÷ before) or
    /// `relative` ((after − before) ÷ before, e.g. −0.6 for a 60 % cut).
    pub measure: ChangeMeasure,
    /// The source's figure for the change.
    pub reference: f64,
}

/// How a change is measured.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChangeMeasure {
    Difference,
    Ratio,
    Relative,
}

impl ChangeSpec {
    /// The direction the change's reference implies (none for no change).
    pub fn direction(&self) -> Option<Direction> {
        let zero = if self.measure == ChangeMeasure::Ratio { 1.0 } else { 0.0 };
        match self.reference {
            r if r < zero => Some(Direction::Decrease),
            r if r > zero => Some(Direction::Increase),
            _ => None,
        }
    }

    /// The change of one replication.
    pub fn of(&self, before: f64, after: f64) -> f64 {
        match self.measure {
            ChangeMeasure::Difference => after - before,
            ChangeMeasure::Ratio => after / before,
            ChangeMeasure::Relative => (after - before) / before,
        }
    }

    /// The change in words, e.g. "after − before".
    pub fn words(&self) -> &'static str {
        match self.measure {
            ChangeMeasure::Difference => "after − before",
            ChangeMeasure::Ratio => "after ÷ before",
            ChangeMeasure::Relative => "(after − before) ÷ before",
        }
    }
}

/// Whether a claim's figure is an outcome of the mechanisms or a calibration.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    Outcome,
    Calibration,
}

impl ClaimKind {
    /// As written in tables.
    pub fn label(self) -> &'static str {
        match self {
            ClaimKind::Outcome => "outcome",
            ClaimKind::Calibration => "calibration",
        }
    }
}

/// Where a claim's reference figures are written: a file of the shared folder beside the
/// repository and the figures or words exactly as that file writes them.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CitesSpec {
    /// Path under `../shared/`, e.g. `seeds/000_092e243262ba9e3f.txt` or
    /// `reference/calibration.md`.
    pub file: String,
    /// Each figure (or phrase) as the file writes it, e.g. `800ms` or `8%`; each must occur in
    /// the file.
    pub quotes: Vec<String>,
}

/// One side of a before → after claim.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SideSpec {
    /// Parameter name → value of the point.
    pub at: BTreeMap<String, Value>,
    /// The reference figure there, if the source gives one.
    pub reference: Option<f64>,
}

/// Which side of a reference a bounded figure must lie on.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    AtLeast,
    AtMost,
}

/// Which way a figure moves from before to after.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Decrease,
    Increase,
}

/// A tolerance: give exactly one. capsim's figure counts as reproducing the reference when its
/// 95 % interval comes within the tolerance of it.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToleranceSpec {
    /// A fraction of the reference, e.g. 0.05 for ±5 %.
    pub relative: Option<f64>,
    /// In the metric's own unit.
    pub absolute: Option<f64>,
}

fn five() -> u32 {
    5
}

fn one() -> u64 {
    1
}

/// How parameter lists combine.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// Every combination (cartesian product), the last parameter varying fastest.
    #[default]
    Cross,
    /// The i-th values of every parameter together; all lists must have the same length.
    Zip,
}

/// One varied parameter; give exactly one of `values`, `range` or `log_range`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParameterSpec {
    /// Dotted path into the model, as for `--set`.
    pub path: String,
    /// Column and legend name (default: the path).
    pub name: Option<String>,
    /// Explicit values (numbers, strings or any JSON).
    pub values: Option<Vec<Value>>,
    /// `from`, `from + step`, … up to `to` inclusive.
    pub range: Option<RangeSpec>,
    /// `points` values spaced evenly on a log scale from `from` to `to` inclusive.
    pub log_range: Option<LogRangeSpec>,
}

/// A linear range.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RangeSpec {
    pub from: f64,
    pub to: f64,
    pub step: f64,
}

/// A logarithmic range.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogRangeSpec {
    pub from: f64,
    pub to: f64,
    pub points: u32,
}

/// Run-length control: after the first replications, points whose `metric` has a 95 %
/// half-width above `relative_half_width` × |mean| get more, up to `max_replications`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrecisionSpec {
    pub metric: String,
    pub relative_half_width: f64,
    pub max_replications: u32,
}

/// What a chart shows.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// y (a metric) against x (a parameter or a metric), one line per value of `lines`, with
    /// 95 % confidence bands. With x = the offered load this is a latency–load curve.
    #[default]
    Line,
    /// Every point as (x metric, y metric), e.g. cost against p99, with the Pareto front
    /// (lowest y for its x) marked.
    Pareto,
    /// A `timeseries.csv` column (`y`) over simulated time, from the first replication (or the
    /// mean over all, with `average`), one line per value of `lines` (`x` is unused);
    /// `per_second` divides counts by the window.
    Timeseries,
    /// One bar per point matching `at` (in point order), stacked from the means of `y` and each
    /// of `also` (e.g. a month's cost by component), named by `label` or by the value of
    /// `lines` (`x` is unused).
    Bars,
}

/// A reference curve: a name and its (x, y) points; a single point is drawn as an ✕ (e.g. a
/// seed's figure at one setting).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceLine {
    pub name: String,
    pub points: Vec<[f64; 2]>,
    /// The result line it belongs to, drawn in that line's colour: a value of the chart's
    /// `lines` parameter, or a `legend` name of a chart with `also`. Without it, curves sharing
    /// one name take the colours of the result lines in their positions (one curve per line),
    /// and a curve of its own is drawn in a neutral dark grey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
}

/// Values of `y` that are not measurements but bounds: give exactly one of `at` and `unless`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CensorSpec {
    /// A limit in y's unit at or above which a value only says "at least this" (e.g. a
    /// caller's timeout: a latency there was cut off, not measured). Such values are drawn as
    /// hollow markers on a dashed line at the limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<f64>,
    /// A 0/1 metric (one of `metrics`, `line` charts): a replication where it is 0 gives only a
    /// lower bound of `y` (e.g. `recovery.recovered` for a recovery time counted to the run's
    /// end). A point with any such replication is drawn as a hollow marker, without a band.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unless: Option<String>,
    /// What the limit or bound is, in the reader's words (the legend entry).
    pub label: String,
}

/// A shaded x interval of a chart.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShadeSpec {
    pub from: f64,
    pub to: f64,
    /// Its legend entry.
    pub label: String,
}

/// A chart of the sweep.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChartSpec {
    #[serde(default)]
    pub kind: ChartKind,
    /// A parameter name, or a metric path (for `pareto`, a metric; unused for `timeseries`).
    #[serde(default)]
    pub x: String,
    /// A metric path.
    pub y: String,
    /// A parameter name: one line per value (`line` charts).
    pub lines: Option<String>,
    /// Chart title (default: generated from the axes).
    pub title: Option<String>,
    /// Axis labels with units (default: the names).
    pub x_label: Option<String>,
    pub y_label: Option<String>,
    /// Log-scaled y axis, used where the data span at least 1.5 decades (else linear).
    #[serde(default)]
    pub log_y: bool,
    /// Log-scaled x axis (for parameters spaced by factors, such as `log_range`), used where
    /// the values span at least 1.5 decades.
    #[serde(default)]
    pub log_x: bool,
    /// More metrics (or, for `timeseries`, columns) drawn as lines of their own beside `y`.
    #[serde(default)]
    pub also: Vec<String>,
    /// Legend names for `y` and then each of `also`, in the reader's words (default: the paths).
    #[serde(default)]
    pub legend: Vec<String>,
    /// A y range `[low, high]`, widened where the data reach beyond it (nothing drawn is ever
    /// cut off), and to start at 0 when it spans less than a fifth of its top value.
    pub y_range: Option<[f64; 2]>,
    /// Only the part of the x axis from low to high, `[low, high]` (e.g. a time series' measured
    /// period, or the minutes around an incident).
    pub x_range: Option<[f64; 2]>,
    /// An x interval to shade, e.g. a fault window: `{"from": 600, "to": 1200, "label": "catalog down"}`.
    pub shade: Option<ShadeSpec>,
    /// Reference curves drawn beside the results (e.g. a closed form): each a name and points.
    #[serde(default)]
    pub references: Vec<ReferenceLine>,
    /// `timeseries` charts: show counts per second of simulated time.
    #[serde(default)]
    pub per_second: bool,
    /// `timeseries` charts: divide `y` and `also`, window by window, by this timeseries.csv
    /// column (e.g. `sonnet.throttled` per `sonnet.attempts`: the share of attempts throttled in
    /// each window, what a share claim measures). A window where it is 0 is a gap.
    pub per: Option<String>,
    /// Only the points with these parameter values (for `timeseries` charts, default: the first
    /// point with each value of `lines`).
    pub at: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    /// File name without extension (default: chart-<n>).
    pub file: Option<String>,
    /// What the chart shows and what to look for (shown under it in the gallery and reports).
    pub caption: Option<String>,
    /// Names each line (or, for `pareto`, each point) in the reader's words: `{name}` is
    /// replaced by the value of parameter `name`, e.g. `"trigger of {trigger_s} s"` (default:
    /// `name = value` of each parameter telling the lines apart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// y is a share (0 to 1): the axis runs from 0 to 1 (to the largest value when that is at
    /// most 0.5) and bands stay within it (a Wilson interval where each replication's value is 0
    /// or 1). Default: true for metrics whose name ends in `share`, `ratio`, `utilization`,
    /// `p_wait` or `recovered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<bool>,
    /// Values of `y` that are only bounds (a timeout, a run that never recovered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censor: Option<CensorSpec>,
    /// `timeseries` charts: the mean over every replication of each window, instead of the
    /// first replication.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub average: bool,
    /// Small multiples: one panel per line, the other lines drawn faintly behind it (for lines
    /// too close or too noisy to tell apart in one plot).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub panels: bool,
}
