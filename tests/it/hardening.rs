//! What new users did to capsim, each kept as a test: closed pipes, zero replications, flags out
//! of range, one-sided comparisons, capacity questions in both directions, overloaded and
//! unstable runs, paths from names, and the small things (−0.0, the shard message).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn capsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_capsim"))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("capsim-hard-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Fails unless the command exited with `code` and printed no panic.
fn expect(o: &Output, code: i32, fragment: &str) {
    let t = text(o);
    assert!(!t.contains("panicked"), "panic:\n{t}");
    assert_eq!(o.status.code(), Some(code), "{t}");
    assert!(t.contains(fragment), "lacks `{fragment}`:\n{t}");
}

#[test]
fn a_closed_pipe_ends_the_program_quietly() {
    for args in [vec!["schema"], vec!["run", "models/mm1.json", "--duration", "1h", "--no-charts", "--out"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader); // `| head -1` that has already gone
        let dir = temp_dir("pipe");
        let mut cmd = capsim();
        cmd.args(&args);
        if args[0] == "run" {
            cmd.arg(&dir);
        }
        let o = cmd.stdout(writer).stderr(Stdio::piped()).output().unwrap();
        expect(&o, 0, "");
        assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

#[test]
fn zero_replications_and_bad_bounds_are_refused() {
    let o = capsim()
        .args(["compare", "models/mmc.json", "--a", "stations.server.servers=11", "--replications", "1"])
        .output();
    expect(&o.unwrap(), 2, "--replications must be at least 2");
    let cap = |extra: &[&str]| {
        capsim()
            .args(["capacity", "models/mmc.json", "--vary", "sources.arrivals.rate", "--slo", "latency_s.e2e.p99<=5"])
            .args(extra)
            .output()
            .unwrap()
    };
    expect(&cap(&["--replications", "0"]), 2, "replications must be a whole number from 1 to 10000");
    expect(&cap(&["--lo", "9", "--hi", "5"]), 2, "--lo (9) must be below --hi (5)");
    expect(&cap(&["--tolerance=-0.1"]), 2, "--tolerance must be a fraction between 0 and 1");
    expect(&cap(&["--max-probes", "1"]), 2, "probes must be a whole number from 2 to 200");
    let o = capsim().args(["sweep", "experiments/mmc_servers.json", "--shard", "4/3"]).output().unwrap();
    expect(&o, 2, "shard K must be between 1 and N");
}

#[test]
fn comparing_against_nothing_says_so() {
    let dir = temp_dir("one-sided");
    let o = capsim()
        .args(["compare", "models/mmc.json", "--a", "stations.server.servers=11", "--replications", "2"])
        .args(["--duration", "30m", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    expect(&o, 0, "B: the model as written (no overrides)");
    let o = capsim().args(["compare", "models/mmc.json", "--replications", "2"]).output().unwrap();
    expect(&o, 2, "give --a and/or --b");
}

#[test]
fn capacity_finds_the_fewest_servers_erlang_c_allows() {
    // λ = 9/s, μ = 1/s: Erlang C gives Wq = 0.669 s (10 servers), 0.215 s (11), 0.0887 s (12),
    // so the fewest servers with a mean wait ≤ 0.1 s is 12. Before, the search could only look
    // for the largest value meeting the SLO and doubled servers until u32 overflowed.
    let dir = temp_dir("fewest");
    let o = capsim()
        .args(["capacity", "models/mmc.json", "--vary", "stations.server.servers", "--find", "smallest"])
        .args(["--slo", "stations.server.mean_wait_s<=0.1", "--replications", "5", "--duration", "4h", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    expect(&o, 0, "smallest stations.server.servers meeting every SLO: 12");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("capacity.json")).unwrap()).unwrap();
    assert_eq!(r["answer"], 12.0);
    assert_eq!(r["bracket"], serde_json::json!([11.0, 12.0]));
    // Every probe was a whole number of servers.
    assert!(r["probes"].as_array().unwrap().iter().all(|p| p["value"].as_f64().unwrap().fract() == 0.0));
}

#[test]
fn an_overloaded_run_says_so_with_its_own_exit_status_and_no_made_up_zeros() {
    let dir = temp_dir("overload");
    let model = dir.join("over.json");
    // 20 requests/s into one 1-second server: in flight passes 2,000 after about 105 s.
    std::fs::write(
        &model,
        r#"{"name": "over", "run": {"duration": "1h", "warmup": "10m", "max_in_flight": 2000},
            "sources": {"a": {"rate": 20, "to": "s"}},
            "stations": {"s": {"servers": 1, "service": {"dist": "exponential", "mean": "1s"}}}}"#,
    )
    .unwrap();
    let o = capsim().arg("run").arg(&model).arg("--out").arg(&dir).output().unwrap();
    expect(&o, 3, "OVERLOADED");
    assert!(text(&o).contains("no request completed after warm-up"), "{}", text(&o));
    let s: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["status"]["state"], "overloaded");
    // It stopped before the warm-up ended: nothing was measured, so no latency figure exists.
    for f in ["mean", "p50", "p99", "max"] {
        assert!(s["latency_s"]["e2e"][f].is_null(), "latency_s.e2e.{f} = {}", s["latency_s"]["e2e"][f]);
    }
    for f in ["mean_wait_s", "utilization", "throughput_per_s"] {
        assert!(s["stations"]["s"][f].is_null(), "stations.s.{f} = {}", s["stations"]["s"][f]);
    }
    assert_eq!(s["requests"]["completed"], 0);
    assert!(s["requests"]["throughput_per_s"].is_null());
    assert!(text(&o).contains("before the warm-up ended"), "{}", text(&o));
    // Windows sized for the ~105 s simulated, not for the hour asked for.
    let rows = std::fs::read_to_string(dir.join("timeseries.csv")).unwrap().lines().count() - 1;
    assert!(rows >= 100, "only {rows} windows over the time simulated");
}

#[test]
fn a_run_whose_queue_keeps_growing_is_flagged() {
    let dir = temp_dir("unstable");
    let run = |servers: u32| {
        capsim()
            .args(["run", "models/mmc.json", "--duration", "2h", "--no-charts", "--set"])
            .arg(format!("stations.server.servers={servers}"))
            .arg("--out")
            .arg(&dir)
            .output()
            .unwrap()
    };
    // 9 requests/s on 8 servers: ρ = 1.125, the queue grows by ~1 request/s.
    let o = run(8);
    expect(&o, 0, "warning: requests in flight grew by");
    let s: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["warnings"].as_array().unwrap().len(), 1);
    // 10 servers (ρ = 0.9) is stable: no warning.
    let o = run(10);
    assert!(!text(&o).contains("warning"), "{}", text(&o));
}

#[test]
fn a_model_without_cost_costs_zero_not_minus_zero() {
    let dir = temp_dir("cost");
    let o = capsim().args(["run", "models/mm1.json", "--duration", "1h", "--no-charts", "--out"]).arg(&dir).output();
    expect(&o.unwrap(), 0, "");
    let s = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert!(s.contains("\"total\": 0.0"), "{s}");
    assert!(!s.contains("-0.0"), "{s}");
}

#[test]
fn a_name_cannot_write_outside_output() {
    let o = capsim().args(["run", "models/mm1.json", "--set", "name=../../escaped", "--duration", "1m"]).output();
    expect(&o.unwrap(), 2, "--set name=../../escaped: at `name`");
    assert!(!std::path::Path::new("../escaped").exists());
}

#[test]
fn a_loop_with_no_delay_stops_as_stalled_instead_of_hanging() {
    // One user with zero think time against a model allowing 1 request a minute: each refusal
    // is immediate and the next message goes at the same instant, so time would never move.
    let m = serde_json::json!({
        "name": "loop", "run": {"duration": "5s", "seed": 1},
        "sessions": {"u": {"users": 1, "think": {"dist": "constant", "value": "0s"}, "to": "llm"}},
        "services": {"llm": {"servers": 10, "kind": {"llm": {"model": "m", "ttft": {"dist": "constant", "value": "0.5s"},
            "tokens_per_s": 50, "quota": {"rpm": 1}}}}}
    });
    let out = crate::common::run(&crate::common::model(&m));
    match out.summary.status {
        capsim::sim::Status::Stalled { at_s, events } => {
            assert_eq!(at_s, 0.5, "the second message's refusal starts the loop at 0.5 s");
            assert!(events > 10_000_000);
        }
        other => panic!("expected a stalled run, got {other:?}"),
    }
}

/// Runs capsim with `args`, killing it and failing if it has not ended within `limit_s`.
fn run_within(args: &[&str], limit_s: u64) -> Output {
    let mut child = capsim().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed().as_secs() > limit_s {
            let _ = child.kill();
            panic!("capsim {} did not end within {limit_s} s", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Found by hostile testing: a repeated profile whose piece lengths do not add up exactly in
/// floating point (0.1 s + 0.2 s, or 3 steps over 1 s) made every command spin for ever.
#[test]
fn a_repeated_profile_with_inexact_lengths_ends() {
    let dir = temp_dir("repeat");
    for (k, profile) in [
        serde_json::json!([{"shape": "constant", "rate": 5, "duration": "0.1s"}, {"shape": "constant", "rate": 1, "duration": "0.2s"}]),
        serde_json::json!([{"shape": "step", "from": 1, "to": 4, "steps": 3, "duration": "1s"}]),
    ]
    .into_iter()
    .enumerate()
    {
        let m = serde_json::json!({
            "name": "repeat", "run": {"duration": "10m", "seed": 1},
            "sources": {"a": {"profile": profile, "after_profile": "repeat", "to": "s"}},
            "stations": {"s": {"servers": 4, "service": {"dist": "exponential", "mean": "0.1s"}}}
        });
        let file = dir.join(format!("m{k}.json"));
        std::fs::write(&file, m.to_string()).unwrap();
        let out = dir.join(format!("out{k}"));
        let o = run_within(&["run", file.to_str().unwrap(), "--no-charts", "--out", out.to_str().unwrap()], 60);
        expect(&o, 0, "");
        let s: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
        // Mean rate: (5·0.1 + 1·0.2)/0.3 = 2.33/s, or (1 + 2.5 + 4)/3 = 2.5/s, over 600 s.
        let want = [1400.0, 1500.0][k];
        let got = s["requests"]["arrived"].as_f64().unwrap();
        assert!((got - want).abs() < 4.0 * want.sqrt(), "profile {k}: {got} arrivals, want about {want}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Found by hostile testing: `capsim run /dev/zero` read until memory ran out; flags that
/// multiply work or memory had no bound (`--threads 100000` panicked, `--replications 1e9`
/// aborted allocating 16 GB); an SLO of `inf` or `NaN` hung the chart. Each is refused at once.
#[test]
fn inputs_and_flags_that_multiply_memory_or_time_are_bounded() {
    let dir = temp_dir("bounds");
    let out = dir.join("o");
    let o = out.to_str().unwrap();
    let cap = |slo: &'static str, extra: &[&'static str]| -> Vec<&str> {
        let mut a = vec!["capacity", "models/mm1.json", "--vary", "sources.arrivals.rate", "--slo", slo, "--out", o];
        a.extend_from_slice(extra);
        a
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["run", "/dev/zero", "--out", o], "larger than 16 MiB"),
        (vec!["validate", "/dev/zero"], "larger than 16 MiB"),
        (vec!["sweep", "experiments/mmc_servers.json", "--threads", "100000", "--out", o], "from 0 to 1024"),
        (vec!["gallery", "--threads", "5000", "--out", o], "from 0 to 1024"),
        (
            vec![
                "compare",
                "models/mm1.json",
                "--set",
                "stations.server.servers=2",
                "--replications",
                "1000000000",
                "--out",
                o,
            ],
            "from 1 to 10000",
        ),
        (cap("latency_s.e2e.p99<=inf", &[]), "must be a finite number"),
        (cap("latency_s.e2e.p99<=NaN", &[]), "must be a finite number"),
        (cap("latency_s.e2e.p99<=5", &["--max-probes", "100000"]), "from 2 to 200"),
    ];
    for (args, fragment) in cases {
        let o = run_within(&args, 30);
        let t = text(&o);
        assert!(!t.contains("panicked"), "{args:?} panicked:\n{t}");
        assert_ne!(o.status.code(), Some(0), "{args:?} succeeded:\n{t}");
        assert!(t.contains(fragment), "{args:?} lacks `{fragment}`:\n{t}");
    }
    assert!(!out.exists(), "nothing was written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Found by hostile testing: a capacity search varying `run.duration` doubled it toward the
/// 100-year limit. The search's total simulated time is bounded, and it says so when it stops.
#[test]
fn a_capacity_search_stops_at_its_simulated_time_budget() {
    let dir = temp_dir("budget");
    let out = dir.join("o");
    let args = [
        "capacity",
        "models/mm1.json",
        "--vary",
        "run.duration",
        "--slo",
        "requests.arrived>=0",
        "--replications",
        "2",
        "--warmup",
        "0s",
        "--set",
        "sources.arrivals.rate=0.00001",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = run_within(&args, 120);
    expect(&o, 0, "would exceed its budget of 10 years of simulated time");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Found by hostile testing: nothing bounded the number of services (60,000 idle ones took
/// 4.4 GB; `validate` said ok).
#[test]
fn the_number_of_services_is_bounded() {
    let dir = temp_dir("services");
    let mut stations = serde_json::Map::new();
    for k in 0..2001 {
        stations
            .insert(format!("s{k}"), serde_json::json!({"servers": 1, "service": {"dist": "constant", "value": "1s"}}));
    }
    let m = serde_json::json!({"name": "many", "run": {"duration": "1m"}, "sources": {"a": {"rate": 1, "to": "s0"}}, "stations": stations});
    let file = dir.join("many.json");
    std::fs::write(&file, m.to_string()).unwrap();
    let o = run_within(&["validate", file.to_str().unwrap()], 30);
    expect(&o, 2, "2001 services and stations; at most 2000 are allowed");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Found by hostile testing: values written in two forms (a word or an object; one step or a
/// list) accepted unknown fields, dropped one of two given fields, and said "data did not match
/// any variant of untagged enum SubFlow"; a mistake inside a kind added a spurious "expected map
/// with a single key". Each now names the field, what is allowed, and only the real problem.
#[test]
fn two_form_values_are_read_strictly_and_explained() {
    let cases = [
        (
            "models/dependency_tiers.json",
            r#"policies.tier2_catalog.breaker.window={"calls":10,"duration":"5s"}"#,
            "give either `calls` or `duration` in a breaker window, not both",
        ),
        (
            "models/dependency_tiers.json",
            r#"policies.tier2_catalog.breaker.window={"cals":10}"#,
            "a breaker window has no field `cals`; it takes `calls` or `duration`",
        ),
        (
            "models/dependency_tiers.json",
            r#"policies.tier1.retry.jitter={"uniform":"5ms","x":1}"#,
            "has no field `x`; it takes `uniform`",
        ),
        (
            "models/dependency_tiers.json",
            r#"policies.tier1.retry.jitter="ful""#,
            "unknown choice `ful` — did you mean `full`?",
        ),
        (
            "models/dependency_tiers.json",
            r#"services.orchestrator.flow.1.wait={"k":2,"x":1}"#,
            "a wait (\"all\", \"first\" or {\"k\": n}) has no field `x`",
        ),
        (
            "models/dependency_tiers.json",
            r#"services.orchestrator.flow.1.parallel.0={"call":"catalog","polcy":"tier3"}"#,
            "at `polcy` in this step: unknown field `polcy` — did you mean `policy`?",
        ),
        (
            "models/dependency_tiers.json",
            r#"services.orchestrator.flow.1.parallel.0=[{"call":"catalog"},{"wrok":1}]"#,
            "at `1.wrok` in this list of steps: unknown field `wrok`",
        ),
        (
            "models/dependency_tiers.json",
            "services.orchestrator.flow.1.parallel.0=5",
            "expected a step (an object such as",
        ),
        (
            "models/cache_stampede.json",
            r#"services.catalog_cache.kind.cache.ttl="5 parsecs""#,
            "unknown duration unit `parsecs`",
        ),
    ];
    for (model, set, fragment) in cases {
        let o = run_within(&["validate", model, "--set", set], 30);
        expect(&o, 2, fragment);
        let t = text(&o);
        assert!(t.contains("1 problem in"), "one problem only for {set}:\n{t}");
        assert!(!t.contains("untagged enum") && !t.contains("single key"), "{t}");
    }
}

/// Found by hostile testing: `compare` left out, without a word, metrics that only one side
/// has (here the recovery section of the side with a fault).
#[test]
fn compare_names_the_metrics_only_one_side_has() {
    let dir = temp_dir("onesided");
    let out = dir.join("o");
    let args = [
        "compare",
        "models/dependency_tiers.json",
        "--b",
        r#"services.catalog.faults={"outages":[{"from":"2m","to":"3m"}]}"#,
        "--replications",
        "2",
        "--duration",
        "5m",
        "--warmup",
        "1m",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = run_within(&args, 120);
    expect(&o, 0, "metrics only configuration B has, so not compared");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    let only_b: Vec<&str> = doc["only_in_b"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(only_b.contains(&"recovery.recovered"), "{only_b:?}");
    assert_eq!(doc["only_in_a"].as_array().unwrap().len(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_fault_with_no_window_before_it_has_no_recovery_baseline_and_says_why() {
    // The retry-storm API with backoff (it recovers), 5 s windows and a 2-minute warm-up; its
    // capacity drops to a fifth for 10 s from 0, from 60 s (inside warm-up), or from 300 s.
    let dir = temp_dir("recovery");
    let run = |from: &str, to: &str| {
        let drop = format!(r#"services.api.faults.capacity_drops=[{{"from":"{from}","to":"{to}","fraction":0.2}}]"#);
        let o = capsim()
            .args(["run", "models/retry_storm.json", "--duration", "10m", "--no-charts"])
            .args(["--set", "services.client.flow.0.policy=backoff", "--set", &drop, "--out"])
            .arg(&dir)
            .output()
            .unwrap();
        expect(&o, 0, "");
        (text(&o), serde_json::from_str::<Value>(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap())
    };
    for (from, to) in [("0s", "10s"), ("60s", "70s")] {
        let (out, s) = run(from, to);
        let r = &s["recovery"];
        assert!(r["baseline_in_flight"].is_null() && r["recovered"].is_null() && r["time_s"].is_null(), "{r}");
        assert!(out.contains("recovery not measured: the fault starts at"), "{out}");
    }
    // After warm-up, with windows before it: measured, and back within a minute.
    let (out, s) = run("300s", "310s");
    let r = &s["recovery"];
    assert_eq!(r["recovered"], 1, "{r}");
    assert!(r["time_s"].as_f64().unwrap() < 60.0, "{r}");
    assert!(r["baseline_in_flight"].as_f64().unwrap() > 0.0, "{r}");
    assert!(!out.contains("recovery not measured"), "{out}");
}

#[test]
fn token_counts_and_prewarmed_entries_are_bounded_by_what_they_mean() {
    let check = |model: &str, set: &str, fragment: &str| {
        let o = capsim().args(["validate", model, "--set", set]).output().unwrap();
        expect(&o, 2, fragment);
    };
    // A prompt of 1e308 tokens (was cut silently to 4,294,967,295: a $13.9 M bill for 2 minutes).
    let huge = r#"intents.complex.tokens_in={"dist":"constant","value":1e308}"#;
    check("models/bedrock_sustained.json", huge, "intents.complex.tokens_in");
    check("models/bedrock_sustained.json", huge, "at most 1,000,000 tokens");
    // An unbounded law is judged by its mean; a bounded one by its largest draw.
    let mean = r#"services.sonnet.kind.llm.input_tokens={"dist":"exponential","mean":2e6}"#;
    check("models/bedrock_sustained.json", mean, "its mean is 2000000");
    let top = r#"intents.complex.tokens_out={"dist":"uniform","min":10,"max":1000001}"#;
    check("models/bedrock_sustained.json", top, "it can draw 1000001");
    // The cache's first key space has 300,000 keys: it cannot start with 300,001 entries.
    let warm = "services.catalog_cache.kind.cache.prewarm=300001";
    check("models/cache_stampede.json", warm, "no more than the capacity or the 300000 keys of key space `asins`");
    // At the bounds, both are accepted.
    for set in [
        r#"intents.complex.tokens_in={"dist":"constant","value":1000000}"#,
        "services.catalog_cache.kind.cache.prewarm=300000",
    ] {
        let model =
            if set.starts_with("intents") { "models/bedrock_sustained.json" } else { "models/cache_stampede.json" };
        let o = capsim().args(["validate", model, "--set", set]).output().unwrap();
        expect(&o, 0, "ok");
    }
}

#[test]
fn an_experiment_reports_each_problem_once_where_it_was_made() {
    let dir = temp_dir("experiment-errors");
    let mm1 = std::fs::read_to_string("models/mm1.json").unwrap();
    std::fs::write(dir.join("mm1.json"), &mm1).unwrap();
    std::fs::write(dir.join("bad.json"), mm1.replace("\"servers\": 1", "\"servers\": 0")).unwrap();
    let validate = |name: &str, exp: Value| {
        let p = dir.join(name);
        std::fs::write(&p, exp.to_string()).unwrap();
        let o = capsim().arg("validate").arg(&p).output().unwrap();
        expect(&o, 2, "");
        text(&o)
    };
    let rates: Vec<f64> = (1..=10_000).map(|k| k as f64 * 1e-4).collect();
    let sweep = |model: &str| {
        serde_json::json!({"name": "e", "model": model, "metrics": ["latency_s.e2e.p99"],
        "parameters": [{"name": "rate", "path": "sources.arrivals.rate", "values": rates}]})
    };
    // A bad model: one problem, on `model`, not 10,000 copies.
    let out = validate("bad_model.json", sweep("bad.json"));
    assert!(out.contains("at `model`: the model file has problems of its own"), "{out}");
    assert_eq!(out.matches("must be at least 1").count(), 1, "{out}");
    // A bad `set`: blamed on `set`, once.
    let mut e = sweep("mm1.json");
    e["set"] = serde_json::json!({"stations.server.servers": -1});
    let out = validate("bad_set.json", e);
    assert!(
        out.contains("at `set`: the model refuses it") && out.contains("set stations.server.servers = -1"),
        "{out}"
    );
    assert!(!out.contains("at `parameters`"), "{out}");
    // Bad parameter values: the same problem at many points is one line; at most three
    // problems are shown, the rest counted.
    let e = serde_json::json!({"name": "e", "model": "mm1.json", "metrics": ["latency_s.e2e.p99"],
        "parameters": [{"name": "s", "path": "stations.server.servers", "values": [0, 1, -1, -2, -3, -4]},
                       {"name": "rate", "path": "sources.arrivals.rate", "values": rates[..100].to_vec()}]});
    let out = validate("bad_values.json", e);
    assert!(out.contains("point 0 (s=0, rate=0.0001) and 99 more point(s) with the same problem"), "{out}");
    assert!(out.contains("more point(s) are refused with other problems"), "{out}");
    assert!(out.lines().count() < 12, "{out}");
    // A misspelt parameter path is the same mistake at every point, whatever the values: said once.
    let mut e = sweep("mm1.json");
    e["parameters"][0]["path"] = "sources.arrivals.rte".into();
    let out = validate("bad_path.json", e);
    assert!(out.contains("point 0 (rate=0.0001) and 9999 more point(s) with the same problem"), "{out}");
    assert_eq!(out.matches("unknown field `rte`").count(), 1, "{out}");
    // Two parameters on one path (one would overwrite the other), a metric listed twice, and a
    // `model` that is not a string: each refused in the experiment's own words.
    let e = serde_json::json!({"name": "e", "model": "mm1.json", "metrics": ["latency_s.e2e.p99"],
        "parameters": [{"name": "a", "path": "sources.arrivals.rate", "values": [0.1]},
                       {"name": "b", "path": "sources.arrivals.rate", "values": [0.2]}]});
    let out = validate("twice.json", e);
    assert!(out.contains("at `parameters.1.path`: `sources.arrivals.rate` is also set by parameter `a`"), "{out}");
    let e =
        serde_json::json!({"name": "e", "model": "mm1.json", "metrics": ["latency_s.e2e.p99", "latency_s.e2e.p99"]});
    let out = validate("twice_metric.json", e);
    assert!(out.contains("at `metrics.1`: `latency_s.e2e.p99` is listed twice"), "{out}");
    let out = validate("model_number.json", serde_json::json!({"name": "e", "model": 5, "metrics": []}));
    assert!(out.contains("at `model`") && !out.contains("unknown field `metrics`"), "{out}");
}

/// Fails if `out` shows a number no reader should see: NaN, inf, −0, or a run of 20 digits.
fn readable_numbers(out: &str) {
    for word in out.split(|c: char| c.is_whitespace() || "(),;:|".contains(c)) {
        let w = word.trim_end_matches("/s");
        assert!(!["NaN", "inf", "-inf", "-0", "-0.0", "-0.00"].contains(&w), "`{word}` in:\n{out}");
        let digits = word.chars().filter(char::is_ascii_digit).count();
        assert!(digits < 20, "`{word}` in:\n{out}");
    }
}

#[test]
fn printed_figures_are_readable_numbers() {
    let dir = temp_dir("figures");
    // Overloaded before warm-up ends: no throughput to show, shown as "—", not "NaN/s".
    let o = capsim()
        .args(["run", "models/mm1.json", "--no-charts", "--set", "sources.arrivals.rate=100"])
        .args(["--set", "run.max_in_flight=10", "--out"])
        .arg(dir.join("run"))
        .output()
        .unwrap();
    assert!(text(&o).contains("(answered —/s)"), "{}", text(&o));
    readable_numbers(&text(&o));
    // A comparison whose figures are equal on both sides (differences of 0, never −0) and one
    // spanning a 100-year run.
    for (a, b, duration) in [
        ("sources.arrivals.rate=0.5", "sources.arrivals.rate=0.5", "1h"),
        ("stations.server.servers=1", "stations.server.servers=2", "36500d"),
    ] {
        let o = capsim()
            .args(["compare", "models/mm1.json", "--replications", "2", "--duration", duration, "--a", a, "--b", b])
            .args(["--set", "run.warmup=0", "--set", "sources.arrivals.rate=1e-6", "--out"])
            .arg(dir.join("compare"))
            .output()
            .unwrap();
        expect(&o, 0, "paired over 2 replications");
        readable_numbers(&text(&o));
    }
}

#[test]
fn a_broken_neighbour_does_not_stop_gallery_only() {
    let dir = temp_dir("gallery-only");
    let exps = dir.join("experiments");
    std::fs::create_dir_all(&exps).unwrap();
    let mm1 = std::fs::canonicalize("models/mm1.json").unwrap();
    let small = serde_json::json!({"name": "small", "model": mm1, "duration": "10m", "warmup": "1m", "replications": 1,
        "metrics": ["latency_s.e2e.p99"], "parameters": [{"name": "rate", "path": "sources.arrivals.rate", "values": [0.1, 0.2]}]});
    std::fs::write(exps.join("small.json"), small.to_string()).unwrap();
    std::fs::write(exps.join("broken.json"), "{\"name\": \"broken\", \"model\": ").unwrap();
    let gallery = |only: &str| {
        capsim()
            .args(["gallery", "--only", only, "--experiments"])
            .arg(&exps)
            .arg("--out")
            .arg(dir.join("out"))
            .output()
            .unwrap()
    };
    // The one asked for runs; the broken one is named as skipped.
    let o = gallery("small");
    expect(&o, 0, "broken.json is not a valid experiment and was skipped");
    assert!(dir.join("out/small/points.csv").is_file());
    // Asking for the broken one shows its problem; asking for one that is not there says that
    // a broken file may be it.
    expect(&gallery("broken"), 2, "invalid JSON");
    expect(&gallery("other"), 2, "these files could not be read, one of them may be it");
}

#[test]
fn report_refuses_what_capsim_did_not_write_and_a_full_stdout_is_an_error() {
    let dir = temp_dir("report");
    for (content, fragment) in [("garbage", "is not JSON"), ("{\"foo\": 1}", "it lacks model")] {
        std::fs::write(dir.join("summary.json"), content).unwrap();
        expect(&capsim().arg("report").arg(&dir).output().unwrap(), 2, fragment);
        assert!(!dir.join("index.html").exists());
    }
    // Output that cannot be written is an error (exit 2), not a success that printed nothing.
    if let Ok(full) = std::fs::File::options().write(true).open("/dev/full") {
        for args in [vec!["schema"], vec!["--help"], vec!["validate", "models/mm1.json"]] {
            let o = capsim().args(&args).stdout(full.try_clone().unwrap()).output().unwrap();
            expect(&o, 2, "cannot write to standard output");
        }
    }
}

#[test]
fn fault_windows_fit_the_run_and_messages_keep_numbers_short() {
    let check = |set: &str, fragment: &str| {
        let o = capsim().args(["validate", "models/retry_storm.json", "--set", set]).output().unwrap();
        expect(&o, 2, fragment);
        readable_numbers(&text(&o));
    };
    let outage = |from: &str, to: &str| format!(r#"services.api.faults.outages=[{{"from":{from},"to":{to}}}]"#);
    // Past 100 years (was saturated silently to 18,446,744,073.7 s), or shorter than 1 ns.
    check(&outage("100", "1e300"), "needs 0 ≤ from < to ≤ 100 years");
    check(&outage("1e300", "2e300"), "got from 1e300 s to 2e300 s");
    check(&outage("100", "100.0000000001"), "at least 1 ns apart");
    // Any number in any message is short: a 1e300 duration, a 1e-300 rate.
    check("run.duration=1e300", "run.duration");
    check("sources.users.rate=-1e-300", "sources.users.rate");
}

/// Found by a hostile pass on the new kinds: bursts of 1 ns hung the run (each period was
/// stepped one by one); a queue consuming itself spun at one instant; a batch_server ignored
/// its hourly size (its deadline timer shared the token); a gateway's regions could add up to
/// 160 million connections.
#[test]
fn queue_gateway_and_schedule_inputs_found_by_a_hostile_pass_are_refused_or_work() {
    use serde_json::json;
    let err = |m: serde_json::Value| capsim::model::load_str("h.json", &m.to_string(), &[]).unwrap_err().to_string();
    let work = json!({"work": {"dist": "constant", "value": 0.01}});
    let bursts = json!({"name": "b", "sources": {"c": {"rate": 1, "to": "s"}},
        "services": {"s": {"servers": 1, "flow": [work], "faults": {"throttle_bursts": {"on_mean": "1ns", "off_mean": "1s", "share": 1}}}}});
    let e = err(bursts);
    assert!(e.contains("throttle_bursts.on_mean") && e.contains("1 ms"), "{e}");
    let selfq = json!({"name": "q", "sources": {"c": {"rate": 1, "to": "q"}},
        "services": {"q": {"servers": 10, "kind": {"queue": {"consumer": "q", "workers": 1}}}}});
    let e = err(selfq);
    assert!(e.contains("kind.queue.consumer") && e.contains("this queue itself"), "{e}");
    let regions: Vec<_> =
        (0..16).map(|i| json!({"name": format!("r{i}"), "share": 0.0625, "max_connections": 10_000_000})).collect();
    let gw = json!({"name": "g", "sessions": {"u": {"users": 10, "think": {"dist": "constant", "value": 1}, "to": "edge"}},
        "services": {"edge": {"servers": 100, "kind": {"gateway": {"target": "s", "regions": regions}}},
            "s": {"servers": 10, "flow": [{"work": {"dist": "constant", "value": 0.01}}]}}});
    let e = err(gw);
    assert!(e.contains("kind.gateway.regions") && e.contains("add up to 160000000"), "{e}");
    // A batch server sized by the hour: 3 instances all day, from 1 at the start.
    let bs = json!({"name": "bs", "run": {"duration": "10m", "window": "1m"},
        "sources": {"c": {"rate": 1, "to": "front"}},
        "services": {"front": {"servers": 1000, "flow": [{"call": "rr"}]},
            "rr": {"servers": 100000, "kind": {"batch_server": {"instance": {"type": "t"}, "instances": 1,
                "batch_time": {"fixed": "10ms", "per_item": "1ms"},
                "autoscaling": {"min": 1, "max": 5, "hourly": {"hours": vec![3; 24]}}}}}}});
    let out = crate::common::run(&crate::common::model(&bs));
    let v = serde_json::to_value(&out.summary.services["rr"]).unwrap()["batch_server"].clone();
    assert_eq!(v["launched"], json!(2), "{v}");
}
