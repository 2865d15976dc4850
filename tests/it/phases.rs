//! `run.phases` (a load test's ramp, hold and step-down, each with its own figures), the ECS
//! pattern of an `endpoint_pool` that orchestrates (`target`) and spills to Lambda
//! (`overflow`), and the "when did it start" figures of the whole-chain experiments: an LLM's
//! first throttle, a Lambda's first cold start and its initialisation P99.

use serde_json::{Value, json};

use crate::common::{assert_covers, constant, interval, model, run};
use capsim::report::output::RunOutput;

fn summary(out: &RunOutput) -> Value {
    serde_json::to_value(&out.summary).unwrap()
}

/// 100 requests/s for 20 s, then 300/s, through a delay of exactly 1 s.
fn stepped(phases: Value, warmup: &str) -> Value {
    json!({
        "name": "phases",
        "run": {"duration": "40s", "warmup": warmup, "window": "1s", "seed": 5, "phases": phases},
        "sources": {"users": {"profile": [
            {"shape": "constant", "rate": 100, "duration": "20s"},
            {"shape": "constant", "rate": 300, "duration": "20s"}], "to": "d"}},
        "delays": {"d": {"delay": constant(1.0), "to": "end"}}
    })
}

#[test]
fn a_phase_over_the_whole_run_counts_what_the_run_counts_and_phases_ignore_warm_up() {
    let all = json!([{"name": "all", "from": "0s", "to": "40s"}]);
    let s = summary(&run(&model(&stepped(all.clone(), "0s"))));
    let p = &s["phases"]["all"];
    for f in ["arrived", "completed"] {
        assert_eq!(p[f], s["requests"][f], "{f}: {p}");
    }
    assert_eq!(p["latency_s"]["e2e"]["p50"], s["latency_s"]["e2e"]["p50"]);
    // With a warm-up the run's counts restart; the phase's do not.
    let w = summary(&run(&model(&stepped(all, "10s"))));
    assert_eq!(w["phases"]["all"]["arrived"], p["arrived"], "a phase is not reset by the warm-up");
    assert!(w["requests"]["arrived"].as_u64().unwrap() < p["arrived"].as_u64().unwrap());
}

#[test]
fn each_phase_has_the_rate_and_latency_of_its_own_interval() {
    // Phase a: [5, 15) s at 100/s; phase b: [25, 39) s at 300/s. Answers take exactly 1 s, so
    // the answers ending in b were sent in [24, 38) s, all at 300/s: 14 s × 300 = 4,200 ± 4σ
    // (σ = √4,200 ≈ 65), and those ending in a were sent in [4, 14) s: 1,000 ± 4 × 32.
    let phases = json!([{"name": "a", "from": "5s", "to": "15s"}, {"name": "b", "from": "25s", "to": "39s"}]);
    let s = summary(&run(&model(&stepped(phases, "0s"))));
    let (a, b) = (&s["phases"]["a"], &s["phases"]["b"]);
    let count = |p: &Value, f: &str| p[f].as_f64().unwrap();
    assert!((count(a, "completed") - 1000.0).abs() < 4.0 * 1000f64.sqrt(), "{a}");
    assert!((count(b, "completed") - 4200.0).abs() < 4.0 * 4200f64.sqrt(), "{b}");
    assert!((count(b, "throughput_per_s") - 300.0).abs() < 4.0 * 4200f64.sqrt() / 14.0, "{b}");
    assert!((count(b, "arrived") - 4200.0).abs() < 4.0 * 4200f64.sqrt(), "{b}");
    for p in [a, b] {
        let p50 = p["latency_s"]["e2e"]["p50"].as_f64().unwrap();
        assert!((p50 - 1.0).abs() < 0.002, "a 1 s delay: {p50}");
        assert_eq!(p["error_share"].as_f64(), Some(0.0));
        assert!(p["from_s"].as_f64().unwrap() < p["to_s"].as_f64().unwrap());
    }
}

