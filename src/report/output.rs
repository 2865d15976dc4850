//! Everything one run produces for its reader, built from the raw figures the simulation
//! leaves ([`FinishedRun`]): the summary, the time-series rows and their column names, the
//! end-to-end latencies, the trace and the alarms.

use crate::metrics::{Latency, WindowRow};
use crate::model::Model;
use crate::report::alarms::{AlarmRun, evaluate};
use crate::report::summary::Summary;
use crate::report::timeseries::kind_columns;
use crate::sim::FinishedRun;

/// Everything one run produces.
pub struct RunOutput {
    pub summary: Summary,
    /// Time-series rows, one per window, covering warm-up too.
    pub rows: Vec<WindowRow>,
    /// Service names (stations included), in the order of each row's `stations`.
    pub station_names: Vec<String>,
    /// Service kinds' time-series columns, `<service>.<column>`, in the order of each row's `kinds`.
    pub kind_columns: Vec<String>,
    /// End-to-end latency of every completed request after warm-up (for CDFs).
    pub e2e: Latency,
    /// Sampled request traces (Chrome trace-event JSON), if asked for.
    pub trace: Option<String>,
    /// The model's alarms over the windows: datapoints and times in ALARM.
    pub alarms: Vec<AlarmRun>,
}

impl RunOutput {
    /// The outputs of `run`, a finished run of `model`.
    pub fn build(model: &Model, run: FinishedRun) -> RunOutput {
        let alarms = evaluate(model, run.world.windows.rows());
        let summary = Summary::build(model, &run, &alarms);
        let mut w = run.world;
        RunOutput {
            summary,
            station_names: model.program.services.iter().map(|s| s.name.clone()).collect(),
            kind_columns: kind_columns(model),
            e2e: std::mem::take(&mut w.totals.e2e),
            trace: (model.trace > 0).then(|| w.trace.to_json()),
            rows: w.windows.into_rows(),
            alarms,
        }
    }
}
