//! `capsim report DIR`: one self-contained index.html (images inlined, no network) for a run,
//! sweep, comparison or capacity search. A run's page opens with its headline tables (requests,
//! latency percentiles, cost, per service) read from summary.json; every chart is captioned in
//! words (what it shows, in which units); tables and the raw JSON follow.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::report::headline::run_headline;
use crate::report::html::{Images, csv_table, esc, figure, page as html_page};

/// Styles of the report page: the headline tables side by side where they fit.
const EXTRA_STYLE: &str = ".tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,300px),1fr));gap:0 2em;align-items:start}\
.tiles h3{margin-top:.8em}.tiles table{width:100%}\
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,560px),1fr));gap:0 2em}";

/// Writes DIR/index.html.
pub fn report(dir: &Path) -> Result<()> {
    let html = page(dir)?;
    let out = dir.join("index.html");
    std::fs::write(&out, html).with_context(|| format!("cannot write {}", out.display()))?;
    crate::say!("wrote {}", out.display());
    Ok(())
}

/// What a folder holds, by the file capsim wrote into it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Run,
    Sweep,
    Comparison,
    Capacity,
}

impl Kind {
    fn of(dir: &Path) -> Result<Kind> {
        let has = |f: &str| dir.join(f).is_file();
        Ok(if has("summary.json") {
            Kind::Run
        } else if has("sweep.json") {
            Kind::Sweep
        } else if has("compare.json") {
            Kind::Comparison
        } else if has("capacity.json") {
            Kind::Capacity
        } else {
            bail!("{} holds no capsim output (summary.json, sweep.json, compare.json or capacity.json)", dir.display());
        })
    }

    /// Fields the marking JSON file always has (capsim writes them all).
    fn required(self) -> &'static [&'static str] {
        match self {
            // A run's page says which sections a partial summary lacks.
            Kind::Run => &["model"],
            Kind::Sweep => &["experiment", "parameters", "point_count", "points"],
            Kind::Comparison => &["model", "a", "b", "replications", "metrics"],
            Kind::Capacity => &["param", "find", "answer", "slo"],
        }
    }

    /// The JSON file that marks this kind, and the field naming what was run.
    fn file_and_key(self) -> (&'static str, &'static str) {
        match self {
            Kind::Run => ("summary.json", "model"),
            Kind::Sweep => ("sweep.json", "experiment"),
            Kind::Comparison => ("compare.json", "model"),
            Kind::Capacity => ("capacity.json", "param"),
        }
    }

    fn words(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Sweep => "sweep",
            Kind::Comparison => "comparison",
            Kind::Capacity => "capacity search",
        }
    }
}

/// The page for the outputs found in `dir`.
pub fn page(dir: &Path) -> Result<String> {
    let kind = Kind::of(dir)?;
    let (file, key) = kind.file_and_key();
    let text =
        std::fs::read_to_string(dir.join(file)).with_context(|| format!("cannot read {}/{file}", dir.display()))?;
    let path = dir.join(file);
    let json: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not JSON, so not a capsim {} (cut short, or not written by capsim?)",
            path.display(),
            kind.words()
        )
    })?;
    let missing: Vec<&str> = kind.required().iter().copied().filter(|k| json.get(k).is_none()).collect();
    if !missing.is_empty() {
        bail!("{} is not a capsim {}: it lacks {}", path.display(), kind.words(), missing.join(", "));
    }
    let name = json[key].as_str().map_or_else(|| dir.display().to_string(), str::to_string);
    let title = format!("capsim {}: {name}", kind.words());
    let mut body = format!("<h1>{}</h1>\n", esc(&title));
    if kind == Kind::Run {
        body.push_str(&run_headline(&json));
    }
    charts(&mut body, dir, kind)?;
    if kind == Kind::Sweep {
        body.push_str("<h2>Points</h2>\n");
        match crate::experiment::output::read(dir) {
            Ok(table) => body.push_str(&crate::gallery::points_table(&table)),
            Err(e) => {
                let text = std::fs::read_to_string(dir.join("points.csv")).unwrap_or_default();
                let _ = write!(
                    body,
                    "<p class=\"muted\">{}; points.csv as written:</p>\n{}",
                    esc(&e.to_string()),
                    csv_table(&text, 500)
                );
            }
        }
    }
    if dir.join("compare.csv").is_file() {
        let text = std::fs::read_to_string(dir.join("compare.csv"))?;
        let _ = write!(body, "<h2>Paired differences B − A (95 %)</h2>\n{}", csv_table(&text, 500));
    }
    for file in ["summary.json", "capacity.json", "compare.json"] {
        if dir.join(file).is_file() {
            let text = std::fs::read_to_string(dir.join(file))?;
            let _ = write!(
                body,
                "<details><summary>{} as written ({} lines)</summary>\n<pre>{}</pre></details>\n",
                esc(file),
                text.lines().count(),
                esc(&text)
            );
        }
    }
    let _ = writeln!(
        body,
        "<p class=\"foot\">Written by capsim report from the files in {}; each chart is there as PNG and SVG.</p>",
        esc(&dir.display().to_string())
    );
    Ok(html_page(&title, EXTRA_STYLE, &body))
}

