//! `README.md` of the gallery: one table of every claim of every experiment, with capsim's
//! figure beside the reference, the verdict, a note where it differs and a link to the chart.
//! Deterministic (no timings, no absolute paths), so a test can compare it byte for byte.

use std::fmt::Write as _;

use super::{Entry, Tally, profile_words, settings_words};
use crate::experiment::Profile;
use crate::experiment::claims::ClaimResult;
use crate::experiment::spec::ClaimKind;

/// The whole README.md: the headline, an overview of experiments, then per experiment its
/// outcome claims and, apart, its calibration rows.
pub fn markdown(entries: &[Entry], profile: Profile) -> String {
    let mut o = String::from("# capsim gallery\n\n");
    let _ = writeln!(
        o,
        "Every experiment in `experiments/`, run with the {}, and every claim it makes checked \
         against its reference figure. Regenerate with `cargo run --release -- gallery` (add `--full` \
         for the experiments as written). [`index.html`](index.html) shows every chart with its caption.\n",
        profile_words(profile)
    );
    o.push_str(VERDICTS);
    o.push_str(KINDS);
    for e in entries {
        headline(&mut o, e);
    }
    let _ = writeln!(o, "\n**{}**\n", Tally::of(entries).headline());
    o.push_str("| experiment | reproduced | direction only | differs | calibration rows |\n|---|---|---|---|---|\n");
    for e in entries {
        let t = Tally::of(std::slice::from_ref(e));
        let n = &e.exp.spec.name;
        let _ = writeln!(
            o,
            "| [{n}](#{n}) | {} | {} | {} | {} |",
            t.reproduced, t.direction_only, t.differs, t.calibration
        );
    }
    for e in entries {
        experiment(&mut o, e);
    }
    o
}

/// An experiment with a `headline`: every claim of it, outcome and calibration rows together in
/// its own order (a seed's table row by row), before the overview.
fn headline(o: &mut String, e: &Entry) {
    let Some(title) = &e.exp.spec.headline else { return };
    let n = &e.exp.spec.name;
    let _ = writeln!(
        o,
        "\n## {title}\n\nFrom [{n}](#{n}) (`{}`), {}. Calibration rows are marked and not counted.\n",
        e.file,
        settings_words(&e.exp)
    );
    o.push_str(CLAIMS_HEADER);
    for c in &e.claims {
        match c.kind {
            ClaimKind::Outcome => claim_row(o, n, c, &format!("**{}**", c.verdict.label()), &c.note),
            ClaimKind::Calibration => {
                let verdict = format!("calibration ({})", c.verdict.label());
                claim_row(o, n, c, &verdict, &format!("Calibration: {}", c.calibration));
            }
        }
    }
}

/// The header of a table of claims (`claim_row`).
const CLAIMS_HEADER: &str =
    "| claim | source | reference | capsim (mean ± 95 %) | verdict | note | chart |\n|---|---|---|---|---|---|---|\n";

/// One claim's row: what it claims, its source and reference, capsim's figure, `verdict` and
/// `note` as given, and its chart.
fn claim_row(o: &mut String, experiment: &str, c: &ClaimResult, verdict: &str, note: &str) {
    let _ = writeln!(
        o,
        "| {} | {} | {} | {} | {verdict} | {} | {} |",
        cell(&c.claim),
        cell(&c.source),
        cell(&c.reference),
        cell(&with_interval(c)),
        cell(note),
        chart_link(experiment, c)
    );
}

/// One experiment's section: what it is, its outcome claims, its calibration rows.
fn experiment(o: &mut String, e: &Entry) {
    let n = &e.exp.spec.name;
    let _ = writeln!(
        o,
        "\n## {n}\n\n`{}`: {} — {}. Files: [points.csv]({n}/points.csv){}, sweep.json, charts.\n",
        e.file,
        e.exp.spec.description.trim_end_matches('.'),
        settings_words(&e.exp),
        if e.claims.is_empty() { String::new() } else { format!(", [claims.csv]({n}/claims.csv)") },
    );
    let outcomes: Vec<&ClaimResult> = e.claims.iter().filter(|c| c.kind == ClaimKind::Outcome).collect();
    let calibration: Vec<&ClaimResult> = e.claims.iter().filter(|c| c.kind == ClaimKind::Calibration).collect();
    if !outcomes.is_empty() {
        o.push_str(CLAIMS_HEADER);
        for c in outcomes {
            claim_row(o, n, c, &format!("**{}**", c.verdict.label()), &c.note);
        }
    }
    if !calibration.is_empty() {
        o.push_str("\nCalibration rows (checked, not counted among the claims):\n\n");
        o.push_str("| row | why it is calibration | reference | capsim (mean ± 95 %) | check | chart |\n");
        o.push_str("|---|---|---|---|---|---|\n");
        for c in calibration {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&c.claim),
                cell(&c.calibration),
                cell(&c.reference),
                cell(&with_interval(c)),
                c.verdict.label(),
                chart_link(n, c)
            );
        }
    }
}

fn chart_link(experiment: &str, c: &ClaimResult) -> String {
    c.chart.as_ref().map_or(String::new(), |f| format!("[{f}]({experiment}/{f}.png)"))
}

/// What the two kinds of row mean.
pub const KINDS: &str = "A claim counts only when its figure is an **outcome** of the mechanisms. \
A figure that echoes an input, follows by construction or is pinned at a timeout is a **calibration** \
row: it is still checked, and listed apart under its experiment (docs/experiments.md, \"Rules of a claim\").\n";

/// How to read a verdict.
pub const VERDICTS: &str = "Verdicts: **reproduced** — capsim's 95 % interval comes within the \
claim's tolerance of the reference; **direction only** — a before → after change goes the claimed \
way and is significant, but the figures are not within tolerance (or the claim states only a \
direction); **differs** — neither, with the reason in the note.\n";

/// capsim's figure with its interval: `0.6616 ± 0.043`, or `a ± x → b ± y` for a pair; a
/// crossing's load range (no interval) as it is.
pub fn with_interval(c: &ClaimResult) -> String {
    if c.capsim_ci95.is_empty() {
        return c.capsim_mean.clone();
    }
    let means: Vec<&str> = c.capsim_mean.split(" → ").collect();
    let cis: Vec<&str> = c.capsim_ci95.split(" → ").collect();
    means.iter().zip(&cis).map(|(m, h)| format!("{m} ± {h}")).collect::<Vec<_>>().join(" → ")
}

/// Text safe in a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
