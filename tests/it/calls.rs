//! Calls between services and their policies, against figures computed by hand or by closed
//! forms: timeouts and wasted work, retries of independent errors, breakers, budgets, token
//! buckets, holding a slot while waiting (Erlang C and Pollaczek–Khinchine), Zipf keys, and the
//! accounting identity of outcomes.

use crate::common::run;
use capsim::components::Drawer;
use capsim::engine::{SimTime, stream};
use capsim::model::program::{Jitter, LimitDef, RetryDef};
use capsim::model::{Draws, policy_spec::LimitScope};
use capsim::policy::{Limiter, backoff_s};
use capsim::report::output::RunOutput;
use capsim::sim::Attrs;
use rayon::prelude::*;
use serde_json::{Value, json};

use crate::common::{assert_covers, interval, model};

/// `services.<name>` of a run as JSON.
fn service(out: &RunOutput, name: &str) -> Value {
    serde_json::to_value(&out.summary.services[name]).unwrap()
}

/// A client service calling `back` under `policy`, fed at `rate`.
fn caller(rate: f64, policy: Value, back: Value, duration: &str) -> Value {
    json!({
        "name": "calls",
        "run": {"duration": duration, "seed": 7},
        "sources": {"c": {"rate": rate, "to": "front"}},
        "policies": {"p": policy},
        "services": {
            "front": {"servers": 100000, "flow": [{"call": "back", "policy": "p"}]},
            "back": back
        }
    })
}

#[test]
fn a_timeout_gives_up_at_exactly_its_time_and_counts_the_rest_as_wasted() {
    let back = json!({"servers": 1000, "flow": [{"work": {"dist": "constant", "value": "2s"}}]});
    let out = run(&model(&caller(0.5, json!({"timeout": "1s"}), back, "2000s")));
    let b = service(&out, "back");
    let calls = b["calls"].as_u64().unwrap();
    assert!(calls > 900, "{calls} calls");
    assert_eq!(b["outcomes"]["timeout"].as_u64(), Some(calls), "every call times out");
    assert_eq!(b["attempt_latency_s"]["max"].as_f64(), Some(1.0), "the caller gives up at exactly 1 s");
    assert_eq!(b["attempt_latency_s"]["mean"].as_f64(), Some(1.0));
    // Each abandoned attempt works on for 2 s − 1 s; the last few may still be working at the end.
    let wasted = b["wasted_s"].as_f64().unwrap();
    assert!((wasted - calls as f64).abs() <= 2.0, "wasted {wasted} s for {calls} calls");
}

#[test]
fn retries_of_independent_errors_succeed_with_one_minus_p_to_the_k() {
    let (p, k) = (0.3f64, 3);
    let back = json!({"servers": 1000, "flow": [{"work": {"dist": "exponential", "mean": "10ms"}}],
        "faults": {"error_rate": p}});
    let policy = json!({"retry": {"max_attempts": k, "backoff": "none"}});
    let out = run(&model(&caller(20.0, policy, back, "20000s")));
    let b = service(&out, "back");
    let calls = b["calls"].as_f64().unwrap();
    let ok = b["outcomes"]["ok"].as_f64().unwrap();
    let attempts = b["attempts"].as_f64().unwrap();
    let success = 1.0 - p.powi(k);
    let mean_attempts = (1.0 - p.powi(k)) / (1.0 - p);
    // Binomial and per-call standard errors; 4 of them is a 1-in-15,000 false alarm.
    let se_share = (success * (1.0 - success) / calls).sqrt();
    let second = 0.7 * 1.0 + 0.21 * 4.0 + 0.09 * 9.0; // E[attempts²] for p = 0.3, k = 3
    let se_attempts = ((second - mean_attempts * mean_attempts) / calls).sqrt();
    eprintln!("success {} (expect {success}), attempts/call {} (expect {mean_attempts})", ok / calls, attempts / calls);
    assert!((ok / calls - success).abs() < 4.0 * se_share);
    assert!((attempts / calls - mean_attempts).abs() < 4.0 * se_attempts);
    assert_eq!(b["retries"].as_f64().unwrap(), attempts - calls, "every retry is an attempt");
}

