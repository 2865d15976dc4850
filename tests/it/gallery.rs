//! The gallery: the committed quick-profile tables are what the code computes (regenerated
//! here and compared byte for byte), every experiment has its committed folder, and claims are
//! checked the way their verdicts say (a claim that should differ does); the page has an
//! overview linking every experiment's section, and every chart captioned and shown once,
//! linked from the folder beside the page.

use std::path::{Path, PathBuf};

use capsim::experiment::claims::Verdict;
use capsim::experiment::spec::ClaimKind;
use capsim::experiment::{Profile, load};
use capsim::gallery::{Entry, Options, run};
use capsim::report::html::esc;

use super::pages::{assert_charts_captioned_once, figures, image_sources};

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

/// The variable naming a quick gallery already written by the binary under test (CI's command
/// 1 writes target/ci-output/gallery just before the tests), so this test need not run it again.
const GALLERY_OUTPUT: &str = "CAPSIM_GALLERY_OUTPUT";

/// A fresh quick gallery: the folder `CAPSIM_GALLERY_OUTPUT` names, read back (a missing or
/// incomplete folder fails the test, naming the variable), or else a run into a temporary
/// folder. Returns the folder, its entries, and whether the test made it (and removes it).
fn fresh_quick_gallery() -> (PathBuf, Vec<Entry>, bool) {
    match std::env::var_os(GALLERY_OUTPUT) {
        Some(dir) => {
            let out = PathBuf::from(dir);
            let opts = options(Path::new("experiments"), &out, Profile::Quick, &[]);
            let entries = capsim::gallery::read(&opts).unwrap_or_else(|e| {
                panic!("{GALLERY_OUTPUT}={}: not a finished quick gallery of experiments/: {e:#}", out.display())
            });
            for f in ["README.md", "index.html"] {
                assert!(
                    out.join(f).is_file(),
                    "{GALLERY_OUTPUT}={}: no {f}; run `capsim gallery` first",
                    out.display()
                );
            }
            (out, entries, false)
        }
        None => {
            let out = temp_dir("quick");
            let entries = run(&options(Path::new("experiments"), &out, Profile::Quick, &[])).unwrap();
            (out, entries, true)
        }
    }
}

