//! `capsim breakpoints`: "at 10× load, what breaks first?" — the model run at a row of load
//! values (replications under common random numbers at each, in parallel), every component's
//! "limit crossed" signals read from each run, and the components listed in the order their
//! limits are crossed, with the first alarm each trips (breakpoints.csv, breakpoints.json,
//! points.csv and a chart).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::Value;

use super::common::ModelArgs;
use crate::experiment::breakpoints::signals::{self, LIMITS};
use crate::experiment::breakpoints::{self as bp, Plan, Setup, output};
use crate::experiment::replicate::replicate_with;
use crate::model::limits::{MAX_BREAKPOINT_POINTS, MAX_BREAKPOINT_RUNS, MAX_SEARCH_SIMULATED_S};
use crate::model::{Model, Override};
use crate::report::charts::Chart;
use crate::report::labels::param_label;

/// Arguments of `capsim breakpoints`.
#[derive(Args, Debug)]
pub struct BreakpointsArgs {
    #[command(flatten)]
    pub common: ModelArgs,
    /// Dotted path of the load to vary, as for --set (e.g. sources.arrivals.rate or
    /// sessions.shoppers.users).
    #[arg(long)]
    pub vary: String,
    /// The lowest load.
    #[arg(long)]
    pub from: f64,
    /// The highest load.
    #[arg(long)]
    pub to: f64,
    /// Loads from --from to --to, evenly spaced, ends included (default 10).
    #[arg(long, conflicts_with = "step")]
    pub points: Option<usize>,
    /// Instead of --points: --from, --from + STEP, … up to --to.
    #[arg(long)]
    pub step: Option<f64>,
    /// A limit's threshold, e.g. --limit llm.quota=0.01 (ids in docs/experiments.md); repeat.
    #[arg(long = "limit", value_name = "ID=VALUE", value_parser = parse_limit)]
    pub limit: Vec<(usize, f64)>,
    /// The load's unit on the x axis, e.g. "messages/s" (reads "load [messages/s]"); a label
    /// with its own [unit] is used as written. Default: the varied field in words.
    #[arg(long)]
    pub load_label: Option<String>,
}

/// clap value parser for `--limit ID=VALUE`.
fn parse_limit(s: &str) -> Result<(usize, f64), String> {
    let (id, v) = s.split_once('=').ok_or_else(|| format!("`{s}` is not of the form ID=VALUE"))?;
    let i = signals::limit_index(id.trim()).ok_or_else(|| {
        let ids: Vec<&str> = LIMITS.iter().map(|l| l.id).collect();
        format!("`{}` is not a limit; the limits are: {}", id.trim(), ids.join(", "))
    })?;
    let x: f64 = v.trim().parse().map_err(|_| format!("`{}` is not a number in `{s}`", v.trim()))?;
    if !x.is_finite() || x < 0.0 {
        return Err(format!("the threshold in `{s}` must be a finite number ≥ 0"));
    }
    Ok((i, x))
}

/// The loads to run, checked against the bounds; whole numbers when `integer`.
fn loads(a: &BreakpointsArgs, integer: bool) -> Result<Vec<f64>> {
    if !a.from.is_finite() || !a.to.is_finite() || a.from >= a.to {
        bail!("--from ({}) must be a finite number below --to ({})", a.from, a.to);
    }
    let max = MAX_BREAKPOINT_POINTS;
    let mut xs: Vec<f64> = match a.step {
        Some(s) if !(s.is_finite() && s > 0.0) => bail!("--step must be a positive number, got {s}"),
        Some(s) => {
            let n = ((a.to - a.from) / s * (1.0 + 1e-12)).floor() + 1.0;
            if n > max as f64 {
                bail!("--step {s} from {} to {} makes {n} loads; at most {max} (MAX_BREAKPOINT_POINTS)", a.from, a.to);
            }
            (0..n as usize).map(|i| a.from + i as f64 * s).collect()
        }
        None => {
            let n = a.points.unwrap_or(10);
            if !(2..=max).contains(&n) {
                bail!("--points must be from 2 to {max} (MAX_BREAKPOINT_POINTS), got {n}");
            }
            (0..n).map(|i| a.from + (a.to - a.from) * i as f64 / (n - 1) as f64).collect()
        }
    };
    if integer {
        xs.iter_mut().for_each(|x| *x = x.round());
        xs.dedup();
    }
    Ok(xs)
}