#[test]
fn full_jitter_is_uniform_up_to_the_capped_backoff() {
    let def = RetryDef { max_attempts: 9, base: 0.1, cap: 0.5, exponential: true, jitter: Jitter::Full, on: 0 };
    let mut rng = stream(3, "jitter-test", "j");
    for n in [0u32, 2, 5] {
        let v = (0.1 * 2f64.powi(n as i32)).min(0.5);
        let mut xs: Vec<f64> = (0..20_000).map(|_| backoff_s(&def, n, 0.0, &mut rng)).collect();
        xs.sort_by(f64::total_cmp);
        // Kolmogorov–Smirnov against U(0, v): D < 1.63/√n is the 1 % critical value.
        let m = xs.len() as f64;
        let d =
            xs.iter().enumerate().map(|(i, &x)| ((i + 1) as f64 / m - x / v).abs().max((x / v - i as f64 / m).abs()));
        let d = d.fold(0.0, f64::max);
        assert!(xs[0] >= 0.0 && *xs.last().unwrap() <= v, "retry {n}: outside [0, {v}]");
        assert!(d < 1.63 / m.sqrt(), "retry {n}: KS distance {d} too large for U(0, {v})");
    }
}

#[test]
fn a_breaker_opens_stays_open_and_closes_after_the_outage() {
    // Back is down from 100 s to 200 s; 10 calls/s. The breaker (last 10 attempts, 5 at least,
    // 50 %) opens just after 100 s, probes at each 30 s: fails at ~130, ~160 and ~190 s
    // (reopening), succeeds at ~220 s and closes. So it opens exactly 4 times.
    let back = json!({"servers": 1000, "flow": [{"work": {"dist": "constant", "value": "10ms"}}],
        "faults": {"outages": [{"from": "100s", "to": "200s"}]}});
    let policy = json!({"breaker": {"window": {"calls": 10}, "failure_rate": 0.5, "min_calls": 5,
        "open_for": "30s", "probes": 2}, "fallback": {"degrade": true}});
    let mut m = caller(10.0, policy, back, "400s");
    m["sources"]["c"] = json!({"interarrival": {"dist": "constant", "value": "100ms"}, "to": "front"});
    let out = run(&model(&m));
    let b = service(&out, "back");
    assert_eq!(b["breaker_opened"].as_u64(), Some(4), "{b}");
    // Open from ~100.5 s to ~220 s, less 3 failed probes: about 1,195 attempts refused.
    let refused = b["short_circuits"].as_u64().unwrap();
    assert!((1180..=1200).contains(&refused), "{refused} short-circuits");
    assert_eq!(out.summary.requests.failed, 0, "the fallback answers every refused call");
    assert_eq!(out.summary.requests.degraded, b["fallbacks"].as_u64().unwrap());
}

#[test]
fn an_open_breaker_lets_its_exempt_classes_through_and_refuses_the_rest() {
    // Back always fails after 1 s. Batch sends every 7 s, real time every 10 s, both under one
    // breaker (the last attempt; open 10 h) that exempts real time. The first batch call (7 s)
    // fails at 8 s and opens it; from then on every batch call is refused, while all 100
    // real-time calls (10 s … 1,000 s) still reach back: 101 attempts, 141 short-circuits.
    let every =
        |s: &str, class: &str| json!({"interarrival": {"dist": "constant", "value": s}, "to": "front", "class": class});
    let breaker = json!({"window": {"calls": 1}, "min_calls": 1, "open_for": "10h", "exempt": ["realtime"]});
    let m = json!({
        "name": "exempt",
        "run": {"duration": "1000.5s", "seed": 3},
        "classes": ["realtime", "batch"],
        "sources": {"rt": every("10s", "realtime"), "batch": every("7s", "batch")},
        "policies": {"gate": {"breaker": breaker}},
        "services": {
            "front": {"servers": 1000, "flow": [{"call": "back", "policy": "gate"}]},
            "back": {"servers": 1000, "flow": [{"work": {"dist": "constant", "value": "1s"}}],
                "faults": {"error_rate": 1.0}}
        }
    });
    let out = run(&model(&m));
    let b = service(&out, "back");
    assert_eq!(b["breaker_opened"].as_u64(), Some(1), "{b}");
    assert_eq!(b["attempts"].as_u64(), Some(101), "{b}");
    assert_eq!(b["short_circuits"].as_u64(), Some(141), "{b}");
    assert_eq!(b["outcomes"]["unavailable"].as_u64(), Some(141), "{b}");
    let mut bad = m.clone();
    bad["policies"]["gate"]["breaker"]["exempt"] = json!(["vip"]);
    let err = capsim::model::load_str("bad.json", &bad.to_string(), &[]).expect_err("unknown class");
    assert!(err.to_string().contains("policies.gate.breaker.exempt.0"), "{err}");
}

