//! The columns of `timeseries.csv`, by name and by value: one list that the CSV writer, the
//! experiment charts and the alarms all read, so a column a model names is one the run writes.

use super::window::{CALL_COLUMNS, WindowRow};
use crate::model::Program;

/// Run-wide columns, first in every row.
pub const RUN_COLUMNS: [&str; 14] = [
    "t_start_s",
    "t_end_s",
    "arrivals",
    "completions",
    "rejections",
    "failures",
    "in_flight",
    "p50_s",
    "p95_s",
    "p99_s",
    "degraded",
    "first_token_p99_s",
    "errors",
    "breakers_open",
];

/// Per-service columns before the call counters: queue length, busy slots, p99 of attempts,
/// breakers on calls to it open in the window.
const SERVICE_COLUMNS: [&str; 4] = ["queue_len", "busy", "p99_s", "breakers_open"];

/// Columns per service: [`SERVICE_COLUMNS`] then [`CALL_COLUMNS`].
const PER_SERVICE: usize = SERVICE_COLUMNS.len() + CALL_COLUMNS.len();

/// The names of service kinds' columns, `<service>.<column>`, in the order of each row's `kinds`.
pub fn kind_columns(program: &Program) -> Vec<String> {
    let per_kind = program.kinds.iter().map(|(s, def)| (&program.services[*s as usize].name, def.columns()));
    per_kind.flat_map(|(name, cols)| cols.iter().map(move |c| format!("{name}.{c}"))).collect()
}

/// Every column name, in order: [`RUN_COLUMNS`], then per service (stations included)
/// `<service>.queue_len`, `.busy`, `.p99_s`, `.breakers_open` and the call counters of [`CALL_COLUMNS`], then the
/// kinds' columns `kinds`.
pub fn names(services: &[String], kinds: &[String]) -> Vec<String> {
    let mut out: Vec<String> = RUN_COLUMNS.iter().map(|c| c.to_string()).collect();
    for s in services {
        out.extend(SERVICE_COLUMNS.iter().chain(&CALL_COLUMNS).map(|c| format!("{s}.{c}")));
    }
    out.extend(kinds.iter().cloned());
    out
}

/// Column `k` (an index into [`names`]) of row `r`; NaN where the window has no figure (no
/// request completed, no attempt ended), and for an index past the row's columns.
pub fn value(r: &WindowRow, k: usize) -> f64 {
    if let Some(v) = run_value(r, k) {
        return v;
    }
    let k = k - RUN_COLUMNS.len();
    let services = r.stations.len();
    if k < services * PER_SERVICE {
        let (s, j) = (k / PER_SERVICE, k % PER_SERVICE);
        return match j {
            0 => r.stations[s].0,
            1 => r.stations[s].1,
            2 => r.p99s.get(s).copied().unwrap_or(f64::NAN),
            3 => r.breakers.get(s).map_or(f64::NAN, |&b| b as f64),
            _ => r.calls.get(s).map_or(f64::NAN, |c| c[j - SERVICE_COLUMNS.len()] as f64),
        };
    }
    r.kinds.get(k - services * PER_SERVICE).copied().unwrap_or(f64::NAN)
}

/// The run-wide column `k`, if `k` is one.
fn run_value(r: &WindowRow, k: usize) -> Option<f64> {
    Some(match k {
        0 => r.t_start,
        1 => r.t_end,
        2 => r.arrivals as f64,
        3 => r.completions as f64,
        4 => r.rejections as f64,
        5 => r.failures as f64,
        6 => r.in_flight as f64,
        7 => r.p50,
        8 => r.p95,
        9 => r.p99,
        10 => r.degraded as f64,
        11 => r.first_token_p99,
        12 => (r.rejections + r.failures) as f64,
        13 => r.breakers.iter().sum::<u32>() as f64,
        _ => return None,
    })
}

/// How many columns row `r` has.
pub fn count(r: &WindowRow) -> usize {
    RUN_COLUMNS.len() + r.stations.len() * PER_SERVICE + r.kinds.len()
}

/// Whether column `name` holds a percentile of the window (`p99_s`, `<service>.p99_s`, or any
/// column whose last part has a `p<digits>` word, such as `first_token_p99_s`): such a figure
/// cannot be summed or averaged over windows into a longer period's percentile.
pub fn is_percentile(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    last.split('_').any(|w| w.len() > 1 && w.starts_with('p') && w[1..].bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_the_names() {
        let r = WindowRow {
            t_start: 0.0,
            t_end: 10.0,
            arrivals: 7,
            failures: 2,
            stations: vec![(1.5, 2.5)],
            calls: vec![[1, 2, 3, 4, 5, 6, 7, 8, 9]],
            p99s: vec![0.25],
            breakers: vec![2],
            kinds: vec![42.0],
            ..WindowRow::default()
        };
        let names = names(&["svc".into()], &["svc.depth".into()]);
        assert_eq!(names.len(), count(&r));
        let at = |n: &str| value(&r, names.iter().position(|c| c == n).unwrap());
        assert_eq!((at("arrivals"), at("failures"), at("t_end_s")), (7.0, 2.0, 10.0));
        assert_eq!((at("svc.queue_len"), at("svc.busy"), at("svc.p99_s")), (1.5, 2.5, 0.25));
        assert_eq!((at("svc.attempts"), at("svc.throttled"), at("svc.fallbacks")), (1.0, 7.0, 9.0));
        assert_eq!((at("svc.breakers_open"), at("breakers_open")), (2.0, 2.0));
        assert_eq!(at("svc.depth"), 42.0);
        assert!(value(&r, count(&r)).is_nan());
    }

    #[test]
    fn percentiles_are_recognised_by_name() {
        for p in ["p99_s", "p50_s", "svc.p99_s", "llm.first_token_p99_s"] {
            assert!(is_percentile(p), "{p}");
        }
        for n in ["arrivals", "db.partition_throttles", "pool.max_cold_wait_s", "q.oldest_age_s", "svc.p_wait"] {
            assert!(!is_percentile(n), "{n}");
        }
    }
}
