//! A model's `alarms` evaluated on a run's windows with CloudWatch's N-of-M semantics, against
//! state changes computed by hand: a scheduled outage makes the error rate 100 % for exactly
//! [630 s, 1,200 s), a partition's throttles start when its burst runs out.

use serde_json::{Value, json};

use crate::common::{model, run};
use capsim::report::output::RunOutput;

/// 10 requests a second (one every 100 ms, no randomness) through `front` to `back`, which is
/// down from 630 s to 1,200 s; no retries, so every request arriving in the outage fails at once.
/// Windows of 60 s, 2 minutes of warm-up, 30 minutes in all.
fn outage_model(alarms: Value) -> Value {
    json!({
        "name": "outage-alarms",
        "run": {"duration": "30m", "warmup": "2m", "window": "60s", "seed": 5},
        "sources": {"c": {"interarrival": {"dist": "constant", "value": "100ms"}, "to": "front"}},
        "services": {
            "front": {"servers": 1000, "flow": [{"call": "back"}]},
            "back": {"servers": 1000, "flow": [{"work": {"dist": "constant", "value": "10ms"}}],
                     "faults": {"outages": [{"from": "630s", "to": "1200s"}]}}
        },
        "alarms": alarms
    })
}

/// The error-rate alarm of seed 001 (failures ÷ arrivals > 1 %) with N of M and a period.
fn error_rate(n: u32, m: u32, period: &str) -> Value {
    json!({"metric": "failures", "per": "arrivals", "threshold": 0.01, "period": period,
           "datapoints": n, "evaluation_periods": m, "severity": "SEV-2", "description": "error rate"})
}

fn alarm(out: &RunOutput, name: &str) -> Value {
    serde_json::to_value(&out.summary.alarms[name]).unwrap()
}

/// (start, end) of each time in ALARM of alarm `name`.
fn episodes(out: &RunOutput, name: &str) -> Vec<(f64, Option<f64>)> {
    let a = out.alarms.iter().find(|a| a.def.name == name).expect("the alarm");
    a.episodes.iter().map(|e| (e.start_s, e.end_s)).collect()
}

#[test]
fn an_outage_trips_the_error_rate_alarm_one_period_after_it_starts_and_clears_one_after_it_ends() {
    let alarms = json!({
        "errors_1of1": error_rate(1, 1, "60s"),
        "errors_3of5": error_rate(3, 5, "60s"),
        "errors_5min": error_rate(1, 1, "5m"),
        "throttles": {"metric": "back.throttled", "threshold": 0, "severity": "SEV-3"}
    });
    let out = run(&model(&outage_model(alarms)));
    // 1 of 1: the period [600, 660) holds the outage's first 30 s (error rate 0.5), so the
    // alarm goes to ALARM at its end, 660 s. The last failing period is [1140, 1200); the next,
    // [1200, 1260), has no failure, so it is OK again at 1,260 s.
    assert_eq!(episodes(&out, "errors_1of1"), vec![(660.0, Some(1260.0))]);
    // 3 of 5: the third breaching datapoint ends at 660 + 2 × 60 = 780 s; after the last
    // breaching one (ending 1,200 s) the count among the last 5 falls below 3 at the third
    // clean one: 1,200 + 3 × 60 = 1,380 s.
    assert_eq!(episodes(&out, "errors_3of5"), vec![(780.0, Some(1380.0))]);
    // 5-minute periods aligned to time 0: [600, 900) breaches (error rate 270 s / 300 s = 0.9)
    // and [900, 1200) (1.0); [1200, 1500) is clean.
    assert_eq!(episodes(&out, "errors_5min"), vec![(900.0, Some(1500.0))]);
    let five = out.alarms.iter().find(|a| a.def.name == "errors_5min").unwrap();
    let first = five.datapoints.iter().find(|d| d.start_s == 600.0).expect("the [600, 900) datapoint");
    assert!((first.value - 0.9).abs() <= 2.0 / 3000.0, "error rate {} in [600, 900)", first.value);
    // 2 min of warm-up, then whole 5-min periods from 300 s to 1,800 s: 5 datapoints.
    assert_eq!(five.datapoints.len(), 5);
    // A column that never breaches never fires.
    assert!(episodes(&out, "throttles").is_empty());

    let s = alarm(&out, "errors_1of1");
    assert_eq!((s["fired"].as_u64(), s["first_start_s"].as_f64()), (Some(1), Some(660.0)), "{s}");
    assert_eq!((s["time_in_alarm_s"].as_f64(), s["peak"].as_f64()), (Some(600.0), Some(1.0)), "{s}");
    // Datapoints: windows from 120 s to 1,800 s, 28; breaching: [600, 1200), 10.
    assert_eq!(
        (s["datapoints"].as_u64(), s["breaching"].as_u64(), s["missing"].as_u64()),
        (Some(28), Some(10), Some(0))
    );
    let t = alarm(&out, "throttles");
    assert_eq!((t["fired"].as_u64(), t["first_start_s"].as_f64(), t["peak"].as_f64()), (Some(0), None, None), "{t}");
    let csv = capsim::report::alarms::to_csv(&out.alarms);
    assert_eq!(
        csv.lines().filter(|l| l.starts_with("errors_1of1,")).collect::<Vec<_>>(),
        vec!["errors_1of1,SEV-2,660,1260,1"]
    );
}

