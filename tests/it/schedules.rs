//! Time-of-day schedules: a run starts at a clock time (`run.start`, `run.utc_offset`) and
//! 24-entry schedules change a limiter's cap, a fleet's size, a source's rate and a
//! population's active share exactly on the hour, each in its own time zone; bad schedules are
//! refused with the field named.

use capsim::model::load_str;
use capsim::report::output::RunOutput;
use capsim::report::timeseries::column;
use serde_json::{Value, json};

use crate::common::{constant, model, run};

/// A kind's time-series column as (window end [s], value).
fn series(out: &RunOutput, name: &str) -> Vec<(f64, f64)> {
    let v = column(&out.rows, &out.station_names, &out.kind_columns, name, false).expect(name);
    out.rows.iter().zip(v).map(|(r, (_, y))| (r.t_end, y)).collect()
}

/// 24 entries: `default` everywhere but the hours given.
fn hours(default: f64, set: &[(usize, f64)]) -> Vec<f64> {
    let mut h = vec![default; 24];
    for &(i, v) in set {
        h[i] = v;
    }
    h
}

#[test]
fn a_limiter_schedule_changes_the_cap_exactly_on_the_hour_in_its_own_time_zone() {
    // The model's clock reads 09:30 UTC at t = 0; the schedule is in JST (+09:00), where it is
    // 18:30. Its cap: 10 until 19:00 JST (t = 1,800 s), 4 until 20:00 (5,400 s), 0 until 21:00
    // (9,000 s), then 20. Requests hold a permit for exactly 1 s and arrive far faster than
    // any cap can serve, so the permits in use are always the cap.
    let m = model(&json!({
        "name": "sched",
        "run": {"duration": "3h", "window": "60s", "start": "09:30", "utc_offset": "+00:00"},
        "sources": {"c": {"rate": 50, "to": "pool"}},
        "services": {
            "pool": {"servers": 1000000, "kind": {"concurrency_limiter": {"target": "back", "max_concurrency": 20,
                "schedule": {"hours": hours(20.0, &[(18, 10.0), (19, 4.0), (20, 0.0)]), "utc_offset": "+09:00"}}}},
            "back": {"servers": 1000000, "flow": [{"work": constant(1.0)}]}
        }
    }));
    let out = run(&m);
    let p = serde_json::to_value(&out.summary.services["pool"]).unwrap()["concurrency_limiter"].clone();
    assert_eq!(p["limit_history"], json!([[0.0, 10], [1800.0, 4], [5400.0, 0], [9000.0, 20]]), "{p}");
    // Every whole window serves exactly the cap's calls a second: the mean in flight is the cap.
    for (t, in_flight) in series(&out, "pool.in_flight") {
        let cap = match t {
            t if t <= 1800.0 => 10.0,
            t if t <= 5400.0 => 4.0,
            t if t <= 9000.0 => 0.0,
            _ => 20.0,
        };
        // A window ending on a change still had the old cap's calls finishing (1 s of 60).
        // The first window starts empty (the first request comes after about 20 ms).
        let slack = match t {
            60.0 => 0.05,
            t if [1800.0, 5400.0, 9000.0].contains(&(t - 60.0)) || t == 1800.0 => 20.0 / 60.0,
            _ => 1e-9,
        };
        assert!((in_flight - cap).abs() <= slack + 1e-9, "window ending {t}: {in_flight} in flight, cap {cap}");
    }
}

#[test]
fn an_hourly_fleet_size_launches_and_retires_instances_on_the_hour() {
    // Start 23:00 local: 2 instances until midnight (t = 3,600 s), 5 from 00:00, 1 from 01:00.
    // Instances start in exactly 120 s (a constant start-up chain) and retire at once.
    let pool = json!({
        "instance": {"type": "ml.g5.xlarge"},
        "instances": 2,
        "service": constant(0.01),
        "startup": {"provisioning": constant(120.0)},
        "autoscaling": {"min": 1, "max": 10, "hourly": {"hours": hours(1.0, &[(23, 2.0), (0, 5.0)])}}
    });
    let m = model(&json!({
        "name": "hourly_pool",
        "run": {"duration": "3h", "window": "60s", "start": "23:00"},
        "sources": {"c": {"rate": 1, "to": "front"}},
        "services": {
            "front": {"servers": 1000000, "flow": [{"call": "pool"}]},
            "pool": {"servers": 1000000, "kind": {"endpoint_pool": pool}}
        }
    }));
    let out = run(&m);
    let serving = series(&out, "pool.instances_serving");
    let at = |t: f64| serving.iter().find(|(e, _)| (*e - t).abs() < 1e-6).map(|p| p.1).unwrap();
    assert_eq!(at(3600.0), 2.0, "until midnight");
    assert_eq!(at(3660.0), 2.0, "the three new ones are still starting at 00:01");
    assert_eq!(at(3780.0), 5.0, "and serve from 00:02");
    assert_eq!(at(7140.0), 5.0, "until 01:00");
    // The window ending at 01:00 is counted after the change (both happen at 7,200 s).
    assert_eq!(at(7200.0), 1.0, "retired at 01:00");
}

