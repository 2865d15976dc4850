//! The `cache` service kind against figures computed by hand or by closed forms: the hit
//! ratio of one key read as a Poisson stream, one origin call per expiry with coalescing,
//! stale-while-revalidate, invalidations, and LRU against Che's approximation.

use crate::common::run;
use capsim::report::output::RunOutput;
use serde_json::{Value, json};

use crate::common::model;

/// A reader service calling `cache` for keys of `keys`, fed at `rate`; the origin answers
/// after `origin` seconds.
fn cached(rate: f64, keys: Value, cache: Value, origin: f64, duration: &str, warmup: &str) -> Value {
    json!({
        "name": "cache",
        "run": {"duration": duration, "warmup": warmup, "seed": 11},
        "keys": {"items": keys},
        "sources": {"readers": {"rate": rate, "to": "front", "keys": "items"}},
        "services": {
            "front": {"servers": 100000, "flow": [{"call": "cache"}]},
            "cache": {"servers": 100000, "kind": {"cache": cache}},
            "catalog": {"servers": 100000, "flow": [{"work": {"dist": "constant", "value": origin}}]}
        }
    })
}

fn counts(out: &RunOutput) -> Value {
    serde_json::to_value(&out.summary.services["cache"]).unwrap()["cache"].clone()
}

fn num(v: &Value, field: &str) -> f64 {
    v[field].as_f64().unwrap_or_else(|| panic!("{field} missing from {v}"))
}

const NO_GET: &str = "0s";

#[test]
fn one_key_read_as_a_poisson_stream_hits_with_ratio_lambda_t_over_one_plus_lambda_t() {
    // Each cycle is a miss, then T of hits, then the wait for the next read: E = T + 1/λ, with
    // λT hits in it on average. λ = 10/s, T = 2 s: 20/21 = 0.952381.
    let cache = json!({"origin": "catalog", "ttl": "2s", "get": {"dist": "constant", "value": NO_GET}});
    let out = run(&model(&cached(10.0, json!({"count": 1}), cache, 0.0, "20000s", "0s")));
    let c = counts(&out);
    let expect = 20.0 / 21.0;
    // About 200,000 reads and 9,500 cycles: the ratio's standard error is about 0.0005.
    assert!((num(&c, "hit_ratio") - expect).abs() < 0.002, "hit ratio {} vs {expect}", c["hit_ratio"]);
    assert_eq!(num(&c, "origin_calls"), num(&c, "misses"), "each miss calls the origin once");
}

#[test]
fn coalescing_makes_exactly_one_origin_call_per_expiry_whatever_the_concurrency() {
    // 200 reads/s of one key, a 0.5 s origin: without coalescing about 1 + 200 × 0.5 = 101 readers
    // call the origin in each expiry; with it, one does and the others wait for its answer.
    let run_with = |mode: &str| {
        let cache = json!({"origin": "catalog", "ttl": "2s", "on_miss": mode,
            "get": {"dist": "constant", "value": NO_GET}});
        counts(&run(&model(&cached(200.0, json!({"count": 1}), cache, 0.5, "600s", "0s"))))
    };
    let plain = run_with("plain");
    let per_expiry = num(&plain, "mean_calls_per_episode");
    assert!((per_expiry - 101.0).abs() < 5.0, "plain: {per_expiry} origin calls per expiry, expected about 101");
    let co = run_with("coalesce");
    assert_eq!(num(&co, "max_calls_per_episode"), 1.0, "{co}");
    let (calls, episodes) = (num(&co, "origin_calls"), num(&co, "episodes"));
    assert!(
        calls - episodes <= 1.0 && calls >= episodes,
        "{calls} calls for {episodes} expiries (one may be under way)"
    );
    assert!(num(&co, "coalesced") > 90.0 * episodes, "readers waited instead: {co}");
}

#[test]
fn stale_while_revalidate_serves_stale_and_refreshes_once_per_expiry() {
    let cache = json!({"origin": "catalog", "ttl": "2s", "on_miss": "stale_while_revalidate",
        "get": {"dist": "constant", "value": NO_GET}});
    let out = run(&model(&cached(100.0, json!({"count": 1}), cache, 0.5, "600s", "0s")));
    let c = counts(&out);
    assert_eq!(num(&c, "misses"), 1.0 + num(&c, "coalesced"), "only the cold start misses: {c}");
    let refreshes = num(&c, "stale_refreshes");
    assert!((num(&c, "origin_calls") - refreshes - 1.0).abs() <= 1.0, "one refresh per expiry: {c}");
    // Each refresh takes 0.5 s during which about 50 reads are served stale.
    let stale_per_refresh = num(&c, "stale_serves") / refreshes;
    assert!((stale_per_refresh - 50.0).abs() < 3.0, "{stale_per_refresh} stale reads per refresh");
    // Cycles of 2 s fresh + 0.5 s stale: no reader after the cold start waits for the origin.
    let e2e = &out.summary.latency_s.e2e;
    assert!(e2e.p999 < 1e-6, "p99.9 {} s: readers should not wait", e2e.p999);
}

