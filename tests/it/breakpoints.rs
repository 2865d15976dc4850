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
    // The quota's crossing is interpolated from 0 throttles at 10/s: within the step (10, 14].
    assert_eq!(c[0]["how"], "interpolated");
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
