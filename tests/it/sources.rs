//! Open-loop sources deliver the integral of their rate profile; renewal sources keep their
//! spacing; limits stop them.

use serde_json::json;

use crate::common::*;

#[test]
fn poisson_profile_delivers_its_integral() {
    // Ramp 0→20/s over 10 min (6,000), staircase 5,10,15,20/s over 20 min (15,000),
    // spike: base 4/s for 30 min with 60 s at 40/s (7,200 + 2,160 = 9,360). Total 30,360.
    let m = model(&json!({
        "name": "profile",
        "run": {"duration": "60m"},
        "sources": {"in": {"profile": [
            {"shape": "ramp", "from": 0, "to": 20, "duration": "10m"},
            {"shape": "step", "from": 5, "to": 20, "steps": 4, "duration": "20m"},
            {"shape": "spike", "base": 4, "peak": 40, "at": "10m", "length": "60s", "duration": "30m"}
        ], "after_profile": "stop", "to": "end"}}
    }));
    let expected = 30_360.0;
    let counts = replicate(&m, 20, |o| o.summary.requests.arrived as f64);
    for c in &counts {
        // Poisson: sd = √30,360 ≈ 174; 4 sd bounds each run.
        assert!((c - expected).abs() < 4.0 * expected.sqrt(), "one run delivered {c}");
    }
    let i = capsim::stats::t_interval(&counts, 0.95);
    assert_covers("arrivals over the profile", i, expected, 0.005);
}

#[test]
fn profile_shape_is_followed_in_time() {
    // A 10 min ramp from 0 to 100/s: arrivals in the first half are 1/4 of the total.
    let m = model(&json!({
        "name": "ramp",
        "run": {"duration": "10m", "window": "5m"},
        "sources": {"in": {"profile": [{"shape": "ramp", "from": 0, "to": 100, "duration": "10m"}], "to": "end"}}
    }));
    let out = crate::common::run(&m);
    let first = out.rows[0].arrivals as f64;
    let total = out.summary.requests.arrived as f64;
    assert_eq!(out.rows.len(), 2);
    // Expected 7,500 of 30,000; sd ≈ 87.
    assert!((first - 7_500.0).abs() < 4.0 * 7_500f64.sqrt(), "first half {first}");
    assert!((total - 30_000.0).abs() < 4.0 * 30_000f64.sqrt(), "total {total}");
}

#[test]
fn deterministic_arrivals_and_limit() {
    // Constant interarrival 250 ms, limited to 100 arrivals: exactly 100, the last at 25 s.
    let m = model(&json!({
        "name": "renewal",
        "run": {"duration": "60s"},
        "sources": {"in": {"interarrival": {"dist": "constant", "value": "250ms"}, "limit": 100, "to": "end"}}
    }));
    let out = crate::common::run(&m);
    assert_eq!(out.summary.requests.arrived, 100);
    assert_eq!(out.summary.requests.completed, 100);
    assert_eq!(out.summary.latency_s.e2e.max, 0.0);
}
