//! `timeseries.csv`: one row per window. Station names are restricted to letters, digits, `_`
//! and `-`, so no field ever needs quoting.

use std::fmt::Write;

use crate::metrics::WindowRow;

/// The CSV text for `rows`, with one `<station>.queue_len` and `<station>.busy` column pair
/// per station.
pub fn to_csv(rows: &[WindowRow], stations: &[String]) -> String {
    let mut out =
        String::from("t_start_s,t_end_s,arrivals,completions,rejections,failures,in_flight,p50_s,p95_s,p99_s");
    for s in stations {
        let _ = write!(out, ",{s}.queue_len,{s}.busy");
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
        for (q, b) in &r.stations {
            let _ = write!(out, ",{q},{b}");
        }
        out.push('\n');
    }
    out
}

/// A figure for a CSV cell: empty when there is none (NaN: no request completed in the window).
pub fn cell(x: f64) -> String {
    if x.is_finite() { x.to_string() } else { String::new() }
}
