//! The `llm` service kind (a Bedrock model) against hand-computed figures and closed forms:
//! a saturated TPM quota admits TPM ÷ (input + max_tokens) a minute and settlement returns the
//! unused reservation; the account's concurrency limit is an Erlang loss system; latency is
//! the first-token time plus output ÷ speed; priority serves the first class first; the
//! semantic cache answers its share.

use crate::common::run;
use capsim::report::output::RunOutput;
use serde_json::{Value, json};

use crate::common::model;

fn llm_model(source: Value, llm: Value, duration: &str) -> Value {
    json!({
        "name": "llm",
        "run": {"duration": duration, "window": "10s", "seed": 13},
        "classes": ["p0", "p1", "p2"],
        "sources": {"c": source},
        "services": {
            "chat": {"servers": 10000000, "flow": [{"call": "sonnet"}]},
            "sonnet": {"servers": 10000000, "kind": {"llm": llm}}
        }
    })
}

fn figures(out: &RunOutput) -> Value {
    serde_json::to_value(&out.summary.services["sonnet"]).unwrap()["llm"].clone()
}

fn num(v: &Value, f: &str) -> f64 {
    v[f].as_f64().unwrap_or_else(|| panic!("{f} missing from {v}"))
}

fn constant(v: f64) -> Value {
    json!({"dist": "constant", "value": v})
}

/// A model answering `output` tokens after 0.5 s at 100 tokens/s; input 1,000 tokens.
fn sonnet(output: f64, extra: Value) -> Value {
    let mut m = json!({"model": "claude-3.5-sonnet", "ttft": constant(0.5), "tokens_per_s": 100,
        "input_tokens": constant(1000.0), "output_tokens": constant(output), "max_tokens": 1000});
    m.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    m
}

#[test]
fn a_saturated_tpm_quota_admits_tpm_over_input_plus_max_tokens_and_settlement_returns_the_rest() {
    // TPM 60,000, offered 10 requests/s for 10 minutes. Each reserves 1,000 + 1,000 tokens.
    // Output 1,000: nothing comes back; the full bucket admits 30 at once, then 1,000 tokens/s
    // ÷ 2,000 = 30 a minute: (60,000 + 600 × 1,000) / 2,000 = 330 in all. Output 200: each is
    // settled at 1,200 after its 2.5 s, so 1,000 ÷ 1,200 = 50 a minute: (60,000 + 600,000) /
    // 1,200 = 550, less the reservations still held at the end.
    for (output, expect, tol) in [(1000.0, 330.0, 1.0), (200.0, 550.0, 4.0)] {
        let m = sonnet(output, json!({"quota": {"tpm": 60000}}));
        let f = figures(&run(&model(&llm_model(json!({"rate": 10, "to": "chat"}), m, "600s"))));
        assert!((num(&f, "served") + num(&f, "in_flight") - expect).abs() <= tol, "output {output}: {f}");
        assert_eq!(num(&f, "throttled_tpm") + num(&f, "served") + num(&f, "in_flight"), num(&f, "requests"), "{f}");
    }
}

#[test]
fn the_accounts_concurrency_limit_is_an_erlang_loss_system() {
    // 30 requests/s each generating for 0.5 + 1,000 / 100 = 10.5 s: an offered load of 315
    // concurrent invocations against a limit of 300; a throttled request is lost at once.
    // Erlang B(300, 315), by the recursion B(k) = a·B(k−1) / (k + a·B(k−1)).
    let (a, c) = (315.0, 300);
    let b = (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b));
    let m = sonnet(1000.0, json!({"quota": {"concurrency": c}}));
    let f = figures(&run(&model(&llm_model(json!({"rate": 30, "to": "chat"}), m, "3000s"))));
    let share = num(&f, "throttled_concurrency") / num(&f, "requests");
    assert!((share - b).abs() < 0.01, "throttled {share} vs Erlang B {b}: {f}");
}

