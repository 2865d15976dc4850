//! Parallel replications of single models, for `compare` and `capacity`: replication k of every
//! configuration uses the same seed (common random numbers).

use anyhow::Result;
use rayon::prelude::*;
use serde_json::Value;

use crate::engine::rng::replication_seed;
use crate::model::Model;
use crate::report::output::RunOutput;
use crate::sim::run;

/// Runs `reps` replications of each model on `threads` threads (0: one per core); the result
/// is indexed `[model][replication]` whatever the thread count.
pub fn replicate(models: &[Model], reps: usize, seed: u64, threads: usize) -> Result<Vec<Vec<RunOutput>>> {
    replicate_with(models, reps, seed, threads, |_, o| o)
}

/// As [`replicate`], keeping only what `keep` takes from each run's outputs (a few figures
/// instead of every run's histograms and time series), as `keep(model, outputs)`.
pub fn replicate_with<T: Send>(
    models: &[Model],
    reps: usize,
    seed: u64,
    threads: usize,
    keep: impl Fn(&Model, RunOutput) -> T + Sync,
) -> Result<Vec<Vec<T>>> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).stack_size(crate::sim::RUN_STACK_BYTES).build()?;
    let tasks: Vec<(usize, usize)> = (0..models.len()).flat_map(|m| (0..reps).map(move |r| (m, r))).collect();
    let mut outs: Vec<T> = pool.install(|| {
        tasks
            .par_iter()
            .map(|&(m, r)| {
                let mut model = models[m].clone();
                model.seed = replication_seed(seed, r as u64);
                let out = RunOutput::build(&model, run(&model));
                keep(&model, out)
            })
            .collect()
    });
    let mut grouped = Vec::new();
    for _ in 0..models.len() {
        let rest = outs.split_off(reps);
        grouped.push(std::mem::replace(&mut outs, rest));
    }
    Ok(grouped)
}

/// Every numeric leaf of a summary as (dotted path, value), in document order; run bookkeeping
/// (engine, seed, simulated time) left out.
pub fn numeric_leaves(summary: &Value) -> Vec<(String, f64)> {
    fn walk(v: &Value, path: &str, out: &mut Vec<(String, f64)>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    walk(child, &p, out);
                }
            }
            Value::Number(n) => out.extend(n.as_f64().map(|x| (path.to_string(), x))),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(summary, "", &mut out);
    let skip = ["engine.", "seed", "simulated_s", "warmup_s", "measured_s", "status."];
    out.retain(|(p, _)| !skip.iter().any(|s| p.starts_with(s)));
    out
}
