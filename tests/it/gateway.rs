//! The `gateway` service kind (API Gateway WebSocket connections) against hand-computed
//! figures: Little's law for concurrent connections, the new-connection bucket in every window,
//! every connection accounted for, refusals at the limit, abandoned tabs held for the idle
//! timeout, and settings errors that name their field.

use capsim::model::load_str;
use capsim::report::output::RunOutput;
use serde_json::{Value, json};

use crate::common::{model, run};

/// `users` users sending 5-message sessions (think 20 s, answer 1 s, both constant: a session
/// holds its connection 4 × 21 + 1 = 85 s) with exponential pauses of mean 60 s, through the
/// gateway `gw` set to `gw`.
fn gw_model(users: u32, gw: Value, duration: &str, warmup: &str) -> Value {
    let mut settings = json!({"target": "bot", "connect_rate": 1e6});
    settings.as_object_mut().unwrap().extend(gw.as_object().unwrap().clone());
    json!({
        "name": "gateway",
        "run": {"duration": duration, "warmup": warmup, "window": "1s", "seed": 5},
        "sessions": {"users": {
            "users": users,
            "messages": {"dist": "constant", "value": 5},
            "think": {"dist": "constant", "value": "20s"},
            "pause": {"dist": "exponential", "mean": "60s"},
            "to": "gw"
        }},
        "services": {
            "gw": {"servers": 1000000, "kind": {"gateway": settings}},
            "bot": {"servers": 1000000, "flow": [{"work": {"dist": "constant", "value": "1s"}}]}
        }
    })
}

fn figures(out: &RunOutput) -> Value {
    serde_json::to_value(&out.summary.services["gw"]).unwrap()["gateway"].clone()
}

fn num(v: &Value, f: &str) -> f64 {
    v[f].as_f64().unwrap_or_else(|| panic!("{f} missing from {v}"))
}

/// open at warm-up + opened = closed + open, overall and in every region.
fn assert_accounted(g: &Value) {
    let mut all = vec![g.clone()];
    all.extend(g["regions"].as_object().unwrap().values().cloned());
    for v in all {
        assert_eq!(num(&v, "open_at_start") + num(&v, "opened"), num(&v, "closed") + num(&v, "open"), "{v}");
        let by: f64 = v["closed_by"].as_object().unwrap().values().map(|x| x.as_f64().unwrap()).sum();
        assert_eq!(by, num(&v, "closed"), "{v}");
    }
}

#[test]
fn concurrent_connections_follow_littles_law() {
    // Each session holds its connection 85 s, then the user pauses 60 s on average: a cycle of
    // 145 s, so 2,000 users hold 2,000 × 85 / 145 = 1,172.4 connections on average, and the
    // connection arrival rate times the 85 s hold gives the same. Over 5 h the mean of about
    // 1,170 connections varies by about √(1,170 × 145 / 18,000) / 1,170 ≈ 0.3 % (a session is
    // an independent 145 s cycle); 2 % allows for the correlation between neighbouring cycles.
    let out = run(&model(&gw_model(2000, json!({}), "320m", "20m")));
    let g = figures(&out);
    let mean = num(&g, "mean_open");
    let hand = 2000.0 * 85.0 / 145.0;
    assert!((mean / hand - 1.0).abs() < 0.02, "mean open {mean} vs 2,000 × 85 / 145 = {hand}");
    let little = num(&g, "opened") / 18_000.0 * 85.0;
    assert!((mean / little - 1.0).abs() < 0.02, "mean open {mean} vs λ × 85 s = {little}");
    // 60 $ / M connection-minutes × 0.25 and the messages (2 billed per message) at 1 $ / M.
    let cost = num(&g, "messages") * 2.0 * 1e-6 + num(&g, "connection_minutes") * 0.25e-6;
    assert!((num(&g, "cost_usd") - cost).abs() < 1e-9, "{g}");
    assert!((num(&g, "connection_minutes") - mean * 300.0).abs() < 1e-6 * mean * 300.0, "{g}");
    assert_accounted(&g);
}

