//! Reads and checks an experiment file: parameters expand to values, every point's model is
//! valid, and every metric and chart axis names something that exists.

use std::path::Path;

use serde_json::Value;

use super::breakpoints::{Plan, signals};
use super::spec::{ChartKind, ChartSpec, Combine, ExperimentSpec, ParameterSpec};
use super::{Experiment, Param, Point, claims, metric_exists, plain, point_overrides, resolve_model_path};
use crate::model::limits::{MAX_POINTS, MAX_RUNS, MAX_VALUES, check_file_name};
use crate::model::{FileError, Issue, Model, load_str, located, parse_typed, read_file};
use crate::report::summary::Summary;

/// Which settings of an experiment to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// The experiment as written.
    Full,
    /// With its `quick` settings (the gallery's default), if it declares any.
    Quick,
}

/// Reads, expands and checks the experiment at `path`, as written.
pub fn load(path: &Path) -> Result<Experiment, FileError> {
    load_profile(path, Profile::Full)
}

/// Reads, expands and checks the experiment at `path` with the settings of `profile`.
pub fn load_profile(path: &Path, profile: Profile) -> Result<Experiment, FileError> {
    let (_, text) = read_file(path)?;
    load_text_profile(path, &text, profile)
}

/// Expands and checks experiment `text` as if read from `path` (which names it in errors and
/// anchors its relative model path).
pub fn load_text(path: &Path, text: &str) -> Result<Experiment, FileError> {
    load_text_profile(path, text, Profile::Full)
}

fn load_text_profile(path: &Path, text: &str, profile: Profile) -> Result<Experiment, FileError> {
    let label = path.display().to_string();
    let mut spec: ExperimentSpec = parse_typed(&label, text, &[])?;
    if let Some(q) = spec.quick.as_ref().filter(|_| profile == Profile::Quick) {
        spec.duration = q.duration.or(spec.duration);
        spec.warmup = q.warmup.or(spec.warmup);
        spec.replications = q.replications.unwrap_or(spec.replications);
        let quick_set = q.set.clone();
        spec.set.extend(quick_set);
    }
    let locate = |issues: Vec<Issue>| located(&label, text, issues);
    let mut issues = Vec::new();
    if profile == Profile::Quick {
        quick_values(&mut spec, &mut issues);
    }
    let params = expand(&spec, &mut issues);
    let model_path = resolve_model_path(path, &spec.model);
    let model_text = match crate::model::limits::read_bounded(&model_path) {
        Ok(t) => t,
        Err(e) => {
            issues.push(Issue::new("model", format!("model file {}: {e}", model_path.display())));
            return Err(locate(issues));
        }
    };
    if !issues.is_empty() {
        return Err(locate(issues));
    }
    let model_label = model_path.display().to_string();
    // The model, then the model under `set`, `duration` and `warmup`, each checked once: a
    // problem of theirs is reported once, on them, not once per point.
    if let Err(e) = load_str(&model_label, &model_text, &[]) {
        issues.push(Issue::new("model", format!("the model file has problems of its own: {e}")));
        return Err(locate(issues));
    }
    if let Err(e) = load_str(&model_label, &model_text, &point_overrides(&spec, &[], &[])) {
        let field = if e.issues.iter().all(|i| i.flag.as_deref().is_some_and(|f| f.starts_with("set "))) {
            "set"
        } else {
            "duration"
        };
        issues.push(Issue::new(field, format!("the model refuses it: {e}")));
        return Err(locate(issues));
    }
    let mut points = Vec::new();
    let mut failed = PointFailures::default();
    for (index, values) in combine(&spec, &params, &mut issues).into_iter().enumerate() {
        let o = point_overrides(&spec, &params, &values);
        match load_str(&model_label, &model_text, &o) {
            Ok(model) => points.push(Point { index, values, model }),
            Err(e) => failed.add(index, &params, &values, e),
        }
    }
    failed.report(&mut issues);
    if let Some(first) = points.first() {
        check_outputs(&spec, &params, &first.model, &mut issues);
    }
    let values: Vec<Vec<Value>> = points.iter().map(|p| p.values.clone()).collect();
    claims::check(&spec, &params, &values, &mut issues);
    let plan = check_breakpoints(&spec, &params, &points, &mut issues);
    let least = spec.quick.as_ref().and_then(|q| q.replications).unwrap_or(spec.replications).min(spec.replications);
    if !spec.claims.is_empty() && least < 2 {
        issues.push(Issue::new(
            "replications",
            "claims need at least 2 replications (also in `quick`) for a 95 % interval",
        ));
    }
    if !issues.is_empty() {
        return Err(locate(issues));
    }
    Ok(Experiment { spec, file: path.to_path_buf(), model_path, params, points, plan })
}

