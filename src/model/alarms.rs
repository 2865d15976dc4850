//! A model's `alarms`: CloudWatch-style alarms on the figures `timeseries.csv` holds, each a
//! threshold on one column (or a ratio of two) aggregated per period, firing when N of the last M
//! datapoints breach (seed 001's alarm table; seed 004's "3 datapoints within 5 minutes").
//! Settings and their checks live here; `report/alarms.rs` evaluates them on a run's windows.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::error::Issue;
use super::limits::{MAX_ALARMS, MAX_DATAPOINTS, MAX_DURATION_S};
use super::quantity::Quantity;
use crate::engine::SimTime;
use crate::metrics::columns::is_percentile;

/// One alarm as written in the model file (`alarms.<name>`).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlarmSpec {
    /// A `timeseries.csv` column: `failures`, `p99_s`, `<service>.throttled`,
    /// `<kv_store>.partition_throttles` …
    pub metric: String,
    /// Another column to divide `metric` by, period by period (their sums): a rate such as
    /// `failures` per `arrivals` (default: none).
    pub per: Option<String>,
    /// How the period's windows combine into one datapoint: `sum`, `average`, `maximum` or
    /// `minimum` (needed when a period spans several windows, unless `per` is given).
    pub statistic: Option<Statistic>,
    /// How the datapoint is compared with `threshold` (default `">"`).
    #[serde(default)]
    pub comparison: Comparison,
    /// The threshold, in the column's unit (a fraction for a ratio).
    pub threshold: f64,
    /// Length of one datapoint [s]: a whole multiple of `run.window` (default: the window).
    pub period: Option<Quantity>,
    /// N: breaching datapoints among the last `evaluation_periods` that put the alarm in
    /// ALARM (default 1).
    #[serde(default = "one")]
    pub datapoints: u32,
    /// M: the datapoints looked at (default N: N in a row).
    pub evaluation_periods: Option<u32>,
    /// What a period without data counts as (default `missing`: skipped).
    #[serde(default)]
    pub treat_missing: TreatMissing,
    /// A label such as `SEV-2` (default: none).
    #[serde(default)]
    pub severity: String,
    /// What the alarm watches, in words.
    #[serde(default)]
    pub description: String,
}

fn one() -> u32 {
    1
}

/// How a datapoint is compared with the threshold.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum Comparison {
    #[default]
    #[serde(rename = ">")]
    Greater,
    #[serde(rename = ">=")]
    GreaterOrEqual,
    #[serde(rename = "<")]
    Less,
    #[serde(rename = "<=")]
    LessOrEqual,
}

impl Comparison {
    /// Whether `value` breaches `threshold`.
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Greater => value > threshold,
            Comparison::GreaterOrEqual => value >= threshold,
            Comparison::Less => value < threshold,
            Comparison::LessOrEqual => value <= threshold,
        }
    }

    /// Whether breaching means being above the threshold (the worst value is then the largest).
    pub fn upward(self) -> bool {
        matches!(self, Comparison::Greater | Comparison::GreaterOrEqual)
    }

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
        }
    }
}

/// How a period's windows make one datapoint (CloudWatch's statistic).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    /// The sum of the windows' values (counts).
    Sum,
    /// The mean of the windows' values, each window weighing the same (levels).
    Average,
    /// The largest window value (for a percentile: an upper bound on the period's own).
    Maximum,
    /// The smallest window value.
    Minimum,
}

/// What a period without data counts as (CloudWatch's TreatMissingData).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TreatMissing {
    /// Skipped: the last M datapoints that exist are evaluated, and the state holds meanwhile.
    #[default]
    Missing,
    /// A breaching datapoint.
    Breaching,
    /// A datapoint within the threshold.
    NotBreaching,
}

