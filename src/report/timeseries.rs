//! `timeseries.csv`: one row per window. Station names are restricted to letters, digits, `_`
//! and `-`, so no field ever needs quoting.

use std::fmt::Write;

use crate::metrics::{CALL_COLUMNS, WindowRow};
use crate::model::Model;

/// The names of service kinds' columns, `<service>.<column>`, in the order of each row's `kinds`.
pub fn kind_columns(model: &Model) -> Vec<String> {
    let p = &model.program;
    let per_kind = p.kinds.iter().map(|(s, def)| (&p.services[*s as usize].name, def.columns()));
    per_kind.flat_map(|(name, cols)| cols.iter().map(move |c| format!("{name}.{c}"))).collect()
}

/// The CSV text for `rows`: run-wide columns, then per service (stations included)
/// `<service>.queue_len`, `<service>.busy`, `<service>.p99_s` and the call counters of
/// `CALL_COLUMNS`, then the service kinds' columns `kinds`.
pub fn to_csv(rows: &[WindowRow], stations: &[String], kinds: &[String]) -> String {
    let mut out =
        String::from("t_start_s,t_end_s,arrivals,completions,rejections,failures,in_flight,p50_s,p95_s,p99_s");
    out.push_str(",degraded,first_token_p99_s");
    for s in stations {
        let _ = write!(out, ",{s}.queue_len,{s}.busy,{s}.p99_s");
        for c in CALL_COLUMNS {
            let _ = write!(out, ",{s}.{c}");
        }
    }
    for k in kinds {
        let _ = write!(out, ",{k}");
    }
    out.push('\n');
    for r in rows {
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            r.t_start,
            r.t_end,
            r.arrivals,
            r.completions,
            r.rejections,
            r.failures,
            r.in_flight,
            cell(r.p50),
            cell(r.p95),
            cell(r.p99)
        );
        let _ = write!(out, ",{},{}", r.degraded, cell(r.first_token_p99));
        for (((q, b), calls), p99) in r.stations.iter().zip(&r.calls).zip(&r.p99s) {
            let _ = write!(out, ",{q},{b},{}", cell(*p99));
            for c in calls {
                let _ = write!(out, ",{c}");
            }
        }
        for k in &r.kinds {
            let _ = write!(out, ",{}", cell(*k));
        }
        out.push('\n');
    }
    out
}

/// The column names of `timeseries.csv` for these services and kind columns.
pub fn columns(services: &[String], kinds: &[String]) -> Vec<String> {
    let csv = to_csv(&[], services, kinds);
    csv.trim_end().split(',').map(str::to_string).collect()
}

/// Column `name` of the rows as (window middle [s], value), per second of window if asked.
pub fn column(
    rows: &[WindowRow],
    services: &[String],
    kinds: &[String],
    name: &str,
    per_second: bool,
) -> Option<Vec<(f64, f64)>> {
    let csv = to_csv(rows, services, kinds);
    let mut lines = csv.lines();
    let k = lines.next()?.split(',').position(|c| c == name)?;
    let mut out = Vec::with_capacity(rows.len());
    for (line, r) in lines.zip(rows) {
        let cell = line.split(',').nth(k)?;
        let Ok(v) = cell.parse::<f64>() else { continue };
        let width = (r.t_end - r.t_start).max(1e-12);
        out.push(((r.t_start + r.t_end) / 2.0, if per_second { v / width } else { v }));
    }
    Some(out)
}

/// A figure for a CSV cell: empty when there is none (NaN: no request completed in the window).
pub fn cell(x: f64) -> String {
    if x.is_finite() { x.to_string() } else { String::new() }
}
