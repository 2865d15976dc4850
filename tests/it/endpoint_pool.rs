//! The `endpoint_pool` service kind (an autoscaled SageMaker endpoint) against closed forms
//! and hand-computed times: a fixed pool is M/M/c (shared queue) or c × M/M/1 (random
//! routing); after a load step the first new instance serves exactly when the delay chain
//! says; cooldowns hold; scale-in drains; warm-up, scheduled actions, load speed and cost.

use crate::common::run;
use capsim::report::output::RunOutput;
use serde_json::{Value, json};

use crate::common::{interval, model};

/// A client calling pool `pool` (the `endpoint_pool` settings), fed by `source`.
fn pool_model(source: Value, pool: Value, duration: &str) -> Value {
    json!({
        "name": "pool",
        "run": {"duration": duration, "window": "10s", "seed": 5},
        "sources": {"c": source},
        "services": {
            "front": {"servers": 10000000, "flow": [{"call": "pool"}]},
            "pool": {"servers": 10000000, "kind": {"endpoint_pool": pool}}
        }
    })
}

fn figures(out: &RunOutput) -> Value {
    serde_json::to_value(&out.summary.services["pool"]).unwrap()["endpoint_pool"].clone()
}

fn num(v: &Value, f: &str) -> f64 {
    v[f].as_f64().unwrap_or_else(|| panic!("{f} missing from {v}"))
}

fn constant(v: &str) -> Value {
    json!({"dist": "constant", "value": v})
}

/// 50 requests/s for `at` seconds, then 500/s (a 10× step).
fn step_at(at: f64, total: f64) -> Value {
    json!({"profile": [{"shape": "constant", "rate": 50, "duration": at},
        {"shape": "constant", "rate": 500, "duration": total - at}], "to": "front"})
}

/// The scenario-3 classifier: 10 ms requests, 2 to 20 instances, target 3,000 invocations per
/// instance per minute; a new instance takes 120 + 30 + 0.8 + 20 = 170.8 s to start.
fn classifier(extra: Value) -> Value {
    let mut p = json!({
        "instance": {"type": "ml.g4dn.xlarge"},
        "service": constant("10ms"),
        "startup": {"provisioning": constant("120s"), "image_pull": constant("30s"),
            "model_download": constant("0.8s"), "model_load": constant("20s"), "first_request": constant("55s")},
        "autoscaling": {"min": 2, "max": 20, "target": 3000}
    });
    for (k, v) in extra.as_object().unwrap() {
        if let (Some(o), Some(add)) = (p[k].as_object_mut(), v.as_object()) {
            o.extend(add.clone());
        } else {
            p[k] = v.clone();
        }
    }
    p
}

#[test]
fn a_fixed_pool_with_a_shared_queue_is_m_m_c_and_with_random_routing_c_m_m_1() {
    // λ = 3/s, exponential 1 s service, 4 instances of one slot. Shared queue: M/M/4, mean
    // response 1 + C(4, 3)/(4 − 3) = 1.509434 s. Random routing: four M/M/1 at 0.75/s, 4 s.
    for (routing, expect) in [("shared_queue", 1.509434), ("random", 4.0)] {
        let pool = json!({"instance": {"type": "t"}, "instances": 4, "routing": routing,
            "service": {"dist": "exponential", "mean": "1s"}});
        let m = model(&pool_model(json!({"rate": 3, "to": "front"}), pool, "20000s"));
        let iv = interval(&m, 6, |o| o.summary.services["pool"].latency_s.mean);
        assert!((iv.mean - expect).abs() < 0.03 * expect + iv.half_width, "{routing}: {iv:?} vs {expect}");
    }
}

#[test]
fn after_a_load_step_the_first_new_instance_serves_when_the_delay_chain_says() {
    // The step lands at 630 s, inside the period [600, 660): that period's datapoint is above
    // target (≈ 50·30 + 500·30 per minute over 2 instances), so the alarm's third datapoint
    // above is at 720 s at the earliest and 780 s (period × datapoints after the first full
    // period) at the latest. The instance then joins 170.8 s later and, the queue being long,
    // serves at once.
    let f = figures(&run(&model(&pool_model(step_at(630.0, 1400.0), classifier(json!({})), "1400s"))));
    let first = &f["launches"][0];
    let (launched, served) = (num(first, "launched_s"), num(first, "first_request_s"));
    assert!((720.0..=780.0).contains(&launched), "the alarm fires 3 periods after the step: {first}");
    assert!((served - (launched + 170.8)).abs() < 1e-6, "serves when start-up is over: {first}");
    let detection = 630.0 + 60.0 * 3.0;
    assert!(served >= detection - 60.0 + 170.8 && served <= detection + 170.8, "{served}");
    // Target tracking asks for ⌈2 × 15,000 / 3,000⌉ = 10 instances: 8 launched at once.
    let at_once = f["launches"].as_array().unwrap().iter().filter(|l| l["launched_s"] == first["launched_s"]).count();
    assert_eq!(at_once, 8, "{f}");
}

