//! Closed-loop populations: the interactive response-time law X = N/(R + Z) and exact mean
//! value analysis (MVA) for a single queue with think time.

use serde_json::json;

use crate::common::*;

/// Exact MVA for N users, one FIFO exponential server with mean `s`, think time mean `z`:
/// returns (throughput X, response R).
fn mva(n: u32, s: f64, z: f64) -> (f64, f64) {
    let (mut x, mut r, mut q) = (0.0, 0.0, 0.0);
    for k in 1..=n {
        r = s * (1.0 + q);
        x = k as f64 / (r + z);
        q = x * r;
    }
    (x, r)
}

fn population(users: u32) -> capsim::model::Model {
    model(&json!({
        "name": "closed",
        "run": {"duration": "20h", "warmup": "30m"},
        "sessions": {"u": {"users": users, "think": {"dist": "exponential", "mean": "10s"}, "to": "s"}},
        "stations": {"s": {"servers": 1, "service": {"dist": "exponential", "mean": "1s"}}}
    }))
}

#[test]
fn throughput_obeys_response_time_law() {
    // X = N / (R + Z) holds for any run long enough that edge effects vanish.
    let out = crate::common::run(&population(12));
    let s = &out.summary;
    let x = s.requests.throughput_per_s;
    let law = 12.0 / (s.latency_s.e2e.mean + 10.0);
    eprintln!("closed loop: X = {x:.5}, N/(R+Z) = {law:.5}");
    assert!(rel(x, law) < 0.01, "X = {x}, N/(R+Z) = {law}");
}

#[test]
fn matches_exact_mean_value_analysis() {
    // N = 12, S = 1 s, Z = 10 s: the server is near saturation (N* = (S+Z)/S = 11).
    let (x, r) = mva(12, 1.0, 10.0);
    let m = population(12);
    let xi = interval(&m, 20, |o| o.summary.requests.throughput_per_s);
    let ri = interval(&m, 20, |o| o.summary.latency_s.e2e.mean);
    assert_covers("MVA throughput", xi, x, 0.01);
    assert_covers("MVA response", ri, r, 0.04);
}

#[test]
fn sessions_end_and_restart() {
    // Exactly 3 messages per session, constant think 1 s and pause 5 s, constant service
    // 0.5 s on ample servers: a session cycle is 3 × 0.5 + 2 × 1 + 5 = 8.5 s, so one user
    // completes 100 sessions in 850 s (its first message waits one think time, 1 s).
    let m = model(&json!({
        "name": "cycle",
        "run": {"duration": 852.0},
        "sessions": {"u": {
            "users": 1,
            "messages": {"dist": "constant", "value": 3},
            "think": {"dist": "constant", "value": "1s"},
            "pause": {"dist": "constant", "value": "5s"},
            "to": "s"
        }},
        "stations": {"s": {"servers": 4, "service": {"dist": "constant", "value": "500ms"}}}
    }));
    let out = crate::common::run(&m);
    let u = &out.summary.sessions["u"];
    // Session k ends at 8.5k − 4 s ≤ 852 → 100 done; the 101st starts at 851 s and its first
    // message completes at 851.5 s.
    assert_eq!(u.sessions_completed, 100);
    assert_eq!(u.sessions_started, 101);
    assert_eq!(out.summary.requests.completed, 300 + 1);
}

/// A population of 400 users whose active count steps 100 → 400 (four 10-minute levels), then
/// drops to 100 for 10 minutes; think exponential 10 s, answers in 1 ms.
fn ramp(profile: serde_json::Value) -> serde_json::Value {
    json!({
        "name": "ramp",
        "run": {"duration": "50m", "window": "5m"},
        "sessions": {"u": {"users": 400, "think": {"dist": "exponential", "mean": "10s"}, "to": "s",
            "users_profile": profile}},
        "stations": {"s": {"servers": 100000, "service": {"dist": "constant", "value": 0.001}}}
    })
}

#[test]
fn a_users_profile_ramps_the_active_users_level_by_level() {
    let profile = json!([{"shape": "step", "from": 100, "to": 400, "steps": 4, "duration": "40m"},
        {"shape": "constant", "rate": 100, "duration": "10m"}]);
    let out = run(&model(&ramp(profile)));
    // In each level's second 5-minute window (the first has the joiners' start-up: each begins
    // within a think time), the rate is N / (Z + R) = N / 10.001 s, Poisson within 5 sd.
    for (window, n) in [(1, 100.0), (3, 200.0), (5, 300.0), (7, 400.0), (9, 100.0)] {
        let want = n / 10.001 * 300.0;
        let got = out.rows[window].arrivals as f64;
        assert!((got - want).abs() <= 5.0 * want.sqrt(), "window {window}: {got} arrivals, N/Z gives {want:.0}");
    }
    // User-minutes: (100 + 200 + 300 + 400 + 100) × 10 min; mean active users 1,100 / 5 = 220.
    let s = &out.summary.sessions["u"];
    assert!((s.user_minutes - 11_000.0).abs() < 1e-6, "{}", s.user_minutes);
    assert!((s.mean_active_users - 220.0).abs() < 1e-9, "{}", s.mean_active_users);
}

#[test]
fn a_users_profile_above_the_population_is_refused_with_the_field_named() {
    let over = ramp(json!([{"shape": "step", "from": 100, "to": 500, "steps": 5, "duration": "50m"}]));
    let e = capsim::model::load_str("bad.json", &over.to_string(), &[]).unwrap_err().to_string();
    assert!(e.contains("sessions.u.users_profile.0.to") && e.contains("500"), "{e}");
    let empty = ramp(json!([]));
    let e = capsim::model::load_str("bad.json", &empty.to_string(), &[]).unwrap_err().to_string();
    assert!(e.contains("sessions.u.users_profile") && e.contains("at least one segment"), "{e}");
}
