//! Outputs of a run: summary.json, timeseries.csv, the resolved model, and charts.

pub mod charts;
pub mod html;
pub mod labels;
pub mod legend;
pub mod line_chart;
pub mod recovery;
pub mod scale;
pub mod services;
pub mod stacked;
pub mod style;
pub mod summary;
pub mod timeseries;
pub mod write;