#[test]
fn the_warm_reaction_adds_the_first_requests_initialisation_unless_warmed_up() {
    // After the step the queue is long, so the first new instance starts requests the moment it
    // joins and is warm 55 s later (its first request's initialisation). With warm-up it joins
    // 55 s later and is warm at once. The breach and the launches are the same in both runs, so
    // the new capacity serves at full speed at the same moment.
    let run_with =
        |extra: Value| figures(&run(&model(&pool_model(step_at(630.0, 1400.0), classifier(extra), "1400s"))));
    let cold = run_with(json!({}));
    assert!((num(&cold, "reaction_warm_s") - num(&cold, "reaction_s") - 55.0).abs() < 1e-6, "{cold}");
    let warm = run_with(json!({"startup": {"warm_up": true}}));
    assert!((num(&warm, "reaction_warm_s") - num(&warm, "reaction_s")).abs() < 1e-6, "{warm}");
    assert!((num(&warm, "reaction_warm_s") - num(&cold, "reaction_warm_s")).abs() < 1e-6, "{warm} {cold}");
}

#[test]
fn cooldowns_hold_between_scale_outs() {
    // A pool that can never catch up (max far above, load growing): successive scale-outs are
    // at least the 300 s cooldown apart; with a 120 s cooldown, at least 120 s.
    for (cool, gap) in [("300s", 300.0), ("120s", 120.0)] {
        let source =
            json!({"profile": [{"shape": "ramp", "from": 50, "to": 3000, "duration": "3000s"}], "to": "front"});
        let pool = classifier(json!({"autoscaling": {"max": 200, "scale_out_cooldown": cool}}));
        let f = figures(&run(&model(&pool_model(source, pool, "3000s"))));
        let mut times: Vec<f64> = f["launches"].as_array().unwrap().iter().map(|l| num(l, "launched_s")).collect();
        times.dedup();
        assert!(times.len() >= 3, "several scale-outs: {times:?}");
        assert!(times.windows(2).all(|w| w[1] - w[0] >= gap - 1e-6), "cooldown {cool}: {times:?}");
    }
}

#[test]
fn warm_up_requests_keep_the_first_request_off_the_load_balancer() {
    // Without warm-up, the first request on each new instance waits out its 55 s
    // initialisation; with it, the instance joins 55 s later and nobody waits.
    let cold = figures(&run(&model(&pool_model(step_at(600.0, 1400.0), classifier(json!({})), "1400s"))));
    assert!(num(&cold, "cold_waits") >= 8.0, "{cold}");
    let warm_pool = classifier(json!({"startup": {"warm_up": true}}));
    let warm = figures(&run(&model(&pool_model(step_at(600.0, 1400.0), warm_pool, "1400s"))));
    assert_eq!(num(&warm, "cold_waits"), 0.0, "{warm}");
    let l = &warm["launches"][0];
    assert!((num(l, "joined_s") - num(l, "model_loaded_s") - 55.0).abs() < 1e-6, "{l}");
}

#[test]
fn inferentia_loads_four_times_faster_and_int8_shortens_the_download() {
    let pool = classifier(json!({"instance": {"type": "ml.inf1.xlarge", "load_speed": 4},
        "startup": {"model_download": constant("0.2s")}}));
    let f = figures(&run(&model(&pool_model(step_at(600.0, 1000.0), pool, "1000s"))));
    let l = &f["launches"][0];
    assert!((num(l, "model_downloaded_s") - num(l, "image_pulled_s") - 0.2).abs() < 1e-6, "{l}");
    assert!((num(l, "model_loaded_s") - num(l, "model_downloaded_s") - 5.0).abs() < 1e-6, "20 s ÷ 4: {l}");
}