#[test]
fn latency_is_first_token_time_plus_output_over_speed() {
    let m = sonnet(300.0, json!({}));
    let out = run(&model(&llm_model(json!({"rate": 5, "to": "chat"}), m, "100s")));
    let f = figures(&out);
    assert!((f["first_token_s"]["p99"].as_f64().unwrap() - 0.5).abs() < 1e-3, "{f}");
    let lat = out.summary.services["sonnet"].latency_s.mean;
    assert!((lat - 3.5).abs() < 1e-3, "0.5 + 300 / 100: {lat}");
    assert_eq!(num(&f, "output_tokens"), 300.0 * num(&f, "served"));
}

#[test]
fn with_priority_the_first_class_waits_least_for_shared_capacity() {
    // 10 slots, each request 2.5 s: 4 a second keeps them 100 % busy; the three classes come
    // in equal shares. With priority, p0 waits least and p2 most; without, alike.
    let source = json!({"rate": 4, "to": "chat", "class_shares": {"p0": 0.34, "p1": 0.33, "p2": 0.33}});
    let p99 = |priority: bool| {
        let m = sonnet(200.0, json!({"on_demand": {"capacity": 10}, "priority": priority}));
        let out = run(&model(&llm_model(source.clone(), m, "2000s")));
        let by = &out.summary.latency_s.by_class;
        [by["p0"].p99, by["p2"].p99, by["p0"].max, by["p2"].max]
    };
    let [p0, p2, p0_max, p2_max] = p99(true);
    assert!(p0 < 4.0 && p2 > 2.0 * p0, "p0 {p0} s, p2 {p2} s");
    assert!(p0_max <= p2_max, "no P0 request waits longer than the longest P2 wait: {p0_max} s, {p2_max} s");
}

#[test]
fn the_semantic_cache_answers_its_share_and_skips_the_quota() {
    let m = sonnet(200.0, json!({"semantic_cache": {"hit_rate": 0.15}}));
    let f = figures(&run(&model(&llm_model(json!({"rate": 50, "to": "chat"}), m, "1000s"))));
    let share = num(&f, "cache_hits") / num(&f, "requests");
    // About 50,000 requests: the share's standard error is 0.0016.
    assert!((share - 0.15).abs() < 0.007, "{f}");
}

#[test]
fn the_model_router_switches_after_two_bad_minutes_and_back_after_two_good_ones() {
    // The primary is slowed by 3 s from 120 s to 300 s, beyond the 2 s timeout: every call
    // started then times out. The minutes ending at 180 s and 240 s are both above 5 %, so the
    // router switches at 240 s; the first minute after the slowdown still sees the calls
    // started just before 300 s time out (about 3 % of its calls), below 5 %, so the minutes
    // ending at 360 s and 420 s switch it back at 420 s. Meanwhile simple intents go to the
    // fallback.
    let m = json!({
        "name": "router",
        "run": {"duration": "600s", "seed": 21},
        "intents": {"simple": {"share": 0.5}, "complex": {"share": 0.5}},
        "policies": {"t": {"timeout": "2s"}},
        "sources": {"c": {"rate": 20, "to": "router"}},
        "services": {
            "router": {"servers": 1000000, "kind": {"model_router": {"primary": "sonnet", "policy": "t", "fallback": "haiku",
                "intents": ["simple"]}}},
            "sonnet": {"servers": 1000000, "flow": [{"work": constant(0.5)}],
                "faults": {"slowdowns": [{"from": "120s", "to": "300s", "extra": "3s"}]}},
            "haiku": {"servers": 1000000, "flow": [{"work": constant(0.2)}]}
        }
    });
    let out = run(&model(&m));
    let r = serde_json::to_value(&out.summary.services["router"]).unwrap()["model_router"].clone();
    assert_eq!(r["switch_history"], json!([[240.0, true], [420.0, false]]), "{r}");
    // Simple requests in the 180 s switched: 20 × 0.5 × 180 = 1,800, Poisson.
    assert!((num(&r, "to_fallback") - 1800.0).abs() < 150.0, "{r}");
    assert!((num(&r, "switched_s") - 180.0).abs() < 1e-6, "{r}");
}

