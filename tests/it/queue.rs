//! The `queue` service kind (SQS with a dead-letter queue) against figures computed by hand:
//! a processing that outlasts the visibility timeout is delivered again; failing messages go
//! to the dead-letter queue after `max_receive_count` receives, and with application retry
//! counts only after that many retries (binomial tolerances); every message is accounted for;
//! the wait before the first receive is M/M/c's (Erlang C); bad settings name their field.

use serde_json::{Value, json};

use crate::common::*;
use crate::queueing::erlang_c;
use capsim::model::load_str;
use capsim::report::output::RunOutput;

/// Producers send one message per `every` to `q`, whose consumer `worker` runs `flow`.
fn queue_model(source: Value, queue: Value, consumer: Value, duration: &str) -> Value {
    json!({
        "name": "queue",
        "run": {"duration": duration, "window": "60s", "seed": 5},
        "sources": {"producer": source},
        "services": {
            "q": {"servers": 1000, "kind": {"queue": queue}},
            "worker": consumer
        }
    })
}

fn figures(out: &RunOutput) -> Value {
    serde_json::to_value(&out.summary.services["q"]).unwrap()["queue"].clone()
}

fn num(v: &Value, path: &str) -> f64 {
    let mut x = v;
    for k in path.split('.') {
        x = &x[k];
    }
    x.as_f64().unwrap_or_else(|| panic!("{path} missing from {v}"))
}

fn constant(v: &str) -> Value {
    json!({"dist": "constant", "value": v})
}

fn every(v: &str) -> Value {
    json!({"interarrival": constant(v), "to": "q"})
}

#[test]
fn a_processing_longer_than_the_visibility_timeout_is_delivered_twice() {
    // One message every 1,000 s, processed in 50 s, visible again after 30 s: a second worker
    // receives it at 30 s; the first deletes it at 50 s; the second's finish at 80 s is a
    // duplicate. So per message: 2 receives, 1 duplicate receive, 1 duplicate completion.
    let q = json!({"consumer": "worker", "workers": 10, "visibility_timeout": "30s"});
    let worker = json!({"servers": 100, "flow": [{"work": constant("50s")}]});
    let s = figures(&run(&model(&queue_model(every("1000s"), q, worker, "10500s"))));
    let n = num(&s, "counts.arrived");
    assert_eq!(n, 10.0, "{s}");
    assert_eq!(num(&s, "counts.processed"), n, "{s}");
    assert_eq!(num(&s, "counts.receives"), 2.0 * n, "{s}");
    assert_eq!(num(&s, "counts.duplicate_receives"), n, "{s}");
    assert_eq!(num(&s, "counts.duplicate_completions"), n, "{s}");
    assert_eq!(num(&s, "counts.expired_while_processing"), n, "{s}");
    assert_eq!(num(&s, "receives_per_message"), 2.0, "{s}");
    assert_eq!(num(&s, "dlq_depth"), 0.0, "{s}");
    // A visibility timeout longer than the processing: one receive each.
    let q = json!({"consumer": "worker", "workers": 10, "visibility_timeout": "60s"});
    let worker = json!({"servers": 100, "flow": [{"work": constant("50s")}]});
    let s = figures(&run(&model(&queue_model(every("1000s"), q, worker, "10500s"))));
    assert_eq!(num(&s, "counts.receives"), 10.0, "{s}");
    assert_eq!(num(&s, "counts.duplicate_receives"), 0.0, "{s}");
    // Each message is deleted 50 s after its send; 10 processed in 10,500 s.
    assert!((num(&s, "max_time_in_queue_s") - 50.0).abs() < 1e-6, "{s}");
    assert!((num(&s, "processed_per_min") - 10.0 * 60.0 / 10_500.0).abs() < 1e-9, "{s}");
}