/// Checks `breakpoints` and the crossing claims against the points; the plan of the scans (the
/// first point's components and alarms).
fn check_breakpoints(
    spec: &ExperimentSpec,
    params: &[Param],
    points: &[Point],
    issues: &mut Vec<Issue>,
) -> Option<Plan> {
    let Some(b) = &spec.breakpoints else { return None };
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    let find = |field: &str, name: &str, issues: &mut Vec<Issue>| {
        let i = params.iter().position(|p| p.name == name);
        if i.is_none() {
            let msg = format!("`{name}` is not a parameter; parameters: {}", names.join(", "));
            issues.push(Issue::new(format!("breakpoints.{field}"), msg));
        }
        i
    };
    let load = find("load", &b.load, issues);
    let by = b.by.as_ref().and_then(|n| find("by", n, issues));
    if by.is_some() && by == load {
        issues.push(Issue::new("breakpoints.by", "must be another parameter than `load`"));
    }
    for (id, x) in &b.limits {
        if signals::limit_index(id).is_none() {
            let ids: Vec<&str> = signals::LIMITS.iter().map(|l| l.id).collect();
            issues.push(Issue::new(
                format!("breakpoints.limits.{id}"),
                format!("not a limit; limits: {}", ids.join(", ")),
            ));
        } else if !(x.is_finite() && *x >= 0.0) {
            issues.push(Issue::new(format!("breakpoints.limits.{id}"), "must be a finite number ≥ 0"));
        }
    }
    let (load, first) = (load?, points.first()?);
    // Each scan's loads: numbers > 0, increasing, at least two.
    let mut scans: Vec<(Option<&Value>, Vec<f64>)> = Vec::new();
    for p in points {
        let key = by.map(|b| &p.values[b]);
        let x = p.values[load].as_f64().filter(|x| x.is_finite() && *x > 0.0);
        let Some(x) = x else {
            issues.push(Issue::new(
                "breakpoints.load",
                format!("`{}` = {} is not a load (a number > 0)", b.load, p.values[load]),
            ));
            return None;
        };
        match scans.iter_mut().find(|(k, _)| *k == key) {
            Some((_, xs)) => xs.push(x),
            None => scans.push((key, vec![x])),
        }
    }
    for (key, xs) in &scans {
        let scan = key.map_or(String::new(), |k| format!(" in scan {}", plain(k)));
        if xs.len() < 2 {
            issues.push(Issue::new("breakpoints.load", format!("a scan needs at least two loads{scan}")));
        } else if xs.windows(2).any(|w| w[1] <= w[0]) {
            let list: Vec<String> = xs.iter().map(|x| x.to_string()).collect();
            let msg = format!("the loads must increase point by point{scan}: {}", list.join(", "));
            issues.push(Issue::new("breakpoints.load", msg));
        }
    }
    let plan = Plan::of(&first.model);
    for (i, c) in spec.claims.iter().enumerate() {
        let Some(x) = &c.crossing else { continue };
        let at = format!("claims.{i}.crossing");
        match plan.components.iter().find(|k| k.name == x.component) {
            None => issues.push(Issue::new(
                format!("{at}.component"),
                format!("`{}` is not a component of the model", x.component),
            )),
            Some(k) if !k.limits.iter().any(|&l| signals::LIMITS[l].id == x.limit) => {
                let ids: Vec<&str> = k.limits.iter().map(|&l| signals::LIMITS[l].id).collect();
                let msg =
                    format!("`{}` is not a limit of {} ({}); its limits: {}", x.limit, k.name, k.kind, ids.join(", "));
                issues.push(Issue::new(format!("{at}.limit"), msg));
            }
            Some(_) => {}
        }
        match (&x.scan, by) {
            (Some(v), Some(_)) if !scans.iter().any(|(k, _)| k.is_some_and(|k| k == v)) => {
                let list: Vec<String> = scans.iter().filter_map(|(k, _)| k.map(plain)).collect();
                issues.push(Issue::new(format!("{at}.scan"), format!("{v} is not a scan; scans: {}", list.join(", "))));
            }
            (None, Some(_)) => {
                issues.push(Issue::new(format!("{at}.scan"), "name the scan (a value of `breakpoints.by`)"))
            }
            (Some(_), None) => issues.push(Issue::new(format!("{at}.scan"), "only with `breakpoints.by`")),
            _ => {}
        }
    }
    Some(plan)
}

