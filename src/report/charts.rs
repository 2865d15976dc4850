//! PNG charts of a run. Placeholder until the chart module lands.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::model::Model;
use crate::sim::RunOutput;

/// Draws the run's charts into `dir`.
pub fn run_charts(_dir: &Path, _model: &Model, _out: &RunOutput) -> Result<Vec<PathBuf>> {
    Ok(Vec::new())
}