/// A checked alarm.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmDef {
    pub name: String,
    /// The column's name and its index among the time-series columns.
    pub metric: (String, usize),
    /// The divisor column, if any.
    pub per: Option<(String, usize)>,
    /// How windows combine (`None`: a period is one window, or a ratio of sums).
    pub statistic: Option<Statistic>,
    pub comparison: Comparison,
    pub threshold: f64,
    /// Windows per period (≥ 1), and the period [s].
    pub windows_per_period: usize,
    pub period_s: f64,
    /// N of M.
    pub datapoints: u32,
    pub evaluation_periods: u32,
    pub treat_missing: TreatMissing,
    pub severity: String,
    pub description: String,
}

impl AlarmDef {
    /// The condition in words: `failures / arrivals > 0.01 in 3 of the last 5 periods of 60 s`.
    pub fn condition(&self) -> String {
        let stat = self.statistic.map_or(String::new(), |s| format!("{s:?} of ").to_lowercase());
        let per = self.per.as_ref().map_or(String::new(), |p| format!(" / {}", p.0));
        let (n, m) = (self.datapoints, self.evaluation_periods);
        let how = if n == 1 && m == 1 {
            format!("over {} s", self.period_s)
        } else if n == m {
            format!("for {n} consecutive periods of {} s", self.period_s)
        } else {
            format!("in {n} of the last {m} periods of {} s", self.period_s)
        };
        format!("{stat}{}{per} {} {} {how}", self.metric.0, self.comparison.symbol(), self.threshold)
    }
}

/// Checks the model's alarms against the time-series `columns` and the run's `window`; every
/// problem is named at its field (`alarms.<name>.<field>`).
pub fn check(
    alarms: &std::collections::BTreeMap<String, AlarmSpec>,
    columns: &[String],
    window: SimTime,
) -> (Vec<AlarmDef>, Vec<Issue>) {
    let mut issues = Vec::new();
    if alarms.len() > MAX_ALARMS {
        issues.push(Issue::new("alarms", format!("{} alarms; at most {MAX_ALARMS}", alarms.len())));
        return (Vec::new(), issues);
    }
    let defs = alarms.iter().filter_map(|(name, a)| check_one(name, a, columns, window, &mut issues)).collect();
    (defs, issues)
}

/// One alarm, or `None` with its issues pushed.
fn check_one(
    name: &str,
    a: &AlarmSpec,
    columns: &[String],
    window: SimTime,
    issues: &mut Vec<Issue>,
) -> Option<AlarmDef> {
    let before = issues.len();
    let at = |field: &str| format!("alarms.{name}.{field}");
    if let Err(e) = check_name(name) {
        issues.push(Issue::new(format!("alarms.{name}"), e));
    }
    let metric = find_column(&a.metric, columns).map_err(|e| issues.push(Issue::new(at("metric"), e))).ok();
    let per = a.per.as_ref().and_then(|p| {
        let found = find_column(p, columns).map_err(|e| issues.push(Issue::new(at("per"), e))).ok();
        found.map(|k| (p.clone(), k))
    });
    if !a.threshold.is_finite() {
        issues.push(Issue::new(at("threshold"), format!("must be a finite number, got {}", a.threshold)));
    }
    let n = a.datapoints;
    let m = a.evaluation_periods.unwrap_or(n);
    if n == 0 || n > MAX_DATAPOINTS {
        issues.push(Issue::new(at("datapoints"), format!("must be from 1 to {MAX_DATAPOINTS} datapoints, got {n}")));
    } else if m < n || m > MAX_DATAPOINTS {
        issues.push(Issue::new(
            at("evaluation_periods"),
            format!(
                "must be at least `datapoints` ({n}: N of the last M datapoints must breach, so M ≥ N) and at most \
                 {MAX_DATAPOINTS}, got {m}"
            ),
        ));
    }
    let windows_per_period = periods(a.period, window, &at("period"), issues);
    let statistic = check_statistic(a, windows_per_period.unwrap_or(1), &at("statistic"), issues);
    if issues.len() > before {
        return None;
    }
    Some(AlarmDef {
        name: name.to_string(),
        metric: (a.metric.clone(), metric?),
        per,
        statistic,
        comparison: a.comparison,
        threshold: a.threshold,
        windows_per_period: windows_per_period?,
        period_s: windows_per_period? as f64 * window.as_secs(),
        datapoints: n,
        evaluation_periods: m,
        treat_missing: a.treat_missing,
        severity: a.severity.clone(),
        description: a.description.clone(),
    })
}

