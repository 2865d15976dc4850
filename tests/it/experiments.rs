//! Experiments: sweeps are identical whatever the thread count and sharding; intervals shrink
//! as 1/√n; capacity search matches Erlang C; comparing a configuration with itself shows no
//! difference; malformed experiments give clear errors.

use std::path::{Path, PathBuf};
use std::process::Command;

use capsim::experiment::output::{Table, merge};
use capsim::experiment::shard::Shard;
use capsim::experiment::sweep::{Options, run_sweep};
use capsim::experiment::{self, Experiment};
use serde_json::{Value, json};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("capsim-exp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn mmc_path() -> String {
    std::env::current_dir().unwrap().join("models/mmc.json").display().to_string()
}

/// Writes an experiment over models/mmc.json into `dir` and loads it.
fn experiment(dir: &Path, extra: Value) -> (PathBuf, Experiment) {
    let mut spec = json!({
        "name": "t",
        "model": mmc_path(),
        "parameters": [
            {"path": "stations.server.servers", "name": "servers", "values": [10, 12]},
            {"path": "sources.arrivals.rate", "name": "rate", "range": {"from": 7, "to": 9, "step": 1}}
        ],
        "replications": 4,
        "duration": "1h",
        "warmup": "5m",
        "metrics": ["stations.server.mean_wait_s", "latency_s.e2e.p99", "cost_usd.total"],
        "charts": [{"x": "rate", "y": "stations.server.mean_wait_s", "lines": "servers"}]
    });
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    let path = dir.join("exp.json");
    std::fs::write(&path, serde_json::to_string_pretty(&spec).unwrap()).unwrap();
    let exp = experiment::load(&path).unwrap_or_else(|e| panic!("{e}"));
    (path, exp)
}

fn table(exp: &Experiment, threads: usize, shard: Shard) -> Table {
    Table::from_run(exp, run_sweep(exp, &Options { threads, shard, quiet: true, bar: None }).unwrap(), shard)
}

#[test]
fn thread_count_does_not_change_a_byte() {
    let dir = temp_dir("threads");
    let (_, exp) = experiment(&dir, json!({}));
    assert_eq!(exp.points.len(), 6);
    let one = table(&exp, 1, Shard::default());
    for threads in [2, 4] {
        let t = table(&exp, threads, Shard::default());
        assert_eq!(one.csv(), t.csv(), "{threads} threads: points.csv differs");
        assert_eq!(one.json(), t.json(), "{threads} threads: sweep.json differs");
    }
}

#[test]
fn a_figure_missing_in_some_replications_stays_missing_when_read_back() {
    // 2 simulated seconds at 7-9 arrivals/s with 1 s services and a 1 s warm-up: some
    // replications answer nothing after warm-up, so their p99 is null (NaN). A merge reads the
    // sweep back; its table must be the run's, not a mean over the replications that had one.
    let dir = temp_dir("nan-readback");
    let (_, exp) = experiment(&dir, json!({"duration": "1.2s", "warmup": "1s", "replications": 6}));
    let whole = table(&exp, 1, Shard::default());
    whole.write(&dir.join("whole")).unwrap();
    let sweep = std::fs::read_to_string(dir.join("whole").join("sweep.json")).unwrap();
    assert!(sweep.contains("null"), "the test needs a replication without the figure");
    merge(&[dir.join("whole")]).unwrap().write(&dir.join("again")).unwrap();
    for f in ["points.csv", "sweep.json"] {
        let a = std::fs::read(dir.join("whole").join(f)).unwrap();
        let b = std::fs::read(dir.join("again").join(f)).unwrap();
        assert!(a == b, "{f} differs once read back");
    }
}

