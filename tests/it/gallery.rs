//! The gallery: the committed quick-profile tables are what the code computes (regenerated
//! here and compared byte for byte), every experiment has its committed folder, and claims are
//! checked the way their verdicts say (a claim that should differ does).

use std::path::{Path, PathBuf};

use capsim::experiment::claims::Verdict;
use capsim::experiment::{Profile, load};
use capsim::gallery::{Options, run};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("capsim-gallery-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Gallery options: the experiments in `experiments`, written to `out`, quietly.
fn options(experiments: &Path, out: &Path, profile: Profile, only: &[&str]) -> Options {
    Options {
        experiments: experiments.to_path_buf(),
        out: out.to_path_buf(),
        profile,
        only: only.iter().map(|s| s.to_string()).collect(),
        threads: 0,
        quiet: true,
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

#[test]
fn committed_gallery_tables_equal_a_fresh_quick_run() {
    let out = temp_dir("quick");
    let entries = run(&options(Path::new("experiments"), &out, Profile::Quick, &[])).unwrap();
    assert!(!entries.is_empty());
    let committed = Path::new("output");
    let mut files = vec![PathBuf::from("README.md")];
    for e in &entries {
        files.push(Path::new(&e.exp.spec.name).join("points.csv"));
        if !e.exp.spec.claims.is_empty() {
            files.push(Path::new(&e.exp.spec.name).join("claims.csv"));
        }
        for c in &e.exp.spec.charts {
            let stem = c.file.clone().unwrap_or_default();
            assert!(
                committed.join(&e.exp.spec.name).join(format!("{stem}.png")).is_file(),
                "chart {stem} not committed"
            );
        }
    }
    for f in files {
        let (fresh, kept) = (read(&out.join(&f)), read(&committed.join(&f)));
        assert!(
            fresh == kept,
            "output/{} differs from a fresh `capsim gallery` run: regenerate and commit it\n--- committed\n{kept}\n--- fresh\n{fresh}",
            f.display()
        );
    }
    assert!(committed.join("index.html").is_file());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn mmc_servers_claims_are_reproduced_against_erlang_c() {
    let out = temp_dir("mmc");
    let entries = run(&options(Path::new("experiments"), &out, Profile::Quick, &["mmc_servers"])).unwrap();
    let claims = &entries[0].claims;
    assert!(claims.len() >= 4);
    for c in claims {
        assert_eq!(c.verdict, Verdict::Reproduced, "{}: {} {}", c.id, c.capsim_mean, c.note);
    }
    let page = read(&out.join("index.html"));
    assert!(page.contains("data:image/png;base64,") && !page.contains("src=\"http"), "self-contained");
    let _ = std::fs::remove_dir_all(&out);
}

/// An experiment with claims that must come out `differs` and `direction only`.
#[test]
fn wrong_claims_are_reported_as_such() {
    let dir = temp_dir("wrong");
    std::fs::create_dir_all(&dir).unwrap();
    let model = std::fs::canonicalize("models/mmc.json").unwrap();
    let spec = serde_json::json!({
        "name": "wrong",
        "model": model,
        "parameters": [{"path": "stations.server.servers", "name": "servers", "values": [10, 11]}],
        "replications": 4, "duration": "4h", "warmup": "10m",
        "metrics": ["stations.server.mean_wait_s"],
        "claims": [
            {"id": "too_low", "source": "made up", "claim": "wait is 0.3 s", "metric": "stations.server.mean_wait_s",
             "at": {"servers": 10}, "reference": 0.3, "tolerance": {"relative": 0.05}, "kind": "outcome"},
            {"id": "echo", "source": "made up", "claim": "utilisation is λ/cμ", "metric": "stations.server.mean_wait_s",
             "at": {"servers": 10}, "reference": 0.3, "kind": "calibration", "calibration": "an echo of the inputs"},
            {"id": "wrong_way", "source": "made up", "claim": "a server more makes it worse", "metric": "stations.server.mean_wait_s",
             "before": {"at": {"servers": 10}}, "after": {"at": {"servers": 11}}, "direction": "increase", "kind": "outcome"},
            {"id": "only_way", "source": "made up", "claim": "it drops, but to 0.5 s", "metric": "stations.server.mean_wait_s",
             "before": {"at": {"servers": 10}, "reference": 0.6687}, "after": {"at": {"servers": 11}, "reference": 0.5},
             "tolerance": {"relative": 0.05}, "kind": "outcome"}
        ]
    });
    std::fs::write(dir.join("wrong.json"), serde_json::to_string_pretty(&spec).unwrap()).unwrap();
    let exp = load(&dir.join("wrong.json")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(exp.spec.claims.len(), 4);
    let claims = &run(&options(&dir, &dir.join("out"), Profile::Full, &[])).unwrap()[0].claims;
    let verdict = |id: &str| claims.iter().find(|c| c.id == id).unwrap().clone();
    let low = verdict("too_low");
    assert_eq!(low.verdict, Verdict::Differs);
    assert!(low.note.contains("above the reference 0.3"), "{}", low.note);
    assert_eq!(verdict("wrong_way").verdict, Verdict::Differs);
    let only = verdict("only_way");
    assert_eq!(only.verdict, Verdict::DirectionOnly, "{}", only.note);
    assert!(only.note.contains("after"), "{}", only.note);
    let readme = read(&dir.join("out/README.md"));
    assert!(readme.contains("**differs**") && readme.contains("**direction only**"));
    // The calibration row is checked but not counted: 3 outcome claims, 1 calibration row apart.
    assert!(readme.contains("3 outcome claims: 0 reproduced, 1 direction only, 2 differ; 1 calibration rows"), "{readme}");
    assert!(readme.contains("Calibration rows") && readme.contains("| utilisation is λ/cμ | an echo of the inputs |"), "{readme}");
    let _ = std::fs::remove_dir_all(&dir);
}
