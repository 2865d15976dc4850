//! `capsim breakpoints` end to end, on a model whose limits are known by hand: a source at rate
//! λ into a service `front` (4 slots, 100 ms of work, slots freed while it waits on its calls)
//! that calls, in parallel, an `llm` with a quota of 660 requests a minute, a one-partition
//! DynamoDB table provisioned at 20 write units a second (one 1 KB write per request), and an
//! `audit` service with 1,000 slots. By hand: the quota is crossed at λ = 660 / 60 = 11/s, the
//! partition at λ = 20/s, and `front` is 80 % busy at λ = 0.8 × 4 / 0.1 s = 32/s; `audit`
//! (1 ms of work on 1,000 slots) never comes near a limit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn capsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_capsim"))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("capsim-test-{}-bp-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn known_model(dir: &Path) -> PathBuf {
    let constant = |v: &str| json!({"dist": "constant", "value": v});
    let m = json!({
        "name": "known_order",
        "run": {"duration": "2h", "warmup": "10m"},
        "sources": {"arrivals": {"rate": 10, "to": "front"}},
        "services": {
            "front": {"servers": 4, "hold_while_waiting": false, "flow": [
                {"work": constant("100ms")},
                {"parallel": [{"call": "model"}, {"call": "table"}, {"call": "audit"}]}
            ]},
            "model": {"servers": 1000000, "kind": {"llm": {"model": "test", "ttft": constant("1ms"),
                "tokens_per_s": 100, "quota": {"rpm": 660}}}},
            "table": {"servers": 1000000, "kind": {"kv_store": {"partitions": 1, "read_capacity": 100,
                "write_capacity": 20, "adaptive": false, "operations": [{"share": 1, "op": "write", "item_kb": 1}]}}},
            "audit": {"servers": 1000, "flow": [{"work": constant("1ms")}]}
        },
        "alarms": {
            "throttles": {"metric": "table.partition_throttles", "threshold": 0, "severity": "SEV-2"},
            "slow": {"metric": "p99_s", "threshold": 1, "severity": "SEV-3"}
        }
    });
    let p = dir.join("known.json");
    std::fs::write(&p, m.to_string()).unwrap();
    p
}

