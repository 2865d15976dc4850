//! The `capsim` binary end to end: run writes its files; validate and schema work; bad input
//! exits non-zero with the file and field named.

use std::path::PathBuf;
use std::process::Command;

fn capsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_capsim"))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("capsim-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn run_writes_summary_timeseries_model_and_charts() {
    let dir = temp_dir("run");
    let status = capsim()
        .args(["run", "models/tandem.json", "--duration", "30m", "--warmup", "1m", "--seed", "9"])
        .args(["--set", "stations.backend.servers=2", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(stdout.contains("model tandem · seed 9"), "{stdout}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    for key in ["model", "seed", "simulated_s"] {
        assert!(summary.get(key).is_some(), "summary lacks {key}");
    }
    assert_eq!(summary["simulated_s"], 1800.0);
    assert_eq!(summary["stations"]["backend"]["servers"], 2);
    for field in ["events", "wall_s"] {
        assert!(summary["engine"][field].is_number());
    }
    for field in ["arrived", "completed", "rejected", "failed", "in_flight"] {
        assert!(summary["requests"][field].is_u64(), "requests.{field}");
    }
    for p in ["mean", "p50", "p95", "p99", "p999", "max"] {
        assert!(summary["latency_s"]["e2e"][p].is_number(), "latency_s.e2e.{p}");
        assert!(summary["stations"]["frontend"]["latency_s"][p].is_number());
    }
    for f in ["arrivals", "mean_wait_s", "mean_response_s", "utilization", "mean_queue_len"] {
        assert!(summary["stations"]["frontend"][f].is_number(), "stations.frontend.{f}");
    }
    let resolved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("model.resolved.json")).unwrap()).unwrap();
    assert_eq!(resolved["stations"]["backend"]["servers"], 2);
    assert_eq!(resolved["run"]["seed"], 9);
    let csv = std::fs::read_to_string(dir.join("timeseries.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    let calls =
        "attempts,{s}.retries,{s}.ok,{s}.rejected,{s}.timeouts,{s}.errors,{s}.throttled,{s}.unavailable,{s}.fallbacks";
    let per = |s: &str| format!("{s}.queue_len,{s}.busy,{s}.p99_s,{s}.breakers_open,{s}.{}", calls.replace("{s}", s));
    let want = format!(
        "t_start_s,t_end_s,arrivals,completions,rejections,failures,in_flight,p50_s,p95_s,p99_s,degraded,first_token_p99_s,errors,breakers_open,{},{}",
        per("backend"),
        per("frontend")
    );
    assert_eq!(header, want);
    for chart in ["latency.png", "throughput.png", "queues.png"] {
        let bytes = std::fs::read(dir.join(chart)).unwrap();
        assert!(bytes.len() > 10_000 && bytes.starts_with(b"\x89PNG"), "{chart}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn validate_and_schema() {
    let ok = capsim().args(["validate", "models/fork_join.json"]).output().unwrap();
    assert!(ok.status.success());
    let schema = capsim().arg("schema").output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&schema.stdout).unwrap();
    assert!(v["properties"]["stations"].is_object());
    assert_eq!(v["additionalProperties"], false);
}

#[test]
fn bad_model_exits_non_zero_naming_file_and_field() {
    let dir = temp_dir("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("broken.json");
    std::fs::write(&f, r#"{"name": "x", "sources": {"in": {"rate": 1, "to": "s"}}, "stations": {"s": {"servers": 0, "service": {"dist": "constant", "value": 1}}}}"#).unwrap();
    let out = capsim().arg("run").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.json:1:") && err.contains("stations.s.servers"), "{err}");
    let missing = capsim().args(["run", "models/nope.json"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("models/nope.json"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn validate_checks_experiment_files_as_experiments() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = capsim().current_dir(root).args(["validate", "experiments/retry_storm.json"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("ok — experiment `retry_storm`: 32 point(s)"), "{text}");
    let out = capsim().current_dir(root).args(["validate", "models/dependency_tiers.json"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("8 service(s)"));
}

#[test]
fn timeseries_columns_have_unique_names() {
    // A chart or a reader picks a column by name: two columns of one name would hide one.
    for m in ["models/flash_sale_throttling.json", "models/dynamodb_herd.json", "models/cache_stampede.json"] {
        let mut model = capsim::model::load(std::path::Path::new(m), &[]).unwrap();
        (model.duration, model.warmup) = (capsim::engine::SimTime::from_secs(2.0), capsim::engine::SimTime(0));
        let out = capsim::report::output::RunOutput::build(&model, capsim::sim::run(&model));
        let header = capsim::report::timeseries::columns(&out.station_names, &out.kind_columns);
        let mut sorted = header.clone();
        sorted.sort();
        let twice: Vec<&String> = sorted.windows(2).filter(|w| w[0] == w[1]).map(|w| &w[0]).collect();
        assert!(twice.is_empty(), "{m}: columns named twice: {twice:?}");
    }
}
