//! Fixed-width time windows for `timeseries.csv`: counts, in-flight level, e2e latency
//! percentiles, and per-station time-averaged queue length and busy servers.

use super::latency::Latency;
use crate::engine::SimTime;

/// One closed window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowRow {
    /// Window start and end [s].
    pub t_start: f64,
    pub t_end: f64,
    /// Requests that arrived / completed / were rejected / failed in the window.
    pub arrivals: u64,
    pub completions: u64,
    pub rejections: u64,
    pub failures: u64,
    /// Requests in flight at the window's end.
    pub in_flight: u64,
    /// e2e latency percentiles of the requests completed in the window [s] (0 if none).
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    /// p99 time to first token of the requests completed in the window [s] (NaN if none).
    pub first_token_p99: f64,
    /// Per station: time-averaged (queue length, busy servers) over the window.
    pub stations: Vec<(f64, f64)>,
    /// Requests answered through a fallback in the window (counted in `completions` too).
    pub degraded: u64,
    /// Per service: call counters over the window, in [`CALL_COLUMNS`] order.
    pub calls: Vec<[u64; CALL_COLUMNS.len()]>,
    /// Per service: p99 latency of the attempts that ended in the window [s] (NaN if none).
    pub p99s: Vec<f64>,
    /// Per service: breakers on calls to it that were open at some time in the window.
    pub breakers: Vec<u32>,
    /// Service kinds' own columns (see `RunOutput::kind_columns`).
    pub kinds: Vec<f64>,
}

/// What a window's row takes from the services and kinds when it closes (each starting a new
/// window): per service the attempts' p99 [s] and the breakers open in the window, and the
/// kinds' columns.
#[derive(Clone, Debug, Default)]
pub struct Extras {
    pub p99s: Vec<f64>,
    pub breakers: Vec<u32>,
    pub kinds: Vec<f64>,
}

/// Per-service call counters in each window, as `timeseries.csv` names them.
pub const CALL_COLUMNS: [&str; 9] =
    ["attempts", "retries", "ok", "rejected", "timeouts", "errors", "throttled", "unavailable", "fallbacks"];

/// Running totals of [`CALL_COLUMNS`] per service that the windows difference. Counters that
/// restart at warm-up are carried over, so no window loses or doubles a count.
#[derive(Debug, Default)]
pub struct CallTally {
    last: Vec<[u64; CALL_COLUMNS.len()]>,
    carry: Vec<[u64; CALL_COLUMNS.len()]>,
}

impl CallTally {
    /// The window's counts, given the counters now.
    fn take(&mut self, now: &[[u64; CALL_COLUMNS.len()]]) -> Vec<[u64; CALL_COLUMNS.len()]> {
        self.last.resize(now.len(), [0; CALL_COLUMNS.len()]);
        self.carry.resize(now.len(), [0; CALL_COLUMNS.len()]);
        let mut out = Vec::with_capacity(now.len());
        for ((n, l), c) in now.iter().zip(&mut self.last).zip(&mut self.carry) {
            out.push(std::array::from_fn(|k| c[k] + n[k] - l[k]));
            *l = *n;
            *c = [0; CALL_COLUMNS.len()];
        }
        out
    }

    /// The counters are about to restart from zero (end of warm-up), reading `now`.
    pub fn restart(&mut self, now: &[[u64; CALL_COLUMNS.len()]]) {
        self.carry.resize(now.len(), [0; CALL_COLUMNS.len()]);
        self.last.resize(now.len(), [0; CALL_COLUMNS.len()]);
        for ((n, l), c) in now.iter().zip(&mut self.last).zip(&mut self.carry) {
            for k in 0..CALL_COLUMNS.len() {
                c[k] += n[k] - l[k];
            }
            *l = [0; CALL_COLUMNS.len()];
        }
    }
}

/// The window being filled, and the rows closed so far.
#[derive(Debug)]
pub struct Windows {
    /// Window width.
    pub width: SimTime,
    start: SimTime,
    /// Counters of the open window.
    pub arrivals: u64,
    pub completions: u64,
    pub rejections: u64,
    pub failures: u64,
    /// e2e latency of requests completed in the open window (2 significant digits: within 1 %,
    /// ample for a chart, and an eighth of the memory of the run-wide histograms).
    pub latency: Latency,
    /// Time to first token of requests completed in the open window (as `latency`).
    pub first_token: Latency,
    /// Requests answered through a fallback in the open window.
    pub degraded: u64,
    /// Per-service call counters.
    pub tally: CallTally,
    /// Station areas (queue, busy) [level·ns] at the start of the open window.
    areas: Vec<(f64, f64)>,
    rows: Vec<WindowRow>,
}

impl Windows {
    /// Windows of `width` for `stations` stations, starting at time zero.
    pub fn new(width: SimTime, stations: usize) -> Windows {
        Windows {
            width,
            start: SimTime::ZERO,
            arrivals: 0,
            completions: 0,
            rejections: 0,
            failures: 0,
            degraded: 0,
            tally: CallTally::default(),
            latency: Latency::with_digits(2),
            first_token: Latency::with_digits(2),
            areas: vec![(0.0, 0.0); stations],
            rows: Vec::new(),
        }
    }

    /// Closes the open window at `now`; `areas` gives each station's (queue, busy) area so far,
    /// `calls` each service's call counters, `extras` the window's per-service p99s and open
    /// breakers and the kinds' columns.
    pub fn close(
        &mut self,
        now: SimTime,
        in_flight: u64,
        areas: impl Iterator<Item = (f64, f64)>,
        calls: &[[u64; CALL_COLUMNS.len()]],
        extras: Extras,
    ) {
        let span = now.since(self.start).max(1) as f64;
        let stations = areas
            .zip(self.areas.iter_mut())
            .map(|(now_area, start_area)| {
                let avg = ((now_area.0 - start_area.0) / span, (now_area.1 - start_area.1) / span);
                *start_area = now_area;
                avg
            })
            .collect();
        self.rows.push(WindowRow {
            t_start: self.start.as_secs(),
            t_end: now.as_secs(),
            arrivals: std::mem::take(&mut self.arrivals),
            completions: std::mem::take(&mut self.completions),
            rejections: std::mem::take(&mut self.rejections),
            failures: std::mem::take(&mut self.failures),
            in_flight,
            p50: self.latency.quantile_s(0.50),
            p95: self.latency.quantile_s(0.95),
            p99: self.latency.quantile_s(0.99),
            first_token_p99: self.first_token.quantile_s(0.99),
            stations,
            degraded: std::mem::take(&mut self.degraded),
            calls: self.tally.take(calls),
            p99s: extras.p99s,
            breakers: extras.breakers,
            kinds: extras.kinds,
        });
        self.latency.reset();
        self.first_token.reset();
        self.start = now;
    }

    /// Start of the open window.
    pub fn start(&self) -> SimTime {
        self.start
    }

    /// The rows closed so far.
    pub fn rows(&self) -> &[WindowRow] {
        &self.rows
    }

    /// The closed rows.
    pub fn into_rows(self) -> Vec<WindowRow> {
        self.rows
    }
}