#[test]
fn a_scheduled_action_scales_out_before_the_peak() {
    // Minimum 10 from 300 s: eight instances launch at 300 s and serve before the 600 s step;
    // the step then finds enough capacity and the alarm never fires.
    let pool = classifier(json!({"autoscaling": {"scheduled": [{"at": "300s", "min": 10}]}}));
    let f = figures(&run(&model(&pool_model(step_at(600.0, 1200.0), pool, "1200s"))));
    let launches = f["launches"].as_array().unwrap();
    assert_eq!(launches.len(), 8, "{f}");
    assert!(launches.iter().all(|l| num(l, "launched_s") == 300.0 && num(l, "joined_s") < 600.0), "{f}");
    assert_eq!(num(&f, "scale_outs"), 1.0, "only the scheduled one: {f}");
}

#[test]
fn scale_in_follows_15_datapoints_below_target_and_drained_instances_stop_costing() {
    // 500/s for 10 minutes on 10 instances (the minimum until the scheduled action lowers it),
    // then 50/s (300 invocations per instance per minute): after 15 minutes below 90 % of the
    // target, target tracking asks for ⌈10 × 300 / 3,000⌉ = 1 instance, held at the minimum, 2.
    let source = json!({"profile": [{"shape": "constant", "rate": 500, "duration": "600s"},
        {"shape": "constant", "rate": 50, "duration": "1800s"}], "to": "front"});
    let pool = classifier(json!({"instances": 10,
        "autoscaling": {"min": 10, "scheduled": [{"at": "300s", "min": 2}]}}));
    let out = run(&model(&pool_model(source, pool, "2400s")));
    let f = figures(&out);
    assert_eq!(num(&f, "scale_ins"), 1.0, "{f}");
    assert_eq!(num(&f, "terminated"), 8.0, "{f}");
    // The first datapoint below is [600, 660); the 15th ends at 1,500 s: 10 instances until
    // then, 2 after. Instance-hours: (10 × 1,500 + 2 × 900) / 3,600.
    let hours = (10.0 * 1500.0 + 2.0 * 900.0) / 3600.0;
    assert!((num(&f, "instance_hours") - hours).abs() < 1e-6, "{f}");
    assert!((num(&f, "cost_usd") - 0.736 * hours).abs() < 1e-6, "ml.g4dn.xlarge at $0.736/h: {f}");
}

#[test]
fn counting_only_serving_instances_over_scales_while_new_ones_load() {
    // An instance that takes 525 s to start (an 8B LLM, calibration sheet) outlasts the 300 s
    // cooldown. Counting starting instances, the per-instance metric falls as soon as they are
    // launched; ignoring them, it stays high and the next alarm launches more than needed.
    let run_with = |ignore: bool| {
        let pool = classifier(json!({"startup": {"provisioning": constant("335s"), "image_pull": constant("0s"),
            "model_download": constant("0s"), "model_load": constant("190s")},
            "autoscaling": {"max": 100, "ignore_loading_instances": ignore}}));
        figures(&run(&model(&pool_model(step_at(600.0, 2400.0), pool, "2400s"))))
    };
    let (counted, ignored) = (run_with(false), run_with(true));
    assert!(num(&counted, "max_instances") <= 11.0, "{counted}");
    assert!(num(&ignored, "max_instances") >= 2.0 * num(&counted, "max_instances"), "{ignored}");
}

#[test]
fn an_n_of_m_alarm_fires_on_breaching_datapoints_that_are_not_in_a_row() {
    // Load alternates minute by minute between 300/s (9,000 invocations per instance per
    // minute, above the 3,000 target) and 10/s. Three in a row never happens; three of the last
    // five first happens with the datapoint ending at 300 s.
    let source = json!({"profile": [{"shape": "constant", "rate": 300, "duration": "60s"},
        {"shape": "constant", "rate": 10, "duration": "60s"}], "after_profile": "repeat", "to": "front"});
    let run_with = |m: u32| {
        let pool = classifier(json!({"autoscaling": {"scale_out_evaluation_periods": m}}));
        figures(&run(&model(&pool_model(source.clone(), pool, "600s"))))
    };
    let in_a_row = run_with(3);
    assert_eq!(num(&in_a_row, "scale_outs"), 0.0, "{in_a_row}");
    let three_of_five = run_with(5);
    assert_eq!(num(&three_of_five["launches"][0], "launched_s"), 300.0, "{three_of_five}");
}
