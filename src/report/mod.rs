//! Outputs of a run: summary.json, timeseries.csv, the resolved model, and charts.

pub mod charts;
pub mod headline;
pub mod html;
pub mod labels;
pub mod recovery;
pub mod services;
pub mod stacked;
pub mod summary;
pub mod timeseries;
pub mod write;
