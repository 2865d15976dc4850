//! The HTML pages without a browser: `capsim report` on a run opens with headline tables whose
//! figures are summary.json's, every chart is captioned in words (not its file name) and
//! inlined once (the page is one file), a sweep's charts carry the experiment's titles and captions, and a summary
//! with sections missing (or not JSON at all) still gives a page.
//! The helpers here also check the gallery's page (tests/it/gallery.rs). Layout at desktop and
//! phone widths is checked in a browser by .ci/page-check.sh.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use capsim::report::labels::sig;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("capsim-pages-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn capsim(args: &[&str], dir: &Path) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_capsim")).args(args).arg(dir).output().unwrap();
    assert!(out.status.success(), "capsim {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A figure of a page: its id, the title in bold and the caption after it (tags removed).
#[derive(Debug)]
pub struct Figure {
    pub id: String,
    pub title: String,
    pub caption: String,
}

/// Every `<figure>` of `html`.
pub fn figures(html: &str) -> Vec<Figure> {
    html.split("<figure id=\"")
        .skip(1)
        .map(|f| {
            let id = f[..f.find('"').unwrap()].to_string();
            let cap =
                &f[f.find("<figcaption>").expect("a figure without a caption") + 12..f.find("</figcaption>").unwrap()];
            let title = cap.strip_prefix("<b>").and_then(|c| c.split_once("</b>")).map_or("", |(t, _)| t).to_string();
            let caption = cap.split_once("</b>").map_or(cap, |(_, c)| c).trim().to_string();
            Figure { id, title, caption }
        })
        .collect()
}

/// The `src` of every image in `html`: a data URI for an inlined PNG, a relative path for a
/// linked one.
pub fn image_sources(html: &str) -> Vec<&str> {
    html.split("<img ")
        .skip(1)
        .filter_map(|tag| {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            let src = &tag[tag.find(" src=\"")? + 6..];
            Some(&src[..src.find('"').unwrap_or(src.len())])
        })
        .collect()
}

/// Every chart is captioned in words and shown once: `n` figures, `n` distinct PNGs (inlined
/// or linked), and no title or caption that is a file name. `stems` are the charts' file stems.
pub fn assert_charts_captioned_once(html: &str, stems: &[String]) {
    let figs = figures(html);
    assert_eq!(figs.len(), stems.len(), "one figure per chart: {figs:?}");
    for f in &figs {
        assert!(!f.title.is_empty(), "figure {} has no title", f.id);
        for s in stems {
            assert!(
                f.title != *s && !f.title.contains(&format!("{s}.png")),
                "figure {} is titled by a file name",
                f.id
            );
        }
        assert!(!f.caption.contains(".png") && !f.title.contains(".png"), "figure {} names a file: {f:?}", f.id);
    }
    let pngs = image_sources(html);
    let distinct: BTreeSet<&&str> = pngs.iter().collect();
    assert_eq!(pngs.len(), stems.len(), "one PNG per chart");
    assert_eq!(distinct.len(), pngs.len(), "a PNG is shown twice");
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "self-contained");
}

/// `x` as capsim's report writes a count: digits grouped by thousands with commas.
fn grouped(x: u64) -> String {
    let s = x.to_string();
    let mut o = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            o.push(',');
        }
        o.push(ch);
    }
    o
}

