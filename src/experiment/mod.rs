//! Experiments: a model swept over parameter points × replications, in parallel, with
//! confidence intervals, optional run-length control, sharding across machines and merging.

pub mod breakpoints;
pub mod chart;
pub mod claims;
pub mod output;
pub mod replicate;
pub mod shard;
pub mod spec;
pub mod sweep;
mod validate;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use spec::ExperimentSpec;
pub use validate::{Profile, load, load_profile, load_text};

use crate::model::{Model, Override};

/// A varied parameter with its values expanded.
#[derive(Clone, Debug)]
pub struct Param {
    /// Column and legend name.
    pub name: String,
    /// Dotted path into the model.
    pub path: String,
    pub values: Vec<Value>,
}

/// One point of the sweep: a value for each parameter.
#[derive(Clone, Debug)]
pub struct Point {
    pub index: usize,
    /// Parallel to `Experiment::params`.
    pub values: Vec<Value>,
    /// The checked model at this point.
    pub model: Model,
}

/// A checked experiment.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The spec as read (written beside the outputs as experiment.resolved.json).
    pub spec: ExperimentSpec,
    /// The experiment file and the model file it names.
    pub file: PathBuf,
    pub model_path: PathBuf,
    pub params: Vec<Param>,
    pub points: Vec<Point>,
    /// With `breakpoints`: the components and alarms each run's limit signals are read for.
    pub plan: Option<breakpoints::Plan>,
}

impl Experiment {
    /// Index of the parameter called `name`.
    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// Index of `metric` in `spec.metrics`.
    pub fn metric_index(&self, metric: &str) -> Option<usize> {
        self.spec.metrics.iter().position(|m| m == metric)
    }

    /// "name=value, …" for a point, for progress lines and errors.
    pub fn describe(&self, point: &Point) -> String {
        let parts: Vec<String> =
            self.params.iter().zip(&point.values).map(|(p, v)| format!("{}={}", p.name, plain(v))).collect();
        parts.join(", ")
    }
}

/// A JSON value as plain text: strings without quotes.
pub fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The overrides that make the model of a point: the experiment's `set`, duration, warm-up,
/// then the point's parameter values.
pub fn point_overrides(spec: &ExperimentSpec, params: &[Param], values: &[Value]) -> Vec<Override> {
    // Each override names where it came from, so a problem with its value is reported there.
    let mut o: Vec<Override> = spec
        .set
        .iter()
        .map(|(path, value)| Override::from_flag(path, &format!("set {path} ="), value.clone()))
        .collect();
    if let Some(d) = spec.duration {
        o.push(Override::from_flag("run.duration", "duration", d.0));
    }
    if let Some(w) = spec.warmup {
        o.push(Override::from_flag("run.warmup", "warmup", w.0));
    }
    o.extend(
        params
            .iter()
            .zip(values)
            .map(|(p, v)| Override::from_flag(&p.path, &format!("parameter {} =", p.name), v.clone())),
    );
    o
}

/// Looks a dotted path up in a summary turned into JSON (`None` if absent or null: a figure
/// with no data, such as the latency of a run in which nothing completed).
pub fn metric(summary: &Value, path: &str) -> Option<f64> {
    path.split('.').try_fold(summary, |v, seg| v.get(seg))?.as_f64()
}

/// Whether `path` names a figure of the summary: a number, or null where it had no data.
pub fn metric_exists(summary: &Value, path: &str) -> bool {
    path.split('.').try_fold(summary, |v, seg| v.get(seg)).is_some_and(|v| v.is_number() || v.is_null())
}

/// The model file named by an experiment, relative to the experiment file's folder.
pub fn resolve_model_path(experiment_file: &Path, model: &str) -> PathBuf {
    let p = Path::new(model);
    if p.is_absolute() { p.to_path_buf() } else { experiment_file.parent().unwrap_or(Path::new(".")).join(p) }
}