#[test]
fn merged_shards_equal_one_whole_sweep() {
    let dir = temp_dir("shards");
    let (_, exp) = experiment(&dir, json!({}));
    let whole = table(&exp, 2, Shard::default());
    whole.write(&dir.join("whole")).unwrap();
    let mut shard_dirs = Vec::new();
    for k in 1..=3 {
        let s = Shard::parse(&format!("{k}/3")).unwrap();
        let d = dir.join(format!("shard-{k}"));
        table(&exp, 1, s).write(&d).unwrap();
        shard_dirs.push(d);
    }
    merge(&shard_dirs).unwrap().write(&dir.join("merged")).unwrap();
    for f in ["points.csv", "sweep.json", "experiment.resolved.json", "chart-1.svg"] {
        let a = std::fs::read(dir.join("whole").join(f)).unwrap();
        let b = std::fs::read(dir.join("merged").join(f)).unwrap();
        assert!(a == b, "{f} differs between merged shards and the whole sweep");
    }
    // A missing shard is an error, not a partial result.
    let err = merge(&shard_dirs[..2]).err().expect("incomplete merge must fail").to_string();
    assert!(err.contains("missing"), "{err}");
    // A shard given twice names the point and both folders (not the folder's position).
    let twice = [shard_dirs[0].clone(), shard_dirs[1].clone(), shard_dirs[1].clone()];
    let err = merge(&twice).err().expect("a shard given twice must fail").to_string();
    let at = shard_dirs[1].display().to_string();
    assert!(err.contains(&format!("is in both {at} and {at}")), "{err}");
    // A shard whose sweep.json was cut short is named, with what to do.
    let cut = dir.join("shard-2").join("sweep.json");
    let text = std::fs::read_to_string(&cut).unwrap();
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let err = format!("{:#}", merge(&shard_dirs).err().expect("a cut sweep.json must fail"));
    assert!(err.contains(&format!("{}/sweep.json is cut short", shard_dirs[1].display())), "{err}");
}

#[test]
fn cli_shards_from_slurm_environment_merge_to_the_whole() {
    let dir = temp_dir("cli-shards");
    let (exp_path, _) = experiment(
        &dir,
        json!({"parameters": [
        {"path": "sources.arrivals.rate", "name": "rate", "values": [6, 7, 8, 9]}
    ], "charts": []}),
    );
    let bin = env!("CARGO_BIN_EXE_capsim");
    let ok = |c: &mut Command| assert!(c.output().unwrap().status.success());
    ok(Command::new(bin).args(["sweep", "--threads", "2", "--out"]).arg(dir.join("whole")).arg(&exp_path));
    for k in 1..=2 {
        ok(Command::new(bin)
            .args(["sweep", "--out"])
            .arg(dir.join(format!("s{k}")))
            .arg(&exp_path)
            .env("SLURM_ARRAY_TASK_ID", k.to_string())
            .env("SLURM_ARRAY_TASK_MIN", "1")
            .env("SLURM_ARRAY_TASK_COUNT", "2"));
    }
    ok(Command::new(bin).arg("merge").arg(dir.join("s1")).arg(dir.join("s2")).arg("--out").arg(dir.join("merged")));
    for f in ["points.csv", "sweep.json"] {
        assert_eq!(
            std::fs::read(dir.join("whole").join(f)).unwrap(),
            std::fs::read(dir.join("merged").join(f)).unwrap(),
            "{f}"
        );
    }
    let shard1: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("s1/sweep.json")).unwrap()).unwrap();
    assert_eq!(shard1["shard"], json!({"index": 1, "count": 2}));
    assert_eq!(shard1["points"].as_array().unwrap().len(), 2);
}

