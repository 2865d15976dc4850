//! `README.md` of the gallery: one table of every claim of every experiment, with capsim's
//! figure beside the reference, the verdict, a note where it differs and a link to the chart.
//! Deterministic (no timings, no absolute paths), so a test can compare it byte for byte.

use std::fmt::Write as _;

use super::{Entry, profile_words, settings_words, tally};
use crate::experiment::Profile;
use crate::experiment::claims::ClaimResult;

/// The whole README.md.
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
    let (r, d, x) = tally(entries);
    let _ = writeln!(o, "\n{} claims: {r} reproduced, {d} direction only, {x} differ.\n", r + d + x);
    o.push_str("| experiment | claim | source | reference | capsim (mean ± 95 %) | verdict | note | chart |\n");
    o.push_str("|---|---|---|---|---|---|---|---|\n");
    for e in entries {
        for c in &e.claims {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | **{}** | {} | {} |",
                cell(&e.exp.spec.name),
                cell(&c.claim),
                cell(&c.source),
                cell(&c.reference),
                cell(&with_interval(c)),
                c.verdict.label(),
                cell(&c.note),
                c.chart.as_ref().map_or(String::new(), |f| format!("[{f}]({}/{f}.png)", e.exp.spec.name))
            );
        }
    }
    o.push_str("\n## Experiments\n\n");
    for e in entries {
        let _ = writeln!(
            o,
            "- **{}** (`{}`): {} — {}. Files: [points.csv]({n}/points.csv){}, sweep.json, charts.",
            e.exp.spec.name,
            e.file,
            e.exp.spec.description.trim_end_matches('.'),
            settings_words(&e.exp),
            if e.claims.is_empty() { String::new() } else { format!(", [claims.csv]({}/claims.csv)", e.exp.spec.name) },
            n = e.exp.spec.name
        );
    }
    o
}

/// How to read a verdict.
pub const VERDICTS: &str = "Verdicts: **reproduced** — capsim's 95 % interval comes within the \
claim's tolerance of the reference; **direction only** — a before → after change goes the claimed \
way and is significant, but the figures are not within tolerance (or the claim states only a \
direction); **differs** — neither, with the reason in the note.\n";

/// capsim's figure with its interval: `0.6616 ± 0.043`, or `a ± x → b ± y` for a pair.
pub fn with_interval(c: &ClaimResult) -> String {
    let means: Vec<&str> = c.capsim_mean.split(" → ").collect();
    let cis: Vec<&str> = c.capsim_ci95.split(" → ").collect();
    means.iter().zip(&cis).map(|(m, h)| format!("{m} ± {h}")).collect::<Vec<_>>().join(" → ")
}

/// Text safe in a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
