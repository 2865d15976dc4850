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
    // The first token at 0.5 s, the other 299 at 100 a second.
    assert!((lat - 3.49).abs() < 1e-3, "0.5 + 299 / 100: {lat}");
    assert_eq!(num(&f, "output_tokens"), 300.0 * num(&f, "served"));
}

#[test]
fn mean_in_flight_is_arrival_rate_times_holding_time() {
    // One request every 2 s holding 0.5 + 99/100 = 1.49 s (the first of its 100 tokens at 0.5 s):
    // 0.745 in flight on average (Little), exactly, as the run ends between requests (at
    // 1,000.9 s the last, sent at 1,000 s, still holds: 499 requests × 1.49 s + 0.9 s over
    // 1,000.9 s).
    let m = sonnet(100.0, json!({}));
    let src = json!({"interarrival": constant(2.0), "to": "chat"});
    let f = figures(&run(&model(&llm_model(src, m, "1000.9s"))));
    let expected = (499.0 * 1.49 + 0.9) / 1000.9;
    assert!((num(&f, "mean_in_flight") - expected).abs() < 1e-6, "{expected}: {f}");
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

#[test]
fn window_throttle_shares_are_erlang_b_per_window_and_thin_windows_are_left_out() {
    // 20 requests/s of 0.5 s each against 10 concurrent invocations: an offered load of 10,
    // so each 10 s window loses Erlang B(10, 10) = 0.2146 of its ~200 requests. Its share has
    // a standard error of about 0.03, so the median of ~100 windows lies within 0.02 of it.
    // The first 200 s bring 0.5 requests/s (about 5 a window, under the 20 needed): left out.
    let (a, c) = (10.0, 10);
    let b = (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b));
    let source = json!({"profile": [{"shape": "constant", "rate": 0.5, "duration": "200s"},
        {"shape": "constant", "rate": 20, "duration": "1000s"}], "to": "chat"});
    let m = sonnet(0.0, json!({"ttft": constant(0.5), "quota": {"concurrency": c}}));
    let f = figures(&run(&model(&llm_model(source, m, "1200s"))));
    let w = &f["window_throttled_share"];
    assert_eq!(num(w, "windows"), 100.0, "only the 100 busy windows count: {w}");
    assert!((num(w, "p50") - b).abs() < 0.02, "median {w} vs Erlang B {b}");
    assert!(num(w, "max") > num(w, "p50") + 0.03 && num(w, "max") < 0.5, "{w}");
}

#[test]
fn the_model_router_sends_intents_to_a_template_the_fallback_or_the_primary_and_counts_the_saving() {
    // 40 % simple (1,000 in, 100 out) always to Haiku, 30 % chitchat (500 in, 50 out) to a
    // 20 ms template, 30 % complex to Sonnet. Each simple request saves its tokens at Sonnet's
    // prices less Haiku's: 1,000 × (3 − 0.25) + 100 × (15 − 1.25) per million = $0.004125;
    // each chitchat one all of Sonnet's: 500 × 3 + 50 × 15 per million = $0.00225.
    let tok = |i: f64, o: f64, share: f64| json!({"share": share, "tokens_in": constant(i), "tokens_out": constant(o)});
    let llm = |name: &str, p: &str| {
        json!({"model": name, "ttft": constant(0.5), "tokens_per_s": 100,
        "input_price": format!("bedrock.{p}.input_token"), "output_price": format!("bedrock.{p}.output_token")})
    };
    let prices = |p: &str| json!({"input_price": format!("bedrock.{p}.input_token"), "output_price": format!("bedrock.{p}.output_token")});
    let m = json!({
        "name": "static-router",
        "run": {"duration": "500s", "seed": 5},
        "intents": {"simple": tok(1000.0, 100.0, 0.4), "chitchat": tok(500.0, 50.0, 0.3), "complex": tok(1500.0, 80.0, 0.3)},
        "sources": {"c": {"rate": 20, "to": "router"}},
        "services": {
            "router": {"servers": 1000000, "kind": {"model_router": {"primary": "sonnet", "fallback": "haiku",
                "always": ["simple"], "template": {"intents": ["chitchat"], "wait": "20ms"},
                "saving": {"primary": prices("sonnet-3.5"), "fallback": prices("haiku-3")}}}},
            "sonnet": {"servers": 1000000, "kind": {"llm": llm("claude-3.5-sonnet", "sonnet-3.5")}},
            "haiku": {"servers": 1000000, "kind": {"llm": llm("claude-3-haiku", "haiku-3")}}
        }
    });
    let out = run(&model(&m));
    let r = serde_json::to_value(&out.summary.services["router"]).unwrap()["model_router"].clone();
    let (fb, tpl, prim, n) =
        (num(&r, "to_fallback"), num(&r, "to_template"), num(&r, "to_primary"), num(&r, "requests"));
    assert_eq!(fb + tpl + prim, n, "{r}");
    // About 10,000 requests: each share's standard error is under 0.005.
    for (got, share) in [(fb, 0.4), (tpl, 0.3), (prim, 0.3)] {
        assert!((got / n - share).abs() < 0.02, "{got} of {n} vs {share}: {r}");
    }
    let expect = fb * 0.004125 + tpl * 0.00225;
    assert!((num(&r, "saved_usd") - expect).abs() < 1e-9 * expect, "{r} vs {expect}");
    assert!((num(&r, "saved_usd_per_1k_requests") - expect * 1000.0 / n).abs() < 1e-9, "{r}");
    // The template answers in 20 ms and costs nothing; only Haiku sees the simple requests.
    let chit = &out.summary.latency_s.by_intent["chitchat"];
    assert!((chit.max - 0.02).abs() < 1e-9, "{chit:?}");
    let haiku = serde_json::to_value(&out.summary.services["haiku"]).unwrap()["llm"].clone();
    assert_eq!(num(&haiku, "requests"), fb, "{haiku}");
}