#[test]
fn half_width_shrinks_as_one_over_root_n() {
    // h(n) = t(n−1) · s / √n. With s estimated afresh at each n, h(n2)/h(n1) · √(n2/n1) ·
    // t(n1−1)/t(n2−1) = s2/s1 should be 1 up to the sampling noise of s (≈ 1/√(2n): 13 % at
    // n = 32), so it is checked within ±35 %; the raw ratio must also be near √(n1/n2) = 0.5.
    use statrs::distribution::{ContinuousCDF, StudentsT};
    let t = |n: u32| StudentsT::new(0.0, 1.0, (n - 1) as f64).unwrap().inverse_cdf(0.975);
    let dir = temp_dir("sqrt-n");
    let base =
        json!({"parameters": [{"path": "sources.arrivals.rate", "values": [8]}], "charts": [], "duration": "30m"});
    let mut hw = Vec::new();
    for n in [32u32, 128, 512] {
        let mut e = base.clone();
        e["replications"] = json!(n);
        let (_, exp) = experiment(&dir, e);
        let tb = table(&exp, 0, Shard::default());
        hw.push((n, capsim::stats::t_interval(&tb.results[0].values[0], 0.95).half_width));
    }
    for w in hw.windows(2) {
        let ((n1, h1), (n2, h2)) = (w[0], w[1]);
        let raw = h2 / h1;
        let s_ratio = raw * (n2 as f64 / n1 as f64).sqrt() * t(n1) / t(n2);
        eprintln!("half-width n={n1}: {h1:.5}, n={n2}: {h2:.5}; ratio {raw:.3} (1/√4 = 0.5), s2/s1 = {s_ratio:.3}");
        assert!((0.65..1.35).contains(&s_ratio), "s2/s1 = {s_ratio}");
        assert!((0.33..0.68).contains(&raw), "raw ratio {raw}");
    }
}

#[test]
fn run_length_control_reaches_its_target() {
    let dir = temp_dir("precision");
    let (_, exp) = experiment(
        &dir,
        json!({
            "replications": 3,
            "precision": {"metric": "stations.server.mean_wait_s", "relative_half_width": 0.08, "max_replications": 60},
            "charts": []
        }),
    );
    let t = table(&exp, 0, Shard::default());
    for r in &t.results {
        let i = capsim::stats::t_interval(&r.values[0], 0.95);
        assert!(i.n >= 3 && i.n <= 60);
        assert!(
            i.half_width <= 0.08 * i.mean.abs() || i.n == 60,
            "point {}: ±{} of {} with n={}",
            r.index,
            i.half_width,
            i.mean,
            i.n
        );
    }
    assert!(t.results.iter().any(|r| r.values[0].len() > 3), "some point needed more replications");
}

/// Erlang C mean response time for M/M/c.
fn erlang_c_response(lambda: f64, c: u32) -> f64 {
    let a = lambda;
    let (mut term, mut sum) = (1.0, 1.0);
    for k in 1..c {
        term *= a / k as f64;
        sum += term;
    }
    let last = term * a / c as f64 / (1.0 - a / c as f64);
    1.0 + last / (sum + last) / (c as f64 - lambda)
}

#[test]
fn capacity_search_matches_erlang_c() {
    // Highest λ with mean response ≤ 1.5 s at 10 servers (μ = 1): bisect the closed form.
    let (mut lo, mut hi) = (5.0, 9.99);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if erlang_c_response(mid, 10) <= 1.5 { lo = mid } else { hi = mid }
    }
    let dir = temp_dir("capacity");
    let out = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args([
            "capacity",
            "models/mmc.json",
            "--vary",
            "sources.arrivals.rate",
            "--slo",
            "stations.server.mean_response_s<=1.5",
        ])
        .args(["--lo", "5", "--hi", "9.9", "--replications", "10", "--duration", "20h", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("capacity.json")).unwrap()).unwrap();
    assert_eq!(r["find"], "largest");
    let found = r["answer"].as_f64().unwrap();
    let interp = r["interpolated"].as_f64().unwrap();
    let unc = r["uncertainty"].as_f64().unwrap();
    eprintln!("capacity: Erlang C {lo:.4}, found {found:.4} (interpolated {interp:.4} ± {unc:.4})");
    assert_eq!(r["param"], "sources.arrivals.rate");
    assert!(r["probes"].as_array().unwrap().len() >= 5);
    assert!((found - lo).abs() / lo < 0.01, "found {found}, Erlang C {lo}");
    assert!((interp - lo).abs() <= 2.0 * unc.max(0.005 * lo), "interpolated {interp} ± {unc} vs {lo}");
}