#[test]
fn rejections_and_failures_count_in_the_phase_they_end_in() {
    // One server, no queue, exactly 1 s of work, requests every 0.5 s: every other one is
    // rejected, so a phase of 10 s sees 10 answers and 10 rejections (± 1 at its edges).
    let m = json!({
        "name": "phases_rejected",
        "run": {"duration": "30s", "seed": 1, "phases": [{"name": "p", "from": "10s", "to": "20s"}]},
        "sources": {"s": {"interarrival": constant(0.5), "to": "one"}},
        "stations": {"one": {"servers": 1, "capacity": 0, "service": constant(1.0)}}
    });
    let s = summary(&run(&model(&m)));
    let p = &s["phases"]["p"];
    let (ok, rej) = (p["completed"].as_f64().unwrap(), p["rejected"].as_f64().unwrap());
    assert!((ok - 10.0).abs() <= 1.0 && (rej - 10.0).abs() <= 1.0, "{p}");
    assert!((p["error_share"].as_f64().unwrap() - rej / (ok + rej)).abs() < 1e-12);
}

#[test]
fn bad_phases_are_refused_with_their_field() {
    let bad = [
        (json!([{"name": "x", "from": "20s", "to": "10s"}]), "run.phases.0"),
        (json!([{"name": "x", "from": "0s", "to": "41s"}]), "run.phases.0"),
        (
            json!([{"name": "x", "from": "0s", "to": "1s"}, {"name": "x", "from": "1s", "to": "2s"}]),
            "run.phases.1.name",
        ),
        (json!([{"name": "a b", "from": "0s", "to": "1s"}]), "run.phases.0.name"),
    ];
    for (phases, path) in bad {
        let text = stepped(phases, "0s").to_string();
        let e = capsim::model::load_str("bad", &text, &[]).expect_err("refused").to_string();
        assert!(e.contains(path), "{path}: {e}");
    }
    let many: Vec<Value> = (0..33).map(|i| json!({"name": format!("p{i}"), "from": "0s", "to": "1s"})).collect();
    let e = capsim::model::load_str("bad", &stepped(json!(many), "0s").to_string(), &[]).err().unwrap().to_string();
    assert!(e.contains("at most 32"), "{e}");
}

/// A pool of one instance with two conversation slots orchestrating `work` (1 s), spilling to
/// `lambda_work` when both are busy.
fn ecs(rate: f64, target_error: f64) -> Value {
    json!({
        "name": "ecs",
        "run": {"duration": "20000s", "warmup": "100s", "seed": 3},
        "sources": {"m": {"rate": rate, "to": "front"}},
        "services": {
            "front": {"servers": 1000000, "flow": [{"call": "ecs"}]},
            "ecs": {"servers": 1000000, "kind": {"endpoint_pool": {
                "instance": {"type": "task", "price": "fargate.vcpu", "slots": 2},
                "instances": 1, "service": constant(0.0), "target": "work",
                "overflow": "spill"}}},
            "work": {"servers": 1000000, "flow": [{"work": constant(1.0)}], "faults": {"error_rate": target_error}},
            "spill": {"servers": 1000000, "flow": [{"work": constant(1.0)}]}
        }
    })
}

fn pool(out: &RunOutput) -> Value {
    serde_json::to_value(&out.summary.services["ecs"]).unwrap()["endpoint_pool"].clone()
}

#[test]
fn an_orchestrating_pool_spills_erlang_b_of_its_offered_load() {
    // Slots are held for the whole call to the target (1 s), so with Poisson arrivals at 1/s
    // and no waiting the pool is an Erlang loss system: B(c = 2, a = 1) = (1/2)/(1 + 1 + 1/2)
    // = 0.2 of the messages overflow.
    let m = model(&ecs(1.0, 0.0));
    // `requests` counts every arrival, the spilled ones included.
    let share = |o: &RunOutput| {
        let p = pool(o);
        p["overflowed"].as_f64().unwrap() / p["requests"].as_f64().unwrap()
    };
    assert_covers("overflow share", interval(&m, 8, share), 0.2, 0.03);
    let p = pool(&run(&m));
    assert!(p["first_overflow_s"].as_f64().unwrap() < 100.0, "{p}");
}