#[test]
fn an_hourly_source_profile_sends_each_hours_rate() {
    // The run starts at 07:00 in a +02:00 zone; the profile is in UTC, where it is 05:00.
    // Rates 50/s at 05:00, 10/s at 06:00, 200/s at 07:00 (UTC); each hour's arrivals are
    // Poisson with mean rate × 3,600, so 5 standard deviations is a bound a correct model
    // crosses once in 1.7 million checks.
    let m = model(&json!({
        "name": "diurnal",
        "run": {"duration": "3h", "window": "1h", "start": "07:00", "utc_offset": "+02:00"},
        "sources": {"c": {"profile": [{"shape": "hourly", "utc_offset": "Z",
            "rates": hours(0.0, &[(5, 50.0), (6, 10.0), (7, 200.0)])}], "to": "s"}},
        "stations": {"s": {"servers": 1000, "service": constant(0.001)}}
    }));
    let out = run(&m);
    let arrivals: Vec<f64> = out.rows.iter().map(|r| r.arrivals as f64).collect();
    for (got, rate) in arrivals.iter().zip([50.0, 10.0, 200.0]) {
        let mean = rate * 3600.0;
        assert!((got - mean).abs() <= 5.0 * mean.sqrt(), "{arrivals:?} against {rate}/s");
    }
}

#[test]
fn a_population_follows_its_active_share_by_the_hour() {
    // 2,000 users, one message a session, think 10 s, near-instant answers: X ≈ active ÷ 10 s.
    // Active shares: 100 % at 10:00, 25 % at 11:00 (the run starts at 10:00).
    let m = model(&json!({
        "name": "active",
        "run": {"duration": "2h", "window": "10m", "start": "10:00"},
        "sessions": {"u": {"users": 2000, "messages": constant(1.0), "think": {"dist": "exponential", "mean": "10s"},
            "to": "s", "active": {"hours": hours(1.0, &[(11, 0.25)])}}},
        "stations": {"s": {"servers": 100000, "service": constant(0.001)}}
    }));
    let out = run(&m);
    let rate: Vec<f64> = out.rows.iter().map(|r| r.arrivals as f64 / 600.0).collect();
    // Whole windows away from the start and the change: 200/s, then 50/s (Little: N/(Z + R)).
    for (k, want) in [(2, 200.0), (3, 200.0), (5, 200.0), (8, 50.0), (11, 50.0)] {
        let sd = (want / 600.0_f64).sqrt();
        assert!((rate[k] - want).abs() <= 5.0 * sd + 0.002 * want, "window {k}: {rate:?}");
    }
}

#[test]
fn bad_clocks_and_schedules_are_refused_with_the_field_named() {
    let base = |run: Value, sched: Value| {
        json!({
            "name": "bad",
            "run": run,
            "sources": {"c": {"rate": 1, "to": "pool"}},
            "services": {
                "pool": {"servers": 10, "kind": {"concurrency_limiter": {"target": "back", "max_concurrency": 5,
                    "schedule": sched}}},
                "back": {"servers": 10, "flow": [{"work": constant(0.1)}]}
            }
        })
    };
    let ok_hours = json!({"hours": hours(5.0, &[])});
    let cases = [
        (base(json!({"start": "25:00"}), ok_hours.clone()), "run.start", "time of day"),
        (base(json!({"utc_offset": "JST"}), ok_hours.clone()), "run.utc_offset", "UTC offset"),
        (base(json!({}), json!({"hours": [1, 2, 3]})), "kind.concurrency_limiter.schedule", "24 entries"),
        (base(json!({}), json!({"hours": hours(5.0, &[(3, 6.0)])})), "kind.concurrency_limiter.schedule", "hours.3"),
        (base(json!({}), json!({"hours": hours(2.5, &[])})), "kind.concurrency_limiter.schedule", "whole numbers"),
        (base(json!({}), json!({"hours": hours(1.0, &[]), "utc_offset": "+15:00"})), "schedule", "utc_offset"),
    ];
    for (m, path, words) in cases {
        let e = load_str("bad.json", &m.to_string(), &[]).expect_err("refused").to_string();
        assert!(e.contains(path) && e.contains(words), "wanted `{path}` and `{words}` in: {e}");
    }
    let pop = |active: Value| {
        json!({"name": "bad", "sessions": {"u": {"users": 10, "think": constant(1.0), "to": "s", "active": active}},
            "stations": {"s": {"servers": 1, "service": constant(0.1)}}})
    };
    let e = load_str("bad.json", &pop(json!({"hours": hours(1.5, &[])})).to_string(), &[]).unwrap_err().to_string();
    assert!(e.contains("sessions.u.active") && e.contains("0 to 1"), "{e}");
    let src = json!({"name": "bad", "sources": {"c": {"profile": [{"shape": "hourly", "rates": [1, 2]}], "to": "s"}},
        "stations": {"s": {"servers": 1, "service": constant(0.1)}}});
    let e = load_str("bad.json", &src.to_string(), &[]).unwrap_err().to_string();
    assert!(e.contains("sources.c.profile.0.rates") && e.contains("24 entries"), "{e}");
}