/// Runs `capsim compare` on models/tandem.json with the backend's servers in A and B.
fn compare_backend(dir: &Path, a: u32, b: u32) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(["compare", "models/tandem.json", "--replications", "5", "--duration", "1h"])
        .args(["--a", &format!("stations.backend.servers={a}"), "--b", &format!("stations.backend.servers={b}")])
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&std::fs::read_to_string(dir.join("compare.json")).unwrap()).unwrap()
}

#[test]
fn comparing_a_configuration_with_itself_shows_no_difference() {
    let dir = temp_dir("compare");
    let r = compare_backend(&dir, 1, 1);
    let rows = r["metrics"].as_array().unwrap();
    assert!(rows.len() > 20);
    for row in rows {
        assert_eq!(row["diff"], 0.0, "{row}");
        assert_eq!(row["significant"], false, "{row}");
    }
    // And a real change is seen: a second backend server cuts the backend wait.
    let r = compare_backend(&dir, 1, 2);
    let wait = r["metrics"].as_array().unwrap().iter().find(|m| m["metric"] == "stations.backend.mean_wait_s").unwrap();
    assert_eq!(wait["significant"], true);
    assert!(wait["diff"].as_f64().unwrap() < 0.0);
    for f in ["before_after_cdf.png", "before_after_cdf.svg", "before_after_p99.png"] {
        assert!(dir.join(f).is_file(), "{f}");
    }
}

/// A valid claim on the malformed-experiment base, with `over` replacing fields.
fn claim(over: Value) -> Value {
    let mut c = json!({"id": "c", "source": "test", "claim": "p99", "metric": "latency_s.e2e.p99",
                       "at": {"servers": 10, "rate": 5}, "reference": 1.0, "kind": "outcome"});
    for (k, v) in over.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

#[test]
fn chart_options_reach_the_chart() {
    let dir = temp_dir("chart-options");
    let charts = json!({
        "replications": 2,
        "duration": "20m",
        "metrics": ["latency_s.e2e.p99", "stations.server.p_wait"],
        "charts": [
            {"x": "rate", "y": "latency_s.e2e.p99", "lines": "servers", "label": "{servers} servers",
             "censor": {"at": 5.0, "label": "a 5 s timeout"}},
            {"x": "rate", "y": "stations.server.p_wait", "lines": "servers"},
            {"kind": "timeseries", "y": "arrivals", "per_second": true, "average": true, "at": {"servers": 10, "rate": 7}},
            {"kind": "timeseries", "y": "arrivals", "also": ["completions"], "legend": ["arrivals", "answered"],
             "at": {"servers": 10, "rate": 7}, "file": "ts2",
             "references": [{"name": "offered", "points": [[0, 7], [1200, 7]], "line": "answered"}]}
        ]
    });
    let (_, exp) = experiment(&dir, charts);
    let t = table(&exp, 0, Shard::default());
    // A label template names the lines; values at the censoring limit become lower bounds on it.
    let c = t.chart(&exp.spec.charts[0]).prepared();
    let names: Vec<&str> = c.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["10 servers", "12 servers"]);
    for s in &c.series {
        assert!(s.points.iter().all(|p| p.1.is_nan() || p.1 < 5.0), "{:?}", s.points);
        assert!(s.lower_bounds.iter().all(|p| p.1 == 5.0));
        assert_eq!(s.points.len(), 3);
    }
    // A probability is a share: its bands stay within 0 and 1, and so does its axis.
    let c = t.chart(&exp.spec.charts[1]);
    assert!(c.share);
    assert!(c.series.iter().flat_map(|s| &s.band).all(|b| 0.0 <= b.1 && b.2 <= 1.0));
    let (_, y) = c.axes();
    assert!(y.lo <= 0.0 && y.hi >= 1.0 && !y.log, "{y:?}");
    // The averaged time series says so, and its arrivals average the 7/s offered (each window
    // is the mean of 2 runs; 20 minutes of 7/s is 8,400 arrivals a run: ±3 % is over 3 sd).
    let c = t.chart(&exp.spec.charts[2]);
    assert!(c.note.as_deref().unwrap_or("").contains("mean over 2 replications"), "{:?}", c.note);
    let pts = &c.series[0].points;
    let mean = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
    assert!((mean - 7.0).abs() < 0.21, "{mean}");
    // A reference curve of a time series with `also` takes the colour of the line it names by
    // its legend name: the second (index 1), not a neutral grey.
    let c = t.chart(&exp.spec.charts[3]);
    let names: Vec<&str> = c.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["arrivals", "answered", "offered"]);
    assert_eq!(c.series[2].color, Some(1));
}