/// An alarm's name is a key of summary.json and an experiment's metric path
/// (`alarms.<name>.fired`): letters, digits, `_` and `-`.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > super::limits::MAX_NAME_LEN {
        return Err(format!("an alarm's name must have 1 to {} characters", super::limits::MAX_NAME_LEN));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')) {
        return Err(format!(
            "the alarm name `{name}` may use only letters, digits, `_` and `-` (it is a key of summary.json and \
             part of metric paths such as `alarms.{name}.fired`)"
        ));
    }
    Ok(())
}

/// The index of column `name`, or an error naming the closest columns.
fn find_column(name: &str, columns: &[String]) -> Result<usize, String> {
    if let Some(k) = columns.iter().position(|c| c == name) {
        return Ok(k);
    }
    let mut near: Vec<(usize, &String)> = columns.iter().map(|c| (strsim::damerau_levenshtein(name, c), c)).collect();
    near.sort();
    let near: Vec<String> = near.iter().take(3).map(|(_, c)| format!("`{c}`")).collect();
    Err(format!(
        "`{name}` is not a column of timeseries.csv; the closest are {} (docs/metrics.md lists them all)",
        near.join(", ")
    ))
}

/// Windows per period, checking that the period is a whole number of windows.
fn periods(period: Option<Quantity>, window: SimTime, at: &str, issues: &mut Vec<Issue>) -> Option<usize> {
    let Some(p) = period else { return Some(1) };
    if !(p.0.is_finite() && p.0 > 0.0 && p.0 <= MAX_DURATION_S) {
        issues.push(Issue::new(at, format!("must be a positive duration of at most 100 years, got {} s", p.0)));
        return None;
    }
    let w = window.as_secs();
    let k = (p.0 / w).round();
    let exact = k >= 1.0 && SimTime::from_secs(p.0).0 == window.0.saturating_mul(k as u64);
    if !exact {
        let below = (p.0 / w).floor().max(1.0) * w;
        issues.push(Issue::new(
            at,
            format!(
                "must be a whole multiple of the run's window ({w} s), as a datapoint is made of whole windows; got \
                 {} s (try {below} s or {} s, or set run.window)",
                p.0,
                below + w
            ),
        ));
        return None;
    }
    Some(k as usize)
}

