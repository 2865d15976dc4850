//! `index.html` of the gallery, laid out per experiment: the headline and an overview table of
//! experiments at the top; then, for each experiment, its scenario in words, its headline claim
//! (before → after) beside its chart, its outcome claims, its calibration rows apart, its other
//! charts with captions, and its parameters and points. The charts are linked from the
//! experiments' folders beside the page (each once), so the page is small and opens from the
//! folder, readable at desktop and phone widths without running capsim.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use super::readme::{KINDS, VERDICTS, with_interval};
use super::{Entry, Tally, profile_words, settings_words};
use crate::experiment::claims::{ClaimResult, Verdict};
use crate::experiment::output::Table;
use crate::experiment::spec::ClaimKind;
use crate::experiment::{Profile, plain};
use crate::report::html::{Images, esc, esc_marked, figure, page};
use crate::report::labels::{metric_label, sig};
use crate::stats::t_interval;

/// The gallery's own styles: verdict colours, the overview and claims tables' column widths,
/// the headline beside its chart (stacked on narrow screens), the chart grid.
const EXTRA_STYLE: &str = "td.reproduced,span.reproduced{background:#e3f4e8}td.direction,span.direction{background:#fff4d6}\
td.differs,span.differs{background:#fde2e1}.verdict{white-space:nowrap;font-weight:600;padding:0 .2em}\
details.pts{margin:.1em 0}a.chart{display:block;margin-top:.2em}details.pts summary{color:#666;font-size:12px}details.pts div{color:#666;font-size:12px}\
table.fit{width:100%;table-layout:fixed}\
section{border-top:3px solid #ddd;margin-top:3em;padding-top:.2em}section h2{margin-top:.6em}\
.scenario p{margin:.4em 0 .7em}\
.lead{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,7fr);gap:1.5em;align-items:start}\
.result figure{margin:0}\
.headline{border:1px solid #ccc;border-left-width:6px;padding:.6em 1em;margin:0 0 1em}\
.headline.reproduced{border-left-color:#3a9a5b}.headline.direction{border-left-color:#d9a400}.headline.differs{border-left-color:#c9423a}\
.headline .claim{font-weight:600;margin:.2em 0 .5em}\
.headline dl{display:grid;grid-template-columns:auto minmax(0,1fr);gap:.2em 1em;margin:.4em 0}\
.headline dt{color:#666;font-size:13px;padding-top:.15em}.headline dd{margin:0;font-size:1.15em;font-variant-numeric:tabular-nums}\
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,520px),1fr));gap:0 2em}\
.top{font-size:12px}\
@media (max-width:900px){.lead{grid-template-columns:minmax(0,1fr)}}\
@media (max-width:760px){.headline dl{display:block}.headline dd{margin:0 0 .3em}}";

/// The whole page; charts are read from `out/<experiment>/<chart>.png`.
pub fn html(entries: &[Entry], out: &Path, profile: Profile) -> Result<String> {
    let mut b = String::from("<h1 id=\"top\">capsim gallery</h1>\n");
    let _ = writeln!(
        b,
        "<p>Every experiment of capsim, run with the {}. Each experiment models an incident or a \
         design question (most from the seed scenarios), and each claim it makes is checked against \
         the reference figure it cites: a seed scenario, a paper or a closed form. Regenerate with \
         <code>cargo run --release -- gallery</code>; the same tables are in <code>README.md</code> \
         beside this page.</p>",
        esc_marked(profile_words(profile))
    );
    let _ = writeln!(b, "<p><b>{}</b></p>", esc(&Tally::of(entries).headline()));
    let _ = writeln!(b, "<p class=\"muted small\">{}<br>{}</p>", esc_marked(VERDICTS), esc_marked(KINDS));
    b.push_str("<h2>Experiments</h2>\n");
    b.push_str(&overview(entries));
    for e in entries {
        section(&mut b, e, out)?;
    }
    b.push_str("<p class=\"foot\">Written by capsim gallery.</p>\n");
    Ok(page("capsim gallery", EXTRA_STYLE, &b))
}