#[test]
fn a_router_refuses_an_intent_routed_twice_and_an_unknown_price() {
    let m = |settings: Value| {
        json!({
            "name": "bad-router",
            "intents": {"simple": {"share": 0.5}, "complex": {"share": 0.5}},
            "sources": {"c": {"rate": 1, "to": "router"}},
            "services": {
                "router": {"servers": 10, "kind": {"model_router": settings}},
                "a": {"servers": 10, "flow": [{"work": constant(0.1)}]},
                "b": {"servers": 10, "flow": [{"work": constant(0.1)}]}
            }
        })
        .to_string()
    };
    let twice = m(json!({"primary": "a", "fallback": "b", "always": ["simple"], "template": {"intents": ["simple"]}}));
    let msg = capsim::model::load_str("bad.json", &twice, &[]).map(|_| ()).unwrap_err().to_string();
    assert!(msg.contains("model_router.template.intents") && msg.contains("`simple` is routed twice"), "{msg}");
    let price = m(json!({"primary": "a", "fallback": "b", "saving": {
        "primary": {"input_price": "nope", "output_price": "bedrock.sonnet-3.5.output_token"},
        "fallback": {"input_price": "bedrock.haiku-3.input_token", "output_price": "bedrock.haiku-3.output_token"}}}));
    let msg = capsim::model::load_str("bad.json", &price, &[]).map(|_| ()).unwrap_err().to_string();
    assert!(
        msg.contains("model_router.saving.primary.input_price") && msg.contains("`nope` is not in the price table"),
        "{msg}"
    );
}

#[test]
fn a_controller_watching_first_tokens_grows_where_one_watching_whole_calls_shrinks() {
    // Calls of 0.5 s to the first token plus 100 tokens at 100 tokens/s (1.5 s in all) against
    // a P99 target of 1 s. Watching whole calls, every 5 s interval is "slow": the limit falls
    // from 10 by ×0.9 to its floor of 2. Watching first tokens (0.5 s), every interval is fast:
    // +1 per interval from 10 to the cap of 20, reached at the 10th interval, 50 s in
    // (requests arrive 20 a second, so calls end in every interval).
    for (streamed, limit, reached) in [(None, 2.0, Value::Null), (Some(100.0), 20.0, json!(50.0))] {
        let mut adaptive = json!({"initial": 10, "min": 2, "interval": "5s", "target_p99": "1s"});
        if let Some(tps) = streamed {
            adaptive["streamed_tokens_per_s"] = json!(tps);
        }
        let m = json!({
            "name": "aimd",
            "run": {"duration": "120s", "seed": 2},
            "intents": {"any": {"share": 1.0, "tokens_in": constant(100.0), "tokens_out": constant(100.0)}},
            "sources": {"c": {"rate": 20, "to": "pool"}},
            "services": {
                "pool": {"servers": 1000000, "kind": {"concurrency_limiter": {"target": "sonnet", "max_concurrency": 20,
                    "adaptive": adaptive}}},
                "sonnet": {"servers": 1000000, "kind": {"llm": {"model": "m", "ttft": constant(0.5), "tokens_per_s": 100}}}
            }
        });
        let out = run(&model(&m));
        let p = serde_json::to_value(&out.summary.services["pool"]).unwrap()["concurrency_limiter"].clone();
        assert_eq!(num(&p, "limit"), limit, "streamed {streamed:?}: {p}");
        assert_eq!(p["reached_cap_s"], reached, "streamed {streamed:?}: {p}");
    }
}

#[test]
fn a_source_with_an_intent_sends_only_that_intent_and_a_population_too() {
    // Intents: `short` (all of the shares: 100 output tokens) and `long` (share 0: 1,000). A
    // source given `intent: long` sends only long requests: each takes 0.5 + 1,000 / 100 =
    // 10.5 s; a population without one draws the shares: 0.5 + 100 / 100 = 1.5 s (percentiles
    // within the histograms' 1 %).
    let mut m = llm_model(
        json!({"rate": 2, "to": "chat", "intent": "long"}),
        sonnet(0.0, json!({"output_tokens": null})),
        "200s",
    );
    m["intents"] = json!({"short": {"share": 1, "tokens_out": constant(100.0)},
                          "long": {"share": 0, "tokens_out": constant(1000.0)}});
    m["sessions"] = json!({"s": {"users": 3, "think": constant(1.0), "to": "chat", "class": "p1"}});
    let by_class = |m: &Value| serde_json::to_value(&run(&model(m)).summary).unwrap()["latency_s"]["by_class"].clone();
    let lat = by_class(&m);
    let (chat, batch) = (&lat["p0"], &lat["p1"]);
    assert!((num(chat, "p50") - 10.5).abs() < 0.11 && (num(chat, "max") - 10.5).abs() < 0.11, "{chat}");
    assert!((num(batch, "p50") - 1.5).abs() < 0.02 && (num(batch, "max") - 1.5).abs() < 0.02, "{batch}");
    m["sessions"]["s"]["intent"] = json!("long");
    let batch = &by_class(&m)["p1"];
    assert!((num(batch, "p50") - 10.5).abs() < 0.11 && (num(batch, "max") - 10.5).abs() < 0.11, "{batch}");
}
