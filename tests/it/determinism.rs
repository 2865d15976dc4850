//! Same model and seed ⇒ byte-identical outputs (apart from `engine.wall_s`); different seeds
//! and common random numbers behave as designed.

use crate::common::run;
use capsim::model::load_str;

fn summary_without_wall(path: &str, seed: u64) -> (String, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut m = load_str(path, &text, &[]).unwrap();
    m.seed = seed;
    let out = run(&m);
    let mut s = out.summary.clone();
    s.engine.wall_s = 0.0;
    let csv = capsim::report::timeseries::to_csv(&out.rows, &out.station_names, &out.kind_columns);
    (serde_json::to_string_pretty(&s).unwrap(), csv)
}

#[test]
fn same_seed_gives_identical_outputs() {
    for path in ["models/mmc.json", "models/fork_join.json", "models/sessions.json", "models/tandem.json"] {
        let a = summary_without_wall(path, 7);
        let b = summary_without_wall(path, 7);
        assert_eq!(a.0, b.0, "{path}: summary differs");
        assert_eq!(a.1, b.1, "{path}: time series differs");
        let c = summary_without_wall(path, 8);
        assert_ne!(a.0, c.0, "{path}: another seed should give other numbers");
    }
}

#[test]
fn identical_in_parallel_threads() {
    // Runs on rayon worker threads give the same bytes as on the main thread.
    use rayon::prelude::*;
    let here = summary_without_wall("models/tandem.json", 3);
    let there: Vec<_> = (0..4).into_par_iter().map(|_| summary_without_wall("models/tandem.json", 3)).collect();
    assert!(there.iter().all(|t| *t == here));
}

#[test]
fn adding_a_station_leaves_arrivals_unchanged() {
    // Common random numbers: the arrival stream depends on (seed, source name) only, so a
    // second station downstream does not move a single arrival.
    let base = r#"{"name": "crn", "run": {"duration": "1h", "window": "1m"},
        "sources": {"in": {"rate": 3, "to": "a"}},
        "stations": {"a": {"servers": 1, "service": {"dist": "exponential", "mean": "200ms"}, "to": "end"}}}"#;
    let more = r#"{"name": "crn", "run": {"duration": "1h", "window": "1m"},
        "sources": {"in": {"rate": 3, "to": "a"}},
        "stations": {"a": {"servers": 1, "service": {"dist": "exponential", "mean": "200ms"}, "to": "b"},
                     "b": {"servers": 1, "service": {"dist": "exponential", "mean": "100ms"}, "to": "end"}}}"#;
    let one = run(&load_str("a", base, &[]).unwrap());
    let two = run(&load_str("b", more, &[]).unwrap());
    let arrivals = |o: &capsim::report::output::RunOutput| o.rows.iter().map(|r| r.arrivals).collect::<Vec<_>>();
    assert_eq!(arrivals(&one), arrivals(&two));
    assert_eq!(one.summary.stations["a"].mean_wait_s, two.summary.stations["a"].mean_wait_s);
}
