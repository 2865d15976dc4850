//! Injected throttles (`faults.throttle_rate`, `faults.throttle_bursts`): the long-run throttled
//! share is the rate, or share × on/(on + off) for bursts; and burst throttles cluster — a retry
//! 0.1 s after a throttle is throttled again with probability ≈ share, not the marginal share.

use serde_json::{Value, json};

use crate::common::*;
use capsim::model::load_str;
use capsim::report::output::RunOutput;

fn throttle_model(faults: Value, duration: &str) -> Value {
    json!({
        "name": "throttles",
        "run": {"duration": duration, "seed": 11},
        "sources": {"c": {"rate": 20, "to": "front"}},
        "policies": {"retry_once": {"retry": {"max_attempts": 2, "backoff": "constant", "base": "100ms", "jitter": "none", "on": ["throttled"]}}},
        "services": {
            "front": {"servers": 100000, "flow": [{"call": "llm", "policy": "retry_once"}]},
            "llm": {"servers": 100000, "flow": [{"work": {"dist": "constant", "value": "10ms"}}], "faults": faults}
        }
    })
}

fn llm(out: &RunOutput) -> Value {
    serde_json::to_value(&out.summary.services["llm"]).unwrap()
}

/// (first attempts throttled ÷ calls, P(retry throttled | first throttled)).
fn shares(out: &RunOutput) -> (f64, f64) {
    let s = llm(out);
    let calls = s["calls"].as_f64().unwrap();
    let retries = s["retries"].as_f64().unwrap();
    let both = s["outcomes"]["throttled"].as_f64().unwrap();
    (retries / calls, both / retries)
}

#[test]
fn independent_throttles_have_the_rate_and_do_not_cluster() {
    // 20 calls/s for 10,000 s at 8 %: 200,000 first attempts, binomial sd 0.0006.
    let out = run(&model(&throttle_model(json!({"throttle_rate": 0.08}), "10000s")));
    let (marginal, again) = shares(&out);
    let n = llm(&out)["calls"].as_f64().unwrap();
    let sd = (0.08f64 * 0.92 / n).sqrt();
    assert!((marginal - 0.08).abs() < 4.0 * sd, "{marginal} vs 0.08 ± {}", 4.0 * sd);
    // About 16,000 retries: sd 0.0021.
    assert!((again - 0.08).abs() < 0.01, "a retry is throttled independently: {again}");
}

#[test]
fn throttle_bursts_give_share_times_on_fraction_and_cluster() {
    // Bursts of mean 10 s every 90 s off, throttling half the calls: 0.5 × 10/100 = 5 % in the
    // long run. The share over one run varies with the number of bursts, so the check is over
    // independent replications.
    let m = model(&throttle_model(
        json!({"throttle_bursts": {"on_mean": "10s", "off_mean": "90s", "share": 0.5}}),
        "20000s",
    ));
    let marginal = interval(&m, 20, |o| shares(o).0);
    assert_covers("burst throttle share", marginal, 0.05, 0.08);
    // A retry 0.1 s after a throttle is still in the burst with probability e^(−0.1/10) ≈ 0.99:
    // throttled again with probability ≈ 0.5 × 0.99, ten times the marginal 5 %.
    let again = interval(&m, 20, |o| shares(o).1);
    assert_covers("P(retry throttled | throttled)", again, 0.5 * (-0.01f64).exp(), 0.03);
}

#[test]
fn bad_throttle_settings_name_their_field() {
    for (faults, field) in [
        (json!({"throttle_rate": 1.5}), "faults.throttle_rate"),
        (json!({"throttle_bursts": {"on_mean": "0s", "off_mean": "10s"}}), "faults.throttle_bursts.on_mean"),
        (json!({"throttle_bursts": {"on_mean": "1s", "off_mean": "-1s"}}), "faults.throttle_bursts.off_mean"),
        (json!({"throttle_bursts": {"on_mean": "1s", "off_mean": "1s", "share": 2}}), "faults.throttle_bursts.share"),
    ] {
        let text = throttle_model(faults.clone(), "10s").to_string();
        let msg = load_str("bad.json", &text, &[]).expect_err("refused").to_string();
        assert!(msg.contains(field), "{faults}: {msg}");
    }
}