#[test]
fn a_failing_message_is_moved_after_max_receive_count_receives() {
    // Every processing fails: received at 0, 30 and 60 s; the receive at 90 s would be the
    // fourth, past max_receive_count 3, so the message is moved instead.
    let q = json!({"consumer": "worker", "workers": 10, "visibility_timeout": "30s", "max_receive_count": 3});
    let worker = json!({"servers": 100, "flow": [{"work": constant("1s")}], "faults": {"error_rate": 1.0}});
    let s = figures(&run(&model(&queue_model(every("1000s"), q, worker, "10500s"))));
    let n = num(&s, "counts.arrived");
    assert_eq!(n, 10.0, "{s}");
    assert_eq!(num(&s, "dlq_depth"), n, "{s}");
    assert_eq!(num(&s, "dlq.max_receives"), n, "{s}");
    assert_eq!(num(&s, "dlq.by_last_failure.error"), n, "{s}");
    assert_eq!(num(&s, "dlq.not_retryable"), n, "{s}");
    assert_eq!(num(&s, "counts.receives"), 3.0 * n, "{s}");
    assert_eq!(num(&s, "counts.processed"), 0.0, "{s}");
}

#[test]
fn application_retry_counts_keep_transient_failures_out_of_the_dlq() {
    // Half the processings fail (a retryable error). Counting SQS receives (max 3), a message
    // is moved when its 3 receives all fail: 0.5³ = 12.5 %. Counting retries in the message
    // (5 re-sends), only when 6 processings in a row fail: 0.5⁶ = 1.5625 %, and never by redrive.
    let worker = json!({"servers": 1000, "flow": [{"work": constant("1s")}], "faults": {"error_rate": 0.5}});
    let base = json!({"consumer": "worker", "workers": 100, "visibility_timeout": "30s",
        "max_receive_count": 3, "retryable": ["error"]});
    let src = json!({"rate": 1, "to": "q"});
    let s = figures(&run(&model(&queue_model(src.clone(), base.clone(), worker.clone(), "8000s"))));
    let left = num(&s, "counts.processed") + num(&s, "counts.dead_lettered");
    let share = num(&s, "counts.dead_lettered") / left;
    let se = (0.125f64 * 0.875 / left).sqrt();
    assert!((share - 0.125).abs() < 4.0 * se, "receive counts: {share} vs 0.125 ± {}: {s}", 4.0 * se);
    assert_eq!(num(&s, "dlq.retryable"), num(&s, "counts.dead_lettered"), "{s}");
    let mut fixed = base;
    fixed["app_retries"] = json!({"max": 5, "base": "1s"});
    let s = figures(&run(&model(&queue_model(src, fixed, worker, "8000s"))));
    let left = num(&s, "counts.processed") + num(&s, "counts.dead_lettered");
    let share = num(&s, "counts.dead_lettered") / left;
    let p = 0.5f64.powi(6);
    let se = (p * (1.0 - p) / left).sqrt();
    assert!((share - p).abs() < 4.0 * se, "app retries: {share} vs {p} ± {}: {s}", 4.0 * se);
    assert_eq!(num(&s, "dlq.max_receives"), 0.0, "{s}");
    assert_eq!(num(&s, "dlq.exhausted"), num(&s, "counts.dead_lettered"), "{s}");
    assert!(left > 7000.0, "{s}");
}

#[test]
fn every_message_is_accounted_for() {
    // An overloaded queue with short retention, failures, redrive and work in flight at the
    // end: arrived = processed + dead-lettered + dropped + still in the queue, each part used.
    let q = json!({"consumer": "worker", "workers": 3, "visibility_timeout": "5s", "max_receive_count": 2,
        "retention": "60s", "delay": "2s"});
    let worker = json!({"servers": 100, "flow": [{"work": {"dist": "exponential", "mean": "1s"}}],
        "faults": {"error_rate": 0.3}});
    let src = json!({"rate": 4, "to": "q"});
    let s = figures(&run(&model(&queue_model(src, q, worker, "3600.5s"))));
    let b = &s["balance"];
    let parts: Vec<f64> = ["processed", "dead_lettered", "dropped", "in_queue"].iter().map(|k| num(b, k)).collect();
    assert!(parts.iter().all(|&x| x > 0.0), "every part is used: {s}");
    assert_eq!(num(b, "arrived"), parts.iter().sum::<f64>(), "{s}");
    assert_eq!(num(&s, "depth"), num(b, "in_queue"));
    assert!(num(&s, "oldest_age_s") <= 60.0, "retention keeps no message over 60 s: {s}");
}

