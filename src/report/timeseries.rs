//! `timeseries.csv`: one row per window. Station names are restricted to letters, digits, `_`
//! and `-`, so no field ever needs quoting. The columns are listed once, in
//! `metrics::columns`, which experiments' charts and the alarms read too.

use crate::metrics::WindowRow;
use crate::metrics::columns;
use crate::model::Model;

/// The names of service kinds' columns, `<service>.<column>`, in the order of each row's `kinds`.
pub fn kind_columns(model: &Model) -> Vec<String> {
    columns::kind_columns(&model.program)
}

/// The CSV text for `rows`: run-wide columns, then per service (stations included)
/// `<service>.queue_len`, `<service>.busy`, `<service>.p99_s` and the call counters of
/// `CALL_COLUMNS`, then the service kinds' columns `kinds`.
pub fn to_csv(rows: &[WindowRow], stations: &[String], kinds: &[String]) -> String {
    let mut out = columns(stations, kinds).join(",");
    out.push('\n');
    for r in rows {
        for k in 0..columns::count(r) {
            if k > 0 {
                out.push(',');
            }
            out.push_str(&cell(columns::value(r, k)));
        }
        out.push('\n');
    }
    out
}

/// The column names of `timeseries.csv` for these services and kind columns.
pub fn columns(services: &[String], kinds: &[String]) -> Vec<String> {
    columns::names(services, kinds)
}

/// Column `name` of the rows as (window middle [s], value), per second of window if asked;
/// windows without a figure are left out.
pub fn column(
    rows: &[WindowRow],
    services: &[String],
    kinds: &[String],
    name: &str,
    per_second: bool,
) -> Option<Vec<(f64, f64)>> {
    let k = columns(services, kinds).iter().position(|c| c == name)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let v = columns::value(r, k);
        if !v.is_finite() {
            continue;
        }
        let width = (r.t_end - r.t_start).max(1e-12);
        out.push(((r.t_start + r.t_end) / 2.0, if per_second { v / width } else { v }));
    }
    Some(out)
}

/// `num` ÷ `den`, window by window (both as [`column`] gives them, matched by window middle);
/// a window where `den` is 0 or missing is left out.
pub fn ratio(num: &[(f64, f64)], den: &[(f64, f64)]) -> Vec<(f64, f64)> {
    // Both are in window order, so one pass matches them.
    let mut den = den.iter().peekable();
    let mut out = Vec::with_capacity(num.len());
    for &(x, n) in num {
        while den.next_if(|d| d.0 < x).is_some() {}
        if let Some(&&(_, d)) = den.peek().filter(|d| d.0 == x && d.1 != 0.0) {
            out.push((x, n / d));
        }
    }
    out
}

/// A figure for a CSV cell: empty when there is none (NaN: no request completed in the window).
pub fn cell(x: f64) -> String {
    if x.is_finite() { x.to_string() } else { String::new() }
}

#[cfg(test)]
mod tests {
    use super::ratio;

    #[test]
    fn a_column_per_another_is_a_ratio_with_gaps_where_it_is_zero() {
        let num = [(1.0, 3.0), (3.0, 0.0), (5.0, 2.0), (7.0, 1.0)];
        // The denominator has no figure at 5.0's neighbour 6.0 and none at 7.0: a gap.
        let den = [(1.0, 12.0), (3.0, 10.0), (5.0, 0.0), (6.0, 4.0)];
        assert_eq!(ratio(&num, &den), vec![(1.0, 0.25), (3.0, 0.0)]);
    }
}