/// Replaces the values of the parameters named in `quick.values` with those given there.
fn quick_values(spec: &mut ExperimentSpec, issues: &mut Vec<Issue>) {
    let Some(q) = spec.quick.clone() else { return };
    for (name, values) in q.values {
        let at = format!("quick.values.{name}");
        let names: Vec<String> =
            spec.parameters.iter().map(|p| p.name.clone().unwrap_or_else(|| p.path.clone())).collect();
        let Some(i) = names.iter().position(|n| *n == name) else {
            let msg = format!("`{name}` is not a parameter; parameters: {}", names.join(", "));
            issues.push(Issue::new(at, msg));
            continue;
        };
        let p = &mut spec.parameters[i];
        match values_of(p) {
            Ok(own) if own.len() == values.len() => {
                p.values = Some(values);
                p.range = None;
                p.log_range = None;
            }
            Ok(own) => issues.push(Issue::new(
                at,
                format!(
                    "lists {} values; parameter `{name}` has {} (the quick profile replaces them one for one)",
                    values.len(),
                    own.len()
                ),
            )),
            // The parameter's own problem is reported where it is.
            Err(_) => {}
        }
    }
}

/// One problem: its key (fields and messages), its text as first seen, and the points that
/// have it (index and values).
type FailureGroup = (String, String, Vec<(usize, String)>);

/// Points whose model is refused, grouped by the problem (the same fields and messages at
/// several points are one problem, whichever values the parameters had: a misspelt parameter
/// path is the same mistake at every point), so a sweep of 100,000 points says it once.
#[derive(Default)]
struct PointFailures {
    /// Each distinct problem, in the order first seen.
    groups: Vec<FailureGroup>,
    /// Points refused in all.
    count: usize,
}

impl PointFailures {
    /// Most distinct problems reported; the rest are counted.
    const SHOWN: usize = 3;

    fn add(&mut self, index: usize, params: &[Param], values: &[Value], e: FileError) {
        self.count += 1;
        let desc: Vec<String> = params.iter().zip(values).map(|(p, v)| format!("{}={v}", p.name)).collect();
        let key: Vec<String> = e.issues.iter().map(|i| format!("{} {}", i.path, i.message)).collect();
        let key = key.join("\n");
        let room = self.groups.len() < Self::SHOWN;
        match self.groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, at)) => at.push((index, desc.join(", "))),
            None if room => self.groups.push((key, e.to_string(), vec![(index, desc.join(", "))])),
            None => {}
        }
    }

    fn report(self, issues: &mut Vec<Issue>) {
        let mut shown = 0;
        for (_, text, at) in &self.groups {
            shown += at.len();
            let (index, desc) = &at[0];
            let more = match at.len() {
                1 => String::new(),
                n => format!(" and {} more point(s) with the same problem", n - 1),
            };
            issues.push(Issue::new("parameters", format!("point {index} ({desc}){more}: {text}")));
        }
        if self.count > shown {
            let msg = format!(
                "{} more point(s) are refused with other problems; fix the above and check again",
                self.count - shown
            );
            issues.push(Issue::new("parameters", msg));
        }
    }
}