/// `quick.values` replaces a parameter's values one for one in the quick profile only; a name
/// that is no parameter, or a different count, is an error naming the field.
#[test]
fn quick_values_replace_a_parameter_in_the_quick_profile_only() {
    let dir = temp_dir("quick-values");
    let (path, full) = experiment(&dir, json!({"quick": {"values": {"servers": [11, 13]}}}));
    let servers = |e: &Experiment| -> Vec<u64> {
        let mut v: Vec<u64> = e.points.iter().map(|p| p.values[0].as_u64().unwrap()).collect();
        v.dedup();
        v
    };
    assert_eq!(servers(&full), [10, 12]);
    let quick = experiment::load_profile(&path, experiment::Profile::Quick).unwrap();
    assert_eq!(servers(&quick), [11, 13]);
    assert_eq!(quick.points.len(), 6);
    for (values, want) in [
        (json!({"cores": [1, 2]}), "quick.values.cores"),
        (json!({"servers": [11]}), "lists 1 values; parameter `servers` has 2"),
    ] {
        let (path, _) = experiment(&dir, json!({"quick": {"values": values}}));
        let e = experiment::load_profile(&path, experiment::Profile::Quick).unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_experiments_name_their_field() {
    let dir = temp_dir("bad-exp");
    let cases: Vec<(Value, &str)> = vec![
        (json!({"parameters": [{"path": "x", "range": {"from": 1, "to": 5, "step": 0}}]}), "parameters.0.range"),
        (
            json!({"parameters": [{"path": "x", "values": [1], "range": {"from": 1, "to": 5, "step": 1}}]}),
            "exactly one of",
        ),
        (json!({"metrics": ["latency_s.e2e.p9999"]}), "metrics.0"),
        (json!({"metrics": []}), "at least one metric"),
        (json!({"charts": [{"x": "nope", "y": "latency_s.e2e.p99"}]}), "charts.0.x"),
        (json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p50"}]}), "charts.0.y"),
        (json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "lines": "zzz"}]}), "charts.0.lines"),
        (json!({"combine": "zip"}), "same number of values"),
        (json!({"parameters": [{"path": "stations.server.servers", "values": [0]}]}), "stations.server.servers"),
        (json!({"model": "no/such/model.json"}), "cannot read the file"),
        (json!({"replications": 0}), "replications"),
        (
            json!({"precision": {"metric": "latency_s.e2e.mean", "relative_half_width": 0.1, "max_replications": 10}}),
            "precision.metric",
        ),
        (json!({"colour": "blue"}), "unknown field `colour`"),
        (json!({"charts": [{"kind": "bars", "y": "latency_s.e2e.p99", "log_y": true}]}), "`kind: bars` takes none of"),
        (
            json!({"parameters": [{"path": "x", "log_range": {"from": 0, "to": 5, "points": 3}}]}),
            "parameters.0.log_range",
        ),
        (
            json!({"parameters": [{"path": "x", "log_range": {"from": 1, "to": 5, "points": 4000000000u64}}]}),
            "parameters.0.log_range.points",
        ),
        (
            json!({"parameters": [
                {"path": "stations.server.servers", "name": "a", "range": {"from": 1, "to": 90000, "step": 1}},
                {"path": "sources.arrivals.rate", "name": "b", "range": {"from": 1, "to": 90000, "step": 1}}]}),
            "at most 100000 points",
        ),
        (json!({"name": "../escape"}), "at `name`"),
        (json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "file": "../../x"}]}), "charts.0.file"),
        (json!({"claims": [claim(json!({"metric": "latency_s.e2e.p50"}))]}), "claims.0.metric"),
        (
            json!({"claims": [claim(json!({"at": {"servers": 10, "rate": 6.5}}))]}),
            "rate = 6.5 is not one of its values",
        ),
        (json!({"claims": [claim(json!({"at": {"servers": 10}}))]}), "matches 3 points"),
        (json!({"claims": [claim(json!({"at": {"cores": 10, "rate": 5}}))]}), "`cores` is not a parameter"),
        (json!({"claims": [claim(json!({"tolerance": {"relative": 0.1, "absolute": 1}}))]}), "claims.0.tolerance"),
        (json!({"claims": [claim(json!({"chart": "nope"}))]}), "claims.0.chart"),
        (json!({"claims": [claim(json!({})), claim(json!({}))]}), "used by another claim"),
        (json!({"claims": [claim(json!({})), ], "replications": 1}), "at least 2 replications"),
        (
            json!({"claims": [claim(json!({"kind": "calibration"}))]}),
            "`claims.0.calibration`: a calibration row says why",
        ),
        (json!({"claims": [claim(json!({"calibration": "set in the model"}))]}), "only for `kind: calibration`"),
        (json!({"claims": [claim(json!({"kind": "input"}))]}), "claims.0.kind"),
        (json!({"claims": [claim(json!({"kind": null}))]}), "kind"),
        (
            json!({"claims": [claim(json!({"cites": {"file": "../etc/passwd", "quotes": ["x"]}}))]}),
            "claims.0.cites.file",
        ),
        (json!({"claims": [claim(json!({"cites": {"file": "/etc/passwd", "quotes": ["x"]}}))]}), "claims.0.cites.file"),
        (json!({"claims": [claim(json!({"cites": {"file": "seeds/a.txt", "quotes": []}}))]}), "claims.0.cites.quotes"),
        (json!({"claims": [claim(json!({"cites": {"file": "seeds/a.txt", "quote": ["8%"]}}))]}), "quote"),
        (
            json!({"claims": [claim(json!({"at": null, "before": {"at": {"servers": 10, "rate": 5}}, "after": {"at": {"servers": 11, "rate": 5}}, "reference": null}))]}),
            "claims.0.direction",
        ),
        // Found by hostile testing: a span that overflows a float made chart drawing loop for ever.
        (json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "y_range": [-9e307, 9e307]}]}), "charts.0.y_range"),
        (json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "x_range": [10, 5]}]}), "charts.0.x_range"),
        (
            json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "references": [{"name": "r", "points": [[0, -9e307], [1, 9e307]]}]}]}),
            "charts.0.references.0.points",
        ),
        (json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "at": {"servers": 7}}]}), "never takes the value 7"),
        (
            json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "file": "a"}, {"x": "rate", "y": "latency_s.e2e.p99", "file": "a"}]}),
            "already written to `a`",
        ),
        (
            json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "shade": {"from": 50, "to": 10, "label": "x"}}]}),
            "charts.0.shade",
        ),
        (json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "per_second": true}]}), "charts.0.per_second"),
        (json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "average": true}]}), "charts.0.average"),
        (
            json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "label": "{cores} cores"}]}),
            "`{cores}` is not a parameter",
        ),
        (
            json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "censor": {"at": 2, "unless": "latency_s.e2e.p99", "label": "x"}}]}),
            "charts.0.censor",
        ),
        (
            json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "censor": {"unless": "recovery.recovered", "label": "x"}}]}),
            "charts.0.censor.unless",
        ),
        (
            json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "censor": {"at": 2, "label": "x", "colour": 1}}]}),
            "unknown field `colour`",
        ),
        (
            json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "lines": "servers", "references": [{"name": "r", "points": [[5, 1]], "line": "12"}]}]}),
            "charts.0.references.0.line",
        ),
        (json!({"parameters": [{"path": "stations.sevrer.servers", "values": [1, 2]}]}), "no entry `sevrer`"),
        (
            json!({"charts": [{"kind": "timeseries", "y": "arrivals", "also": ["completions"], "legend": ["a", "b"], "references": [{"name": "r", "points": [[5, 1]], "line": "c"}]}]}),
            "`c` is not a `legend` name",
        ),
        (
            json!({"charts": [{"x": "rate", "y": "latency_s.e2e.p99", "references": [{"name": "r", "points": [[5, 1]], "line": "10"}]}]}),
            "give `lines`",
        ),
    ];
    for (extra, want) in cases {
        let mut spec = json!({
            "name": "bad", "model": mmc_path(), "replications": 2, "duration": "20m",
            "parameters": [{"path": "stations.server.servers", "name": "servers", "values": [10, 11]},
                           {"path": "sources.arrivals.rate", "name": "rate", "values": [5, 6, 7]}],
            "metrics": ["latency_s.e2e.p99"]
        });
        spec.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let path = dir.join("bad.json");
        std::fs::write(&path, serde_json::to_string_pretty(&spec).unwrap()).unwrap();
        let msg = experiment::load(&path).err().unwrap_or_else(|| panic!("should fail: {extra}")).to_string();
        assert!(msg.contains(want) && msg.contains("bad.json"), "{extra}: message lacks `{want}`:\n{msg}");
    }
    std::fs::write(dir.join("broken.json"), "{\"name\": ").unwrap();
    let msg = experiment::load(&dir.join("broken.json")).err().unwrap().to_string();
    assert!(msg.contains("broken.json:1:") && msg.contains("invalid JSON"), "{msg}");
}