#[test]
fn with_priority_a_full_queue_turns_away_the_lower_class_never_p0() {
    // Two slots of 2.5 s (0.8 requests/s) and room for 20 waiting; 10 requests/s, 5 % of them P0
    // (0.5/s, within capacity). When the queue is full, an arriving P0 request takes the place
    // of the newest waiting P2 one, which is throttled: a P0 request is turned away only if 20
    // P0 requests already wait (probability about 0.625^20, 10^-4).
    let source = json!({"rate": 10, "to": "chat", "class_shares": {"p0": 0.05, "p1": 0.0, "p2": 0.95}});
    let m = sonnet(200.0, json!({"on_demand": {"capacity": 2, "queue_limit": 20}, "priority": true}));
    let out = run(&model(&llm_model(source, m, "2000s")));
    let by = &out.summary.requests.by_class;
    // A throttled request ends `rejected` (429).
    assert_eq!((by["p0"].failed, by["p0"].rejected), (0, 0), "{:?}", by["p0"]);
    assert!(by["p0"].completed > 800, "{:?}", by["p0"]);
    assert!(by["p2"].rejected > 10_000, "{:?}", by["p2"]);
}

#[test]
fn the_degradation_chain_goes_sonnet_haiku_cached_answer_template_in_that_order() {
    // Sonnet is down from 100 s to 300 s and Haiku from 200 s to 300 s. Before 100 s every
    // answer is Sonnet's; from 100 s to 200 s Haiku's (degraded); from 200 s to 300 s the FAQ
    // cache answers the 30 % it holds and the rest get the template. The chain is policies:
    // each call's fallback calls the next stage.
    let m = json!({
        "name": "chain",
        "run": {"duration": "300s", "window": "100s", "seed": 8},
        "sources": {"c": {"rate": 50, "to": "chat"}},
        "policies": {
            "to_sonnet": {"timeout": "10s", "fallback": {"call": "haiku_answer"}},
            "to_haiku": {"timeout": "10s", "fallback": {"call": "cached_answer"}},
            "to_cache": {"fallback": {"wait": "5ms"}}
        },
        "services": {
            "chat": {"servers": 1000000, "flow": [{"call": "sonnet", "policy": "to_sonnet"}]},
            "haiku_answer": {"servers": 1000000, "flow": [{"call": "haiku", "policy": "to_haiku"}]},
            "cached_answer": {"servers": 1000000, "flow": [{"call": "faq_cache", "policy": "to_cache"}]},
            "faq_cache": {"servers": 1000000, "flow": [{"work": constant(0.001)}], "faults": {"error_rate": 0.7}},
            "sonnet": {"servers": 1000000, "kind": {"llm": sonnet(100.0, json!({}))},
                "faults": {"outages": [{"from": "100s", "to": "300s"}]}},
            "haiku": {"servers": 1000000, "kind": {"llm": {"model": "claude-3-haiku", "ttft": constant(0.3), "tokens_per_s": 95,
                "output_tokens": constant(100.0)}}, "faults": {"outages": [{"from": "200s", "to": "300s"}]}}
        }
    });
    let out = run(&model(&m));
    let s = |n: &str| serde_json::to_value(&out.summary.services[n]).unwrap();
    let ok = |n: &str| s(n)["outcomes"]["ok"].as_f64().unwrap();
    let (sonnet, haiku, cache) = (ok("sonnet"), ok("haiku"), ok("faq_cache"));
    // 50/s: about 5,000 messages in each 100 s stretch.
    assert!((sonnet - 5000.0).abs() < 250.0, "Sonnet answers the first 100 s: {sonnet}");
    assert!((haiku - 5000.0).abs() < 250.0, "Haiku the next 100 s: {haiku}");
    assert!((cache - 1500.0).abs() < 150.0, "the FAQ cache 30 % of the last 100 s: {cache}");
    let r = &out.summary.requests;
    assert_eq!(r.failed + r.rejected, 0, "the template answers the rest: {r:?}");
    assert!((r.degraded as f64 - 10_000.0).abs() < 400.0, "everything after 100 s is degraded: {r:?}");
}