/// Expands every parameter into its list of values.
fn expand(spec: &ExperimentSpec, issues: &mut Vec<Issue>) -> Vec<Param> {
    let mut out: Vec<Param> = Vec::new();
    if let Err(e) = check_file_name(&spec.name) {
        issues.push(Issue::new("name", e));
    }
    if spec.replications == 0 {
        issues.push(Issue::new("replications", "must be at least 1"));
    }
    for (i, c) in spec.charts.iter().enumerate() {
        if let Some(f) = &c.file
            && let Err(e) = check_file_name(f)
        {
            issues.push(Issue::new(format!("charts.{i}.file"), e));
        }
    }
    for (i, p) in spec.parameters.iter().enumerate() {
        let at = format!("parameters.{i}");
        let name = p.name.clone().unwrap_or_else(|| p.path.clone());
        if out.iter().any(|q| q.name == name) {
            issues.push(Issue::new(format!("{at}.name"), format!("`{name}` is used by another parameter")));
        }
        if let Some(q) = out.iter().find(|q| q.path == p.path) {
            let msg = format!(
                "`{}` is also set by parameter `{}`; one would overwrite the other at every point",
                p.path, q.name
            );
            issues.push(Issue::new(format!("{at}.path"), msg));
        }
        match values_of(p) {
            Ok(values) => out.push(Param { name, path: p.path.clone(), values }),
            Err((field, msg)) => issues.push(Issue::new(format!("{at}{field}"), msg)),
        }
    }
    out
}

fn values_of(p: &ParameterSpec) -> Result<Vec<Value>, (&'static str, String)> {
    let values = match (&p.values, &p.range, &p.log_range) {
        (Some(v), None, None) => v.clone(),
        (None, Some(r), None) => {
            if !(r.step > 0.0 && r.step.is_finite() && r.to >= r.from) {
                return Err((".range", "need step > 0 and to ≥ from".into()));
            }
            let n = ((r.to - r.from) / r.step + 1e-9).floor() + 1.0;
            if n.is_nan() || n > MAX_VALUES as f64 {
                let n = crate::report::labels::sig(n, 3);
                return Err((".range", format!("gives {n} values; at most {MAX_VALUES}")));
            }
            (0..n as usize).map(|k| json_number(r.from + k as f64 * r.step)).collect()
        }
        (None, None, Some(l)) => {
            if !(l.from > 0.0 && l.to > l.from && l.to.is_finite() && l.points >= 2) {
                return Err((".log_range", "need 0 < from < to and points ≥ 2".into()));
            }
            if l.points as usize > MAX_VALUES {
                return Err((".log_range.points", format!("must be at most {MAX_VALUES}")));
            }
            let ratio = (l.to / l.from).powf(1.0 / (l.points - 1) as f64);
            (0..l.points).map(|k| json_number(l.from * ratio.powi(k as i32))).collect()
        }
        _ => return Err(("", "give exactly one of `values`, `range` or `log_range`".into())),
    };
    if values.is_empty() {
        return Err((".values", "must list at least one value".into()));
    }
    if values.len() > MAX_VALUES {
        return Err((".values", format!("lists {} values; at most {MAX_VALUES}", values.len())));
    }
    Ok(values)
}

/// A number as JSON, written as an integer when it is one (so it fits integer model fields).
fn json_number(x: f64) -> Value {
    let r = (x * 1e9).round() / 1e9;
    if r.fract() == 0.0 && r.abs() < 9e15 { Value::from(r as i64) } else { Value::from(r) }
}