fn scan(model: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut c = capsim();
    c.args(["breakpoints", model.to_str().unwrap(), "--vary", "sources.arrivals.rate", "--out", out.to_str().unwrap()]);
    c.args(extra).output().unwrap()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The crossings of `b` for components other than the whole system, in order.
fn component_crossings(b: &Value) -> Vec<Value> {
    b["crossings"].as_array().unwrap().iter().filter(|c| c["kind"] != "system").cloned().collect()
}

#[test]
fn breakpoints_find_the_order_and_loads_computed_by_hand() {
    let dir = temp_dir("known");
    let out = dir.join("out");
    let o = scan(
        &known_model(&dir),
        &out,
        &["--from", "2", "--to", "38", "--step", "4", "--replications", "2", "--limit", "service.utilization=0.8"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b = read_json(&out.join("breakpoints.json"));
    let c = component_crossings(&b);
    let who: Vec<(&str, &str)> =
        c.iter().map(|x| (x["component"].as_str().unwrap(), x["limit"].as_str().unwrap())).collect();
    assert_eq!(who, [("model", "llm.quota"), ("table", "kv_store.throttles"), ("front", "service.utilization")]);
    // The grid is 2, 6, …, 38 (step 4): a limit found at a load point lies in the step below it,
    // so the hand-computed load must lie in (load_below, point_load].
    for (x, truth) in c.iter().zip([11.0, 20.0, 32.0]) {
        let (below, at) = (x["load_below"].as_f64().unwrap(), x["point_load"].as_f64().unwrap());
        assert!(below < truth && truth <= at, "{}: {truth} outside ({below}, {at}]", x["component"]);
    }
    // The partition throttles only once its 300 s of burst is spent, so it is found at a point.
    assert_eq!(c[1]["how"], "first_point");
    assert_eq!(c[1]["point_load"], 22.0);
    // Utilisation is λ × 0.1 s / 4 exactly, linear in λ, so the interpolated crossing is the hand
    // value up to the noise of two 110-minute runs at ~32/s (utilisation's relative sd ≈ 0.2 %):
    // 1.5 % is several times that.
    assert_eq!(c[2]["how"], "interpolated");
    let u = c[2]["load"].as_f64().unwrap();
    assert!((u - 32.0).abs() <= 0.015 * 32.0, "front 80 % busy at {u}, expected 32");
    // The quota's 429 share is 0 at 10/s and rises from a kink at 11/s that a line from 0
    // cannot place: it is found at the point, within the step (10, 14] (checked above).
    assert_eq!(c[0]["how"], "first_point");
    // The table's alarm fires where its throttles begin, and is named on its crossing.
    assert_eq!(c[1]["alarm"]["name"], "throttles");
    assert_eq!(c[1]["alarm"]["load"], 22.0);
    // audit never breaks: it holds to the highest load.
    let holding = b["holding"].as_array().unwrap();
    assert!(holding.iter().any(|h| h["component"] == "audit" && h["holds_to"] == 38.0), "{holding:?}");
    let csv = std::fs::read_to_string(out.join("breakpoints.csv")).unwrap();
    assert!(csv.lines().any(|l| l.starts_with(",audit,service,") && l.contains(",holds,")), "{csv}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("audit") && stdout.contains("holds to 38"), "{stdout}");
    for f in ["points.csv", "breakpoints.png", "breakpoints.svg"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
}

#[test]
fn breakpoints_outputs_do_not_depend_on_the_thread_count() {
    let dir = temp_dir("threads");
    let model = known_model(&dir);
    let args = ["--from", "6", "--to", "30", "--points", "4", "--replications", "2", "--duration", "30m"];
    let (one, two) = (dir.join("one"), dir.join("two"));
    for (out, threads) in [(&one, "1"), (&two, "2")] {
        let o = scan(&model, out, &[&args[..], &["--threads", threads]].concat());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for f in ["breakpoints.json", "breakpoints.csv", "points.csv"] {
        let (a, b) = (std::fs::read(one.join(f)).unwrap(), std::fs::read(two.join(f)).unwrap());
        assert!(a == b, "{f} differs between 1 and 2 threads");
    }
}

#[test]
fn breakpoints_refuse_bad_flags_with_a_clear_message() {
    let dir = temp_dir("bad");
    let model = known_model(&dir);
    let cases: [(&[&str], &str); 6] = [
        (&["--vary", "sources.arivals.rate", "--from", "1", "--to", "2"], "arivals"),
        (&["--from", "5", "--to", "5"], "--from"),
        (&["--from", "1", "--to", "5", "--points", "1"], "--points"),
        (&["--from", "1", "--to", "5", "--points", "5000"], "MAX_BREAKPOINT_POINTS"),
        (&["--from", "1", "--to", "5", "--step", "0"], "--step"),
        (&["--from", "1", "--to", "5", "--limit", "nope=1"], "llm.quota"),
    ];
    for (k, (args, says)) in cases.iter().enumerate() {
        let out = dir.join(format!("out{k}"));
        let mut c = capsim();
        c.args(["breakpoints", model.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        if !args.contains(&"--vary") {
            c.args(["--vary", "sources.arrivals.rate"]);
        }
        let o = c.args(*args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: expected `{says}` in: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}

#[test]
fn breakpoints_docs_list_every_limit_with_its_default() {
    let docs = std::fs::read_to_string("docs/experiments.md").unwrap();
    for l in capsim::experiment::breakpoints::signals::LIMITS {
        let row = docs.lines().find(|r| r.starts_with(&format!("| `{}` |", l.id)));
        let row = row.unwrap_or_else(|| panic!("limit {} is not in docs/experiments.md", l.id));
        let default = format!("| {} |", l.threshold);
        assert!(row.contains(&default), "docs give {} another default than {}: {row}", l.id, l.threshold);
    }
}

/// An experiment over the known model with `breakpoints`: two scans (`scan` a with the quota at
/// 660 requests a minute, b at 1,320) of the rate 2, 6, …, 38, and claims on their crossings.
fn known_experiment(dir: &Path, extra: Value) -> PathBuf {
    let model = known_model(dir);
    let rates: Vec<f64> = (0..10).map(|k| 2.0 + 4.0 * k as f64).collect();
    let twice = |v: Vec<Value>| [v.clone(), v].concat();
    let scan: Vec<Value> = [vec![json!("a"); 10], vec![json!("b"); 10]].concat();
    let rpm: Vec<Value> = [vec![json!(660); 10], vec![json!(1320); 10]].concat();
    let claim = |id: &str, component: &str, limit: &str, scan: &str, reference: f64| {
        json!({"id": id, "kind": "outcome", "source": "by hand", "claim": id, "metric": "rate",
               "crossing": {"component": component, "limit": limit, "scan": scan}, "reference": reference})
    };
    let mut e = json!({
        "name": "known_breaks",
        "model": model.file_name().unwrap().to_str().unwrap(),
        "duration": "40m", "warmup": "5m", "replications": 2, "combine": "zip",
        "parameters": [
            {"path": "description", "name": "scan", "values": scan},
            {"path": "sources.arrivals.rate", "name": "rate", "values": twice(rates.iter().map(|&r| json!(r)).collect())},
            {"path": "services.model.kind.llm.quota.rpm", "name": "rpm", "values": rpm}
        ],
        "metrics": ["requests.throughput_per_s"],
        "breakpoints": {"load": "rate", "by": "scan", "limits": {"service.utilization": 0.8}},
        "claims": [
            // 660 / 60 = 11/s, found in (10, 14]; 1,320 / 60 = 22/s, found in [22, 26].
            claim("quota_a", "model", "llm.quota", "a", 11.0),
            claim("quota_b", "model", "llm.quota", "b", 22.0),
            // The partition's 300 s of burst (6,000 units at 20/s) lasts the whole 40-minute run
            // (2,400 s) unless λ − 20 > 6,000 / 2,400: throttles start at 22.5/s.
            claim("table_a", "table", "kv_store.throttles", "a", 22.5),
            claim("quota_a_wrong", "model", "llm.quota", "a", 30.0),
            {"id": "audit_holds", "kind": "outcome", "source": "by hand", "claim": "audit holds", "metric": "rate",
             "crossing": {"component": "audit", "limit": "service.utilization", "scan": "a"}, "reference": 38, "bound": "at_least"}
        ]
    });
    if let (Some(e), Some(x)) = (e.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            e.insert(k.clone(), v.clone());
        }
    }
    let p = dir.join("known_breaks.json");
    std::fs::write(&p, e.to_string()).unwrap();
    p
}

/// The rows of claims.csv, each as its fields (header left out).
fn claims_csv(dir: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(dir.join("claims.csv")).unwrap();
    text.lines().skip(1).map(crate::common::csv_fields).collect()
}

#[test]
fn an_experiment_with_breakpoints_checks_crossing_claims_and_merges_its_shards() {
    let dir = temp_dir("experiment");
    let exp = known_experiment(&dir, json!({}));
    let whole = dir.join("whole");
    let o = capsim().args(["sweep", exp.to_str().unwrap(), "--out", whole.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // One set of files per scan, named by its value.
    for f in [
        "breakpoints-a.json",
        "breakpoints-a.csv",
        "breakpoints-a_points.csv",
        "breakpoints-a.png",
        "breakpoints-b.svg",
    ] {
        assert!(whole.join(f).is_file(), "{f} missing");
    }
    let a = read_json(&whole.join("breakpoints-a.json"));
    assert_eq!(a["model"], "known_order (a)");
    let quota = |b: &Value| -> Value {
        b["crossings"].as_array().unwrap().iter().find(|c| c["limit"] == "llm.quota").cloned().unwrap()
    };
    // By hand: 11/s in scan a, 22/s in scan b (the quota doubled). 11 lies in the step (10, 14];
    // 22 is a load run, where demand equals the quota: a minute's burst absorbs the swings of
    // 40 minutes at ρ = 1 to well under the 0.1 % threshold, so it is found in the step above.
    let (qa, qb) = (quota(&a), quota(&read_json(&whole.join("breakpoints-b.json"))));
    assert_eq!((qa["load_below"].as_f64(), qa["point_load"].as_f64()), (Some(10.0), Some(14.0)));
    assert_eq!((qb["load_below"].as_f64(), qb["point_load"].as_f64()), (Some(22.0), Some(26.0)));
    let rows = claims_csv(&whole);
    let verdict = |id: &str| rows.iter().find(|r| r[0] == id).map(|r| (r[7].clone(), r[9].clone())).unwrap();
    assert_eq!(verdict("quota_a"), ("10–14".into(), "reproduced".into()));
    assert_eq!(verdict("quota_b"), ("22–26".into(), "reproduced".into()));
    assert_eq!(verdict("table_a"), ("22–26".into(), "reproduced".into()));
    assert_eq!(verdict("quota_a_wrong").1, "differs");
    assert_eq!(verdict("audit_holds"), ("> 38 (held)".into(), "reproduced".into()));
    // Two shards merged write what the whole sweep wrote: the readings travel in sweep.json.
    let mut shards = Vec::new();
    for k in 1..=2 {
        let d = dir.join(format!("shard{k}"));
        let o = capsim()
            .args(["sweep", exp.to_str().unwrap(), "--shard", &format!("{k}/2"), "--out", d.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(!d.join("breakpoints-a.json").exists(), "a shard holds no whole scan");
        shards.push(d);
    }
    let merged = dir.join("merged");
    let o = capsim()
        .args(["merge", shards[0].to_str().unwrap(), shards[1].to_str().unwrap(), "--out", merged.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in ["claims.csv", "breakpoints-a.json", "breakpoints-b.csv", "breakpoints-a_points.csv", "points.csv"] {
        assert!(
            std::fs::read(whole.join(f)).unwrap() == std::fs::read(merged.join(f)).unwrap(),
            "{f} differs after merge"
        );
    }
}

/// An experiment's `claims` holding one crossing claim on `metric` (with `at` if given).
fn crossing_claim(metric: &str, crossing: Value, at: Option<Value>) -> Value {
    let mut c = json!({"id": "x", "kind": "outcome", "source": "s", "claim": "c", "metric": metric,
                       "crossing": crossing, "reference": 1});
    if let Some(at) = at {
        c["at"] = at;
    }
    json!({ "claims": [c] })
}

#[test]
fn an_experiment_with_bad_breakpoints_is_refused_with_the_field_named() {
    let dir = temp_dir("experiment-bad");
    let bp = |x: Value| json!({"breakpoints": x});
    let cases: Vec<(Value, &str)> = vec![
        (bp(json!({"load": "speed", "by": "scan"})), "breakpoints.load"),
        (bp(json!({"load": "rate", "by": "rate"})), "breakpoints.by"),
        (bp(json!({"load": "rate", "by": "scan", "limits": {"llm.qouta": 0.1}})), "breakpoints.limits.llm.qouta"),
        (bp(json!({"load": "rate", "by": "scan", "limits": {"llm.quota": -1}})), "finite number"),
        // Without `by`, the two scans' rates are one scan that does not increase.
        (bp(json!({"load": "rate"})), "must increase"),
        (
            crossing_claim("rate", json!({"component": "nobody", "limit": "llm.quota", "scan": "a"}), None),
            "crossing.component",
        ),
        (crossing_claim("rate", json!({"component": "audit", "limit": "llm.quota", "scan": "a"}), None), "its limits"),
        (
            crossing_claim("rate", json!({"component": "model", "limit": "llm.quota", "scan": "c"}), None),
            "crossing.scan",
        ),
        (
            crossing_claim(
                "requests.throughput_per_s",
                json!({"component": "model", "limit": "llm.quota", "scan": "a"}),
                None,
            ),
            "breakpoints.load",
        ),
        (
            crossing_claim(
                "rate",
                json!({"component": "model", "limit": "llm.quota", "scan": "a"}),
                Some(json!({"rate": 2})),
            ),
            "crossing",
        ),
    ];
    for (k, (extra, says)) in cases.into_iter().enumerate() {
        let d = dir.join(format!("case{k}"));
        std::fs::create_dir_all(&d).unwrap();
        let exp = known_experiment(&d, extra.clone());
        let o = capsim().args(["validate", exp.to_str().unwrap()]).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{extra}: accepted");
        assert!(err.contains(says), "{extra}: expected `{says}` in: {err}");
        assert!(!err.contains("panicked"), "{extra}: {err}");
    }
}