/// One row per experiment: its name (a link to its section), its scenario, its headline claim
/// with the verdict, and its counts by verdict.
fn overview(entries: &[Entry]) -> String {
    let mut o = String::from(
        "<table class=\"fit cards overview\"><colgroup><col style=\"width:15%\"><col style=\"width:23%\">\
         <col style=\"width:34%\"><col span=\"4\" style=\"width:7%\"></colgroup>\n<tr class=\"head\">\
         <th class=\"text\">experiment</th><th class=\"text\">scenario</th><th class=\"text\">headline claim: \
         reference; capsim</th><th>repro\u{00ad}duced</th><th>direction only</th><th>differs</th>\
         <th>calibra\u{00ad}tion rows</th></tr>\n",
    );
    for e in entries {
        let t = Tally::of(std::slice::from_ref(e));
        let name = esc(&e.exp.spec.name);
        let headline = headline_claim(e).map_or_else(
            || "<span class=\"muted\">no outcome claim</span>".to_string(),
            |c| {
                format!(
                    "{}<br><span class=\"muted\">reference</span> {}; <span class=\"muted\">capsim</span> {} \
                     <span class=\"verdict {}\">{}</span>",
                    esc(&c.claim),
                    esc(&c.reference),
                    esc(&c.capsim_mean),
                    verdict_class(c.verdict),
                    c.verdict.label()
                )
            },
        );
        let _ = write!(
            o,
            "<tr><td class=\"text name\" data-label=\"experiment\"><a href=\"#{name}\">{name}</a></td>\
             <td class=\"text\" data-label=\"scenario\">{}</td><td class=\"text\" data-label=\"headline claim\">{headline}</td>",
            esc_marked(&scenario_words(&e.exp.spec.description))
        );
        for (n, label) in [
            (t.reproduced, "reproduced"),
            (t.direction_only, "direction only"),
            (t.differs, "differs"),
            (t.calibration, "calibration rows"),
        ] {
            let _ = write!(o, "<td class=\"n\" data-label=\"{label}\">{n}</td>");
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
    o
}

/// The claim that sums an experiment up: its first outcome claim with a chart, else its first
/// outcome claim.
fn headline_claim(e: &Entry) -> Option<&ClaimResult> {
    let mut outcomes = e.claims.iter().filter(|c| c.kind == ClaimKind::Outcome);
    outcomes.clone().find(|c| c.chart.is_some()).or_else(|| outcomes.next())
}

/// The scenario in a few words: the description's first clause (up to its first `. `, `:` or
/// ` (`; past a bare label such as "Beyond the seeds:" or "Seed 004 runbook 3:"), at most about
/// 110 characters.
pub fn scenario_words(description: &str) -> String {
    let stop = |s: &str| [". ", ":", " ("].iter().filter_map(|p| s.find(p)).min();
    let mut end = stop(description).unwrap_or(description.len());
    if end < 30 && !description[..end].contains(',') && description[end..].starts_with(':') {
        let rest = &description[end + 1..];
        end += 1 + stop(rest).unwrap_or(rest.len());
    }
    let clause = description[..end].trim().trim_end_matches('.');
    if clause.chars().count() <= 110 {
        return clause.to_string();
    }
    let cut: String = clause.chars().take(110).collect();
    format!("{}…", cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a))
}

/// The description as paragraphs: a new one at each sentence that opens with a short label
/// ("Before:", "Fixes, one at a time and together:", "Calibration:"), the label in bold.
pub fn description_paragraphs(description: &str) -> Vec<String> {
    let mut paras: Vec<String> = Vec::new();
    for sentence in description.split_inclusive(". ") {
        let label_end = sentence.find(':').filter(|&i| i <= 40 && !sentence[..i].contains(['.', '(', '`']));
        match label_end {
            Some(i) if !paras.is_empty() => {
                let (label, rest) = sentence.split_at(i + 1);
                if label.contains('/') {
                    paras.push(esc_marked(sentence.trim()));
                } else {
                    paras.push(format!("<b>{}</b>{}", esc(label), esc_marked(rest.trim_end())));
                }
            }
            _ => match paras.last_mut() {
                Some(p) => {
                    p.push(' ');
                    p.push_str(&esc_marked(sentence.trim()));
                }
                None => paras.push(esc_marked(sentence.trim())),
            },
        }
    }
    paras
}

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Reproduced => "reproduced",
        Verdict::DirectionOnly => "direction",
        Verdict::Differs => "differs",
    }
}

/// A chart of an experiment: its file stem, title and caption.
struct ChartInfo {
    stem: String,
    title: String,
    caption: String,
}

