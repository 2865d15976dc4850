//! Exact checks of routing blocks: fork/join, delays, routers, finite waiting rooms, overload.

use serde_json::json;

use crate::common::*;

#[test]
fn fork_join_waits_for_the_slowest_branch() {
    // Branches are constant delays of 1 s and 3 s, then a 0.5 s delay: every e2e is 3.5 s.
    let m = model(&json!({
        "name": "fj",
        "run": {"duration": "100s"},
        "sources": {"in": {"rate": 5, "to": "f"}},
        "forks": {"f": {"branches": ["fast", "slow"], "join": "j"}},
        "delays": {
            "fast": {"delay": {"dist": "constant", "value": "1s"}, "to": "j"},
            "slow": {"delay": {"dist": "constant", "value": "3s"}, "to": "j"},
            "after": {"delay": {"dist": "constant", "value": "500ms"}}
        },
        "joins": {"j": {"to": "after"}}
    }));
    let s = crate::common::run(&m).summary;
    assert!(s.requests.completed > 400);
    assert!((s.latency_s.e2e.mean - 3.5).abs() < 1e-9, "mean {}", s.latency_s.e2e.mean);
    assert!((s.latency_s.e2e.max - 3.5).abs() < 1e-9);
}

#[test]
fn rejected_branch_rejects_the_parent() {
    // Arrivals every 1 s from t = 1 s; one branch is a lone server with no waiting room and
    // 1.5 s service: arrivals at odd seconds are served, even ones find it busy. 20 arrivals
    // in 20 s: 10 completed, 10 rejected.
    let m = model(&json!({
        "name": "fj-reject",
        "run": {"duration": "20.9s"},
        "sources": {"in": {"interarrival": {"dist": "constant", "value": "1s"}, "to": "f"}},
        "forks": {"f": {"branches": ["narrow", "wide"], "join": "j"}},
        "stations": {
            "narrow": {"servers": 1, "capacity": 0, "service": {"dist": "constant", "value": "1.5s"}, "to": "j"},
            "wide": {"servers": 10, "service": {"dist": "constant", "value": "100ms"}, "to": "j"}
        },
        "joins": {"j": {"to": "end"}}
    }));
    let s = crate::common::run(&m).summary;
    assert_eq!(s.requests.arrived, 20);
    assert_eq!(s.requests.rejected, 10);
    assert_eq!(s.requests.completed, 10);
    assert_eq!(s.stations["narrow"].rejected, 10);
}

#[test]
fn probability_router_splits_by_weight() {
    // Weights 1:3; 40,000 expected arrivals: share of the first route ~ Binomial(n, 0.25).
    let m = model(&json!({
        "name": "split",
        "run": {"duration": "4000s"},
        "sources": {"in": {"rate": 10, "to": "r"}},
        "routers": {"r": {"by": "probability", "routes": [{"weight": 1, "to": "a"}, {"weight": 3, "to": "b"}]}},
        "stations": {
            "a": {"servers": 100, "service": {"dist": "constant", "value": "1ms"}},
            "b": {"servers": 100, "service": {"dist": "constant", "value": "1ms"}}
        }
    }));
    let s = crate::common::run(&m).summary;
    let n = s.requests.arrived as f64;
    let a = s.stations["a"].arrivals as f64;
    let sd = (n * 0.25 * 0.75).sqrt();
    assert!((a - n / 4.0).abs() < 4.0 * sd, "a got {a} of {n}");
    assert_eq!(s.stations["a"].arrivals + s.stations["b"].arrivals, s.requests.arrived);
}

#[test]
fn class_router_sends_each_class_its_way() {
    let m = model(&json!({
        "name": "by-class",
        "run": {"duration": "1000s"},
        "classes": ["chat", "batch"],
        "sources": {
            "c": {"rate": 2, "class": "chat", "to": "r"},
            "b": {"rate": 1, "class": "batch", "to": "r"}
        },
        "routers": {"r": {"by": "class", "routes": {"chat": "fast"}, "default": "slow"}},
        "delays": {
            "fast": {"delay": {"dist": "constant", "value": "10ms"}},
            "slow": {"delay": {"dist": "constant", "value": "2s"}}
        }
    }));
    let s = crate::common::run(&m).summary;
    assert!((s.latency_s.by_class["chat"].max - 0.01).abs() < 1e-9);
    assert!((s.latency_s.by_class["batch"].mean - 2.0).abs() < 1e-9);
}

#[test]
fn overload_stops_the_run_with_a_report() {
    // λ = 100/s into a server that does 1/s; the run stops once 1,000 requests are in flight.
    let m = model(&json!({
        "name": "overload",
        "run": {"duration": "10h", "max_in_flight": 1000},
        "sources": {"in": {"rate": 100, "to": "s"}},
        "stations": {"s": {"servers": 1, "service": {"dist": "exponential", "mean": 1}}}
    }));
    let s = crate::common::run(&m).summary;
    match s.status {
        capsim::sim::Status::Overloaded { at_s, in_flight } => {
            assert_eq!(in_flight, 1001);
            // About 1,000 / 99 ≈ 10 s of excess arrivals.
            assert!(at_s > 5.0 && at_s < 20.0, "stopped at {at_s}");
        }
        other => panic!("expected overload, got {other:?}"),
    }
}

#[test]
fn single_class_figures_equal_the_overall_ones() {
    let m = model(&json!({
        "name": "one-class",
        "run": {"duration": "1h"},
        "sources": {"in": {"rate": 2, "to": "s"}},
        "stations": {"s": {"servers": 1, "service": {"dist": "exponential", "mean": "100ms"}}}
    }));
    let s = crate::common::run(&m).summary;
    assert!(s.latency_s.e2e.mean > 0.0);
    assert_eq!(s.latency_s.by_class["default"], s.latency_s.e2e);
}
