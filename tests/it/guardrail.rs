//! The `guardrail` service kind (Bedrock Guardrails on the answer): measured block shares
//! against `block_share` (within 4 binomial standard deviations), per intent, with prompt-
//! injection campaigns (the long-run share of an on/off process), blocked answers counted as
//! answered, and seed 001's "guardrail block rate > 10 % for 15 min" alarm.

use serde_json::{Value, json};

use crate::common::{model, run};
use capsim::report::output::RunOutput;

/// 10 requests a second (constant) from `front` to an LLM stand-in (1 s) then to the guardrail
/// `guard` (check 20 ms) set to `settings`; windows of 60 s, 10 minutes of warm-up.
fn guard_model(settings: Value, duration: &str) -> Value {
    let mut g = json!({"check": {"dist": "constant", "value": "20ms"}});
    g.as_object_mut().unwrap().extend(settings.as_object().unwrap().clone());
    json!({
        "name": "guardrail",
        "run": {"duration": duration, "warmup": "10m", "window": "60s", "seed": 11},
        "intents": {"shopping": {"share": 0.8}, "jailbreak": {"share": 0.2}},
        "sources": {"c": {"interarrival": {"dist": "constant", "value": "100ms"}, "to": "front"}},
        "services": {
            "front": {"servers": 1000000, "flow": [{"call": "llm"}, {"call": "guard"}]},
            "llm": {"servers": 1000000, "flow": [{"work": {"dist": "constant", "value": "1s"}}]},
            "guard": {"servers": 1000000, "kind": {"guardrail": g}}
        }
    })
}

fn figures(out: &RunOutput) -> Value {
    serde_json::to_value(&out.summary.services["guard"]).unwrap()["guardrail"].clone()
}

fn num(v: &Value, f: &str) -> f64 {
    v[f].as_f64().unwrap_or_else(|| panic!("{f} missing from {v}"))
}

/// Asserts that `blocked` of `n` is within 4 binomial standard deviations of share `p`.
fn assert_binomial(what: &str, blocked: f64, n: f64, p: f64) {
    let sd = (p * (1.0 - p) / n).sqrt();
    let share = blocked / n;
    assert!((share - p).abs() < 4.0 * sd, "{what}: {blocked} of {n} = {share}, want {p} ± {}", 4.0 * sd);
}

/// The column `name` summed over the windows after warm-up.
fn column_sum(out: &RunOutput, name: &str) -> f64 {
    let col = capsim::report::timeseries::column(&out.rows, &out.station_names, &out.kind_columns, name, false);
    col.unwrap_or_else(|| panic!("no column {name}")).iter().filter(|(t, _)| *t > 600.0).map(|(_, v)| v).sum()
}

#[test]
fn a_guardrail_blocks_its_share_and_blocked_answers_are_answered() {
    // 50 minutes measured at 10 a second: 30,000 answers, 7 % blocked (sd 0.15 %).
    let out = run(&model(&guard_model(json!({"block_share": 0.07}), "60m")));
    let g = figures(&out);
    let (n, blocked) = (num(&g, "requests"), num(&g, "blocked"));
    assert!((n - 30_000.0).abs() <= 11.0, "about 30,000 checked: {g}");
    assert_binomial("block share", blocked, n, 0.07);
    assert_eq!(num(&g, "block_share"), blocked / n);
    // Blocked answers are answered: every request completes, and requests.blocked counts them.
    let r = &out.summary.requests;
    assert_eq!((r.failed, r.rejected), (0, 0));
    assert_eq!(r.blocked as f64, blocked, "every check is the last step of one request");
    assert!(r.blocked <= r.completed + r.degraded);
    // The columns add up to the figures since warm-up (the warm-up ends on a window's edge).
    assert_eq!((column_sum(&out, "guard.checked"), column_sum(&out, "guard.blocked")), (n, blocked));
    // One text unit per check at $0.15 per 1,000.
    assert!((num(&g, "text_units") - n).abs() < 1e-9);
    let cost = out.summary.cost_usd.by_component["guard"];
    assert!((cost - n * 0.15e-3).abs() < 1e-9, "cost {cost} for {n} text units");
}