/// Every PNG in `dir` as a figure captioned in words, known charts first in reading order.
fn charts(body: &mut String, dir: &Path, kind: Kind) -> Result<()> {
    let mut pngs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    if pngs.is_empty() {
        return Ok(());
    }
    let known = known_charts(dir, kind);
    let rank = |p: &PathBuf| {
        let stem = stem(p);
        (known.iter().position(|c| c.0 == stem).unwrap_or(usize::MAX), stem)
    };
    pngs.sort_by_key(rank);
    body.push_str("<h2>Charts</h2>\n<div class=\"charts\">\n");
    for p in pngs {
        let stem = stem(&p);
        let (title, caption) = match known.iter().find(|c| c.0 == stem) {
            Some((_, t, c)) => (t.clone(), c.clone()),
            None => (words_of_stem(&stem), String::new()),
        };
        body.push_str(&figure(&stem, &p, &title, &caption, Images::Inline)?);
    }
    body.push_str("</div>\n");
    Ok(())
}

fn stem(p: &Path) -> String {
    p.file_stem().map_or(String::new(), |s| s.to_string_lossy().into_owned())
}

/// A file stem as words, for a chart capsim has no caption for: `wait_vs_rate` → "Wait vs rate".
fn words_of_stem(stem: &str) -> String {
    let w = stem.replace(['_', '-'], " ");
    let mut c = w.chars();
    c.next().map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// (stem, title, caption) of the charts capsim writes for `kind`; a sweep's come from its
/// experiment.resolved.json (the experiment's own titles and captions).
fn known_charts(dir: &Path, kind: Kind) -> Vec<(String, String, String)> {
    let own = |list: &[(&str, &str, &str)]| {
        list.iter().map(|(s, t, c)| (s.to_string(), t.to_string(), c.to_string())).collect()
    };
    match kind {
        Kind::Run => own(RUN_CHARTS),
        Kind::Comparison => own(COMPARE_CHARTS),
        Kind::Capacity => (1..=20)
            .map(|k| {
                (
                    format!("capacity-{k}"),
                    format!("Capacity search, service-level objective {k}"),
                    "The objective's metric at each value of the parameter probed (mean over the replications, \
                     with its 95 % band), and the objective's limit as a line; the title gives the answer: the \
                     smallest (or largest) value that meets every objective."
                        .to_string(),
                )
            })
            .collect(),
        Kind::Sweep => match crate::experiment::output::read(dir) {
            Ok(table) => table
                .spec
                .charts
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    let stem = c.file.clone().unwrap_or_else(|| format!("chart-{}", k + 1));
                    (stem, table.figure(c).title().to_string(), c.caption.clone().unwrap_or_default())
                })
                .collect(),
            Err(_) => Vec::new(),
        },
    }
}

/// The charts of `capsim run`, in reading order.
const RUN_CHARTS: &[(&str, &str, &str)] = &[
    (
        "latency",
        "End-to-end latency over time",
        "p50, p95 and p99 of the requests answered in each time window (run.window), in ms or s as the \
         axis says, against simulated time. The shaded band is the warm-up, left out of every figure above.",
    ),
    (
        "throughput",
        "Throughput and errors over time",
        "Requests per second in each window: arrivals, completions, rejections (a full queue or a rate \
         limit) and failures (timeouts, errors, outages). Completions below arrivals for long means a queue \
         is growing.",
    ),
    (
        "latency_cdf",
        "Distribution of end-to-end latency",
        "The share of requests answered within each latency, after warm-up, on a logarithmic latency axis: \
         read a percentile where the curve crosses it (p99 at 0.99).",
    ),
    (
        "queues",
        "Queues over time",
        "Requests waiting at each station, not counting those in service, time-averaged over each window. \
         A line that keeps rising means the station is past its capacity.",
    ),
    (
        "critical_path",
        "Where the time goes",
        "Mean time per answered request spent in each service on its critical path (left bar), and the \
         same for the requests at or above the p99 (right bar): the service whose share grows in the right \
         bar is the one that makes the tail slow.",
    ),
    (
        "alarms",
        "Alarms over time",
        "One row per alarm of the model, with its severity: a bar wherever it was in ALARM (from the end of \
         the period whose datapoint made N of the last M breach to the end of the one that left fewer), and a \
         grey tick under the row for every datapoint that breached. The shaded band is the warm-up, never \
         evaluated. The table above gives each alarm's condition.",
    ),
];

/// The charts of `capsim compare`.
const COMPARE_CHARTS: &[(&str, &str, &str)] = &[
    (
        "before_after_cdf",
        "End-to-end latency, before (A) and after (B)",
        "The share of requests answered within each latency, for model A and model B run with the same \
         arrivals (all replications pooled), on a logarithmic latency axis.",
    ),
    (
        "before_after_p99",
        "p99 over time, before (A) and after (B)",
        "p99 end-to-end latency per time window of the first replication of A and of B, which see the same \
         arrivals; the shaded band is the warm-up.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_charts_are_named_in_words() {
        assert_eq!(words_of_stem("wait_vs_rate"), "Wait vs rate");
        assert_eq!(words_of_stem("capacity-3"), "Capacity 3");
        assert_eq!(words_of_stem(""), "");
    }
}
