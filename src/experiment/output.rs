//! Sweep outputs — points.csv, sweep.json, experiment.resolved.json and charts — and the
//! reverse: reading shard outputs back and merging them into what one run would have written.
//!
//! sweep.json keeps every replication's value of every metric, so a merge recomputes means and
//! intervals from the same numbers and writes the same bytes as an unsharded sweep.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::breakpoints::{Plan, RunReading};
use super::claims::{self, ClaimResult};
use super::shard::Shard;
use super::spec::ExperimentSpec;
use super::sweep::PointResult;
use super::{Param, plain};
use crate::stats::{Interval, t_interval};

/// Everything the writers need: the experiment, its parameters, every point's values, results.
pub struct Table {
    pub spec: ExperimentSpec,
    pub params: Vec<Param>,
    /// Parameter values of every point of the whole sweep, by point index.
    pub point_values: Vec<Vec<Value>>,
    /// Results of the points run (all of them, or one shard's).
    pub results: Vec<PointResult>,
    pub shard: Shard,
    /// With `breakpoints`: the components and alarms the readings are of.
    pub plan: Option<Plan>,
}

impl Table {
    pub(super) fn interval(&self, r: &PointResult, m: usize) -> Interval {
        t_interval(&r.values[m], 0.95)
    }

    /// points.csv: one row per point: its parameters, then mean, 95 % half-width and n per metric.
    pub fn csv(&self) -> String {
        let mut o = String::from("point");
        for p in &self.params {
            let _ = write!(o, ",{}", csv_field(&p.name));
        }
        for m in &self.spec.metrics {
            let _ = write!(o, ",{m}.mean,{m}.ci95,{m}.n");
        }
        o.push('\n');
        for r in &self.results {
            let _ = write!(o, "{}", r.index);
            for v in &self.point_values[r.index] {
                let _ = write!(o, ",{}", csv_field(&plain(v)));
            }
            for m in 0..self.spec.metrics.len() {
                let i = self.interval(r, m);
                let _ = write!(o, ",{},{},{}", i.mean, i.half_width, i.n);
            }
            o.push('\n');
        }
        o
    }

    /// sweep.json.
    pub fn json(&self) -> Value {
        let points: Vec<Value> = self
            .results
            .iter()
            .map(|r| {
                let params: serde_json::Map<String, Value> = self
                    .params
                    .iter()
                    .zip(&self.point_values[r.index])
                    .map(|(p, v)| (p.name.clone(), v.clone()))
                    .collect();
                let metrics: serde_json::Map<String, Value> = self
                    .spec
                    .metrics
                    .iter()
                    .enumerate()
                    .map(|(m, name)| {
                        let i = self.interval(r, m);
                        (name.clone(), json!({"mean": i.mean, "ci95": i.half_width, "n": i.n, "values": r.values[m]}))
                    })
                    .collect();
                let mut point = json!({"index": r.index, "params": params, "metrics": metrics});
                if r.series.iter().any(|s| !s.is_empty()) {
                    point["series"] = json!(r.series);
                }
                if self.plan.is_some() {
                    point["readings"] = json!(r.readings);
                }
                point
            })
            .collect();
        let parameters: Vec<Value> =
            self.params.iter().map(|p| json!({"name": p.name, "path": p.path, "values": p.values})).collect();
        let mut doc = json!({
            "experiment": self.spec.name,
            "model": self.spec.model,
            "seed": self.spec.seed,
            "metrics": self.spec.metrics,
            "parameters": parameters,
            "point_count": self.point_values.len(),
            "points": points,
        });
        if !self.shard.is_whole() {
            doc["shard"] = json!({"index": self.shard.index + 1, "count": self.shard.count});
        }
        if let Some(p) = &self.plan {
            doc["breakpoints"] = json!(p);
        }
        doc
    }

    /// Writes every output into `dir`; charts only for a whole sweep. Returns the files written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut written = Vec::new();
        let mut put = |name: &str, text: String| -> Result<()> {
            let p = dir.join(name);
            std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
            written.push(p);
            Ok(())
        };
        put("points.csv", self.csv())?;
        put("sweep.json", serde_json::to_string_pretty(&self.json())? + "\n")?;
        put("experiment.resolved.json", serde_json::to_string_pretty(&self.spec)? + "\n")?;
        if self.shard.is_whole() && !self.spec.claims.is_empty() {
            put("claims.csv", claims::csv(&self.claims()))?;
        }
        if self.shard.is_whole() {
            for (k, c) in self.spec.charts.iter().enumerate() {
                let stem = c.file.clone().unwrap_or_else(|| format!("chart-{}", k + 1));
                written.extend(self.figure(c).save_both(dir, &stem)?);
            }
            for scan in self.scans() {
                written.extend(scan.write(dir)?);
            }
        }
        Ok(written)
    }

    /// Every claim of the experiment checked against these results (a whole sweep's).
    pub fn claims(&self) -> Vec<ClaimResult> {
        let mut ignored = Vec::new(); // validated when the experiment was loaded
        let scans = self.scans();
        claims::check(&self.spec, &self.params, &self.point_values, &mut ignored)
            .iter()
            .map(|c| claims::evaluate(c, &self.params, &self.point_values, &self.results, &scans))
            .collect()
    }
}

