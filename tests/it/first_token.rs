//! Time to first token, end to end: from a message's arrival to the first token of its
//! streamed answer (a streaming `llm` on its path), or to the whole answer when nothing
//! streamed; never after the full answer; summed per class and per intent, per window, and
//! usable as a capacity SLO.

use serde_json::{Value, json};

use crate::common::{constant, model, run};

/// An orchestrator that does `before` s of work, calls the model, then `after` s of work (the
/// output guardrail); the model's first token comes 0.5 s after it starts, then 200 tokens at
/// 100 tokens/s. Light load (one message every 10 s on ample slots): nothing waits.
fn chain(before: f64, after: f64, stream: bool) -> Value {
    json!({
        "name": "ftt",
        "run": {"duration": "2000s", "window": "100s"},
        "classes": ["prime", "guest"],
        "sources": {
            "p": {"rate": 0.05, "class": "prime", "to": "orchestrator"},
            "g": {"rate": 0.05, "class": "guest", "to": "orchestrator"}
        },
        "services": {
            "orchestrator": {"servers": 1000, "flow": [{"work": constant(before)}, {"call": "sonnet"}, {"work": constant(after)}]},
            "sonnet": {"servers": 1000, "kind": {"llm": {"model": "m", "ttft": constant(0.5), "tokens_per_s": 100,
                "output_tokens": constant(200.0), "stream": stream}}}
        }
    })
}

fn summary(m: &Value) -> Value {
    serde_json::to_value(run(&model(m)).summary).unwrap()
}

#[test]
fn the_first_token_comes_when_the_model_streams_it_and_never_after_the_whole_answer() {
    // Streamed: first token at 0.2 + 0.5 = 0.7 s; the other 199 tokens at 100 a second, so the
    // whole answer at 0.2 + 0.5 + 1.99 + 0.3 = 2.99 s.
    let s = summary(&chain(0.2, 0.3, true));
    let (ft, e2e) = (&s["latency_s"]["first_token"], &s["latency_s"]["e2e"]);
    for q in ["p50", "p99", "max"] {
        let (f, e) = (ft[q].as_f64().unwrap(), e2e[q].as_f64().unwrap());
        assert!((f - 0.7).abs() < 0.7e-3, "first token {q} {f}");
        assert!((e - 2.99).abs() < 3e-3, "whole answer {q} {e}");
    }
    assert_eq!(ft["count"], e2e["count"], "one first token per answer");
    // Per class and per window too.
    for class in ["prime", "guest"] {
        let f = s["latency_s"]["first_token_by_class"][class]["p99"].as_f64().unwrap();
        assert!((f - 0.7).abs() < 0.7e-3, "{class}: {f}");
    }
    // Not streamed (an internal call): the client sees the whole answer at once.
    let s = summary(&chain(0.2, 0.3, false));
    let (f, e) =
        (s["latency_s"]["first_token"]["p99"].as_f64().unwrap(), s["latency_s"]["e2e"]["p99"].as_f64().unwrap());
    assert_eq!(f, e, "no stream: the first token is the whole answer");
}

#[test]
fn a_one_token_answer_arrives_whole_with_its_first_token() {
    // One output token: it is the first token, so the whole answer comes with it, request by
    // request (every percentile and the maximum equal).
    let mut m = chain(0.2, 0.0, true);
    m["services"]["sonnet"]["kind"]["llm"]["output_tokens"] = constant(1.0);
    m["services"]["sonnet"]["kind"]["llm"]["ttft"] = json!({"dist": "exponential", "mean": "0.5s"});
    let s = summary(&m);
    let (ft, e2e) = (&s["latency_s"]["first_token"], &s["latency_s"]["e2e"]);
    for q in ["mean", "p50", "p99", "max"] {
        assert_eq!(ft[q], e2e[q], "{q}: {ft} against {e2e}");
    }
    // And with two tokens, the whole answer is one token's time (10 ms) later.
    m["services"]["sonnet"]["kind"]["llm"]["output_tokens"] = constant(2.0);
    let s = summary(&m);
    let gap = s["latency_s"]["e2e"]["mean"].as_f64().unwrap() - s["latency_s"]["first_token"]["mean"].as_f64().unwrap();
    assert!((gap - 0.01).abs() < 1e-9, "{gap}");
}

#[test]
fn a_retried_model_call_streams_from_the_attempt_that_answered() {
    // Half the model's answers fail after being generated (error_rate 0.5: the work is done
    // first), retried at once. The client sees only the answering attempt's stream, so every
    // message's first token comes exactly 1.99 s (the other 199 tokens at 100/s) before its
    // whole answer: 0.5 + 2.49 k s against 2.49 + 2.49 k s after k failed attempts.
    let mut m = chain(0.0, 0.0, true);
    m["services"]["sonnet"]["faults"] = json!({"error_rate": 0.5});
    m["services"]["orchestrator"]["flow"][1] = json!({"call": "sonnet", "policy": "retry"});
    m["policies"] = json!({"retry": {"retry": {"max_attempts": 20, "backoff": "none"}}});
    let out = run(&model(&m));
    let s = serde_json::to_value(&out.summary).unwrap();
    let (ft, e2e) = (&s["latency_s"]["first_token"], &s["latency_s"]["e2e"]);
    assert!(e2e["max"].as_f64().unwrap() > 5.0, "some message needed a retry: {e2e}");
    for q in ["p50", "p95", "max"] {
        let (f, e) = (ft[q].as_f64().unwrap(), e2e[q].as_f64().unwrap());
        assert!((e - f - 1.99).abs() < 2e-3 * e, "{q}: first token {f}, whole answer {e}");
    }
    let col = capsim::report::timeseries::column(
        &out.rows,
        &out.station_names,
        &out.kind_columns,
        "first_token_p99_s",
        false,
    )
    .expect("a first_token_p99_s column");
    let e2e_col =
        capsim::report::timeseries::column(&out.rows, &out.station_names, &out.kind_columns, "p99_s", false).unwrap();
    for ((_, f), (_, e)) in col.iter().zip(&e2e_col) {
        assert!(f.is_nan() || (e - f - 2.0).abs() < 0.05 * e, "window p99s: first token {f}, whole {e}");
    }
}