#[test]
fn a_retry_budget_keeps_retries_within_its_share_of_calls() {
    let back = json!({"servers": 1000, "flow": [{"work": {"dist": "constant", "value": "5ms"}}],
        "faults": {"error_rate": 0.5}});
    let policy = json!({"retry": {"max_attempts": 5, "backoff": "none"},
        "budget": {"ratio": 0.1, "window": "10s", "min_per_s": 0}});
    let out = run(&model(&caller(50.0, policy, back, "2000s")));
    let b = service(&out, "back");
    let (calls, retries) = (b["calls"].as_f64().unwrap(), b["retries"].as_f64().unwrap());
    // Within any 10 s window retries ≤ 10 % of its calls; over the run that allows at most one
    // window's worth (500 calls × 10 %) beyond 10 %.
    assert!(retries <= 0.1 * calls + 50.0, "{retries} retries for {calls} calls");
    assert!(retries >= 0.09 * calls, "the budget should be spent when half the calls fail: {retries}");
    assert!(b["budget_refusals"].as_u64().unwrap() > 0);
}

#[test]
fn a_token_bucket_admits_at_most_rate_times_t_plus_its_burst_in_any_window() {
    let (rate, burst) = (2.0, 5.0);
    let mut l = Limiter::new(&LimitDef { name: "l".into(), rate, burst, per: LimitScope::Global }, 0);
    let mut rng = stream(11, "bucket-test", "arrivals");
    let mut t = 0.0;
    let mut admitted = Vec::new();
    for _ in 0..4000 {
        t += -(1.0 - rand::RngExt::random::<f64>(&mut rng)).ln() / (3.0 * rate);
        if l.take(SimTime::from_secs(t), 0, 0) {
            admitted.push(t);
        }
    }
    for i in 0..admitted.len() {
        for j in i..admitted.len() {
            let span = admitted[j] - admitted[i];
            let n = (j - i + 1) as f64;
            assert!(n <= rate * span + burst + 1e-6, "{n} admitted in {span} s");
        }
    }
    let long_run = admitted.len() as f64 / t;
    assert!((long_run - rate).abs() < 0.05 * rate, "long-run rate {long_run}");
}

#[test]
fn a_caller_holding_its_slot_queues_like_an_m_m_c_station() {
    // 10 slots; each request calls a downstream service with unlimited slots and exponential
    // 1 s service, holding its slot while it waits: the caller is M/M/10 at λ = 9 (Erlang C:
    // mean wait 0.668732 s).
    let m = json!({
        "name": "holding",
        "run": {"duration": "20000s", "warmup": "1000s"},
        "sources": {"c": {"rate": 9, "to": "caller"}},
        "services": {
            "caller": {"servers": 10, "flow": [{"call": "down"}]},
            "down": {"servers": 100000, "flow": [{"work": {"dist": "exponential", "mean": "1s"}}]}
        }
    });
    let wait = |o: &RunOutput| service(o, "caller")["mean_wait_s"].as_f64().unwrap();
    assert_covers("caller wait, M/M/10 by holding", interval(&model(&m), 20, wait), 0.668732, 0.03);
}