/// The experiment's charts, then its breakpoint scans' (one per scan).
fn charts_of(e: &Entry) -> Vec<ChartInfo> {
    let mut charts: Vec<ChartInfo> = e
        .exp
        .spec
        .charts
        .iter()
        .enumerate()
        .map(|(k, c)| ChartInfo {
            stem: c.file.clone().unwrap_or_else(|| format!("chart-{}", k + 1)),
            title: e.table.figure(c).title().to_string(),
            caption: c.caption.clone().unwrap_or_default(),
        })
        .collect();
    charts.extend(e.table.scans().into_iter().map(|s| ChartInfo {
        stem: s.stem(),
        title: s.title(),
        caption: format!(
            "What breaks first{}: each component's row starts where its first limit is crossed (the lowest \
             load at the top) and names the first alarm it trips; the components that held are listed together. \
             The crossings are in {}.csv, every signal at every load in {}_points.csv.",
            s.key.as_ref().map_or(String::new(), |k| format!(" in the scan {}", crate::experiment::plain(k))),
            s.stem(),
            s.stem()
        ),
    }));
    charts
}

/// One experiment: heading; its scenario beside its headline claim and that claim's chart;
/// claims, calibration rows, the other charts, parameters and points. Every chart is shown
/// once.
fn section(b: &mut String, e: &Entry, out: &Path) -> Result<()> {
    let spec = &e.exp.spec;
    let name = &spec.name;
    let charts = charts_of(e);
    let headline = headline_claim(e);
    // The chart beside the headline: the headline claim's, else the experiment's first.
    let lead = headline
        .and_then(|c| c.chart.as_ref())
        .and_then(|f| charts.iter().position(|c| c.stem == *f))
        .or(if charts.is_empty() { None } else { Some(0) });
    let figure_of = |c: &ChartInfo| {
        let path = out.join(name).join(format!("{}.png", c.stem));
        figure(&format!("{name}-{}", c.stem), &path, &c.title, &c.caption, Images::Linked { page_dir: out })
    };

    let _ = writeln!(b, "<section id=\"{0}\"><h2>{0}</h2>", esc(name));
    b.push_str("<div class=\"lead\"><div class=\"scenario\">\n");
    for p in description_paragraphs(&spec.description) {
        let _ = writeln!(b, "<p>{p}</p>");
    }
    let _ = writeln!(
        b,
        "<p class=\"muted small\">Experiment <code>{}</code> on model <code>{}</code>: {}.</p>",
        esc(&e.file),
        esc(&spec.model),
        esc(&settings_words(&e.exp))
    );
    b.push_str("</div>\n<div class=\"result\">\n");
    if let Some(c) = headline {
        b.push_str(&headline_box(c));
    }
    if let Some(k) = lead {
        b.push_str(&figure_of(&charts[k])?);
    }
    b.push_str("</div></div>\n");

    let titles: Vec<(&str, &str)> = charts.iter().map(|c| (c.stem.as_str(), c.title.as_str())).collect();
    let outcomes: Vec<&ClaimResult> = e.claims.iter().filter(|c| c.kind == ClaimKind::Outcome).collect();
    let calibration: Vec<&ClaimResult> = e.claims.iter().filter(|c| c.kind == ClaimKind::Calibration).collect();
    if !outcomes.is_empty() {
        let _ = writeln!(b, "<h3>Claims ({})</h3>", outcomes.len());
        b.push_str(&outcome_table(name, &outcomes, &titles));
    }
    if !calibration.is_empty() {
        let _ = writeln!(
            b,
            "<h3>Calibration rows ({})</h3>\n<p class=\"muted small\">Checked, not counted among the claims: \
             each figure echoes an input, follows by construction or is a timeout's clip.</p>",
            calibration.len()
        );
        b.push_str(&calibration_table(name, &calibration, &titles));
    }
    let others: Vec<&ChartInfo> = charts.iter().enumerate().filter(|(k, _)| Some(*k) != lead).map(|(_, c)| c).collect();
    if !others.is_empty() {
        b.push_str("<h3>More charts</h3>\n<div class=\"charts\">\n");
        for c in others {
            b.push_str(&figure_of(c)?);
        }
        b.push_str("</div>\n");
    }
    parameters(b, e);
    b.push_str(&points_table(&e.table));
    b.push_str("<p class=\"top\"><a href=\"#top\">↑ all experiments</a></p>\n</section>\n");
    Ok(())
}