#[test]
fn run_page_opens_with_the_summary_headline() {
    let dir = temp_dir("run");
    capsim(&["run", "models/mmc.json", "--duration", "2h", "--warmup", "10m", "--out"], &dir);
    capsim(&["report"], &dir);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    // The headline comes before the charts, and its figures are summary.json's.
    let charts_at = html.find("<h2>Charts</h2>").expect("a Charts heading");
    let head = &html[..charts_at];
    for h in ["<h3>Requests</h3>", "<h3>End-to-end latency [s]</h3>", "<h3>Cost</h3>", "<h3>Per service</h3>"] {
        assert!(head.contains(h), "headline lacks {h}");
    }
    let arrived = summary["requests"]["arrived"].as_u64().unwrap();
    assert!(arrived > 50_000, "2 h at 9/s: {arrived}");
    assert!(
        head.contains(&format!("<td class=\"text\">arrived in the measured period</td><td>{}</td>", grouped(arrived)))
    );
    let p99 = summary["latency_s"]["e2e"]["p99"].as_f64().unwrap();
    assert!(p99 > 1.0, "mean service 1 s: p99 {p99} s, so the table is in seconds");
    assert!(head.contains(&format!("<td class=\"text\">p99</td><td>{}</td>", sig(p99, 3))), "p99 {p99}");
    let util = summary["services"]["server"]["utilization"].as_f64().unwrap();
    assert!(head.contains(&format!("{}\u{a0}%", sig(util * 100.0, 3))), "utilisation {util}");
    let cost = summary["cost_usd"]["total"].as_f64().unwrap();
    assert!(head.contains(&format!("{cost:.2}\u{a0}USD")), "cost {cost}");
    // Every chart of the folder, captioned in words, inlined once; the raw JSON folded away.
    let stems: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(stems.len() >= 4, "{stems:?}");
    assert_charts_captioned_once(&html, &stems);
    assert!(image_sources(&html).iter().all(|s| s.starts_with("data:image/png;base64,")), "a run's page is one file");
    for f in figures(&html) {
        assert!(f.caption.len() > 40, "figure {} has no caption in words: {f:?}", f.id);
    }
    assert!(html.contains("<details><summary>summary.json as written"));
    assert!(html.contains("name=\"viewport\""), "phones lay it out at their width");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_page_with_a_partial_summary_says_so_and_a_broken_one_is_refused() {
    let dir = temp_dir("partial");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("summary.json"), r#"{"model": "bare", "seed": 3, "services": {}}"#).unwrap();
    capsim(&["report"], &dir);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("capsim run: bare"), "titled by the model");
    for missing in ["no requests section", "no end-to-end latency", "no cost section", "no services"] {
        assert!(html.contains(missing), "lacks '{missing}'");
    }
    // A summary cut short is not a page but an error naming the file.
    std::fs::remove_file(dir.join("index.html")).unwrap();
    std::fs::write(dir.join("summary.json"), "{\"model\": ").unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_capsim")).arg("report").arg(&dir).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("summary.json is not JSON"));
    assert!(!dir.join("index.html").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sweep_page_captions_charts_with_the_experiment_s_words() {
    let dir = temp_dir("sweep");
    std::fs::create_dir_all(&dir).unwrap();
    let model = std::fs::canonicalize("models/mmc.json").unwrap();
    let caption = "Mean wait against the arrival rate, one line per server count.";
    let spec = serde_json::json!({
        "name": "tiny", "model": model, "replications": 2, "duration": "20m", "warmup": "2m",
        "parameters": [{"path": "stations.server.servers", "name": "servers", "values": [10, 12]},
                       {"path": "sources.arrivals.rate", "name": "rate", "values": [7, 8]}],
        "metrics": ["stations.server.mean_wait_s"],
        "charts": [
            {"x": "rate", "y": "stations.server.mean_wait_s", "lines": "servers", "file": "wait",
             "title": "Mean wait against arrival rate", "caption": caption},
            {"x": "rate", "y": "stations.server.mean_wait_s", "file": "untitled"}
        ]
    });
    std::fs::write(dir.join("tiny.json"), spec.to_string()).unwrap();
    let out = dir.join("out");
    let sweep = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(["sweep", dir.join("tiny.json").to_str().unwrap(), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(sweep.status.success(), "{}", String::from_utf8_lossy(&sweep.stderr));
    capsim(&["report"], &out);
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert_charts_captioned_once(&html, &["wait".to_string(), "untitled".to_string()]);
    let figs = figures(&html);
    assert_eq!((figs[0].title.as_str(), figs[0].caption.as_str()), ("Mean wait against arrival rate", caption));
    // A chart without a title gets the one capsim draws on it (from the axes), not its file name.
    assert!(figs[1].title.contains("mean_wait_s"), "{:?}", figs[1]);
    // Four points, folded under their heading, each metric as mean ± half-width.
    assert!(html.contains("<details><summary>Points (4): mean ± 95 % half-width"));
    let _ = std::fs::remove_dir_all(&dir);
}