#[test]
fn work_plus_a_call_is_one_service_time_for_pollaczek_khinchine() {
    // One slot; work W ~ exponential(0.3 s), then a call to a pure delay D = 0.5 s. Service
    // S = W + D: E[S] = 0.8, E[S²] = 0.09 + 0.64 = 0.73. At λ = 1 (ρ = 0.8) P-K gives
    // Wq = λE[S²] / (2(1 − ρ)) = 1.825 s.
    let m = json!({
        "name": "holding_pk",
        "run": {"duration": "40000s", "warmup": "2000s"},
        "sources": {"c": {"rate": 1, "to": "caller"}},
        "services": {
            "caller": {"servers": 1, "flow": [
                {"work": {"dist": "exponential", "mean": "300ms"}},
                {"call": "down"}
            ]},
            "down": {"servers": 100000, "flow": [{"work": {"dist": "constant", "value": "500ms"}}]}
        }
    });
    let wait = |o: &RunOutput| service(o, "caller")["mean_wait_s"].as_f64().unwrap();
    assert_covers("caller wait, M/G/1 with S = W + D", interval(&model(&m), 20, wait), 1.825, 0.04);
}

#[test]
fn an_event_loop_service_frees_its_slot_while_it_waits() {
    // The same caller, but `hold_while_waiting: false`: only the 0.3 s of work occupies a slot,
    // so utilisation is λ·E[W] = 0.3 instead of 0.8.
    let m = json!({
        "name": "event_loop",
        "run": {"duration": "20000s", "warmup": "1000s"},
        "sources": {"c": {"rate": 1, "to": "caller"}},
        "services": {
            "caller": {"servers": 1, "hold_while_waiting": false, "flow": [
                {"work": {"dist": "exponential", "mean": "300ms"}},
                {"call": "down"}
            ]},
            "down": {"servers": 100000, "flow": [{"work": {"dist": "constant", "value": "500ms"}}]}
        }
    });
    let util = |o: &RunOutput| service(o, "caller")["utilization"].as_f64().unwrap();
    assert_covers("event-loop utilisation", interval(&model(&m), 10, util), 0.3, 0.02);
}

#[test]
fn the_most_popular_zipf_key_has_share_one_over_h() {
    let (n, s) = (100u32, 1.0f64);
    let h: f64 = (1..=n).map(|k| 1.0 / (k as f64).powf(s)).sum();
    let keys = vec![capsim::model::workload::KeySpaceDef { name: "items".into(), count: n, zipf: s, bursts: vec![] }];
    let draws = Draws { keys: Some(0), ..Draws::default() };
    let mut d = Drawer::new(5, "zipf-test", &draws, &[], &keys);
    let draws_n = 200_000;
    let mut top = 0;
    for _ in 0..draws_n {
        let mut a = Attrs::default();
        d.fill(SimTime::ZERO, &mut a);
        assert!(a.key < n);
        top += (a.key == 0) as u32;
    }
    let share = top as f64 / draws_n as f64;
    let p = 1.0 / h;
    let se = (p * (1.0 - p) / draws_n as f64).sqrt();
    assert!((share - p).abs() < 4.0 * se, "top key share {share}, expected 1/H = {p}");
}

#[test]
fn every_request_is_accounted_for_on_every_bundled_model() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    // Ten minutes of each, models in parallel (the model-tier ones carry thousands a second).
    files.par_iter().for_each(|f| {
        let sets = ["run.duration=10m", "run.warmup=0"].map(|s| capsim::model::Override::parse(s).unwrap());
        let m = capsim::model::load(f, &sets).unwrap_or_else(|e| panic!("{e}"));
        for warmup in [false, true] {
            let mut m = m.clone();
            m.warmup = if warmup { SimTime::from_secs(60.0) } else { SimTime::ZERO };
            let r = run(&m).summary.requests;
            let ended = r.completed + r.degraded + r.rejected + r.failed + r.in_flight;
            assert_eq!(r.arrived + r.carried_in, ended, "{}: {r:?}", f.display());
            if !warmup {
                assert_eq!(r.carried_in, 0);
            }
        }
    });
}