/// Quotes a CSV field when it needs it.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// Reads a sweep output folder back into a table.
pub fn read(dir: &Path) -> Result<Table> {
    let read = |name: &str| -> Result<String> {
        let p = dir.join(name);
        std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))
    };
    let spec: ExperimentSpec = serde_json::from_str(&read("experiment.resolved.json")?)
        .with_context(|| format!("{}/experiment.resolved.json is not an experiment", dir.display()))?;
    let doc: Value = serde_json::from_str(&read("sweep.json")?).with_context(|| {
        format!(
            "{}/sweep.json is cut short or is not JSON (was its shard still running?); run that shard again",
            dir.display()
        )
    })?;
    let bad = || format!("{}/sweep.json is not a capsim sweep", dir.display());
    let params: Vec<Param> = doc["parameters"]
        .as_array()
        .with_context(bad)?
        .iter()
        .map(|p| Param {
            name: plain(&p["name"]),
            path: plain(&p["path"]),
            values: p["values"].as_array().cloned().unwrap_or_default(),
        })
        .collect();
    let n = doc["point_count"].as_u64().with_context(bad)? as usize;
    let mut point_values = vec![Vec::new(); n];
    let mut results = Vec::new();
    for p in doc["points"].as_array().with_context(bad)? {
        let index = p["index"].as_u64().with_context(bad)? as usize;
        if index >= n {
            bail!("{}: point {index} is outside the sweep's {n} points", bad());
        }
        point_values[index] = params.iter().map(|q| p["params"][&q.name].clone()).collect();
        let values = spec
            .metrics
            .iter()
            // A replication without the figure (NaN, written as null) stays one, so a merged or
            // read-back table computes what the run computed.
            .map(|m| {
                p["metrics"][m]["values"].as_array().map(|a| a.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect())
            })
            .collect::<Option<Vec<Vec<f64>>>>()
            .with_context(bad)?;
        let series: Vec<Vec<Vec<(f64, f64)>>> = serde_json::from_value(p["series"].clone()).unwrap_or_default();
        let readings: Vec<RunReading> = match p.get("readings") {
            Some(r) => serde_json::from_value(r.clone()).with_context(bad)?,
            None => Vec::new(),
        };
        results.push(PointResult { index, values, series, readings });
    }
    let shard = match doc.get("shard") {
        Some(s) => {
            let (k, n) = (s["index"].as_u64().unwrap_or(0), s["count"].as_u64().unwrap_or(0));
            if k == 0 || k > n {
                bail!("{}: shard {k} of {n} is not a valid shard", bad());
            }
            Shard { index: k as usize - 1, count: n as usize }
        }
        None => Shard::default(),
    };
    let plan: Option<Plan> = match doc.get("breakpoints") {
        Some(b) => Some(serde_json::from_value(b.clone()).with_context(bad)?),
        None => None,
    };
    if spec.breakpoints.is_some() != plan.is_some() {
        bail!("{}: its breakpoint readings do not match its experiment", bad());
    }
    Ok(Table { spec, params, point_values, results, shard, plan })
}

/// Joins shard folders into one table: same experiment everywhere, every point exactly once.
pub fn merge(dirs: &[PathBuf]) -> Result<Table> {
    let mut tables = dirs.iter().map(|d| read(d)).collect::<Result<Vec<_>>>()?;
    let Some(mut first) = (!tables.is_empty()).then(|| tables.remove(0)) else {
        bail!("give at least one folder to merge")
    };
    let spec_json = serde_json::to_string(&first.spec)?;
    // Each point's result, and the folder it came from.
    let mut by_index: BTreeMap<usize, (PointResult, usize)> = BTreeMap::new();
    for (k, t) in std::iter::once(&mut first).chain(tables.iter_mut()).enumerate() {
        if serde_json::to_string(&t.spec)? != spec_json {
            bail!("{} was made by a different experiment than {}", dirs[k].display(), dirs[0].display());
        }
        for r in t.results.drain(..) {
            let index = r.index;
            if let Some((_, j)) = by_index.insert(index, (r, k)) {
                let (a, b) = (dirs[j].display(), dirs[k].display());
                bail!("point {index} is in both {a} and {b} (the same shard given twice?)");
            }
        }
    }
    for t in &tables {
        for (i, v) in t.point_values.iter().enumerate() {
            if !v.is_empty() {
                first.point_values[i] = v.clone();
            }
        }
    }
    let n = first.point_values.len();
    let missing: Vec<usize> = (0..n).filter(|i| !by_index.contains_key(i)).collect();
    if !missing.is_empty() {
        bail!("{} of {n} points are missing (first: point {}); merge every shard", missing.len(), missing[0]);
    }
    first.results = by_index.into_values().map(|(r, _)| r).collect();
    first.shard = Shard::default();
    Ok(first)
}

impl Table {
    /// The table of a sweep just run.
    pub fn from_run(exp: &super::Experiment, results: Vec<PointResult>, shard: Shard) -> Table {
        Table {
            spec: exp.spec.clone(),
            params: exp.params.clone(),
            point_values: exp.points.iter().map(|p| p.values.clone()).collect(),
            results,
            shard,
            plan: exp.plan.clone(),
        }
    }
}