#[test]
fn any_partition_throttle_fires_exactly_in_the_windows_that_have_throttles() {
    // One partition of 400 WCU, offered 1,000 one-KB writes a second: its burst (300 s × 400)
    // lasts 200 s, then it throttles 600 a second. Windows of 10 s, 20 s of warm-up.
    let table = json!({"partitions": 1, "read_capacity": 1000, "write_capacity": 400, "adaptive": false,
        "operations": [{"share": 1, "op": "write", "item_kb": 1}]});
    let m = json!({
        "name": "throttle-alarm",
        "run": {"duration": "300s", "warmup": "20s", "window": "10s", "seed": 3},
        "keys": {"k": {"count": 1}},
        "sources": {"c": {"interarrival": {"dist": "constant", "value": "1ms"}, "to": "front", "keys": "k"}},
        "services": {
            "front": {"servers": 1000000, "flow": [{"call": "table"}]},
            "table": {"servers": 1000000, "kind": {"kv_store": table}}
        },
        "alarms": {"dynamodb_throttle": {"metric": "table.partition_throttles", "threshold": 0, "severity": "SEV-3"}}
    });
    let out = run(&model(&m));
    let col = capsim::report::timeseries::column(
        &out.rows,
        &out.station_names,
        &out.kind_columns,
        "table.partition_throttles",
        false,
    )
    .unwrap();
    let a = &out.alarms[0];
    // Every window after warm-up is a datapoint; it breaches exactly when the column is above 0.
    let measured: Vec<(f64, bool)> = col.iter().filter(|(t, _)| *t > 20.0).map(|&(t, v)| (t, v > 0.0)).collect();
    let breaching: Vec<(f64, bool)> = a.datapoints.iter().map(|d| ((d.start_s + d.end_s) / 2.0, d.breaching)).collect();
    assert_eq!(breaching, measured);
    // The first throttle is in [200 s, 201 s), so the window [200, 210) is the first to breach:
    // ALARM at its end, 210 s, and still in ALARM when the run ends.
    assert_eq!(episodes(&out, "dynamodb_throttle"), vec![(210.0, None)]);
    let s = alarm(&out, "dynamodb_throttle");
    assert_eq!((s["time_in_alarm_s"].as_f64(), s["in_alarm_at_end"].as_bool()), (Some(90.0), Some(true)));
    // The peak is the worst window: 10 s × 600 throttles a second (one less or more at the edges).
    let peak = s["peak"].as_f64().unwrap();
    assert!((peak - 6000.0).abs() <= 2.0, "peak {peak}");
}

#[test]
fn bad_alarms_are_refused_naming_the_field() {
    let load = |alarms: Value| {
        capsim::model::load_str("m.json", &outage_model(alarms).to_string(), &[]).map(|_| ()).unwrap_err().to_string()
    };
    let e = load(json!({"x": {"metric": "back.throttles", "threshold": 0}}));
    assert!(e.contains("alarms.x.metric") && e.contains("`back.throttled`"), "{e}");
    let e = load(json!({"x": {"metric": "failures", "threshold": 0, "datapoints": 3, "evaluation_periods": 2}}));
    assert!(e.contains("alarms.x.evaluation_periods") && e.contains("M ≥ N"), "{e}");
    let e = load(json!({"x": {"metric": "failures", "threshold": 0, "period": "90s"}}));
    assert!(e.contains("alarms.x.period") && e.contains("whole multiple of the run's window (60 s)"), "{e}");
    let e = load(json!({"x": {"metric": "failures", "threshold": 0, "comparison": "=>"}}));
    assert!(e.contains("alarms.x.comparison") && e.contains("expected one of: >, >=, <, <="), "{e}");
    let e = load(json!({"x": {"metric": "p99_s", "threshold": 3, "period": "5m"}}));
    assert!(e.contains("alarms.x.statistic") && e.contains("percentile"), "{e}");
    let e = load(json!({"x.y": {"metric": "failures", "threshold": 0}}));
    assert!(e.contains("only letters, digits"), "{e}");
}

