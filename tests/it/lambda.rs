//! The `lambda` service kind against hand-computed figures: a step from 0 to 5,000 concurrent
//! requests gets at most 1,000 new environments in any 10 s and the cold starts equal the
//! environments created; the regional limit; warm reuse; keep-warm pings; the price.

use crate::common::run;
use capsim::report::output::RunOutput;
use serde_json::{Value, json};

use crate::common::model;

fn fn_model(source: Value, lambda: Value, duration: &str, window: &str) -> Value {
    json!({
        "name": "lambda",
        "run": {"duration": duration, "window": window, "seed": 17},
        "sources": {"c": source},
        "services": {
            "front": {"servers": 10000000, "flow": [{"call": "fn"}]},
            "fn": {"servers": 10000000, "kind": {"lambda": lambda}}
        }
    })
}

fn figures(out: &RunOutput) -> Value {
    serde_json::to_value(&out.summary.services["fn"]).unwrap()["lambda"].clone()
}

fn num(v: &Value, f: &str) -> f64 {
    v[f].as_f64().unwrap_or_else(|| panic!("{f} missing from {v}"))
}

fn constant(v: &str) -> Value {
    json!({"dist": "constant", "value": v})
}

#[test]
fn a_step_to_5000_concurrent_gets_at_most_1000_new_environments_in_any_10_s() {
    // 500 requests/s of 10 s each: 5,000 at once once the step has lasted 10 s. The regional
    // limit is raised to 10,000 so only the scaling rule binds.
    let f = json!({"service": constant("10s"), "cold_start": constant("200ms"), "regional_limit": 10000});
    let source = json!({"rate": 500, "to": "front"});
    let out = run(&model(&fn_model(source, f, "120s", "1s")));
    let cold =
        capsim::report::timeseries::column(&out.rows, &out.station_names, &out.kind_columns, "fn.cold_starts", false)
            .expect("the cold_starts column");
    let per_s: Vec<f64> = cold.iter().map(|(_, v)| *v).collect();
    let worst = per_s.windows(10).map(|w| w.iter().sum::<f64>()).fold(0.0, f64::max);
    assert!(worst <= 1000.0, "a 10 s window created {worst}");
    assert!(worst >= 990.0, "the rule is used to the full: {worst}");
    let s = figures(&out);
    assert_eq!(num(&s, "cold_starts"), num(&s, "environments_created"), "{s}");
    assert!(num(&s, "throttled_scaling") > 0.0, "{s}");
}

#[test]
fn the_regional_limit_throttles_beyond_1000_concurrent_executions() {
    // 150/s of 10 s each asks for 1,500 at once: the scaling rule gives 1,000 environments in
    // the first 10 s, then the regional limit of 1,000 binds. Erlang B(1000, 1500) ≈ 0.35 of
    // requests lost once in steady state.
    let (a, c) = (1500.0, 1000);
    let b = (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b));
    let f = json!({"service": constant("10s"), "cold_start": constant("0s")});
    let s = figures(&run(&model(&fn_model(json!({"rate": 150, "to": "front"}), f, "3000s", "10s"))));
    let share = num(&s, "throttled_concurrency")
        / (num(&s, "invocations") + num(&s, "throttled_concurrency") + num(&s, "throttled_scaling"));
    assert!((share - b).abs() < 0.02, "{share} vs Erlang B {b}: {s}");
    assert_eq!(num(&s, "max_concurrency"), 1000.0);
}

#[test]
fn warm_environments_are_reused_and_keep_warm_pings_keep_them() {
    // One request every 20 minutes: with the 10-minute idle timeout, every one is cold; with
    // pings every 5 minutes keeping 1 environment, none after the first ping.
    let source = json!({"interarrival": {"dist": "constant", "value": "20m"}, "to": "front"});
    let base = json!({"service": constant("100ms"), "cold_start": constant("1s")});
    let cold = figures(&run(&model(&fn_model(source.clone(), base.clone(), "10h", "10m"))));
    assert_eq!(num(&cold, "cold_starts"), num(&cold, "invocations"), "{cold}");
    let mut warm = base;
    warm["keep_warm"] = json!({"every": "5m", "environments": 1});
    let warm = figures(&run(&model(&fn_model(source, warm, "10h", "10m"))));
    assert_eq!(num(&warm, "cold_starts"), 0.0, "{warm}");
}