#[test]
fn outcomes_add_up_with_failures_retries_and_fallbacks() {
    let m = json!({
        "name": "identity",
        "run": {"duration": "600s"},
        "classes": ["a", "b"],
        "intents": {"x": {"share": 0.5}, "y": {"share": 0.5}},
        "sources": {"c": {"rate": 50, "class_shares": {"a": 0.5, "b": 0.5}, "to": "front"}},
        "limits": {"l": {"rate": 45, "burst": 10}},
        "policies": {
            "r": {"timeout": "200ms", "retry": {"max_attempts": 3, "base": "10ms"}, "fallback": {"degrade": true}},
            "f": {"retry": {"max_attempts": 2, "backoff": "none"}}
        },
        "services": {
            "front": {"servers": 30, "capacity": 20, "flow": [
                {"limit": "l"},
                {"call": "a", "policy": "r"},
                {"call": "b", "policy": "f"}
            ]},
            "a": {"servers": 5, "capacity": 5, "flow": [{"work": {"dist": "exponential", "mean": "100ms"}}]},
            "b": {"servers": 20, "flow": [{"work": {"dist": "exponential", "mean": "50ms"}}], "faults": {"error_rate": 0.2}}
        }
    });
    let out = run(&model(&m));
    let r = &out.summary.requests;
    assert_eq!(r.arrived, r.completed + r.degraded + r.rejected + r.failed + r.in_flight, "{r:?}");
    assert!(r.degraded > 0 && r.rejected > 0 && r.failed > 0, "every outcome occurs: {r:?}");
    for by in [&r.by_class, &r.by_intent] {
        let sum = |f: fn(&capsim::sim::world::Counts) -> u64| by.values().map(f).sum::<u64>();
        assert_eq!(sum(|c| c.arrived), r.arrived);
        assert_eq!(sum(|c| c.failed), r.failed);
        for c in by.values() {
            assert_eq!(c.arrived, c.completed + c.degraded + c.rejected + c.failed + c.in_flight);
        }
    }
}

#[test]
fn the_critical_path_adds_up_to_the_latency_and_names_the_slow_span() {
    // models/fanout.json at low load (no queueing, constant service times): in sequence the
    // 600 ms split 200 / 100 / 300 ms; in parallel RAG (300 ms) is the whole critical path.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/fanout.json");
    for (to, expect) in [("sequential", [0.2, 0.1, 0.3]), ("parallel", [0.0, 0.0, 0.3])] {
        let sets = [format!("sources.users.to={to}"), "sources.users.rate=1".into(), "run.duration=20m".into()];
        let sets: Vec<_> = sets.iter().map(|s| capsim::model::Override::parse(s).unwrap()).collect();
        let out = run(&capsim::model::load(&path, &sets).unwrap());
        let cp = &out.summary.critical_path;
        for (svc, want) in ["reco", "catalog", "rag"].iter().zip(expect) {
            assert!((cp[*svc].mean_s - want).abs() < 1e-6, "{to}: {svc} {} ≠ {want}", cp[*svc].mean_s);
        }
        let total: f64 = cp.values().map(|p| p.mean_s).sum();
        let e2e = out.summary.latency_s.e2e.mean;
        assert!((total - e2e).abs() < 1e-9 * e2e.max(1.0), "{to}: parts {total} ≠ e2e mean {e2e}");
    }
}

#[test]
fn work_inside_a_parallel_branch_counts_for_the_service_that_runs_it() {
    let m = json!({
        "name": "branch_work",
        "run": {"duration": "600s"},
        "sources": {"c": {"rate": 1, "to": "front"}},
        "services": {
            "front": {"servers": 100, "flow": [{"parallel": [
                [{"work": {"dist": "constant", "value": "50ms"}}, {"call": "back"}]
            ]}]},
            "back": {"servers": 100, "flow": [{"work": {"dist": "constant", "value": "20ms"}}]}
        }
    });
    let cp = run(&model(&m)).summary.critical_path;
    assert!((cp["front"].mean_s - 0.05).abs() < 1e-6, "{:?}", cp["front"]);
    assert!((cp["back"].mean_s - 0.02).abs() < 1e-6);
    assert_eq!(cp["client"].mean_s, 0.0);
}