/// The headline claim: what it says, the reference and capsim's figure (before → after for a
/// pair), the verdict and, where it is not reproduced, why.
fn headline_box(c: &ClaimResult) -> String {
    let class = verdict_class(c.verdict);
    let mut o = format!(
        "<div class=\"headline {class}\"><div class=\"muted small\">headline claim · <span class=\"verdict {class}\">{}</span></div>\n\
         <p class=\"claim\">{}</p><dl><dt>reference</dt><dd>{}</dd><dt>capsim (mean ± 95\u{a0}%)</dt><dd>{}</dd></dl>\n\
         <p class=\"muted small\">{}. Source: {}.</p>",
        c.verdict.label(),
        esc(&c.claim),
        esc(&c.reference),
        esc(&with_interval(c)),
        esc(&metric_label(&c.metric)),
        esc(&c.source)
    );
    if !c.note.is_empty() {
        let _ = write!(o, "<p class=\"small\">{}</p>", esc(&c.note));
    }
    o.push_str("</div>\n");
    o
}

/// The claim's metric in words, with the points it is read at folded under it (they can run
/// to a few lines: every parameter of a before and an after point).
fn metric_and_points(c: &ClaimResult) -> String {
    format!(
        "<details class=\"pts\"><summary>{}</summary><div>at {}</div></details>",
        esc(&metric_label(&c.metric)),
        esc(&c.points)
    )
}

/// A link to the chart a claim refers to, named by the chart's title.
fn chart_link(experiment: &str, c: &ClaimResult, titles: &[(&str, &str)]) -> String {
    let Some(stem) = &c.chart else { return String::new() };
    let title = titles.iter().find(|(s, _)| s == stem).map_or("the chart", |(_, t)| t);
    format!("<a class=\"small chart\" href=\"#{}-{}\">chart: {}</a>", esc(experiment), esc(stem), esc(title))
}

/// The outcome claims: claim (with its metric and points), source, reference, capsim, verdict,
/// note. Fixed column widths so that no column is squeezed; one card per claim on phones.
fn outcome_table(experiment: &str, rows: &[&ClaimResult], titles: &[(&str, &str)]) -> String {
    let mut o = String::from(
        "<table class=\"fit cards claims\"><colgroup><col style=\"width:25%\"><col style=\"width:15%\">\
         <col style=\"width:9%\"><col style=\"width:14%\"><col style=\"width:9%\"><col style=\"width:28%\"></colgroup>\n\
         <tr class=\"head\"><th class=\"text\">claim</th><th class=\"text\">source</th><th>reference</th>\
         <th>capsim (mean ± 95\u{a0}%)</th><th>verdict</th><th class=\"text\">note</th></tr>\n",
    );
    for c in rows {
        let class = verdict_class(c.verdict);
        let _ = writeln!(
            o,
            "<tr><td class=\"text\" data-label=\"claim\">{}{}{}</td>\
             <td class=\"text\" data-label=\"source\">{}</td><td class=\"n\" data-label=\"reference\">{}</td>\
             <td class=\"n\" data-label=\"capsim (mean ± 95\u{a0}%)\">{}</td><td class=\"n {class}\" data-label=\"verdict\">{}</td>\
             <td class=\"text\" data-label=\"note\">{}</td></tr>",
            esc(&c.claim),
            metric_and_points(c),
            chart_link(experiment, c, titles),
            esc(&c.source),
            esc(&c.reference),
            esc(&with_interval(c)),
            c.verdict.label(),
            esc(&c.note)
        );
    }
    o.push_str("</table>\n");
    o
}

/// The calibration rows: row, why it is calibration, reference, capsim, check.
fn calibration_table(experiment: &str, rows: &[&ClaimResult], titles: &[(&str, &str)]) -> String {
    let mut o = String::from(
        "<table class=\"fit cards calibration\"><colgroup><col style=\"width:30%\"><col style=\"width:32%\">\
         <col style=\"width:12%\"><col style=\"width:16%\"><col style=\"width:10%\"></colgroup>\n\
         <tr class=\"head\"><th class=\"text\">row</th><th class=\"text\">why it is calibration</th><th>reference</th>\
         <th>capsim (mean ± 95\u{a0}%)</th><th>check</th></tr>\n",
    );
    for c in rows {
        let class = verdict_class(c.verdict);
        let _ = writeln!(
            o,
            "<tr><td class=\"text\" data-label=\"row\">{}{}<span class=\"muted small\">Source: {}.</span> {}</td>\
             <td class=\"text\" data-label=\"why it is calibration\">{}</td><td class=\"n\" data-label=\"reference\">{}</td>\
             <td class=\"n\" data-label=\"capsim (mean ± 95\u{a0}%)\">{}</td><td class=\"n {class}\" data-label=\"check\">{}</td></tr>",
            esc(&c.claim),
            metric_and_points(c),
            esc(&c.source),
            chart_link(experiment, c, titles),
            esc(&c.calibration),
            esc(&c.reference),
            esc(&with_interval(c)),
            c.verdict.label()
        );
    }
    o.push_str("</table>\n");
    o
}

