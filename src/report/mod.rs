//! Outputs of a run, built from the raw figures the simulation leaves (`sim::FinishedRun`):
//! summary.json, timeseries.csv, alarms.csv, the resolved model, and charts.

pub mod alarm_chart;
pub mod alarms;
pub mod breakpoint_chart;
pub mod charts;
pub mod headline;
pub mod html;
pub mod labels;
pub mod legend;
pub mod line_chart;
pub mod output;
pub mod recovery;
pub mod scale;
pub mod services;
pub mod stacked;
pub mod style;
pub mod summary;
pub mod timeseries;
pub mod warnings;
pub mod write;