#[test]
fn block_shares_follow_the_intent() {
    // Jailbreak attempts (20 % of requests) are blocked 60 % of the time, shopping 1 %.
    let m = guard_model(json!({"block_share": 0.01, "by_intent": {"jailbreak": 0.6}}), "60m");
    let out = run(&model(&m));
    let by = &out.summary.requests.by_intent;
    let (shop, jail) = (&by["shopping"], &by["jailbreak"]);
    let answered = |c: &capsim::sim::world::Counts| (c.completed + c.degraded) as f64;
    assert_binomial("shopping", shop.blocked as f64, answered(shop), 0.01);
    assert_binomial("jailbreak", jail.blocked as f64, answered(jail), 0.6);
    assert_eq!(shop.blocked + jail.blocked, out.summary.requests.blocked);
    let bad = json!({"by_intent": {"smalltalk": 0.5, "jailbreak": 1.5}});
    let e = capsim::model::load_str("m.json", &guard_model(bad, "1h").to_string(), &[]).unwrap_err().to_string();
    assert!(e.contains("guardrail.by_intent.smalltalk") && e.contains("unknown intent"), "{e}");
    assert!(e.contains("guardrail.by_intent.jailbreak") && e.contains("from 0 to 1"), "{e}");
}

#[test]
fn campaigns_raise_the_long_run_block_share_to_their_share_of_the_time() {
    // Campaigns on 6 s, off 24 s on average (on a fifth of the time), blocking half the
    // answers on top of the 2 %: in the long run 0.02 + 0.2 × 0.98 × 0.5 = 0.118. Over the
    // 20 h measured the time-averaged on/off indicator has variance 2π(1 − π)/(1/6 + 1/24) ÷
    // 72,000 s = (0.0046)², so the share's sd is 0.49 × 0.0046 = 0.0023 (binomial noise of
    // 720,000 answers adds 0.0004); 4 sd is 0.009.
    let m = guard_model(
        json!({"block_share": 0.02, "block_bursts": {"on_mean": "6s", "off_mean": "24s", "share": 0.5}}),
        "1210m",
    );
    let g = figures(&run(&model(&m)));
    let share = num(&g, "block_share");
    let sd = (0.0023f64.powi(2) + 0.118 * 0.882 / num(&g, "requests")).sqrt();
    assert!((share - 0.118).abs() < 4.0 * sd, "block share {share}, want 0.118 ± {}", 4.0 * sd);
}

#[test]
fn a_block_rate_alarm_fires_during_campaigns_and_not_without_them() {
    // Seed 001: "guardrail block rate > 10 % for 15 min". At 2 % without campaigns a minute's
    // 600 checks breach 10 % with a probability of about e⁻⁷⁰ (Chernoff): never. Campaigns of
    // 30 min on average every 2 h block half the answers: the block rate is then 51 %, and a
    // campaign longer than 15 min puts the alarm in ALARM.
    let alarm = json!({"guardrail_blocks": {"metric": "guard.blocked", "per": "guard.checked", "threshold": 0.10,
        "datapoints": 15, "evaluation_periods": 15, "severity": "SEV-3"}});
    let campaigns = json!({"on_mean": "30m", "off_mean": "2h", "share": 0.5});
    for (bursts, fires) in [(None, false), (Some(campaigns), true)] {
        let mut settings = json!({"block_share": 0.02});
        if let Some(b) = bursts {
            settings["block_bursts"] = b;
        }
        let mut m = guard_model(settings, "24h");
        m["alarms"] = alarm.clone();
        let out = run(&model(&m));
        let a = out.alarms.iter().find(|a| a.def.name == "guardrail_blocks").unwrap();
        assert_eq!(!a.episodes.is_empty(), fires, "{} episodes", a.episodes.len());
        // Each time in ALARM starts at the end of 15 minutes each over 10 %, by the columns.
        let col = |n: &str| {
            capsim::report::timeseries::column(&out.rows, &out.station_names, &out.kind_columns, n, false).unwrap()
        };
        let rate = capsim::report::timeseries::ratio(&col("guard.blocked"), &col("guard.checked"));
        for e in &a.episodes {
            let before: Vec<f64> =
                rate.iter().filter(|(t, _)| *t < e.start_s && *t > e.start_s - 900.0).map(|(_, r)| *r).collect();
            assert_eq!(before.len(), 15, "15 one-minute datapoints before {}", e.start_s);
            assert!(before.iter().all(|&r| r > 0.10), "at {}: {before:?}", e.start_s);
        }
    }
}