/// The parameters varied: name, model field, values.
fn parameters(b: &mut String, e: &Entry) {
    let _ = writeln!(
        b,
        "<details><summary>Parameters ({})</summary>\n<div class=\"scroll\"><table><tr><th class=\"text\">parameter</th>\
         <th class=\"text\">model field</th><th class=\"text\">values</th></tr>",
        e.exp.params.len()
    );
    for p in &e.exp.params {
        let values: Vec<String> = p.values.iter().map(|v| v.as_f64().map_or_else(|| plain(v), |x| sig(x, 6))).collect();
        let _ = writeln!(
            b,
            "<tr><td class=\"text\">{}</td><td class=\"text\"><code>{}</code></td><td class=\"text\">{}</td></tr>",
            esc(&p.name),
            esc(&p.path),
            esc(&values.join(", "))
        );
    }
    b.push_str("</table></div></details>\n");
}

/// Every point, folded: parameters, then each metric as mean ± 95 % half-width (the gallery's
/// sections and `capsim report` on a sweep).
pub fn points_table(t: &Table) -> String {
    let mut b = format!(
        "<details><summary>Points ({}): mean ± 95 % half-width over the replications (also in points.csv)</summary>\n\
         <div class=\"scroll\"><table><tr><th>point</th>",
        t.results.len()
    );
    for p in &t.params {
        let _ = write!(b, "<th>{}</th>", esc(&p.name));
    }
    for m in &t.spec.metrics {
        let _ = write!(b, "<th title=\"{}\">{}</th>", esc(m), esc(&metric_label(m)));
    }
    b.push_str("</tr>\n");
    for r in &t.results {
        let _ = write!(b, "<tr><td>{}</td>", r.index);
        for v in &t.point_values[r.index] {
            let _ = write!(b, "<td>{}</td>", esc(&v.as_f64().map_or_else(|| plain(v), |x| sig(x, 6))));
        }
        for vals in &r.values {
            let i = t_interval(vals, 0.95);
            let _ = write!(b, "<td>{} ± {}</td>", sig(i.mean, 4), sig(i.half_width, 2));
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</table></div></details>\n");
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_words_take_the_first_clause() {
        assert_eq!(
            scenario_words("Seed 000 scenario 2, Bedrock timeouts (models/b.json): two hours."),
            "Seed 000 scenario 2, Bedrock timeouts"
        );
        assert_eq!(scenario_words("Seed 001, rate limiting: token buckets."), "Seed 001, rate limiting");
        // A short label before a colon is kept with what follows it.
        assert_eq!(
            scenario_words("Beyond the seeds: metastable failure (Bronson 2021)."),
            "Beyond the seeds: metastable failure"
        );
        assert_eq!(
            scenario_words("models/mmc.json with 9.5 per second: mean wait."),
            "models/mmc.json with 9.5 per second"
        );
        let long = "word ".repeat(40);
        let s = scenario_words(&long);
        assert!(s.ends_with('…') && s.chars().count() <= 111, "{s}");
    }

    #[test]
    fn description_breaks_at_labelled_sentences() {
        let p = description_paragraphs(
            "Seed 6, the stampede. models/c.json: 5,000/s. Before: every miss calls it. Fixes, one at a time: jitter; \
             early refresh. Calibration: the `fix` column.",
        );
        assert_eq!(p.len(), 4, "{p:?}");
        assert_eq!(p[0], "Seed 6, the stampede. models/c.json: 5,000/s.");
        assert_eq!(p[1], "<b>Before:</b> every miss calls it.");
        assert!(p[2].starts_with("<b>Fixes, one at a time:</b> jitter"), "{}", p[2]);
        assert_eq!(p[3], "<b>Calibration:</b> the <code>fix</code> column.");
    }
}
