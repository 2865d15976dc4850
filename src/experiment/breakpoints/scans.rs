//! Breakpoints in an experiment: its points grouped into scans of a growing load (one per value
//! of `breakpoints.by`, or all of them), each analysed as `capsim breakpoints` analyses its runs
//! and written beside the sweep's outputs (breakpoints[-SCAN].json, .csv, _points.csv and a
//! chart).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

use super::signals::{LIMITS, limit_index};
use super::{Breakpoints, Setup, analyse, chart, output};
use crate::experiment::output::Table;
use crate::experiment::plain;
use crate::report::charts::Chart;
use crate::report::labels::param_label;

/// One scan of an experiment, analysed.
pub struct Scan {
    /// The `by` parameter's value (None without `by`).
    pub key: Option<Value>,
    pub result: Breakpoints,
    /// The load axis' label.
    pub x_label: String,
    /// Whether the model has alarms (the chart then says when none watches a component).
    pub has_alarms: bool,
}

/// The files' stem of the scan whose `by` value is `key`.
pub fn stem(key: Option<&Value>) -> String {
    match key {
        None => "breakpoints".into(),
        Some(v) => {
            let slug: String = plain(v)
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
                .collect();
            format!("breakpoints-{slug}")
        }
    }
}

impl Scan {
    /// The files' stem: `breakpoints`, or `breakpoints-<scan>` (its value in lower case, other
    /// characters than letters and digits as `_`).
    pub fn stem(&self) -> String {
        stem(self.key.as_ref())
    }

    /// The chart's title.
    pub fn title(&self) -> String {
        self.chart().title
    }

    /// The scan's chart, its note naming the scan's CSV files.
    fn chart(&self) -> crate::report::breakpoint_chart::BreakpointChart {
        let stem = self.stem();
        let files = (format!("{stem}.csv"), format!("{stem}_points.csv"));
        chart::chart(&self.result, &self.x_label, self.has_alarms, (&files.0, &files.1))
    }

    /// Writes the scan's files into `dir`; returns them.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let stem = self.stem();
        let mut written = Vec::new();
        for (name, text) in [
            (format!("{stem}.json"), serde_json::to_string_pretty(&self.result)? + "\n"),
            (format!("{stem}.csv"), output::crossings_csv(&self.result)),
            (format!("{stem}_points.csv"), output::points_csv(&self.result)),
        ] {
            let p = dir.join(name);
            std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
            written.push(p);
        }
        let c = self.chart();
        written.extend(c.save_both(dir, &stem)?);
        Ok(written)
    }
}

impl Table {
    /// The experiment's scans, analysed (none without `breakpoints`, or for a shard).
    pub fn scans(&self) -> Vec<Scan> {
        let (Some(spec), Some(plan)) = (&self.spec.breakpoints, &self.plan) else { return Vec::new() };
        if !self.shard.is_whole() {
            return Vec::new();
        }
        let Some(load) = self.params.iter().position(|p| p.name == spec.load) else { return Vec::new() };
        let by = spec.by.as_ref().and_then(|b| self.params.iter().position(|p| p.name == *b));
        let mut keys: Vec<Option<Value>> = Vec::new();
        for r in &self.results {
            let k = by.map(|b| self.point_values[r.index][b].clone());
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let mut thresholds: Vec<f64> = LIMITS.iter().map(|l| l.threshold).collect();
        for (id, &x) in &spec.limits {
            if let Some(i) = limit_index(id) {
                thresholds[i] = x;
            }
        }
        let param = &self.params[load];
        let x_label = match (&spec.load_label, spec.relative) {
            (Some(l), _) => l.clone(),
            (None, true) => format!("{} (× the lowest load of the scan)", param.name),
            (None, false) => param_label(&param.path),
        };
        keys.into_iter()
            .map(|key| {
                let mine: Vec<_> = self
                    .results
                    .iter()
                    .filter(|r| by.is_none_or(|b| Some(&self.point_values[r.index][b]) == key.as_ref()))
                    .collect();
                let raw: Vec<f64> =
                    mine.iter().map(|r| self.point_values[r.index][load].as_f64().unwrap_or(f64::NAN)).collect();
                let base = if spec.relative { raw.first().copied().unwrap_or(1.0) } else { 1.0 };
                let loads: Vec<f64> = raw.iter().map(|x| x / base).collect();
                let runs: Vec<Vec<_>> = mine.iter().map(|r| r.readings.clone()).collect();
                let model = match &key {
                    Some(k) => format!("{} ({})", plan.model, plain(k)),
                    None => plan.model.clone(),
                };
                let scan_plan = super::Plan { model, ..plan.clone() };
                let setup = Setup {
                    plan: &scan_plan,
                    vary: param.name.clone(),
                    load_label: x_label.clone(),
                    loads,
                    replications: self.spec.replications as usize,
                    seed: self.spec.seed,
                    thresholds: thresholds.clone(),
                };
                Scan {
                    key,
                    result: analyse(&setup, &runs),
                    x_label: x_label.clone(),
                    has_alarms: !plan.alarms.is_empty(),
                }
            })
            .collect()
    }
}