/// Whether the model's value at `path` is a whole number and the flags keep it one.
fn integer_path(base: &Model, a: &BreakpointsArgs) -> Result<bool> {
    let spec = serde_json::to_value(&base.spec)?;
    let current = a.vary.split('.').try_fold(&spec, |v, k| v.get(k).or_else(|| v.get(k.parse::<usize>().ok()?)));
    let whole = |x: f64| x.fract() == 0.0;
    Ok(current.is_some_and(|v| v.is_u64() || v.is_i64()) && whole(a.from) && whole(a.to) && a.step.is_none_or(whole))
}

/// The model at each load, every one checked before anything runs.
fn models(a: &BreakpointsArgs, xs: &[f64], integer: bool) -> Result<Vec<Model>> {
    xs.iter()
        .map(|&x| {
            let v: Value = if integer { Value::from(x as i64) } else { Value::from(x) };
            a.common
                .load(&[Override::from_flag(&a.vary, "--vary", v)])
                .with_context(|| format!("--vary {}={x}", a.vary))
        })
        .collect()
}

/// Refuses a scan past the bounds on runs and on simulated time.
fn check_budget(models: &[Model], reps: usize) -> Result<()> {
    let runs = models.len() as u64 * reps as u64;
    if runs > MAX_BREAKPOINT_RUNS {
        bail!(
            "{} loads × {reps} replications = {runs} runs; at most {MAX_BREAKPOINT_RUNS} (MAX_BREAKPOINT_RUNS)",
            models.len()
        );
    }
    let simulated: f64 = models.iter().map(|m| m.duration.as_secs() * reps as f64).sum();
    if simulated > MAX_SEARCH_SIMULATED_S {
        bail!(
            "the scan would simulate {:.1} years over all runs; at most {} (MAX_SEARCH_SIMULATED_S): shorten --duration or run fewer points",
            simulated / (365.25 * 86_400.0),
            MAX_SEARCH_SIMULATED_S / (365.25 * 86_400.0)
        );
    }
    Ok(())
}

/// The x axis' label.
fn x_label(a: &BreakpointsArgs) -> String {
    match &a.load_label {
        Some(l) if l.contains('[') => l.clone(),
        Some(l) => format!("load [{l}]"),
        None => param_label(&a.vary),
    }
}

/// Runs the scan and writes its outputs.
pub fn breakpoints(a: BreakpointsArgs) -> Result<()> {
    let base = a.common.load(&[])?;
    let integer = integer_path(&base, &a)?;
    let xs = loads(&a, integer)?;
    let ms = models(&a, &xs, integer)?;
    check_budget(&ms, a.common.replications)?;
    let plan = Plan::of(&ms[0]);
    let c = &a.common;
    let runs = replicate_with(&ms, c.replications, c.seed, c.threads, |m, o| {
        plan.read(m, &o, &serde_json::to_value(&o.summary).unwrap_or_default())
    })?;
    let mut thresholds: Vec<f64> = LIMITS.iter().map(|l| l.threshold).collect();
    a.limit.iter().for_each(|&(i, x)| thresholds[i] = x);
    let label = x_label(&a);
    let setup = Setup {
        plan: &plan,
        vary: a.vary.clone(),
        load_label: label.clone(),
        loads: xs,
        replications: c.replications,
        seed: c.seed,
        thresholds,
    };
    let result = bp::analyse(&setup, &runs);
    let dir = c.out.clone().unwrap_or_else(|| PathBuf::from("output").join(format!("{}-breakpoints", base.spec.name)));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join("breakpoints.json"), serde_json::to_string_pretty(&result)? + "\n")?;
    std::fs::write(dir.join("breakpoints.csv"), output::crossings_csv(&result))?;
    std::fs::write(dir.join("points.csv"), output::points_csv(&result))?;
    let chart = bp::chart::chart(&result, &label, !base.alarms.is_empty(), ("breakpoints.csv", "points.csv"));
    let written = chart.save_both(&dir, "breakpoints")?;
    crate::say_raw!("{}", output::table(&result));
    crate::say!("wrote {}/breakpoints.json, breakpoints.csv, points.csv", dir.display());
    for w in written {
        crate::say!("wrote {}", w.display());
    }
    Ok(())
}
