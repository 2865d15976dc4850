//! The `batch_server` service kind (a micro-batching GPU reranker) against hand-computed
//! figures: a saturated server completes max_batch ÷ (a + b × max_batch × K) requests per
//! second per slot; a lone request waits `max_wait`, then takes a + b × K.

use crate::common::run;
use capsim::report::output::RunOutput;
use serde_json::{Value, json};

use crate::common::model;

fn server_model(source: Value, server: Value, duration: &str) -> Value {
    json!({
        "name": "batch",
        "run": {"duration": duration, "window": "10s", "seed": 9},
        "sources": {"c": source},
        "services": {
            "front": {"servers": 10000000, "flow": [{"call": "reranker"}]},
            "reranker": {"servers": 10000000, "kind": {"batch_server": server}}
        }
    })
}

fn figures(out: &RunOutput) -> Value {
    serde_json::to_value(&out.summary.services["reranker"]).unwrap()["batch_server"].clone()
}

fn num(v: &Value, f: &str) -> f64 {
    v[f].as_f64().unwrap_or_else(|| panic!("{f} missing from {v}"))
}

/// a = 50 ms, b = 0.25 ms per candidate, top-K candidates per request.
fn reranker(max_batch: u32, k: u32, max_wait: &str) -> Value {
    json!({"instance": {"type": "g5"}, "items": k, "max_batch": max_batch, "max_wait": max_wait,
        "batch_time": {"fixed": "50ms", "per_item": "0.25ms"}})
}

#[test]
fn a_saturated_server_completes_max_batch_over_a_plus_b_n_requests_per_second() {
    // Offered 100/s, far above capacity. Batches of 4 with K = 50: 4 / (0.05 + 0.00025 × 200)
    // = 40/s; batches of 1: 1 / (0.05 + 0.0125) = 16/s (batching: 2.5×); K = 20, batches of 4:
    // 4 / (0.05 + 0.02) = 57.14/s.
    for (batch, k, rate) in [(4, 50, 40.0), (1, 50, 16.0), (4, 20, 4.0 / 0.07)] {
        let f = figures(&run(&model(&server_model(
            json!({"rate": 100, "to": "front"}),
            reranker(batch, k, "10ms"),
            "1000s",
        ))));
        let per_s = num(&f, "served") / 1000.0;
        assert!((per_s - rate).abs() < 0.01 * rate, "batch {batch}, K {k}: {per_s}/s vs {rate}: {f}");
        assert!((num(&f, "mean_batch_size") - batch as f64).abs() < 0.01, "{f}");
    }
}

#[test]
fn a_lone_request_waits_max_wait_then_takes_a_plus_b_k() {
    // One request a second: each waits the 20 ms for company, then 50 + 0.25 × 50 ms.
    let source = json!({"interarrival": {"dist": "constant", "value": "1s"}, "to": "front"});
    let out = run(&model(&server_model(source, reranker(4, 50, "20ms"), "100s")));
    let lat = &out.summary.services["reranker"].latency_s;
    let expect = 0.020 + 0.050 + 0.0125;
    assert!((lat.mean - expect).abs() < 1e-4 && (lat.max - expect).abs() < 2e-4, "{lat:?} vs {expect}");
    let f = figures(&out);
    assert_eq!(num(&f, "timed_out_batches"), num(&f, "batches"), "{f}");
}

#[test]
fn two_instances_double_the_saturated_throughput_and_slots_run_batches_side_by_side() {
    for (instances, slots) in [(2, 1), (1, 2)] {
        let mut s = reranker(4, 50, "10ms");
        s["instances"] = json!(instances);
        s["instance"]["slots"] = json!(slots);
        let f = figures(&run(&model(&server_model(json!({"rate": 200, "to": "front"}), s, "500s"))));
        let per_s = num(&f, "served") / 500.0;
        assert!((per_s - 80.0).abs() < 0.8, "{instances} × {slots}: {per_s}/s: {f}");
    }
}