/// The points: cross product (last parameter fastest) or zip.
fn combine(spec: &ExperimentSpec, params: &[Param], issues: &mut Vec<Issue>) -> Vec<Vec<Value>> {
    let points = match spec.combine {
        Combine::Cross => params.iter().try_fold(1usize, |n, p| n.checked_mul(p.values.len())),
        Combine::Zip => Some(params.first().map_or(1, |p| p.values.len())),
    };
    let reps = spec.precision.as_ref().map_or(0, |p| p.max_replications).max(spec.replications) as u64;
    match points {
        Some(n) if n <= MAX_POINTS && n as u64 * reps <= MAX_RUNS => {}
        _ => {
            let n = points.map_or("more than 10^19".to_string(), |n| n.to_string());
            issues.push(Issue::new(
                "parameters",
                format!(
                    "{n} points × {reps} replications; at most {MAX_POINTS} points and {MAX_RUNS} runs (each point holds a copy of the model)"
                ),
            ));
            return Vec::new();
        }
    }
    match spec.combine {
        Combine::Cross => params.iter().fold(vec![Vec::new()], |acc, p| {
            acc.iter()
                .flat_map(|prefix| {
                    p.values.iter().map(move |v| {
                        let mut next = prefix.clone();
                        next.push(v.clone());
                        next
                    })
                })
                .collect()
        }),
        Combine::Zip => {
            let n = params.first().map_or(1, |p| p.values.len());
            if params.iter().any(|p| p.values.len() != n) {
                issues.push(Issue::new("combine", "`zip` needs every parameter to have the same number of values"));
                return Vec::new();
            }
            (0..n).map(|k| params.iter().map(|p| p.values[k].clone()).collect()).collect()
        }
    }
}

/// Most reference points in one chart.
const MAX_REFERENCE_POINTS: usize = 100_000;

/// The service names of a model, in time-series column order.
fn skeleton_names(model: &Model) -> Vec<String> {
    model.program.services.iter().map(|s| s.name.clone()).collect()
}

/// A chart's `label`, `censor` and references' `line` must name what exists.
fn check_chart_extras(c: &ChartSpec, at: &str, params: &[Param], metrics: &[String], issues: &mut Vec<Issue>) {
    if let Some(t) = &c.label {
        for name in placeholders(t).filter(|n| !params.iter().any(|p| &p.name == n)) {
            let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
            let msg = format!("`{{{name}}}` is not a parameter; parameters: {}", names.join(", "));
            issues.push(Issue::new(format!("{at}.label"), msg));
        }
    }
    if let Some(k) = &c.censor {
        match (k.at, &k.unless) {
            (Some(v), None) if !(v.is_finite() && v.abs() <= 1e300) => {
                issues.push(Issue::new(format!("{at}.censor.at"), "must be a number within ±1e300"));
            }
            (Some(_), None) => {}
            (None, Some(u)) => {
                if c.kind != ChartKind::Line {
                    issues.push(Issue::new(format!("{at}.censor.unless"), "goes with `kind: line` only"));
                }
                if !metrics.contains(u) {
                    issues.push(Issue::new(format!("{at}.censor.unless"), format!("`{u}` must be one of `metrics`")));
                }
            }
            _ => issues.push(Issue::new(format!("{at}.censor"), "give exactly one of `at` and `unless`")),
        }
    }
    let line_values: Option<Vec<String>> = c
        .lines
        .as_ref()
        .and_then(|l| params.iter().find(|p| &p.name == l))
        .map(|p| p.values.iter().map(super::plain).collect());
    for (k, r) in c.references.iter().enumerate() {
        let Some(want) = &r.line else { continue };
        let msg = match &line_values {
            Some(values) if !values.contains(want) => {
                format!("`{want}` is not a value of `lines`; its values are {}", values.join(", "))
            }
            None if c.also.is_empty() => {
                "`line` names a value of `lines` (or a `legend` name with `also`): give `lines`".to_string()
            }
            None if !c.legend.contains(want) => {
                format!("`{want}` is not a `legend` name (the chart has `also`); its names: {}", c.legend.join(", "))
            }
            _ => continue,
        };
        issues.push(Issue::new(format!("{at}.references.{k}.line"), msg));
    }
}