#[test]
fn invalidations_drop_entries_at_their_times() {
    let cache = json!({"origin": "catalog", "ttl": "1000s", "get": {"dist": "constant", "value": NO_GET},
        "invalidations": [{"at": ["100s", "200s", "300s"], "from": 0, "to": 1}]});
    let out = run(&model(&cached(10.0, json!({"count": 1}), cache, 0.0, "400s", "0s")));
    let c = counts(&out);
    assert_eq!((num(&c, "invalidated"), num(&c, "misses")), (3.0, 4.0), "{c}");
}

#[test]
fn lru_hit_ratio_under_zipf_keys_matches_ches_approximation() {
    // N = 1,000 keys with Zipf exponent 0.8, capacity C = 100, no expiry. Che: the time t_C with
    // Σ (1 − e^(−p_i t_C)) = C, and hit ratio Σ p_i (1 − e^(−p_i t_C)).
    let (n, s, cap) = (1000usize, 0.8f64, 100.0);
    let w: Vec<f64> = (1..=n).map(|i| (i as f64).powf(-s)).collect();
    let h: f64 = w.iter().sum();
    let p: Vec<f64> = w.iter().map(|x| x / h).collect();
    let filled = |t: f64| p.iter().map(|pi| 1.0 - (-pi * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1e7);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if filled(mid) < cap { lo = mid } else { hi = mid }
    }
    let che: f64 = p.iter().map(|pi| pi * (1.0 - (-pi * lo).exp())).sum();
    let cache = json!({"origin": "catalog", "ttl": "1000000s", "capacity": 100,
        "get": {"dist": "constant", "value": NO_GET}});
    let out = run(&model(&cached(1000.0, json!({"count": n, "zipf": s}), cache, 0.0, "1100s", "100s")));
    let c = counts(&out);
    // A million reads: the simulated ratio's own error is about 0.001; Che's approximation is
    // within about 0.5 % at this size (Fricker, Robert, Roberts 2012).
    assert!((num(&c, "hit_ratio") - che).abs() < 0.01, "hit ratio {} vs Che {che}", c["hit_ratio"]);
    assert_eq!(num(&c, "entries"), 100.0);
}

#[test]
fn a_ttl_0_coalescer_saves_lambda_l_over_one_plus_lambda_l_of_the_reads() {
    // Single flight, nothing stored: a read finding no call under way for its key starts one,
    // lasting L; the λL reads arriving meanwhile wait for it. Per cycle (L, then the wait for
    // the next read), 1 + λL reads make one origin call: the coalesced share is λL/(1 + λL).
    // λ = 500/s, L = 4 ms: 2/3.
    let cache = json!({"origin": "catalog", "ttl": "0s", "on_miss": "coalesce",
        "get": {"dist": "constant", "value": NO_GET}});
    let c = counts(&run(&model(&cached(500.0, json!({"count": 1}), cache, 0.004, "2000s", "0s"))));
    // About 1,000,000 reads and 333,000 cycles: the share's standard error is under 0.001.
    assert!((num(&c, "coalesced_share") - 2.0 / 3.0).abs() < 0.004, "{c}");
    assert_eq!(num(&c, "entries"), 0.0, "nothing is stored");
    assert_eq!(num(&c, "hits"), 0.0);
}

#[test]
fn counts_are_kept_per_key_space_and_a_bypassed_space_goes_straight_to_the_origin() {
    // Two key spaces read at 100/s each, key 0 in both: they are different items. `prices` is
    // never cached: each of its reads calls the origin; `series` (one key, 10 s TTL) hits
    // λT/(1 + λT) = 1000/1001 of the time.
    let cache = json!({"origin": "catalog", "ttl": "10s", "bypass_keys": ["prices"],
        "get": {"dist": "constant", "value": NO_GET}});
    let mut m = cached(100.0, json!({"count": 1}), cache, 0.0, "2000s", "0s");
    m["keys"] = json!({"series": {"count": 1}, "prices": {"count": 1}});
    m["sources"]["readers"]["keys"] = json!("series");
    m["sources"]["price_reads"] = json!({"rate": 100, "to": "front", "keys": "prices"});
    let c = counts(&run(&model(&m)));
    let (series, prices) = (&c["key_spaces"]["series"], &c["key_spaces"]["prices"]);
    assert_eq!(num(prices, "bypassed"), num(prices, "reads"), "{c}");
    assert_eq!(num(prices, "origin_calls"), num(prices, "reads"), "{c}");
    assert!((num(series, "hit_ratio") - 1000.0 / 1001.0).abs() < 5e-4, "{c}");
    assert_eq!(num(&c, "reads"), num(series, "reads") + num(prices, "reads"), "the totals add the spaces");
    assert_eq!(num(&c, "entries"), 1.0, "only the series' key is stored");
}