#[test]
fn abandoned_attempts_count_towards_the_overload_stop() {
    // Callers give up after 1 ms on a service that takes 10 ms with one slot: the requests end
    // (failed) but their attempts pile up in its queue. They used to grow until memory ran out.
    let back = json!({"servers": 1, "flow": [{"work": {"dist": "constant", "value": "10ms"}}]});
    let mut m = caller(1000.0, json!({"timeout": "1ms"}), back, "10h");
    m["run"]["max_in_flight"] = json!(20000);
    let out = run(&model(&m));
    match out.summary.status {
        capsim::sim::Status::Overloaded { at_s, .. } => assert!(at_s < 60.0, "stopped at {at_s} s"),
        s => panic!("expected an overload stop, got {s:?}"),
    }
    // Only the requests still inside their 1 ms are in flight (about 1 at 1,000 requests/s).
    assert!(out.summary.requests.in_flight <= 10, "{} requests in flight", out.summary.requests.in_flight);
}

#[test]
fn work_stretches_by_busy_over_cores_when_more_slots_than_cores_are_busy() {
    // Ten requests 1 ms apart reach 10 slots sharing 2 cores; request k starts with k slots busy,
    // so its 1 s of work takes max(1, k/2) s: 1, 1, 1.5, 2, … 5 s, mean 2.8 s.
    let m = json!({
        "name": "cores",
        "run": {"duration": "100s", "seed": 1},
        "sources": {"c": {"interarrival": {"dist": "constant", "value": "1ms"}, "limit": 10, "to": "front"}},
        "services": {
            "front": {"servers": 100, "flow": [{"call": "cpu"}]},
            "cpu": {"servers": 10, "cores": 2, "flow": [{"work": {"dist": "constant", "value": "1s"}}]}
        }
    });
    let out = run(&model(&m));
    let e2e = &out.summary.latency_s.e2e;
    assert_eq!(out.summary.requests.completed, 10);
    assert!((e2e.mean - 2.8).abs() < 1e-6, "mean {} s", e2e.mean);
    assert!((e2e.max - 5.0).abs() < 1e-6, "max {} s", e2e.max);
}

#[test]
fn a_burst_over_a_series_spreads_its_share_uniformly_over_its_keys() {
    use capsim::model::workload::KeySpaceDef;
    let far = SimTime::from_secs(1e6);
    let bursts = vec![(SimTime::ZERO, far, 0.5, 10, 5)];
    let keys = vec![KeySpaceDef { name: "items".into(), count: 1000, zipf: 1.0, bursts }];
    let draws = Draws { keys: Some(0), ..Draws::default() };
    let mut d = Drawer::new(5, "series-test", &draws, &[], &keys);
    let n = 100_000;
    let mut per_key = [0u32; 5];
    for _ in 0..n {
        let mut a = Attrs::default();
        d.fill(SimTime::ZERO, &mut a);
        if (10..15).contains(&a.key) {
            per_key[(a.key - 10) as usize] += 1;
        }
    }
    // Each of the 5 keys gets a tenth of the burst's half, plus its small Zipf share (≤ 0.013).
    for (k, &c) in per_key.iter().enumerate() {
        let share = c as f64 / n as f64;
        assert!((0.1..0.1 + 0.013 + 0.004).contains(&share), "key {}: share {share}", 10 + k);
    }
}

#[test]
fn a_single_key_burst_sends_exactly_its_share_to_its_key() {
    use capsim::model::workload::KeySpaceDef;
    let far = SimTime::from_secs(1e6);
    let keys = vec![KeySpaceDef {
        name: "items".into(),
        count: 1000,
        zipf: 0.0,
        bursts: vec![(SimTime::ZERO, far, 0.3, 7, 1)],
    }];
    let draws = Draws { keys: Some(0), ..Draws::default() };
    let mut d = Drawer::new(5, "burst-test", &draws, &[], &keys);
    let n = 200_000;
    let hits = (0..n)
        .filter(|_| {
            let mut a = Attrs::default();
            d.fill(SimTime::ZERO, &mut a);
            a.key == 7
        })
        .count();
    // 0.3 from the burst plus 0.7/1000 from the uniform draw; 4 standard errors ≈ 0.004.
    let p = 0.3 + 0.7 / 1000.0;
    let share = hits as f64 / n as f64;
    assert!((share - p).abs() < 4.0 * (p * (1.0 - p) / n as f64).sqrt(), "share {share}, expected {p}");
}