#[test]
fn the_connect_rate_never_exceeds_the_bucket_in_any_window() {
    // 2,000 users all start at 20 s (a constant think time) against 50 new connections per
    // second and a bucket of 50: in any t seconds at most 50 t + 50 connections open, and the
    // bucket is used to the full while refused clients back off and try again.
    let out = run(&model(&gw_model(2000, json!({"connect_rate": 50, "connect_burst": 50}), "10m", "0s")));
    let col =
        capsim::report::timeseries::column(&out.rows, &out.station_names, &out.kind_columns, "gw.connects", false)
            .expect("the connects column");
    let per_s: Vec<f64> = col.iter().map(|(_, v)| *v).collect();
    for t in 1..=60 {
        let worst = per_s.windows(t).map(|w| w.iter().sum::<f64>()).fold(0.0, f64::max);
        assert!(worst <= 50.0 * t as f64 + 50.0, "{worst} connections opened in {t} s");
    }
    let worst_10 = per_s.windows(10).map(|w| w.iter().sum::<f64>()).fold(0.0, f64::max);
    assert!(worst_10 >= 500.0, "the bucket binds: {worst_10} in 10 s");
    let g = figures(&out);
    assert!(num(&g, "refused_rate") > 0.0, "{g}");
    assert_accounted(&g);
}

#[test]
fn a_full_region_refuses_connects_and_every_connection_is_accounted_for() {
    // 20 users with endless sessions against a limit of 10 and no second attempt: the first
    // 10 connect, the other 10 are refused once and their sessions are lost.
    let mut m = gw_model(20, json!({"max_connections": 10, "reconnect": {"attempts": 1}}), "10m", "0s");
    m["sessions"]["users"].as_object_mut().unwrap().remove("messages");
    let g = figures(&run(&model(&m)));
    for (f, v) in [("opened", 10.0), ("refused_limit", 10.0), ("sessions_lost", 10.0), ("open", 10.0), ("peak", 10.0)] {
        assert_eq!(num(&g, f), v, "{f}: {g}");
    }
    assert_eq!(num(&g, "peak_share"), 1.0);
    // Drops, ghosts, abandoned tabs, cleanup, re-homing and two regions at once.
    let busy = json!({
        "drops_per_hour": 6, "reuse": 0.5, "abandon_share": 0.3, "idle_cleanup": "3m", "instances": 4,
        "max_connections": 600, "regions": [{"name": "east", "share": 0.5}, {"name": "west", "share": 0.5}]
    });
    let g = figures(&run(&model(&gw_model(2000, busy, "2h", "10m"))));
    assert_accounted(&g);
    for f in ["ghosts", "reused", "abandoned", "refused_limit", "rehomed"] {
        assert!(num(&g, f) > 0.0, "{f}: {g}");
    }
    // Re-homed: 3 of 4 reconnects land on another instance (the 95 % band of a binomial share).
    let (n, k) = (num(&g, "reconnects"), num(&g, "rehomed"));
    assert!((k / n - 0.75).abs() < 2.0 * (0.75 * 0.25 / n).sqrt() + 0.01, "{k} of {n}");
}

#[test]
fn abandoned_tabs_hold_their_connection_for_the_idle_timeout() {
    // 30 % of sessions end without closing: their connection stays open 10 minutes after the
    // last answer (no heartbeats), so each session holds 85 s + 0.3 × 600 s = 265 s on
    // average, and the abandoned connections open at any time are their rate × 600 s.
    let out = run(&model(&gw_model(2000, json!({"abandon_share": 0.3}), "320m", "20m")));
    let g = figures(&out);
    let share = num(&g, "abandoned") / num(&g, "sessions");
    assert!((share - 0.3).abs() < 0.01, "abandoned share {share}");
    let per_s = num(&g, "abandoned") / 18_000.0;
    let lingering = num(&g, "mean_lingering");
    assert!((lingering / (per_s * 600.0) - 1.0).abs() < 0.02, "{lingering} vs {per_s}/s × 600 s");
    let minutes = num(&g, "connection_minutes");
    let hand = num(&g, "sessions") * (85.0 + 0.3 * 600.0) / 60.0;
    assert!((minutes / hand - 1.0).abs() < 0.02, "{minutes} connection-minutes vs {hand}");
    // Without cleanup or heartbeats every connection closes cleanly or at the idle timeout.
    assert_eq!(num(&g["closed_by"], "cleanup") + num(&g["closed_by"], "max_duration"), 0.0, "{g}");
    assert_accounted(&g);
    // With heartbeats and a 3-minute cleanup they close 3 minutes after the last answer.
    let g = figures(&run(&model(&gw_model(
        2000,
        json!({"abandon_share": 0.3, "heartbeat": true, "idle_cleanup": "3m"}),
        "320m",
        "20m",
    ))));
    let lingering = num(&g, "mean_lingering");
    let per_s = num(&g, "abandoned") / 18_000.0;
    assert!((lingering / (per_s * 180.0) - 1.0).abs() < 0.03, "{lingering} vs {per_s}/s × 180 s");
}