/// The statistic, checked against the metric: required when a period spans several windows
/// (unless the alarm is a ratio, which sums both columns), and for a percentile only `maximum`
/// or `minimum` (bounds on the period's own percentile; a sum or mean of percentiles is none).
fn check_statistic(a: &AlarmSpec, windows: usize, at: &str, issues: &mut Vec<Issue>) -> Option<Statistic> {
    let pct = is_percentile(&a.metric) || a.per.as_deref().is_some_and(is_percentile);
    match (a.statistic, &a.per) {
        (_, Some(_)) if pct => {
            issues.push(Issue::new(at, "a percentile column cannot be part of a ratio (`per`)"));
            None
        }
        (Some(s), Some(_)) if s != Statistic::Sum => {
            issues.push(Issue::new(
                at,
                "with `per`, a datapoint is the ratio of the period's sums (a rate recomputed from its counts); \
                 leave `statistic` out or give `sum`",
            ));
            None
        }
        (_, Some(_)) => None,
        (None, None) if windows > 1 && pct => {
            issues.push(Issue::new(
                at,
                format!(
                    "`{}` is a percentile of each window and the period spans {windows} windows: give `maximum` (the \
                     worst window, an upper bound on the period's percentile) or `minimum`, or set `period` to \
                     the run's window and count datapoints instead",
                    a.metric
                ),
            ));
            None
        }
        (None, None) if windows > 1 => {
            issues.push(Issue::new(
                at,
                format!(
                    "the period spans {windows} windows: say how they combine into a datapoint — `sum` (counts), \
                     `average` (levels), `maximum` or `minimum`"
                ),
            ));
            None
        }
        (Some(s @ (Statistic::Sum | Statistic::Average)), None) if pct && windows > 1 => {
            issues.push(Issue::new(
                at,
                format!(
                    "`{}` is a percentile: a {} of window percentiles is no percentile; give `maximum` or `minimum`",
                    a.metric,
                    format!("{s:?}").to_lowercase()
                ),
            ));
            None
        }
        (s, None) => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> AlarmSpec {
        serde_json::from_str(json).unwrap()
    }

    fn run(json: &str) -> Result<AlarmDef, String> {
        let cols: Vec<String> =
            ["arrivals", "failures", "p99_s", "db.throttled", "db.partition_throttles"].map(String::from).to_vec();
        let alarms = [("a".to_string(), spec(json))].into_iter().collect();
        let (defs, issues) = check(&alarms, &cols, SimTime::from_secs(60.0));
        match issues.first() {
            Some(i) => Err(format!("{}: {}", i.path, i.message)),
            None => Ok(defs[0].clone()),
        }
    }

    #[test]
    fn a_rate_is_a_ratio_of_columns() {
        let a = run(r#"{"metric": "failures", "per": "arrivals", "threshold": 0.01, "period": "5m",
                        "datapoints": 3, "evaluation_periods": 5, "severity": "SEV-2"}"#)
        .unwrap();
        assert_eq!((a.metric.1, a.per.as_ref().unwrap().1, a.windows_per_period), (1, 0, 5));
        assert_eq!(a.condition(), "failures / arrivals > 0.01 in 3 of the last 5 periods of 300 s");
    }

    #[test]
    fn bad_fields_are_named() {
        let e = run(r#"{"metric": "db.throttles", "threshold": 0}"#).unwrap_err();
        assert!(e.starts_with("alarms.a.metric:") && e.contains("`db.throttled`"), "{e}");
        let e = run(r#"{"metric": "failures", "threshold": 0, "datapoints": 3, "evaluation_periods": 2}"#).unwrap_err();
        assert!(e.starts_with("alarms.a.evaluation_periods:"), "{e}");
        let e = run(r#"{"metric": "failures", "threshold": 0, "period": 90}"#).unwrap_err();
        assert!(e.starts_with("alarms.a.period:") && e.contains("60 s or 120 s"), "{e}");
        let e = run(r#"{"metric": "failures", "threshold": 0, "period": 120}"#).unwrap_err();
        assert!(e.starts_with("alarms.a.statistic:"), "{e}");
        let e = run(r#"{"metric": "p99_s", "threshold": 3, "period": 120, "statistic": "average"}"#).unwrap_err();
        assert!(e.starts_with("alarms.a.statistic:") && e.contains("percentile"), "{e}");
        assert!(run(r#"{"metric": "p99_s", "threshold": 3, "period": 120, "statistic": "maximum"}"#).is_ok());
        assert!(run(r#"{"metric": "p99_s", "threshold": 3, "period": 60, "statistic": "sum"}"#).is_ok());
        let e = run(r#"{"metric": "failures", "threshold": 0, "period": 1e300}"#).unwrap_err();
        assert!(e.starts_with("alarms.a.period:"), "{e}");
        let e = run(r#"{"metric": "failures", "threshold": 0, "datapoints": 0}"#).unwrap_err();
        assert!(e.starts_with("alarms.a.datapoints:"), "{e}");
        assert!(serde_json::from_str::<AlarmSpec>(r#"{"metric": "x", "threshold": 0, "comparison": "=>"}"#).is_err());
    }
}