#[test]
fn price_is_requests_plus_gb_seconds() {
    // 10/s for 100 s of 200 ms at 512 MB: 1,000 requests at $0.20 per million plus (1,000 ×
    // 0.2 + cold starts × 1) s × 0.5 GB × $0.0000166667.
    let f = json!({"service": constant("200ms"), "cold_start": constant("1s"), "memory_mb": 512});
    let source = json!({"interarrival": {"dist": "constant", "value": "100ms"}, "to": "front"});
    let s = figures(&run(&model(&fn_model(source, f, "100.05s", "10s"))));
    let colds = num(&s, "cold_starts");
    let expect = 1000.0 * 0.20e-6 + (1000.0 * 0.2 + colds) * 0.5 * 0.000_016_666_7;
    assert!((num(&s, "cost_usd") - expect).abs() < 1e-9, "{s} vs {expect}");
    // The 12 requests arriving while the first one's 1.2 s cold invocation runs (0 to 1.1 s)
    // all start environments; after that the idle ones are reused.
    assert_eq!(colds, 12.0, "{s}");
}

#[test]
fn ecs_baseline_spills_to_lambda_as_erlang_b_says() {
    // A pool of 10 ECS permits in front of 1 s tasks, overflowing to Lambda: with 15 requests/s
    // the share sent to Lambda is the blocking probability of a loss system, Erlang B(10, 15).
    let (a, c) = (15.0, 10);
    let b = (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b));
    let m = json!({
        "name": "spill",
        "run": {"duration": "20000s", "seed": 3},
        "sources": {"c": {"rate": 15, "to": "front"}},
        "services": {
            "front": {"servers": 10000000, "flow": [{"call": "baseline"}]},
            "baseline": {"servers": 10000000, "kind": {"concurrency_limiter": {"target": "ecs", "max_concurrency": 10, "overflow": "fn"}}},
            "ecs": {"servers": 10000000, "flow": [{"work": {"dist": "exponential", "mean": "1s"}}]},
            "fn": {"servers": 10000000, "kind": {"lambda": {"service": constant("1s"), "cold_start": constant("250ms")}}}
        }
    });
    let out = run(&model(&m));
    let pool = serde_json::to_value(&out.summary.services["baseline"]).unwrap()["concurrency_limiter"].clone();
    let share = num(&pool, "overflowed") / num(&pool, "requests");
    // About 300,000 requests: the share's standard error is under 0.001.
    assert!((share - b).abs() < 0.005, "{share} vs Erlang B {b}: {pool}");
    assert_eq!(num(&pool, "waited"), 0.0);
}

#[test]
fn a_handler_that_calls_out_keeps_its_environment_for_the_whole_call() {
    // The handler works 10 ms, then calls a 1 s dependency and keeps its environment meanwhile:
    // each invocation holds one for 1.01 s. 50 requests/s offer 50.5 concurrent executions to
    // a function limited to 40, a loss system: the throttled share is Erlang B(40, 50.5)
    // (insensitive to the holding time's law). Without `target`, the same 10 ms handler would
    // need half an environment and never throttle.
    let (a, c) = (50.0 * 1.01, 40);
    let b = (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b));
    let f = json!({"service": constant("10ms"), "cold_start": constant("200ms"), "regional_limit": 40,
        "target": "dep", "policy": "once"});
    let mut m = fn_model(json!({"rate": 50, "to": "front"}), f, "4000s", "100s");
    m["services"]["dep"] = json!({"servers": 10000000, "flow": [{"work": constant("1s")}]});
    m["policies"] = json!({"once": {"retry": {"max_attempts": 1}}});
    m["run"]["warmup"] = json!("100s");
    let out = run(&model(&m));
    let s = figures(&out);
    let tried = num(&s, "invocations") + num(&s, "throttled_concurrency") + num(&s, "throttled_scaling");
    let share = num(&s, "throttled_concurrency") / tried;
    // About 195,000 requests: the share's standard error is about 0.001.
    assert!((share - b).abs() < 0.006, "{share} vs Erlang B {b}: {s}");
    assert_eq!(num(&s, "max_concurrency"), 40.0, "{s}");
    // Billed: 1.01 s per invocation, plus a cold start for each environment created.
    let billed = num(&s, "invocations") * 1.01 + 0.2 * num(&s, "cold_starts");
    assert!((num(&s, "billed_s") / billed - 1.0).abs() < 0.002, "billed {} vs {billed}: {s}", num(&s, "billed_s"));
    // The dependency's failures come back as the handler's: a policy without target is refused.
    let bad = fn_model(
        json!({"rate": 1, "to": "front"}),
        json!({"service": constant("1s"), "cold_start": constant("0s"),
        "policy": "once"}),
        "10s",
        "1s",
    );
    let e = capsim::model::load_str("bad.json", &bad.to_string(), &[]).unwrap_err().to_string();
    assert!(e.contains("kind.lambda.policy") && e.contains("`target`"), "{e}");
}