#[test]
fn the_wait_before_the_first_receive_is_erlang_c() {
    // Poisson arrivals at 8/s, 10 workers, exponential processing of mean 1 s: M/M/10 at
    // ρ = 0.8, whose mean wait is C(10, 8)/(10 − 8) ≈ 0.2045 s.
    let (_, wq) = erlang_c(8.0, 1.0, 10);
    let q = json!({"consumer": "worker", "workers": 10, "visibility_timeout": "12h"});
    let worker = json!({"servers": 1000, "flow": [{"work": {"dist": "exponential", "mean": "1s"}}]});
    let mut m = queue_model(json!({"rate": 8, "to": "q"}), q, worker, "20000s");
    m["run"]["warmup"] = json!("600s");
    let m = model(&m);
    let wait = interval(&m, 40, |o| num(&figures(o), "mean_wait_s"));
    assert_covers("M/M/10 wait before the first receive", wait, wq, 0.05);
}

#[test]
fn bad_queue_settings_name_their_field() {
    let cases = [
        (json!({"consumer": "worker", "workers": 0}), "kind.queue.workers"),
        (json!({"consumer": "worker", "workers": 1, "visibility_timeout": "0s"}), "kind.queue.visibility_timeout"),
        (json!({"consumer": "worker", "workers": 1, "visibility_timeout": "-5s"}), "kind.queue.visibility_timeout"),
        (json!({"consumer": "worker", "workers": 1, "max_receive_count": 0}), "kind.queue.max_receive_count"),
        (json!({"consumer": "nobody", "workers": 1}), "kind.queue.consumer"),
        (json!({"consumer": "worker", "workers": 1, "retention": "10s"}), "kind.queue.retention"),
        (json!({"consumer": "worker", "workers": 1, "max_depth": 0}), "kind.queue.max_depth"),
        (json!({"consumer": "worker", "workers": 1, "enqueue_rate": -1}), "kind.queue.enqueue_rate"),
        (json!({"consumer": "worker", "workers": 1, "app_retries": {"max": 0}}), "kind.queue.app_retries.max"),
        (json!({"consumer": "worker", "workers": 1, "retryable": ["sometimes"]}), "kind.queue.retryable.0"),
    ];
    for (q, field) in cases {
        let m = queue_model(every("1s"), q.clone(), json!({"servers": 1}), "10s");
        let err = load_str("bad.json", &m.to_string(), &[]).expect_err(&format!("{q} should be refused"));
        let msg = err.to_string();
        assert!(msg.contains(field), "{q}: the message names {field}: {msg}");
    }
}

#[test]
fn back_pressure_and_the_enqueue_rate_limit_refuse_sends() {
    // 10 sends/s for 100 s against a limit of 2/s (burst 2): about 200 pass. A queue that
    // nobody drains (one worker stuck for the whole run) with max_depth 50 refuses the rest.
    let q = json!({"consumer": "worker", "workers": 1, "enqueue_rate": 2, "enqueue_burst": 2,
        "visibility_timeout": "12h"});
    let worker = json!({"servers": 1, "flow": [{"work": constant("1s")}]});
    let s = figures(&run(&model(&queue_model(
        json!({"interarrival": constant("100ms"), "to": "q"}),
        q,
        worker,
        "100.05s",
    ))));
    let arrived = num(&s, "counts.arrived");
    assert!((arrived - 202.0).abs() <= 2.0, "2/s for 100 s plus the burst: {s}");
    assert_eq!(arrived + num(&s, "counts.refused_rate"), 1000.0, "{s}");
    let q = json!({"consumer": "worker", "workers": 1, "max_depth": 50, "visibility_timeout": "12h"});
    let worker = json!({"servers": 1, "flow": [{"work": constant("1000s")}]});
    let s = figures(&run(&model(&queue_model(
        json!({"interarrival": constant("100ms"), "to": "q"}),
        q,
        worker,
        "100.05s",
    ))));
    assert_eq!(num(&s, "counts.arrived"), 50.0, "{s}");
    assert_eq!(num(&s, "counts.refused_depth"), 950.0, "{s}");
}
