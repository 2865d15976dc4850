//! Open single-station queues against closed forms: M/M/1, M/M/c (Erlang C), M/D/1 and M/G/1
//! (Pollaczek–Khinchine), M/M/1/K blocking, non-preemptive priorities (Cobham), and Little's law.

use serde_json::{Value, json};

use crate::common::*;

fn single_station(rate: f64, servers: u32, service: Value, hours: f64) -> Value {
    json!({
        "name": "q",
        "run": {"duration": hours * 3600.0, "warmup": "30m"},
        "sources": {"in": {"rate": rate, "to": "s"}},
        "stations": {"s": {"servers": servers, "service": service}}
    })
}

/// Erlang C: (probability of waiting, mean wait) for M/M/c with offered load a = λ/μ.
pub(crate) fn erlang_c(lambda: f64, mu: f64, c: u32) -> (f64, f64) {
    let a = lambda / mu;
    let rho = a / c as f64;
    let mut term = 1.0; // a^k / k!
    let mut sum = 1.0;
    for k in 1..c {
        term *= a / k as f64;
        sum += term;
    }
    let last = term * a / c as f64 / (1.0 - rho); // a^c / c! / (1 − ρ)
    let p_wait = last / (sum + last);
    (p_wait, p_wait / (c as f64 * mu - lambda))
}

#[test]
fn mm1_mean_wait_and_response() {
    // λ = 0.8, μ = 1: Wq = ρ/(μ − λ) = 4 s, W = 5 s.
    let m = model(&single_station(0.8, 1, json!({"dist": "exponential", "mean": 1}), 40.0));
    let wait = interval(&m, 20, |o| station(o, "s", "mean_wait_s"));
    assert_covers("M/M/1 mean wait", wait, 4.0, 0.04);
    let resp = interval(&m, 20, |o| o.summary.latency_s.e2e.mean);
    assert_covers("M/M/1 mean response", resp, 5.0, 0.04);
    let util = interval(&m, 20, |o| station(o, "s", "utilization"));
    assert_covers("M/M/1 utilisation", util, 0.8, 0.01);
}

#[test]
fn mm1_response_percentile_matches_exponential_law() {
    // M/M/1 FIFO response time is exponential with rate μ − λ = 0.2: p95 = ln(20)/0.2.
    let m = model(&single_station(0.8, 1, json!({"dist": "exponential", "mean": 1}), 40.0));
    let p95 = interval(&m, 20, |o| o.summary.latency_s.e2e.p95);
    assert_covers("M/M/1 p95 response", p95, 20f64.ln() / 0.2, 0.04);
}

#[test]
fn mmc_erlang_c_matches_bundled_model() {
    // models/mmc.json: λ = 9, μ = 1, c = 10. At ρ = 0.9 waits are strongly autocorrelated,
    // so replications run 30 h each (one 10 h run has a ~3 % standard error on the mean wait).
    let text = std::fs::read_to_string("models/mmc.json").unwrap();
    let longer = capsim::model::Override::parse("run.duration=30h").unwrap();
    let m = capsim::model::load_str("models/mmc.json", &text, &[longer]).unwrap();
    let (p_wait, wq) = erlang_c(9.0, 1.0, 10);
    assert!((p_wait - 0.6687).abs() < 1e-3 && (wq - 0.6687).abs() < 1e-3, "Erlang C by hand: {p_wait} {wq}");
    let w = interval(&m, 30, |o| station(o, "server", "mean_wait_s"));
    assert_covers("M/M/10 mean wait", w, wq, 0.03);
    let pw = interval(&m, 30, |o| station(o, "server", "p_wait"));
    assert_covers("M/M/10 P(wait)", pw, p_wait, 0.02);
}

#[test]
fn md1_pollaczek_khinchine() {
    // Constant service 1 s, λ = 0.8: Wq = ρ/(2μ(1 − ρ)) = 2 s.
    let m = model(&single_station(0.8, 1, json!({"dist": "constant", "value": "1s"}), 40.0));
    let w = interval(&m, 20, |o| station(o, "s", "mean_wait_s"));
    assert_covers("M/D/1 mean wait", w, 2.0, 0.04);
}

#[test]
fn mg1_pollaczek_khinchine_gamma_and_lognormal() {
    // Gamma(k = 2, mean 0.5 s): E[S²] = k(k+1)θ² = 6 · 0.0625 = 0.375; λ = 1.4, ρ = 0.7.
    // Wq = λ E[S²] / (2(1 − ρ)) = 1.4 · 0.375 / 0.6 = 0.875 s.
    let m = model(&single_station(1.4, 1, json!({"dist": "gamma", "shape": 2, "mean": "500ms"}), 20.0));
    let w = interval(&m, 20, |o| station(o, "s", "mean_wait_s"));
    assert_covers("M/G/1 (gamma) mean wait", w, 0.875, 0.04);
    // Lognormal mean 0.5 s, sd 0.5 s: E[S²] = sd² + mean² = 0.5; λ = 1.2, ρ = 0.6.
    // Wq = 1.2 · 0.5 / 0.8 = 0.75 s.
    let m = model(&single_station(1.2, 1, json!({"dist": "lognormal", "mean": "500ms", "sd": "500ms"}), 20.0));
    let w = interval(&m, 20, |o| station(o, "s", "mean_wait_s"));
    assert_covers("M/G/1 (lognormal) mean wait", w, 0.75, 0.04);
}