/// The `{name}` placeholders of a label template.
fn placeholders(t: &str) -> impl Iterator<Item = String> + '_ {
    t.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(n, _)| n.to_string()))
}

/// Metrics, precision and charts must name fields that exist.
fn check_outputs(spec: &ExperimentSpec, params: &[Param], model: &Model, issues: &mut Vec<Issue>) {
    let skeleton = serde_json::to_value(Summary::skeleton(model)).expect("a summary serialises");
    if spec.metrics.is_empty() {
        issues.push(Issue::new("metrics", "list at least one metric, e.g. \"latency_s.e2e.p99\""));
    }
    for (i, m) in spec.metrics.iter().enumerate() {
        if spec.metrics[..i].contains(m) {
            issues.push(Issue::new(format!("metrics.{i}"), format!("`{m}` is listed twice")));
        }
        if !metric_exists(&skeleton, m) {
            issues.push(Issue::new(
                format!("metrics.{i}"),
                format!("`{m}` is not a number in summary.json (see docs/metrics.md)"),
            ));
        }
    }
    if let Some(p) = &spec.precision {
        if !spec.metrics.contains(&p.metric) {
            issues.push(Issue::new("precision.metric", format!("`{}` must be one of `metrics`", p.metric)));
        }
        if p.relative_half_width.is_nan() || p.relative_half_width <= 0.0 {
            issues.push(Issue::new("precision.relative_half_width", "must be > 0"));
        }
        if p.max_replications < spec.replications.max(2) {
            issues.push(Issue::new("precision.max_replications", "must be ≥ replications and ≥ 2"));
        }
    }
    let is_param = |n: &str| params.iter().any(|p| p.name == n);
    let is_metric = |n: &String| spec.metrics.contains(n);
    let mut columns =
        crate::report::timeseries::columns(&skeleton_names(model), &crate::report::timeseries::kind_columns(model));
    // An alarm's state (1 in ALARM, 0 OK) can be drawn like a column.
    columns.extend(model.alarms.iter().map(|a| format!("alarms.{}", a.name)));
    for (i, c) in spec.charts.iter().enumerate() {
        let at = format!("charts.{i}");
        if c.legend.len() > 1 + c.also.len() {
            issues.push(Issue::new(format!("{at}.legend"), "gives more names than `y` and `also` have lines"));
        }
        let finite = |v: f64| v.is_finite() && v.abs() <= 1e300;
        if let Some([lo, hi]) = c.y_range
            && !(finite(lo) && finite(hi) && lo < hi && (!c.log_y || lo > 0.0))
        {
            let msg = "must be [low, high] with low < high, both within ±1e300 (and low > 0 with log_y)";
            issues.push(Issue::new(format!("{at}.y_range"), msg));
        }
        if let Some([lo, hi]) = c.x_range
            && !(finite(lo) && finite(hi) && lo < hi)
        {
            issues.push(Issue::new(format!("{at}.x_range"), "must be [low, high] with low < high, both within ±1e300"));
        }
        if let Some(sh) = &c.shade
            && !(finite(sh.from) && finite(sh.to) && sh.from < sh.to)
        {
            issues.push(Issue::new(format!("{at}.shade"), "needs from < to, both within ±1e300"));
        }
        let points: usize = c.references.iter().map(|r| r.points.len()).sum();
        if points > MAX_REFERENCE_POINTS {
            let msg = format!("{points} reference points; at most {MAX_REFERENCE_POINTS} per chart (each is drawn)");
            issues.push(Issue::new(format!("{at}.references"), msg));
        }
        for (k, r) in c.references.iter().enumerate() {
            if r.points.iter().flatten().any(|&v| !finite(v)) {
                issues.push(Issue::new(
                    format!("{at}.references.{k}.points"),
                    "every x and y must be a number within ±1e300",
                ));
            }
        }
        if c.per_second && c.kind != ChartKind::Timeseries {
            issues.push(Issue::new(format!("{at}.per_second"), "goes with `kind: timeseries` only"));
        }
        if c.per.is_some() && (c.kind != ChartKind::Timeseries || c.per_second) {
            issues
                .push(Issue::new(format!("{at}.per"), "goes with `kind: timeseries` only, and not with `per_second`"));
        }
        if c.average && c.kind != ChartKind::Timeseries {
            issues.push(Issue::new(format!("{at}.average"), "goes with `kind: timeseries` only"));
        }
        check_chart_extras(c, &at, params, &spec.metrics, issues);
        for (name, want) in c.at.iter().flatten() {
            if let Some(p) = params.iter().find(|p| &p.name == name)
                && !p.values.iter().any(|v| super::plain(v) == super::plain(want))
            {
                let vals: Vec<String> = p.values.iter().map(super::plain).collect();
                let msg = format!(
                    "`{name}` never takes the value {}; its values are {}",
                    super::plain(want),
                    vals.join(", ")
                );
                issues.push(Issue::new(format!("{at}.at.{name}"), msg));
            }
        }
        let file = c.file.clone().unwrap_or_else(|| format!("chart-{}", i + 1));
        if spec.charts[..i]
            .iter()
            .enumerate()
            .any(|(j, o)| o.file.clone().unwrap_or_else(|| format!("chart-{}", j + 1)) == file)
        {
            issues.push(Issue::new(format!("{at}.file"), format!("another chart is already written to `{file}`")));
        }
        for k in c.at.iter().flat_map(|a| a.keys()).filter(|k| !is_param(k)) {
            issues.push(Issue::new(format!("{at}.at.{k}"), format!("`{k}` is not a parameter name")));
        }
        if c.kind == ChartKind::Timeseries {
            for (field, col) in std::iter::once(("y".to_string(), &c.y))
                .chain(c.also.iter().enumerate().map(|(k, a)| (format!("also.{k}"), a)))
                .chain(c.per.iter().map(|p| ("per".to_string(), p)))
            {
                if !columns.contains(col) {
                    let msg = format!("`{col}` is not a timeseries.csv column; columns are: {}", columns.join(", "));
                    issues.push(Issue::new(format!("{at}.{field}"), msg));
                }
            }
            if let Some(l) = &c.lines
                && !is_param(l)
            {
                issues.push(Issue::new(format!("{at}.lines"), format!("`{l}` is not a parameter name")));
            }
            continue;
        }
        if !is_metric(&c.y) {
            issues.push(Issue::new(format!("{at}.y"), format!("`{}` must be one of `metrics`", c.y)));
        }
        for (k, a) in c.also.iter().enumerate().filter(|(_, a)| !is_metric(a)) {
            issues.push(Issue::new(format!("{at}.also.{k}"), format!("`{a}` must be one of `metrics`")));
        }
        if !c.also.is_empty() && c.lines.is_some() && c.kind != ChartKind::Bars {
            issues.push(Issue::new(format!("{at}.also"), "give `also` (one line per metric) or `lines`, not both"));
        }
        let x_ok = match c.kind {
            ChartKind::Line => is_param(&c.x) || is_metric(&c.x),
            ChartKind::Pareto => is_metric(&c.x),
            ChartKind::Timeseries | ChartKind::Bars => true,
        };
        if c.kind == ChartKind::Bars {
            let drawn_as_lines = !c.references.is_empty()
                || c.censor.is_some()
                || c.panels
                || c.log_x
                || c.log_y
                || c.shade.is_some()
                || c.x_range.is_some()
                || c.y_range.is_some();
            if drawn_as_lines {
                let msg =
                    "`kind: bars` takes none of references, censor, panels, log_x, log_y, shade, x_range, y_range";
                issues.push(Issue::new(at.clone(), msg));
            }
        }
        if !x_ok {
            issues
                .push(Issue::new(format!("{at}.x"), format!("`{}` must be a parameter name or one of `metrics`", c.x)));
        }
        if let Some(l) = &c.lines
            && !is_param(l)
        {
            issues.push(Issue::new(format!("{at}.lines"), format!("`{l}` is not a parameter name")));
        }
    }
}