#[test]
fn bad_settings_name_their_field() {
    let cases = [
        (json!({"max_connections": 0}), "services.gw.kind.gateway.max_connections"),
        (json!({"idle_timeout": 0}), "services.gw.kind.gateway.idle_timeout"),
        (json!({"idle_timeout": "-5s"}), "services.gw.kind.gateway.idle_timeout"),
        (json!({"max_duration": 0}), "services.gw.kind.gateway.max_duration"),
        (json!({"connect_rate": 0}), "services.gw.kind.gateway.connect_rate"),
        (json!({"reuse": 1.5}), "services.gw.kind.gateway.reuse"),
        (json!({"reconnect": {"attempts": 0}}), "services.gw.kind.gateway.reconnect.attempts"),
        (
            json!({"regions": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.4}]}),
            "services.gw.kind.gateway.regions",
        ),
        (
            json!({"regions": [{"name": "a", "share": 1.0, "max_connections": 0}]}),
            "services.gw.kind.gateway.regions.0.max_connections",
        ),
    ];
    for (settings, path) in cases {
        let text = gw_model(10, settings.clone(), "1m", "0s").to_string();
        let err =
            load_str("bad.json", &text, &[]).err().unwrap_or_else(|| panic!("{settings} was accepted")).to_string();
        assert!(err.contains(path), "{settings}: `{path}` not in {err}");
    }
    let shares =
        gw_model(10, json!({"regions": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.4}]}), "1m", "0s");
    let err = load_str("bad.json", &shares.to_string(), &[]).err().unwrap().to_string();
    assert!(err.contains("add up to 1"), "{err}");
}

/// Column `name` of a run, as (window middle [s], value), windows after `from_s` only.
fn column_after(out: &RunOutput, name: &str, from_s: f64) -> Vec<(f64, f64)> {
    let col = capsim::report::timeseries::column(&out.rows, &out.station_names, &out.kind_columns, name, false);
    col.unwrap_or_else(|| panic!("no column {name}")).into_iter().filter(|(t, _)| *t > from_s).collect()
}

#[test]
fn the_connection_share_is_the_peak_over_the_limit_and_an_80_percent_alarm_fires_above_it() {
    // 2,000 users hold 2,000 × 85 / 145 = 1,172.4 connections on average (Little's law, as
    // above): 90 % of a 1,300-connection limit, 59 % of a 2,000 one. The number open varies by
    // about √(1,172 × 60 / 145) ≈ 22 (each user's connection is open 85 s of every 145 s), so
    // with 1,300 every window's peak is above 0.8 × 1,300 = 1,040 (6 sd below the mean) and
    // with 2,000 none reaches 1,600 (19 sd above).
    let alarm = json!({"sessions": {"metric": "gw.connections_share", "threshold": 0.8, "severity": "SEV-2"}});
    let hand = 2000.0 * 85.0 / 145.0;
    for (limit, fires) in [(1300, true), (2000, false)] {
        let mut m = gw_model(2000, json!({"max_connections": limit}), "60m", "20m");
        m["alarms"] = alarm.clone();
        let out = run(&model(&m));
        let share = column_after(&out, "gw.connections_share", 1200.0);
        let peak = column_after(&out, "gw.connections_peak", 1200.0);
        assert_eq!(share.len(), 2400, "one value per 1 s window after warm-up");
        for ((t, s), (_, p)) in share.iter().zip(&peak) {
            assert_eq!(*s, p / f64::from(limit), "window at {t} s: the peak over the limit");
        }
        // The mean peak share is the mean number open over the limit, plus the few connections a
        // 1 s window's peak adds to its level (about 14 open a second): 3 % allows both and the
        // ±0.8 % sampling error of 40 minutes.
        let mean = share.iter().map(|(_, s)| s).sum::<f64>() / share.len() as f64;
        let want = hand / f64::from(limit);
        assert!(mean >= want * 0.98 && mean <= want * 1.03, "limit {limit}: mean share {mean} vs {want}");
        let a = serde_json::to_value(&out.summary.alarms["sessions"]).unwrap();
        if fires {
            // In ALARM from the end of the first measured window to the end of the run.
            assert_eq!((a["fired"].as_u64(), a["time_in_alarm_s"].as_f64()), (Some(1), Some(2399.0)), "{a}");
        } else {
            assert_eq!(a["fired"].as_u64(), Some(0), "{a}");
        }
    }
}