#[test]
fn mm1k_blocking_probability() {
    // M/M/1/K with K = 5 in the system (1 in service + 4 waiting), ρ = 0.9:
    // P_K = (1 − ρ) ρ^K / (1 − ρ^(K+1)).
    let mut spec = single_station(0.9, 1, json!({"dist": "exponential", "mean": 1}), 20.0);
    spec["stations"]["s"]["capacity"] = json!(4);
    let m = model(&spec);
    let rho: f64 = 0.9;
    let pk = (1.0 - rho) * rho.powi(5) / (1.0 - rho.powi(6));
    let frac = interval(&m, 20, |o| o.summary.requests.rejected as f64 / o.summary.requests.arrived as f64);
    assert_covers("M/M/1/5 blocking probability", frac, pk, 0.03);
}

#[test]
fn non_preemptive_priority_cobham() {
    // Two classes into one exponential server (mean 1 s): λ_hi = 0.3, λ_lo = 0.5.
    // W0 = Σ λ_i E[S²]/2 = 0.8; W_hi = W0/(1 − σ_hi) = 1.142857; W_lo = W0/((1 − σ_hi)(1 − ρ)) = 5.714286.
    let spec = json!({
        "name": "prio",
        "run": {"duration": "40h", "warmup": "30m"},
        "classes": ["hi", "lo"],
        "sources": {
            "a": {"rate": 0.3, "class": "hi", "to": "s"},
            "b": {"rate": 0.5, "class": "lo", "to": "s"}
        },
        "stations": {"s": {"servers": 1, "discipline": "priority", "service": {"dist": "exponential", "mean": 1}}}
    });
    let m = model(&spec);
    let hi = interval(&m, 20, |o| o.summary.latency_s.by_class["hi"].mean);
    let lo = interval(&m, 20, |o| o.summary.latency_s.by_class["lo"].mean);
    assert_covers("priority: high-class response", hi, 0.8 / 0.7 + 1.0, 0.03);
    assert_covers("priority: low-class response", lo, 0.8 / (0.7 * 0.2) + 1.0, 0.05);
}

#[test]
fn littles_law_per_station() {
    // Sample-path identities: L_q = λ W_q and L = λ W at every station, to within edge effects.
    for path in ["models/tandem.json", "models/fork_join.json", "models/sessions.json"] {
        let text = std::fs::read_to_string(path).unwrap();
        let m = capsim::model::load_str(path, &text, &[]).unwrap();
        let out = crate::common::run(&m);
        for (name, s) in &out.summary.stations {
            let lq = s.throughput_per_s * s.mean_wait_s;
            let l = s.utilization * s.servers as f64 + s.mean_queue_len;
            eprintln!(
                "{path} {name}: Lq {:.4} vs λWq {lq:.4}; L {l:.4} vs λW {:.4}",
                s.mean_queue_len,
                s.throughput_per_s * s.mean_response_s
            );
            assert!((s.mean_queue_len - lq).abs() <= 0.01 * lq.max(0.01), "{path} {name}: Lq");
            let lw = s.throughput_per_s * s.mean_response_s;
            assert!(rel(l, lw) < 0.01, "{path} {name}: L = {l}, λW = {lw}");
        }
    }
}

/// One `processor_sharing` service fed by Poisson arrivals at `rate` [1/s].
fn ps_service(rate: f64, cores: f64, work: Value) -> Value {
    json!({
        "name": "ps",
        "run": {"duration": "2h", "warmup": "10m"},
        "sources": {"in": {"rate": rate, "to": "cpu"}},
        "services": {"cpu": {"servers": 100000, "kind": {"processor_sharing": {"cores": cores, "work": work}}}}
    })
}

#[test]
fn mg1_processor_sharing_mean_sojourn_is_insensitive() {
    // M/G/1-PS: E[T] = E[S] / (1 − ρ) whatever the law of S. λ = 70/s, E[S] = 10 ms, ρ = 0.7:
    // 33.33 ms, for constant work (FCFS M/D/1 would give 21.7 ms) and for lognormal work with a
    // standard deviation of 30 ms (FCFS M/G/1 would give 126.7 ms).
    let expected = 0.010 / (1.0 - 0.7);
    for (what, work) in [
        ("M/D/1-PS mean sojourn", json!({"dist": "constant", "value": "10ms"})),
        ("M/G/1-PS mean sojourn (lognormal, cv 3)", json!({"dist": "lognormal", "mean": "10ms", "sd": "30ms"})),
    ] {
        let m = model(&ps_service(70.0, 1.0, work));
        let t = interval(&m, 10, |o| o.summary.latency_s.e2e.mean);
        assert_covers(what, t, expected, 0.03);
    }
}

#[test]
fn mgc_processor_sharing_holds_as_many_as_mmc() {
    // With c cores each of n requests gets min(1, c/n): the number in service is that of M/M/c
    // for any work law, so E[T] = Erlang C's wait + E[S]. c = 4, λ = 320/s, E[S] = 10 ms
    // (lognormal, sd 15 ms), ρ = 0.8. Also the CPU busy share: ρ.
    let (_, wq) = erlang_c(320.0, 100.0, 4);
    let m = model(&ps_service(320.0, 4.0, json!({"dist": "lognormal", "mean": "10ms", "sd": "15ms"})));
    let t = interval(&m, 10, |o| o.summary.latency_s.e2e.mean);
    assert_covers("M/G/4-PS mean sojourn", t, wq + 0.010, 0.03);
    let cpu = interval(&m, 10, |o| {
        let v = serde_json::to_value(&o.summary.services["cpu"]).unwrap();
        v["processor_sharing"]["cpu_utilization"].as_f64().unwrap()
    });
    assert_covers("M/G/4-PS CPU utilisation", cpu, 0.8, 0.01);
}