#[test]
fn committed_gallery_tables_equal_a_fresh_quick_run() {
    let (out, entries, made) = fresh_quick_gallery();
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
        // A breakpoint scan's crossings are a table like the others; its chart is committed.
        for scan in e.table.scans() {
            files.push(Path::new(&e.exp.spec.name).join(format!("{}.csv", scan.stem())));
            let png = committed.join(&e.exp.spec.name).join(format!("{}.png", scan.stem()));
            assert!(png.is_file(), "chart {} not committed", png.display());
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
    let page = read(&out.join("index.html"));
    assert_page_lays_out(&page, &entries);
    assert_links_charts_beside_it(&page, &out);
    if made {
        let _ = std::fs::remove_dir_all(&out);
    }
}

/// A gallery folder read back gives the entries the run gave (claims recomputed from sweep.json
/// are the same), and a folder with an experiment missing, or none at all, is an error that
/// names the folder.
#[test]
fn a_gallery_read_back_is_the_gallery_run_and_an_incomplete_one_is_an_error() {
    let out = temp_dir("read-back");
    let opts = options(Path::new("experiments"), &out, Profile::Quick, &["mmc_servers"]);
    let ran = run(&opts).unwrap();
    let back = capsim::gallery::read(&opts).unwrap();
    assert_eq!(ran.len(), back.len());
    for (a, b) in ran.iter().zip(&back) {
        assert_eq!(a.table.csv(), b.table.csv(), "{}", a.exp.spec.name);
        assert_eq!(capsim::experiment::claims::csv(&a.claims), capsim::experiment::claims::csv(&b.claims));
    }
    std::fs::remove_file(out.join("mmc_servers/sweep.json")).unwrap();
    let e = format!("{:#}", capsim::gallery::read(&opts).map(|_| ()).unwrap_err());
    assert!(e.contains("mmc_servers") && e.contains("sweep.json"), "{e}");
    let empty = options(Path::new("experiments"), &out.join("nothing"), Profile::Quick, &["mmc_servers"]);
    let e = format!("{:#}", capsim::gallery::read(&empty).map(|_| ()).unwrap_err());
    assert!(e.contains("nothing") && e.contains("no finished gallery output"), "{e}");
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
    assert_page_lays_out(&page, &entries);
    assert_links_charts_beside_it(&page, &out);
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
             "tolerance": {"relative": 0.05}, "kind": "outcome"},
            {"id": "ratio", "source": "Erlang C", "claim": "an 11th server cuts the wait to 0.322 of what it was",
             "metric": "stations.server.mean_wait_s", "before": {"at": {"servers": 10}}, "after": {"at": {"servers": 11}},
             "change": {"measure": "ratio", "reference": 0.32186}, "tolerance": {"relative": 0.1}, "kind": "outcome"},
            {"id": "cut_30", "source": "made up", "claim": "an 11th server cuts the wait by 30 %",
             "metric": "stations.server.mean_wait_s", "before": {"at": {"servers": 10}}, "after": {"at": {"servers": 11}},
             "change": {"measure": "relative", "reference": -0.3}, "tolerance": {"absolute": 0.05}, "kind": "outcome"},
            {"id": "at_least", "source": "made up", "claim": "with 10 servers the wait is 0.5 s or more",
             "metric": "stations.server.mean_wait_s", "at": {"servers": 10}, "reference": 0.5, "bound": "at_least", "kind": "outcome"},
            {"id": "at_most", "source": "made up", "claim": "with 10 servers the wait is under 0.5 s",
             "metric": "stations.server.mean_wait_s", "at": {"servers": 10}, "reference": 0.5, "bound": "at_most", "kind": "outcome"},
            {"id": "after_only_met", "source": "Erlang C", "claim": "it drops, to 0.2152 s",
             "metric": "stations.server.mean_wait_s", "before": {"at": {"servers": 10}},
             "after": {"at": {"servers": 11}, "reference": 0.2152}, "direction": "decrease",
             "tolerance": {"relative": 0.05}, "kind": "outcome"},
            {"id": "after_only_off", "source": "made up", "claim": "it drops, to 0.1 s",
             "metric": "stations.server.mean_wait_s", "before": {"at": {"servers": 10}},
             "after": {"at": {"servers": 11}, "reference": 0.1}, "direction": "decrease",
             "tolerance": {"relative": 0.05}, "kind": "outcome"}
        ],
        "headline": "A made-up summary table",
        "charts": [{"kind": "bars", "y": "stations.server.mean_wait_s", "lines": "servers", "file": "waits"}]
    });
    std::fs::write(dir.join("wrong.json"), serde_json::to_string_pretty(&spec).unwrap()).unwrap();
    let exp = load(&dir.join("wrong.json")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(exp.spec.claims.len(), 10);
    let entries = run(&options(&dir, &dir.join("out"), Profile::Full, &[])).unwrap();
    let claims = &entries[0].claims;
    let verdict = |id: &str| claims.iter().find(|c| c.id == id).unwrap().clone();
    let low = verdict("too_low");
    assert_eq!(low.verdict, Verdict::Differs);
    assert!(low.note.contains("above the reference 0.3"), "{}", low.note);
    assert_eq!(verdict("wrong_way").verdict, Verdict::Differs);
    let only = verdict("only_way");
    assert_eq!(only.verdict, Verdict::DirectionOnly, "{}", only.note);
    assert!(only.note.contains("after"), "{}", only.note);
    // Claims on the change itself: Erlang C's ratio 0.2152 / 0.6687 = 0.3219 holds; a 30 % cut
    // goes the right way but is far from capsim's 68 %.
    let ratio = verdict("ratio");
    assert_eq!(ratio.verdict, Verdict::Reproduced, "{} ± {}: {}", ratio.capsim_mean, ratio.capsim_ci95, ratio.note);
    assert_eq!(ratio.reference, "after ÷ before = 0.32186");
    let cut = verdict("cut_30");
    assert_eq!(cut.verdict, Verdict::DirectionOnly, "{}", cut.note);
    assert!(cut.note.contains("size is off") && cut.note.contains("below the reference -0.3"), "{}", cut.note);
    // Bounds: Erlang C's 0.669 s is at least 0.5 s, not at most.
    let least = verdict("at_least");
    assert_eq!(least.verdict, Verdict::Reproduced, "{} ± {}: {}", least.capsim_mean, least.capsim_ci95, least.note);
    assert_eq!(least.reference, "≥ 0.5");
    let most = verdict("at_most");
    assert_eq!(most.verdict, Verdict::Differs, "{}", most.note);
    assert!(most.note.contains("above the reference 0.5"), "{}", most.note);
    // A side without a reference is met by the direction; the side with one must be within
    // tolerance (Erlang C: 0.2152 s with 11 servers).
    let met = verdict("after_only_met");
    assert_eq!(met.verdict, Verdict::Reproduced, "{} ± {}: {}", met.capsim_mean, met.capsim_ci95, met.note);
    let off = verdict("after_only_off");
    assert_eq!(off.verdict, Verdict::DirectionOnly, "{}", off.note);
    assert!(off.note.contains("after") && !off.note.contains("off:."), "{}", off.note);
    assert!(dir.join("out/wrong/waits.png").is_file() && dir.join("out/wrong/waits.svg").is_file());
    let readme = read(&dir.join("out/README.md"));
    // The headline experiment's claims come first, calibration rows marked, before the tally.
    let head = readme.find("## A made-up summary table").expect("the headline section");
    let tally = readme.find("9 outcome claims").expect("the tally");
    assert!(head < tally, "{readme}");
    assert!(readme[head..tally].contains("calibration (differs)") || readme[head..tally].contains("calibration ("));
    assert!(readme.contains("**differs**") && readme.contains("**direction only**"));
    // The calibration row is checked but not counted: 7 outcome claims, 1 calibration row apart.
    assert!(
        readme.contains("9 outcome claims: 3 reproduced, 3 direction only, 3 differ; 1 calibration rows"),
        "{readme}"
    );
    assert!(
        readme.contains("Calibration rows") && readme.contains("| utilisation is λ/cμ | an echo of the inputs |"),
        "{readme}"
    );
    let page = read(&dir.join("out/index.html"));
    assert!(page.contains("<h3>Claims (9)</h3>") && page.contains("<h3>Calibration rows (1)</h3>"));
    assert!(page.contains("<td class=\"text\" data-label=\"why it is calibration\">an echo of the inputs</td>"));
    assert_page_lays_out(&page, &entries);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The gallery page links its charts by relative paths to PNGs in the folder beside it (no data
/// URIs: the page stays small; no network).
fn assert_links_charts_beside_it(page: &str, out: &Path) {
    let srcs = image_sources(page);
    assert!(!srcs.is_empty() && !page.contains("data:image/png;base64,"), "charts linked, not inlined");
    for src in srcs {
        assert!(!src.starts_with('/') && !src.contains("..") && !src.contains(':'), "{src}: a relative path inside");
        assert!(out.join(src).is_file(), "{src} is not beside the page");
    }
}

/// The gallery page's layout, checked without a browser: an overview table with one row per
/// experiment linking its section; per section the headline claim (the first outcome claim
/// with a chart, else the first outcome claim) beside its chart, which is the section's first
/// figure; every chart captioned in words and shown once.
fn assert_page_lays_out(page: &str, entries: &[Entry]) {
    let overview = &page[page.find("<table class=\"fit cards overview\"").expect("an overview table")..];
    let overview = &overview[..overview.find("</table>").unwrap()];
    assert_eq!(overview.matches("<tr><td").count(), entries.len(), "one overview row per experiment");
    let mut stems = Vec::new();
    for e in entries {
        let name = &e.exp.spec.name;
        assert!(overview.contains(&format!("<a href=\"#{name}\">{name}</a>")), "overview links {name}");
        let at = page.find(&format!("<section id=\"{name}\">")).unwrap_or_else(|| panic!("no section {name}"));
        let section = &page[at..at + page[at..].find("</section>").unwrap()];
        let outcomes: Vec<_> = e.claims.iter().filter(|c| c.kind == ClaimKind::Outcome).collect();
        let headline = outcomes.iter().find(|c| c.chart.is_some()).or(outcomes.first());
        assert_eq!(section.matches("<div class=\"headline ").count(), usize::from(headline.is_some()), "{name}");
        if let Some(c) = headline {
            let box_at = section.find("<div class=\"headline ").unwrap();
            assert!(section[box_at..].contains(&format!("<p class=\"claim\">{}</p>", esc(&c.claim))));
        }
        // The experiment's charts, then its breakpoint scans'.
        let own: Vec<String> = e
            .exp
            .spec
            .charts
            .iter()
            .enumerate()
            .map(|(k, c)| c.file.clone().unwrap_or_else(|| format!("chart-{}", k + 1)))
            .chain(e.table.scans().iter().map(|s| s.stem()))
            .collect();
        let first = figures(section).into_iter().next().map(|f| f.id);
        let lead = headline.and_then(|c| c.chart.clone()).or(own.first().cloned());
        assert_eq!(first, lead.map(|s| format!("{name}-{s}")), "{name}: the headline's chart comes first");
        stems.extend(own);
    }
    assert_charts_captioned_once(page, &stems);
}