#[test]
fn report_page_is_self_contained() {
    let dir = temp_dir("report");
    let (_, exp) = experiment(&dir, json!({}));
    table(&exp, 0, Shard::default()).write(&dir.join("sweep")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_capsim")).arg("report").arg(dir.join("sweep")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(dir.join("sweep/index.html")).unwrap();
    assert!(html.contains("data:image/png;base64,") && html.contains("<table>"));
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("src=\"/"),
        "no external references"
    );
}

#[test]
fn mser_notes_a_warmup_that_is_too_short() {
    // An M/M/1 at ρ = 0.95 starts empty and takes hours to fill to its mean of 19 in system;
    // with no warm-up, MSER-5 must suggest deleting the start.
    let dir = temp_dir("mser");
    let model = json!({
        "name": "slow-start", "run": {"duration": "10h", "window": "1m"},
        "sources": {"in": {"rate": 0.95, "to": "s"}},
        "stations": {"s": {"servers": 1, "service": {"dist": "exponential", "mean": 1}}}
    });
    std::fs::write(dir.join("m.json"), model.to_string()).unwrap();
    let exp = json!({
        "name": "mser", "model": "m.json", "replications": 8, "warmup": 0,
        "parameters": [{"path": "sources.in.rate", "values": [0.95]}],
        "metrics": ["stations.s.mean_wait_s"]
    });
    std::fs::write(dir.join("e.json"), exp.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .arg("sweep")
        .arg(dir.join("e.json"))
        .arg("--out")
        .arg(dir.join("o"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("MSER-5") && err.contains("chosen 0 s"), "{err}");
}
