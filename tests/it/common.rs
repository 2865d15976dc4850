//! Helpers: build models from JSON values, run them (simulation, then report), run replications
//! in parallel, read summary fields.

use capsim::engine::rng::replication_seed;
use capsim::model::{Model, load_str};
use capsim::report::output::RunOutput;
use capsim::stats::{Interval, t_interval};
use rayon::prelude::*;
use serde_json::Value;

/// Checks a model given as JSON, panicking with the full error if it is invalid.
pub fn model(v: &Value) -> Model {
    load_str("test-model", &v.to_string(), &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `m` and builds its outputs, as `capsim run` does.
pub fn run(m: &Model) -> RunOutput {
    RunOutput::build(m, capsim::sim::run(m))
}

/// Runs `reps` replications of `m` with seeds derived from 1000 and returns each metric.
pub fn replicate(m: &Model, reps: u64, metric: impl Fn(&RunOutput) -> f64 + Sync) -> Vec<f64> {
    (0..reps)
        .into_par_iter()
        .map(|k| {
            let mut mk = m.clone();
            mk.seed = replication_seed(1000, k);
            metric(&run(&mk))
        })
        .collect()
}

/// The 95 % interval of `metric` over `reps` replications.
pub fn interval(m: &Model, reps: u64, metric: impl Fn(&RunOutput) -> f64 + Sync) -> Interval {
    t_interval(&replicate(m, reps, metric), 0.95)
}

/// Asserts that `expected` lies in the interval and that the interval is at most `max_rel`
/// of `expected` wide (half-width), so that the check can fail.
pub fn assert_covers(what: &str, i: Interval, expected: f64, max_rel: f64) {
    let rel = i.half_width / expected.abs();
    eprintln!(
        "{what}: expected {expected:.6}, got {:.6} ± {:.6} (n = {}, ±{:.2} %)",
        i.mean,
        i.half_width,
        i.n,
        rel * 100.0
    );
    assert!(
        rel <= max_rel,
        "{what}: interval ±{:.3} % is wider than the ±{:.3} % the test needs",
        rel * 100.0,
        max_rel * 100.0
    );
    assert!(i.contains(expected), "{what}: {expected} outside {:.6} ± {:.6}", i.mean, i.half_width);
}

/// A station summary field as f64.
pub fn station(out: &RunOutput, name: &str, field: &str) -> f64 {
    let v = serde_json::to_value(&out.summary.stations[name]).unwrap();
    v[field].as_f64().unwrap_or_else(|| panic!("no field {field}"))
}

/// Relative difference |a − b| / |b|.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// A constant distribution of `v` (seconds, or a count).
pub fn constant(v: f64) -> Value {
    serde_json::json!({"dist": "constant", "value": v})
}

/// The fields of one CSV line; a double-quoted field may hold commas and "" for a quote.
pub fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (ch, _) => fields.last_mut().unwrap().push(ch),
        }
    }
    fields
}