#[test]
fn a_run_with_alarms_writes_the_table_the_chart_and_the_summary_section() {
    let out_dir = std::env::temp_dir().join(format!("capsim-alarms-{}", std::process::id()));
    let m = model(&outage_model(json!({"errors": error_rate(1, 1, "60s")})));
    let out = run(&m);
    capsim::report::write::write_run(&out_dir, &m, &out, true).unwrap();
    let csv = std::fs::read_to_string(out_dir.join("alarms.csv")).unwrap();
    assert_eq!(csv, "alarm,severity,start_s,end_s,peak\nerrors,SEV-2,660,1260,1\n");
    assert!(out_dir.join("alarms.png").is_file() && out_dir.join("alarms.svg").is_file());
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["alarms"]["errors"]["fired"], json!(1));
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_capsim")).arg("report").arg(&out_dir).output().unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let page = std::fs::read_to_string(out_dir.join("index.html")).unwrap();
    assert!(
        page.contains("<h3>Alarms</h3>") && page.contains("SEV-2") && page.contains("failures / arrivals"),
        "no alarm table"
    );
    assert!(page.contains("id=\"alarms\""), "no alarm timeline on the page");
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn any_breaker_open_fires_in_exactly_the_windows_its_open_periods_overlap() {
    // 10 requests a second (at 0.1 s, 0.2 s, …) from `front` to `back` through a breaker over
    // the last 10 calls that opens at a failure share of 0.5, stays open 30 s and lets 1 probe
    // through. `back` is down over [630.05 s, 700 s): the failures at 630.1 … 630.5 s make 5 of
    // the last 10, so it opens at 630.5 s until 660.5 s; the probes at 660.5 s and 690.5 s fail
    // (reopening it for 30 s each); the probe at 720.5 s succeeds and closes it. Open over
    // [630.5 s, 720.5 s): the 10 s windows [630, 640) … [720, 730) see it open, none other.
    let m = json!({
        "name": "breaker-alarm",
        "run": {"duration": "900s", "warmup": "60s", "window": "10s", "seed": 5},
        "sources": {"c": {"interarrival": {"dist": "constant", "value": "100ms"}, "to": "front"}},
        "policies": {"gate": {"breaker": {"window": {"calls": 10}, "failure_rate": 0.5, "min_calls": 5,
                                          "open_for": "30s", "probes": 1}}},
        "services": {
            "front": {"servers": 1000, "flow": [{"call": "back", "policy": "gate"}]},
            "back": {"servers": 1000, "flow": [{"work": {"dist": "constant", "value": "10ms"}}],
                     "faults": {"outages": [{"from": "630.05s", "to": "700s"}]}}
        },
        "alarms": {"breaker_open": {"metric": "breakers_open", "threshold": 0, "severity": "SEV-2"}}
    });
    let out = run(&model(&m));
    let col = |name: &str| {
        capsim::report::timeseries::column(&out.rows, &out.station_names, &out.kind_columns, name, false).unwrap()
    };
    let open: Vec<f64> = col("back.breakers_open").iter().filter(|(_, v)| *v > 0.0).map(|(t, _)| t - 5.0).collect();
    let want: Vec<f64> = (63..=72).map(|k| f64::from(k) * 10.0).collect();
    assert_eq!(open, want, "windows (by start) with the breaker open");
    assert_eq!(col("breakers_open"), col("back.breakers_open"), "the one breaker is every breaker");
    assert!(col("front.breakers_open").iter().all(|(_, v)| *v == 0.0), "no breaker guards calls to front");
    assert_eq!(col("back.breakers_open").iter().map(|(_, v)| *v).fold(0.0, f64::max), 1.0);
    // 1 datapoint of 1: ALARM at the end of [630, 640), OK at the end of [730, 740).
    assert_eq!(episodes(&out, "breaker_open"), vec![(640.0, Some(740.0))]);
    let back = serde_json::to_value(&out.summary.services["back"]).unwrap();
    assert_eq!(back["breaker_opened"].as_u64(), Some(3), "{back}");
}
