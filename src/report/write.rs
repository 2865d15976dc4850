//! Writes a run's files into its output folder.

use std::path::Path;

use anyhow::{Context, Result};

use super::{alarms, charts, timeseries};
use crate::model::Model;
use crate::report::output::RunOutput;

/// Writes summary.json, timeseries.csv, alarms.csv (for a model with alarms), model.resolved.json and (unless `charts` is false) the
/// PNG charts into `dir`, creating it. Returns the paths of the charts written.
pub fn write_run(dir: &Path, model: &Model, out: &RunOutput, with_charts: bool) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create output folder {}", dir.display()))?;
    let put = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))
    };
    put("summary.json", serde_json::to_string_pretty(&out.summary)? + "\n")?;
    put("timeseries.csv", timeseries::to_csv(&out.rows, &out.station_names, &out.kind_columns))?;
    if !model.alarms.is_empty() {
        put("alarms.csv", alarms::to_csv(&out.alarms))?;
    }
    put("model.resolved.json", serde_json::to_string_pretty(&model.spec)? + "\n")?;
    if let Some(t) = &out.trace {
        put("trace.json", t.clone())?;
    }
    if !with_charts {
        return Ok(Vec::new());
    }
    charts::run_charts(dir, model, out)
}