#[test]
fn a_failed_target_call_fails_the_request_and_frees_its_slot() {
    let out = run(&model(&ecs(0.5, 1.0)));
    let s = summary(&out);
    assert_eq!(s["requests"]["completed"].as_u64(), Some(s["services"]["spill"]["outcomes"]["ok"].as_u64().unwrap()));
    assert!(s["requests"]["failed"].as_u64().unwrap() > 1000, "{}", s["requests"]);
    // Slots come back: the pool keeps taking requests to the end (it would refuse all
    // of them to `spill` otherwise).
    let p = pool(&out);
    assert!(p["served"].as_f64().unwrap() > 0.6 * p["requests"].as_f64().unwrap(), "{p}");
    let bad = json!({"instance": {"type": "t", "price": "fargate.vcpu"}, "service": constant(0.0), "policy": "x"});
    let mut v = ecs(1.0, 0.0);
    v["services"]["ecs"]["kind"]["endpoint_pool"] = bad;
    v["policies"] = json!({"x": {"timeout": "1s"}});
    let e = capsim::model::load_str("bad", &v.to_string(), &[]).err().unwrap().to_string();
    assert!(e.contains("endpoint_pool.policy") && e.contains("goes with `target`"), "{e}");
}

#[test]
fn a_lambdas_initialisation_p99_is_its_cold_start_when_every_invocation_is_cold_and_0_when_few_are() {
    let f = |idle: &str| {
        json!({
            "name": "init",
            "run": {"duration": "1000s", "seed": 2},
            "sources": {"s": {"interarrival": constant(1.0), "to": "front"}},
            "services": {
                "front": {"servers": 1000, "flow": [{"call": "fn"}]},
                "fn": {"servers": 1000, "kind": {"lambda": {
                    "service": constant(0.01), "cold_start": constant(2.0), "idle_timeout": idle}}}
            }
        })
    };
    let lam = |o: &RunOutput| serde_json::to_value(&o.summary.services["fn"]).unwrap()["lambda"].clone();
    // An environment reclaimed after 1 ms idle: every invocation starts cold.
    let cold = lam(&run(&model(&f("1ms"))));
    let p99 = cold["init_s"]["p99"].as_f64().unwrap();
    assert!((p99 - 2.0).abs() < 0.002, "{cold}");
    // Kept 10 minutes: the arrivals at 1, 2 and 3 s each find the environments before busy
    // with their 2 s cold start; from 4 s on one environment serves every request: 3 cold
    // starts in 1,000 invocations, so the P99 is a warm invocation's 0.
    let warm = lam(&run(&model(&f("10m"))));
    assert_eq!(warm["cold_starts"].as_u64(), Some(3), "{warm}");
    assert!(warm["init_s"]["p99"].as_f64().unwrap() < 1e-6, "{warm}");
    assert!((warm["first_cold_start_s"].as_f64().unwrap() - 1.0).abs() < 1e-6, "{warm}");
}

#[test]
fn an_llms_first_throttle_is_when_its_request_bucket_runs_dry() {
    // 60 requests a minute: a bucket of 60 refilled at 1/s. Requests every 0.5 s drain it by
    // 1/s from full, so the first refusal comes at about 60 s (between 59 and 62 s).
    let m = json!({
        "name": "first_throttle",
        "run": {"duration": "100s", "seed": 2},
        "sources": {"s": {"interarrival": constant(0.5), "to": "front"}},
        "services": {
            "front": {"servers": 1000, "flow": [{"call": "llm"}]},
            "llm": {"servers": 1000, "kind": {"llm": {
                "model": "m", "ttft": constant(0.1), "tokens_per_s": 100, "output_tokens": constant(10.0),
                "quota": {"rpm": 60}}}}
        }
    });
    let out = run(&model(&m));
    let v = serde_json::to_value(&out.summary.services["llm"]).unwrap()["llm"].clone();
    let t = v["first_throttle_s"].as_f64().unwrap();
    assert!((59.0..62.0).contains(&t), "{v}");
}
